"""充值 — funding the custody account (SFT0401–0404).

SFT0404 (充值数据同步) follows the seed page's field table exactly, with the seed's contradictions
read as contract §8 says: ``amount`` 200021 is 200021.00 yuan, ``rechargeTime`` accepts epoch
milliseconds as well as ``yyyy-MM-dd HH:mm:ss`` (and is always sent as the latter), and
``openInvoiceModel`` defaults to 0. SFT0402 (充值申请) is marked 待开发: its models exist, its service
method raises :class:`~lingong_core.errors.NotOfferedError`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field

from ..masking import mask_card
from ..money import Money, PositiveMoney
from ..timeutil import ShanghaiDateTime
from .base import Open, PageRequest, PageResponse, Personal, RecordModel, RequestModel, ResponseModel
from .common import (
    AcctType,
    OpenInvoiceModel,
    OrderNo,
    OutOrderNo,
    PayChannelCode,
    RechargeStatus,
    Remark,
    TaxBaseCode,
)


class RechargeWay(StrEnum):
    """充值方式."""

    ONLINE_RECHARGE = "ONLINE_RECHARGE"  # 线上充值 online
    ACCT_TRANSFER_RECHARGE = "ACCT_TRANSFER_RECHARGE"  # 公户转账 transfer from the company account


#: An account number on a recharge (a company account, or an Alipay account): masked like a card.
AcctNo = Annotated[str, Personal(mask_card)]

_ORDER_KEY: tuple[tuple[str, ...], ...] = (("out_order_no", "order_no"),)


# SFT0404 充值数据同步 -----------------------------------------------------------------------------------


class RechargeSyncRequest(RequestModel):
    """SFT0404: report a transfer into the recharge account (RechargeSyncModel in the seed)."""

    out_order_no: OutOrderNo = Field(description="The merchant's recharge order number (外部订单号)")
    tax_base_code: TaxBaseCode
    amount: PositiveMoney = Field(description="Recharge amount (充值金额), yuan, 2 decimals")
    service_amount: Money = Field(description="Service fee (服务费), yuan, 2 decimals")
    pay_channel_code: PayChannelCode = Field(
        description="Channel (交易通道): 3000001 Alipay 支付宝, 3000002 WeChat 微信, 3000003 China Merchants Bank "
        "招商银行, 3000005 Ping An Bank 平安银行, 3000007 Industrial Bank 兴业银行"
    )
    recharge_time: ShanghaiDateTime = Field(
        description="When the money was paid (充值时间), yyyy-MM-dd HH:mm:ss; epoch milliseconds accepted"
    )
    recharge_way: RechargeWay = Field(
        RechargeWay.ACCT_TRANSFER_RECHARGE,
        description="Recharge way (充值方式): ONLINE_RECHARGE 线上充值 or ACCT_TRANSFER_RECHARGE 公户转账 (default)",
    )
    open_invoice_model: OpenInvoiceModel = Field(
        OpenInvoiceModel.NONE,
        description="Invoice mode (开票模式): 0 not invoiceable 不可开票 (default), 1 per order 订单开票, "
        "2 summary 汇总开票; with 1 or 2 here, SFT0510 must send 0",
    )
    payee_acct_type: AcctType | None = Field(
        None, description="Payee account type (充值收款账号类型): BANK 银行卡 or ALI_PAY 支付宝"
    )
    payee_bank_acct_name: str | None = Field(None, description="Payee account name (收款户名)")
    payee_bank_acct_no: AcctNo | None = Field(None, description="Payee account number (收款账号)")
    payee_bank_name: str | None = Field(None, description="Payee bank and branch (收款银行+支行)")
    payer_acct_type: str | None = Field(None, description="Payer account type (付款账号类型)")
    payer_bank_acct_name: str | None = Field(None, description="Payer account name (付款户名)")
    payer_bank_acct_no: AcctNo | None = Field(None, description="Payer account number (付款账号)")
    payer_bank_name: str | None = Field(None, description="Payer bank and branch (付款银行+支行)")
    remark: Remark | None = Field(None, description="Recharge remark (充值备注)")


class RechargeSyncResponse(ResponseModel):
    order_no: OrderNo = Field(description="The platform's recharge order number (平台订单号)")
    out_order_no: OutOrderNo


# SFT0403 充值订单查询 -----------------------------------------------------------------------------------


class RechargeQueryRequest(RequestModel):
    """SFT0403: one recharge order, by the merchant's or the platform's order number."""

    one_of: ClassVar[tuple[tuple[str, ...], ...]] = _ORDER_KEY

    out_order_no: OutOrderNo | None = None
    order_no: OrderNo | None = None


class RechargeOrder(RecordModel):
    order_no: OrderNo
    out_order_no: OutOrderNo
    tax_base_code: TaxBaseCode | None = None
    amount: Money = Field(description="Recharge amount (充值金额)")
    service_amount: Money | None = Field(None, description="Service fee (服务费)")
    pay_channel_code: Open[PayChannelCode] | None = Field(None, description="Channel (交易通道)")
    recharge_way: Open[RechargeWay] | None = Field(None, description="Recharge way (充值方式)")
    open_invoice_model: Open[OpenInvoiceModel] | None = Field(None, description="Invoice mode (开票模式)")
    status: Open[RechargeStatus] = Field(description="Order status (订单状态): PROCESSING → SUCCESS | FAILED")
    recharge_time: ShanghaiDateTime | None = Field(None, description="When the money was paid (充值时间)")
    create_time: ShanghaiDateTime | None = Field(None, description="When it was reported (创建时间)")
    complete_time: ShanghaiDateTime | None = Field(None, description="When the order became final (完成时间)")
    fail_msg: str | None = Field(None, description="Why it failed (失败原因)")


class RechargeQueryResponse(ResponseModel, RechargeOrder):
    pass


# SFT0401 充值记录查询 -----------------------------------------------------------------------------------


class RechargeRecordsRequest(PageRequest):
    """SFT0401: recharge orders (paged), optionally filtered."""

    tax_base_code: TaxBaseCode | None = None
    status: RechargeStatus | None = Field(None, description="Only orders in this state (订单状态)")
    start_time: ShanghaiDateTime | None = Field(None, description="Recharged at or after (开始时间)")
    end_time: ShanghaiDateTime | None = Field(None, description="Recharged before (结束时间)")


class RechargeRecordsResponse(PageResponse[RechargeOrder]):
    pass


# SFT0402 充值申请 (待开发) -------------------------------------------------------------------------------


class RechargeApplyRequest(RequestModel):
    """SFT0402 (not yet offered): ask the platform for a payment link instead of reporting a transfer."""

    out_order_no: OutOrderNo
    tax_base_code: TaxBaseCode
    amount: PositiveMoney = Field(description="Recharge amount (充值金额)")
    pay_channel_code: PayChannelCode = Field(description="Channel (交易通道)")
    remark: Remark | None = None


class RechargeApplyResponse(ResponseModel):
    order_no: OrderNo
    out_order_no: OutOrderNo
    status: Open[RechargeStatus] = Field(description="Order status (订单状态)")
    pay_url: str | None = Field(None, description="Where to pay (支付链接)")


__all__ = [
    "RechargeApplyRequest",
    "RechargeApplyResponse",
    "RechargeOrder",
    "RechargeQueryRequest",
    "RechargeQueryResponse",
    "RechargeRecordsRequest",
    "RechargeRecordsResponse",
    "RechargeSyncRequest",
    "RechargeSyncResponse",
    "RechargeWay",
]
