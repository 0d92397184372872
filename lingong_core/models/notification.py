"""通知 — the bizModel of each of the six notifications the platform posts (contract §6).

:data:`NOTIFICATION_MODELS` maps ``notifyType`` to its model; :func:`parse_notification` reads a
bizModel (JSON text or a dict) into the right one. Notifications may arrive twice, late or out of
order: receivers deduplicate on ``notifyNo`` and never move a record backwards — the state enums'
docstrings give the forward order. Like responses, these models keep unknown fields and unknown states.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from .. import jsoncodec
from ..money import Money
from ..timeutil import ShanghaiDateTime
from .base import MaskedIdCardNo, NotificationModel, Open
from .common import (
    ApplyNo,
    BatchNo,
    BatchStatus,
    CampaignNo,
    ContractNo,
    ContractStatus,
    FreelancerNo,
    InvoiceStatus,
    OrderNo,
    OutApplyNo,
    OutBatchNo,
    OutOrderNo,
    OutWithdrawNo,
    RechargeStatus,
    RefundNo,
    SettlementStatus,
    TaxBaseCode,
    WithdrawNo,
    WithdrawStatus,
)
from .settlement import SettleType


class RechargeNotification(NotificationModel):
    """1001 充值通知: a recharge order became final."""

    notify_type = "1001"

    order_no: OrderNo
    out_order_no: OutOrderNo
    tax_base_code: TaxBaseCode
    amount: Money = Field(description="Recharge amount (充值金额)")
    status: Open[RechargeStatus] = Field(description="Order status (订单状态): SUCCESS or FAILED")
    complete_time: ShanghaiDateTime = Field(description="When it became final (完成时间)")
    fail_msg: str | None = Field(None, description="Why it failed (失败原因)")


class WithdrawalNotification(NotificationModel):
    """2001 提现通知: a withdrawal became final."""

    notify_type = "2001"

    withdraw_no: WithdrawNo
    out_withdraw_no: OutWithdrawNo
    amount: Money = Field(description="Withdrawal amount (提现金额)")
    status: Open[WithdrawStatus] = Field(description="Withdrawal status (提现状态): SUCCESS or FAILED")
    complete_time: ShanghaiDateTime = Field(description="When it became final (完成时间)")
    fail_msg: str | None = Field(None, description="Why it failed (失败原因)")


class SettlementNotification(NotificationModel):
    """3001 佣金结算通知: one settlement order became final; with batch totals when the batch completes."""

    notify_type = "3001"

    batch_no: BatchNo
    out_batch_no: OutBatchNo
    order_no: OrderNo
    out_order_no: OutOrderNo
    amount: Money = Field(description="Payout (结算金额)")
    service_amount: Money = Field(description="Service fee (服务费)")
    status: Open[SettlementStatus] = Field(description="Order status (订单状态): SUCCESS or FAILED")
    fail_msg: str = Field("", description="Why it failed (失败原因); empty on success")
    complete_time: ShanghaiDateTime = Field(description="When it became final (完成时间)")
    settle_type: Open[SettleType] | None = Field(
        None, description="Settlement type (结算类型): SETTLEMENT, or MARKETING for a marketing batch"
    )
    campaign_no: CampaignNo | None = Field(
        None, description="The campaign (营销活动编号), on a marketing batch's orders"
    )
    batch_status: Open[BatchStatus] | None = Field(
        None, description="Batch status (批次状态), when this order completed the batch"
    )
    success_count: int | None = Field(None, description="Orders paid in the batch (成功数), when it completed")
    fail_count: int | None = Field(None, description="Orders failed in the batch (失败数), when it completed")
    success_amount: Money | None = Field(None, description="Sum paid in the batch (成功金额), when it completed")
    fail_amount: Money | None = Field(None, description="Sum failed in the batch (失败金额), when it completed")


class BouncedNotification(NotificationModel):
    """5001 佣金结算退票通知: a paid order bounced (退票); the money is back in the account."""

    notify_type = "5001"

    batch_no: BatchNo
    out_batch_no: OutBatchNo
    order_no: OrderNo
    out_order_no: OutOrderNo
    amount: Money = Field(description="Payout that bounced (结算金额)")
    service_amount: Money = Field(description="Service fee refunded with it (服务费)")
    refund_no: RefundNo = Field(description="The refund that returned the money (退款单号), see SFT0801/0802")
    bounce_reason: str = Field(description="Why the bank returned it (退票原因)")
    bounce_time: ShanghaiDateTime = Field(description="When it bounced (退票时间)")


class ContractSignedNotification(NotificationModel):
    """8001 电子合同签约完成通知: an e-contract is signed."""

    notify_type = "8001"

    contract_no: ContractNo
    freelancer_no: FreelancerNo
    id_card_no: MaskedIdCardNo
    tax_base_code: TaxBaseCode
    status: Open[ContractStatus] = Field(description="E-contract status (合同状态): SIGNED")
    sign_time: ShanghaiDateTime = Field(description="When it was signed (签约时间)")


class InvoiceNotification(NotificationModel):
    """9001 开票结果通知: an invoice application was issued or rejected."""

    notify_type = "9001"

    apply_no: ApplyNo
    out_apply_no: OutApplyNo
    status: Open[InvoiceStatus] = Field(description="Application status (申请状态): ISSUED or REJECTED")
    invoice_nos: list[str] = Field(default_factory=list, description="Issued invoice numbers (发票号码)")
    amount: Money = Field(description="Invoice amount (开票金额)")
    issue_time: ShanghaiDateTime | None = Field(None, description="When it was issued (开票时间)")
    reject_reason: str | None = Field(None, description="Why it was rejected (驳回原因)")


#: notifyType → the model of its bizModel.
NOTIFICATION_MODELS: dict[str, type[NotificationModel]] = {
    m.notify_type: m
    for m in (
        RechargeNotification,
        WithdrawalNotification,
        SettlementNotification,
        BouncedNotification,
        ContractSignedNotification,
        InvoiceNotification,
    )
}


def parse_notification(notify_type: str, biz_model: str | bytes | Mapping[str, Any]) -> NotificationModel:
    """The bizModel of a notification, as its model. Unknown ``notifyType`` → :class:`KeyError`."""
    model = NOTIFICATION_MODELS[str(notify_type)]
    data = jsoncodec.loads(biz_model) if isinstance(biz_model, str | bytes) else biz_model
    return model.model_validate(data)


__all__ = [
    "NOTIFICATION_MODELS",
    "BouncedNotification",
    "ContractSignedNotification",
    "InvoiceNotification",
    "RechargeNotification",
    "SettlementNotification",
    "WithdrawalNotification",
    "parse_notification",
]
