"""自由职业者佣金结算 — paying freelancers (SFT0501–0506, 0510).

A batch (``outBatchNo``) carries up to 1,000 orders (each ``outOrderNo``). SFT0502 is all or nothing:
one bad order refuses the whole batch with a 4xxx code and a ``failures`` list
(:class:`SettlementRefusal` reads it from :attr:`lingong_core.errors.ApiError.body`). Accepted orders
move ACCEPTED → PROCESSING → SUCCESS | FAILED in the background; a SUCCESS can later be BOUNCED (退票).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, ClassVar, Self

from pydantic import Field, model_validator

from ..money import Money, PositiveMoney
from ..timeutil import ShanghaiDateTime
from .base import (
    BankCardNo,
    FieldRuleError,
    IdCardNo,
    MaskedBankCardNo,
    MaskedIdCardNo,
    MaskedName,
    Mobile,
    Name,
    Open,
    PageRequest,
    PageResponse,
    Period,
    RecordModel,
    RequestModel,
    ResponseModel,
)
from .common import (
    BatchNo,
    BatchStatus,
    CheckResult,
    FreelancerNo,
    OpenInvoiceModel,
    OrderNo,
    OutBatchNo,
    OutOrderNo,
    PayChannelCode,
    ProjectNo,
    RefundNo,
    Remark,
    SettlementStatus,
    TaxBaseCode,
)

#: The most orders one batch (SFT0502) or one pre-calculation (SFT0501) may carry.
MAX_BATCH_ORDERS = 1000

FailCode = Annotated[int | str, Field(description="Refusal code (失败码), a 4xxx code")]

_ORDER_KEY: tuple[tuple[str, ...], ...] = (("out_order_no", "order_no"),)
_BATCH_KEY: tuple[tuple[str, ...], ...] = (("out_batch_no", "batch_no"),)


def _unique_out_order_nos(orders: Sequence[SettlementOrderInput | FeeCalcOrder]) -> None:
    seen: dict[str, int] = {}
    for i, order in enumerate(orders):
        key = order.out_order_no
        if key is None:
            continue
        if key in seen:
            raise FieldRuleError(f"orders[{i}].outOrderNo", f"repeats orders[{seen[key]}].outOrderNo {key!r}")
        seen[key] = i


# SFT0501 佣金结算服务费预计算 ------------------------------------------------------------------------------


class FeeCalcOrder(RequestModel):
    """One order to price. Name, card and mobile are optional; given, they are checked as SFT0502 would
    (the card need not be bound yet), so a refusal shows before anything is paid."""

    out_order_no: OutOrderNo | None = None
    name: Name | None = None
    id_card_no: IdCardNo
    mobile: Mobile | None = None
    bank_card_no: BankCardNo | None = Field(None, description="The card it would be paid to (收款银行卡号)")
    amount: PositiveMoney = Field(description="Payout to the person (结算金额)")
    remark: Remark | None = None


class FeeCalcRequest(RequestModel):
    """SFT0501: the service fee a batch would cost, and which orders would be refused. Writes nothing."""

    tax_base_code: TaxBaseCode
    orders: list[FeeCalcOrder] = Field(
        min_length=1, max_length=MAX_BATCH_ORDERS, description="Orders to price (订单列表), at most 1,000"
    )

    @model_validator(mode="after")
    def _unique(self) -> Self:
        _unique_out_order_nos(self.orders)
        return self


class FeeCalcResult(RecordModel):
    out_order_no: OutOrderNo | None = None
    id_card_no: MaskedIdCardNo | None = None
    amount: Money = Field(description="Payout (结算金额)")
    service_amount: Money = Field(description="Service fee (服务费)")
    check_result: Open[CheckResult] = Field(description="Check result (校验结果): PASS or REJECT")
    fail_code: FailCode | None = None
    fail_msg: str | None = Field(None, description="Why it would be refused (失败原因)")


class FeeCalcResponse(ResponseModel):
    tax_base_code: TaxBaseCode | None = None
    fee_rate: Decimal | None = Field(None, description="Service fee rate (服务费率) as a fraction, e.g. 0.06")
    total_amount: Money = Field(description="Sum of payouts (结算总金额)")
    service_amount: Money = Field(description="Sum of service fees (服务费总额)")
    pay_amount: Money = Field(description="What the account must hold (应付总额) = total + fee")
    order_count: int | None = Field(None, description="Number of orders (订单数)")
    pass_count: int | None = Field(None, description="Orders that would be accepted (通过数)")
    reject_count: int | None = Field(None, description="Orders that would be refused (拒绝数)")
    available_amount: Money | None = Field(None, description="Available balance now (可用余额)")
    balance_enough: bool | None = Field(
        None, description="Whether the available balance covers payAmount (余额是否充足)"
    )
    items: list[FeeCalcResult] = Field(default_factory=list, alias="list", description="Per order (订单明细)")


# SFT0502 佣金结算 --------------------------------------------------------------------------------------


class SettlementOrderInput(RequestModel):
    """One payout in a settlement batch."""

    out_order_no: OutOrderNo
    name: Name
    id_card_no: IdCardNo
    mobile: Mobile | None = None
    bank_card_no: BankCardNo = Field(description="Debit card bound to the person (收款银行卡号)")
    amount: PositiveMoney = Field(description="Payout to the person (结算金额), yuan, 2 decimals")
    remark: Remark | None = None


class SettlementRequest(RequestModel):
    """SFT0502: pay a batch of freelancers. All or nothing; the batch amount + fee is debited on acceptance."""

    out_batch_no: OutBatchNo
    tax_base_code: TaxBaseCode
    project_no: ProjectNo | None = Field(None, description="The project the work was for (项目编号), SFT0703")
    period: Period | None = None
    remark: Remark | None = None
    orders: list[SettlementOrderInput] = Field(
        min_length=1, max_length=MAX_BATCH_ORDERS, description="Orders (订单列表), 1 to 1,000"
    )

    @model_validator(mode="after")
    def _unique(self) -> Self:
        _unique_out_order_nos(self.orders)
        return self


class SettlementResponse(ResponseModel):
    batch_no: BatchNo
    out_batch_no: OutBatchNo
    tax_base_code: TaxBaseCode | None = None
    status: Open[BatchStatus] = Field(description="Batch status (批次状态): ACCEPTED")
    order_count: int | None = Field(None, description="Number of orders (订单数)")
    total_amount: Money | None = Field(None, description="Sum of payouts (结算总金额)")
    service_amount: Money | None = Field(None, description="Sum of service fees (服务费总额)")
    pay_amount: Money | None = Field(None, description="Debited from the account (扣款总额) = total + fee")


class SettlementFailure(RecordModel):
    out_order_no: OutOrderNo
    fail_code: FailCode
    fail_msg: str | None = Field(None, description="Why (失败原因)")


class SettlementRefusal(ResponseModel):
    """The body of a refused SFT0502 (a 4xxx ``code``): ``SettlementRefusal.model_validate(error.body)``."""

    failures: list[SettlementFailure] = Field(default_factory=list, description="The refused orders (失败明细)")


# SFT0503 佣金结算批次查询 ---------------------------------------------------------------------------------


class BatchQueryRequest(RequestModel):
    """SFT0503: one batch's state and counts."""

    one_of: ClassVar[tuple[tuple[str, ...], ...]] = _BATCH_KEY

    out_batch_no: OutBatchNo | None = None
    batch_no: BatchNo | None = None


