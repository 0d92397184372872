"""开票 — invoicing the enterprise for completed settlement batches (SFT0601–0611).

Flow: invoiceable batches (SFT0603) → apply (SFT0605, keyed by ``outApplyNo``) → ISSUED or REJECTED
by notification 9001 or SFT0607. An application still APPLIED can be cancelled (SFT0611). Categories
(SFT0601) and invoice types (SFT0602) are the platform's own codes, so they are strings, not enums.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from pydantic import Field

from ..money import Money, PositiveMoney
from ..timeutil import ShanghaiDateTime
from .base import (
    MaskedBankCardNo,
    MaskedIdCardNo,
    MaskedName,
    Open,
    PageRequest,
    PageResponse,
    RecordModel,
    RequestModel,
    ResponseModel,
)
from .common import (
    ApplyNo,
    BatchNo,
    FreelancerNo,
    InvoiceStatus,
    OrderNo,
    OutApplyNo,
    OutBatchNo,
    OutOrderNo,
    Remark,
    SettlementStatus,
    TaxBaseCode,
)

_APPLY_KEY: tuple[tuple[str, ...], ...] = (("apply_no", "out_apply_no"),)
_INVOICE_TYPE = "Invoice type code (发票类型), from SFT0602"
_CATEGORY = "Invoice category code (开票类目), from SFT0601"


# SFT0601 开票类目查询 -----------------------------------------------------------------------------------


class InvoiceCategoriesRequest(RequestModel):
    """SFT0601: the invoice categories (开票类目) a service provider can issue."""

    tax_base_code: TaxBaseCode


class InvoiceCategory(RecordModel):
    category_code: str = Field(description="Category code (类目编码)")
    category_name: str | None = Field(None, description="Category name (类目名称), e.g. 现代服务*服务费")
    tax_rate: Decimal | None = Field(None, description="VAT rate (税率) as a fraction, e.g. 0.06")


class InvoiceCategoriesResponse(ResponseModel):
    tax_base_code: TaxBaseCode | None = None
    total: int | None = Field(None, description="Number of records (总条数)")
    items: list[InvoiceCategory] = Field(default_factory=list, alias="list", description="Categories (类目列表)")


# SFT0602 开票类型列表 -----------------------------------------------------------------------------------


class InvoiceTypesRequest(RequestModel):
    """SFT0602: the invoice types (发票类型: special/ordinary VAT, paper/electronic) the platform issues; with
    ``taxBaseCode``, those of that service provider."""

    tax_base_code: TaxBaseCode | None = None


class InvoiceType(RecordModel):
    invoice_type: str = Field(description="Type code (发票类型编码)")
    invoice_type_name: str | None = Field(None, description="Type name (发票类型名称), e.g. 增值税专用发票")


class InvoiceTypesResponse(ResponseModel):
    tax_base_code: TaxBaseCode | None = None
    total: int | None = Field(None, description="Number of records (总条数)")
    items: list[InvoiceType] = Field(default_factory=list, alias="list", description="Invoice types (发票类型列表)")


# SFT0603 可开票批次查询 ----------------------------------------------------------------------------------


class InvoiceableBatchesRequest(PageRequest):
    """SFT0603: completed batches not yet invoiced (paged)."""

    tax_base_code: TaxBaseCode


class InvoiceableBatch(RecordModel):
    batch_no: BatchNo
    out_batch_no: OutBatchNo | None = None
    tax_base_code: TaxBaseCode | None = None
    total_amount: Money | None = Field(None, description="Sum of the batch's payouts (结算总金额)")
    service_amount: Money | None = Field(None, description="Sum of the batch's service fees (服务费总额)")
    invoiced_amount: Money | None = Field(None, description="Already applied for or invoiced (已开票金额)")
    invoiceable_amount: Money = Field(description="Amount that can still be invoiced (可开票金额)")
    complete_time: ShanghaiDateTime | None = Field(None, description="When the batch completed (完成时间)")


class InvoiceableBatchesResponse(PageResponse[InvoiceableBatch]):
    tax_base_code: TaxBaseCode | None = None


# SFT0605 开票申请 --------------------------------------------------------------------------------------


class InvoiceApplyRequest(RequestModel):
    """SFT0605: apply for an invoice over one or more completed batches."""

    out_apply_no: OutApplyNo
    tax_base_code: TaxBaseCode
    batch_nos: list[BatchNo] = Field(min_length=1, description="The batches to invoice (批次号列表), from SFT0603")
    invoice_type: str = Field(min_length=1, description=_INVOICE_TYPE)
    category_code: str = Field(min_length=1, description=_CATEGORY)
    amount: PositiveMoney = Field(description="Invoice amount (开票金额)")
    remark: Remark | None = Field(None, description="Remark printed on the invoice (发票备注)")


class InvoiceApplyResponse(ResponseModel):
    apply_no: ApplyNo
    out_apply_no: OutApplyNo
    status: Open[InvoiceStatus] = Field(description="Application status (申请状态): APPLIED")
    amount: Money | None = Field(None, description="Invoice amount (开票金额)")


# SFT0607 开票申请详情 / SFT0606 开票申请列表 ------------------------------------------------------------------


class InvoiceBatchShare(RecordModel):
    batch_no: BatchNo
    out_batch_no: OutBatchNo | None = None
    amount: Money | None = Field(None, description="The part of the invoice allocated to this batch (分摊金额)")


class InvoiceApplication(RecordModel):
    apply_no: ApplyNo
    out_apply_no: OutApplyNo
    tax_base_code: TaxBaseCode | None = None
    status: Open[InvoiceStatus] = Field(
        description="Application status (申请状态): APPLIED → ISSUED | REJECTED | CANCELLED"
    )
    amount: Money | None = Field(None, description="Invoice amount (开票金额)")
    invoice_type: str | None = Field(None, description=_INVOICE_TYPE)
    category_code: str | None = Field(None, description=_CATEGORY)
    invoice_nos: list[str] = Field(default_factory=list, description="Issued invoice numbers (发票号码)")
    remark: str | None = Field(None, description="Remark printed on the invoice (发票备注)")
    apply_time: ShanghaiDateTime | None = Field(None, description="When it was applied for (申请时间)")
    issue_time: ShanghaiDateTime | None = Field(None, description="When it was issued (开票时间)")
    reject_reason: str | None = Field(None, description="Why it was rejected (驳回原因)")
    cancel_time: ShanghaiDateTime | None = Field(None, description="When it was cancelled (撤销时间)")


class InvoiceDetailRequest(RequestModel):
    """SFT0607: one invoice application."""

    one_of: ClassVar[tuple[tuple[str, ...], ...]] = _APPLY_KEY

    apply_no: ApplyNo | None = None
    out_apply_no: OutApplyNo | None = None


class InvoiceDetailResponse(ResponseModel, InvoiceApplication):
    batches: list[InvoiceBatchShare] = Field(default_factory=list, description="The batches it covers (关联批次)")


class InvoiceApplicationsRequest(PageRequest):
    """SFT0606: invoice applications (paged), optionally filtered."""

    tax_base_code: TaxBaseCode | None = None
    status: InvoiceStatus | None = Field(None, description="Only applications in this state (申请状态)")
    start_time: ShanghaiDateTime | None = Field(None, description="Applied at or after (开始时间)")
    end_time: ShanghaiDateTime | None = Field(None, description="Applied before (结束时间)")


class InvoiceApplicationsResponse(PageResponse[InvoiceApplication]):
    pass


# SFT0608 开票申请关联订单列表 -------------------------------------------------------------------------------


class InvoiceOrdersRequest(PageRequest):
    """SFT0608: the settlement orders an application covers (paged)."""

    one_of: ClassVar[tuple[tuple[str, ...], ...]] = _APPLY_KEY

    apply_no: ApplyNo | None = None
    out_apply_no: OutApplyNo | None = None


class InvoiceOrder(RecordModel):
    """A paid settlement order the application covers (SFT0505's fields of a paid order; optional but the key)."""

    batch_no: BatchNo | None = None
    out_batch_no: OutBatchNo | None = None
    order_no: OrderNo
    out_order_no: OutOrderNo | None = None
    tax_base_code: TaxBaseCode | None = None
    freelancer_no: FreelancerNo | None = None
    name: MaskedName | None = None
    id_card_no: MaskedIdCardNo | None = None
    bank_card_no: MaskedBankCardNo | None = None
    bank_name: str | None = Field(None, description="The payee's bank (收款银行)")
    amount: Money = Field(description="Payout (结算金额)")
    service_amount: Money | None = Field(None, description="Service fee (服务费)")
    status: Open[SettlementStatus] | None = Field(None, description="Order status (订单状态)")
    remark: str | None = Field(None, description="Remark (备注)")
    create_time: ShanghaiDateTime | None = Field(None, description="When it was accepted (创建时间)")
    complete_time: ShanghaiDateTime | None = Field(None, description="When it was paid (完成时间)")


class InvoiceOrdersResponse(PageResponse[InvoiceOrder]):
    apply_no: ApplyNo | None = None
    out_apply_no: OutApplyNo | None = None


# SFT0609 开票额度账户列表 / SFT0610 开票额度账户详情 -------------------------------------------------------------


class QuotaAccountsRequest(RequestModel):
    """SFT0609: the invoice quota accounts (开票额度账户), one per service provider."""

    tax_base_code: TaxBaseCode | None = None


class QuotaAccount(RecordModel):
    quota_acct_no: str | None = Field(None, description="Quota account number (额度账户编号)")
    tax_base_code: TaxBaseCode
    tax_base_name: str | None = Field(None, description="Service provider name (服务商名称)")
    total_quota: Money | None = Field(None, description="Quota earned by completed payouts (累计额度)")
    used_quota: Money | None = Field(None, description="Quota already invoiced (已开票额度)")
    frozen_quota: Money = Field(Decimal("0.00"), description="Quota held by pending applications (冻结额度)")
    available_quota: Money = Field(description="Quota that can be invoiced now (可开票额度)")


class QuotaAccountsResponse(ResponseModel):
    total: int | None = Field(None, description="Number of records (总条数)")
    items: list[QuotaAccount] = Field(default_factory=list, alias="list", description="Quota accounts (额度账户列表)")


class QuotaAccountRequest(RequestModel):
    """SFT0610: one quota account, by its number or its service provider."""

    one_of: ClassVar[tuple[tuple[str, ...], ...]] = (("quota_acct_no", "tax_base_code"),)

    quota_acct_no: str | None = Field(None, description="Quota account number (额度账户编号)")
    tax_base_code: TaxBaseCode | None = None


class QuotaAccountResponse(ResponseModel, QuotaAccount):
    pass


# SFT0611 开票申请撤销 -----------------------------------------------------------------------------------


class InvoiceCancelRequest(RequestModel):
    """SFT0611: cancel an application that is still APPLIED."""

    one_of: ClassVar[tuple[tuple[str, ...], ...]] = _APPLY_KEY

    apply_no: ApplyNo | None = None
    out_apply_no: OutApplyNo | None = None
    reason: str | None = Field(None, max_length=200, description="Why it is cancelled (撤销原因)")


class InvoiceCancelResponse(ResponseModel):
    apply_no: ApplyNo
    out_apply_no: OutApplyNo
    status: Open[InvoiceStatus] = Field(description="Application status (申请状态): CANCELLED")
    cancel_time: ShanghaiDateTime | None = Field(None, description="When it was cancelled (撤销时间)")


__all__ = [
    "InvoiceApplication",
    "InvoiceApplicationsRequest",
    "InvoiceApplicationsResponse",
    "InvoiceApplyRequest",
    "InvoiceApplyResponse",
    "InvoiceBatchShare",
    "InvoiceCancelRequest",
    "InvoiceCancelResponse",
    "InvoiceCategoriesRequest",
    "InvoiceCategoriesResponse",
    "InvoiceCategory",
    "InvoiceDetailRequest",
    "InvoiceDetailResponse",
    "InvoiceOrder",
    "InvoiceOrdersRequest",
    "InvoiceOrdersResponse",
    "InvoiceType",
    "InvoiceTypesRequest",
    "InvoiceTypesResponse",
    "InvoiceableBatch",
    "InvoiceableBatchesRequest",
    "InvoiceableBatchesResponse",
    "QuotaAccount",
    "QuotaAccountRequest",
    "QuotaAccountResponse",
    "QuotaAccountsRequest",
    "QuotaAccountsResponse",
]