class SettleType(StrEnum):
    """结算类型 of a batch: how it came to the platform."""

    SETTLEMENT = "SETTLEMENT"  # 佣金结算 paid by the platform (SFT0502)
    MARKETING = "MARKETING"  # 营销金结算 marketing funds for a campaign (SFT0502 with campaignNo)
    SYNC = "SYNC"  # 结算数据同步 paid outside the platform and reported (SFT0510)


class BatchQueryResponse(ResponseModel):
    batch_no: BatchNo
    out_batch_no: OutBatchNo
    tax_base_code: TaxBaseCode = Field(description="The service provider whose account paid it (服务商编码)")
    settle_type: Open[SettleType] | None = Field(None, description="Settlement type (结算类型)")
    status: Open[BatchStatus] = Field(description="Batch status (批次状态): ACCEPTED → PROCESSING → COMPLETED")
    order_count: int | None = Field(None, description="Orders in the batch (订单数)")
    success_count: int = Field(0, description="Orders paid (成功数)")
    fail_count: int = Field(0, description="Orders failed (失败数)")
    processing_count: int = Field(0, description="Orders not yet final (处理中数)")
    bounced_count: int = Field(0, description="Orders bounced after payment (退票数)")
    total_amount: Money | None = Field(None, description="Sum of payouts (结算总金额)")
    success_amount: Money | None = Field(None, description="Sum paid and not bounced (成功金额)")
    fail_amount: Money | None = Field(None, description="Sum failed, refunded (失败金额)")
    bounced_amount: Money | None = Field(None, description="Sum bounced after payment, refunded (退票金额)")
    service_amount: Money | None = Field(None, description="Sum of service fees (服务费总额)")
    pay_amount: Money | None = Field(None, description="Debited on acceptance (扣款总额) = total + fee")
    project_no: ProjectNo | None = Field(None, description="The project it was paid under (项目编号)")
    period: str | None = Field(None, description="Pay period (所属期), yyyy-MM")
    remark: str | None = Field(None, description="Remark (备注)")
    create_time: ShanghaiDateTime | None = Field(None, description="When it was accepted (创建时间)")
    complete_time: ShanghaiDateTime | None = Field(None, description="When every order became final (完成时间)")


# SFT0505 佣金结算订单查询 / SFT0504 批次订单 ------------------------------------------------------------------


class SettlementOrder(RecordModel):
    order_no: OrderNo
    out_order_no: OutOrderNo
    batch_no: BatchNo | None = None
    out_batch_no: OutBatchNo | None = None
    tax_base_code: TaxBaseCode | None = None
    freelancer_no: FreelancerNo | None = None
    name: MaskedName | None = None
    id_card_no: MaskedIdCardNo | None = None
    bank_card_no: MaskedBankCardNo | None = None
    bank_name: str | None = Field(None, description="The payee's bank (收款银行)")
    amount: Money = Field(description="Payout (结算金额)")
    service_amount: Money | None = Field(None, description="Service fee (服务费)")
    status: Open[SettlementStatus] = Field(
        description="Order status (订单状态): ACCEPTED → PROCESSING → SUCCESS | FAILED; SUCCESS → BOUNCED"
    )
    fail_code: FailCode | None = None
    fail_msg: str | None = Field(None, description="Why it failed or bounced (失败原因)")
    remark: str | None = Field(None, description="Remark (备注)")
    create_time: ShanghaiDateTime | None = Field(None, description="When it was accepted (创建时间)")
    complete_time: ShanghaiDateTime | None = Field(None, description="When it became final (完成时间)")
    bounce_time: ShanghaiDateTime | None = Field(None, description="When a paid order bounced (退票时间)")
    refund_no: RefundNo | None = Field(None, description="The refund of a failed or bounced order (退款单号)")


class BatchOrdersRequest(PageRequest):
    """SFT0504: the orders of one batch (paged, up to 1,000 a page), optionally only those in one state."""

    one_of: ClassVar[tuple[tuple[str, ...], ...]] = _BATCH_KEY

    out_batch_no: OutBatchNo | None = None
    batch_no: BatchNo | None = None
    status: SettlementStatus | None = Field(None, description="Only orders in this state (订单状态)")


class BatchOrdersResponse(PageResponse[SettlementOrder]):
    batch_no: BatchNo | None = None
    out_batch_no: OutBatchNo | None = None
    status: Open[BatchStatus] | None = Field(None, description="Batch status (批次状态)")


class OrderQueryRequest(RequestModel):
    """SFT0505: one settlement order."""

    one_of: ClassVar[tuple[tuple[str, ...], ...]] = _ORDER_KEY

    out_order_no: OutOrderNo | None = None
    order_no: OrderNo | None = None


class OrderQueryResponse(ResponseModel, SettlementOrder):
    pass


# SFT0506 电子回单查询 -----------------------------------------------------------------------------------


class ReceiptRequest(RequestModel):
    """SFT0506: the bank's electronic receipt (电子回单) of a paid order."""

    one_of: ClassVar[tuple[tuple[str, ...], ...]] = _ORDER_KEY

    out_order_no: OutOrderNo | None = None
    order_no: OrderNo | None = None


class ReceiptResponse(ResponseModel):
    order_no: OrderNo
    out_order_no: OutOrderNo | None = None
    batch_no: BatchNo | None = None
    out_batch_no: OutBatchNo | None = None
    receipt_no: str | None = Field(None, description="Receipt number (回单编号)")
    payee_name: MaskedName | None = Field(None, description="Who was paid (收款人)")
    payee_bank_card_no: MaskedBankCardNo | None = Field(None, description="The card paid to (收款卡号)")
    payee_bank_name: str | None = Field(None, description="The payee's bank (收款银行)")
    amount: Money | None = Field(None, description="Amount paid (付款金额)")
    pay_time: ShanghaiDateTime | None = Field(None, description="When it was paid (付款时间)")
    receipt_url: str = Field(description="Where to download the receipt (回单下载地址)")
    receipt_time: ShanghaiDateTime | None = Field(None, description="When the bank issued it (回单时间)")


# SFT0510 佣金结算数据同步 ---------------------------------------------------------------------------------


class SettlementSyncRequest(RequestModel):
    """SFT0510: report one payout made outside the platform, like SFT0404 does for recharges."""

    out_order_no: OutOrderNo
    tax_base_code: TaxBaseCode
    out_batch_no: OutBatchNo | None = Field(None, description="The merchant's batch it belongs to (外部批次号)")
    project_no: ProjectNo | None = None
    name: Name
    id_card_no: IdCardNo
    mobile: Mobile | None = None
    bank_card_no: BankCardNo | None = Field(None, description="The card it was paid to (收款银行卡号)")
    amount: PositiveMoney = Field(description="Payout (结算金额), yuan, 2 decimals")
    service_amount: Money = Field(description="Service fee (服务费), yuan, 2 decimals")
    period: Period | None = None
    pay_channel_code: PayChannelCode | None = Field(None, description="Channel (交易通道), as in SFT0404")
    pay_time: ShanghaiDateTime = Field(description="When it was paid (付款时间); epoch milliseconds accepted")
    open_invoice_model: OpenInvoiceModel = Field(
        OpenInvoiceModel.NONE,
        description="Invoice mode (开票模式): 0, 1 or 2 (default 0); must be 0 when the recharge used 1 or 2",
    )
    remark: Remark | None = None


class SettlementSyncResponse(ResponseModel):
    order_no: OrderNo
    out_order_no: OutOrderNo
    batch_no: BatchNo | None = None
    out_batch_no: OutBatchNo | None = Field(None, description="The batch it was gathered in (外部批次号)")
    status: Open[SettlementStatus] | None = Field(None, description="Order status (订单状态): SUCCESS")


__all__ = [
    "MAX_BATCH_ORDERS",
    "BatchOrdersRequest",
    "BatchOrdersResponse",
    "BatchQueryRequest",
    "BatchQueryResponse",
    "FeeCalcOrder",
    "FeeCalcRequest",
    "FeeCalcResponse",
    "FeeCalcResult",
    "OrderQueryRequest",
    "OrderQueryResponse",
    "ReceiptRequest",
    "ReceiptResponse",
    "SettleType",
    "SettlementFailure",
    "SettlementOrder",
    "SettlementOrderInput",
    "SettlementRefusal",
    "SettlementRequest",
    "SettlementResponse",
    "SettlementSyncRequest",
    "SettlementSyncResponse",
]
