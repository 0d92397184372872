"""退款 — money returned to the custody account (SFT0801, 0802).

A refund is made when a settlement order FAILED (its amount and fee come back) or a paid order
BOUNCED (退票, notification 5001 carries the ``refundNo``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from ..money import Money
from ..timeutil import ShanghaiDateTime
from .base import MaskedIdCardNo, MaskedName, Open, PageRequest, PageResponse, RecordModel, RequestModel, ResponseModel
from .common import BatchNo, OrderNo, OutBatchNo, OutOrderNo, RefundNo, TaxBaseCode


class RefundType(StrEnum):
    """退款类型: why the money came back."""

    FAILED = "FAILED"  # 结算失败 the payout failed
    BOUNCED = "BOUNCED"  # 退票 the bank returned a paid payout


class RefundStatus(StrEnum):
    """退款状态: PROCESSING → SUCCESS | FAILED."""

    PROCESSING = "PROCESSING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


class RefundOrder(RecordModel):
    refund_no: RefundNo
    order_no: OrderNo
    out_order_no: OutOrderNo
    batch_no: BatchNo | None = None
    out_batch_no: OutBatchNo | None = None
    tax_base_code: TaxBaseCode | None = None
    name: MaskedName | None = None
    id_card_no: MaskedIdCardNo | None = None
    amount: Money = Field(description="Payout returned (退回结算金额)")
    service_amount: Money | None = Field(None, description="Service fee returned (退回服务费)")
    refund_amount: Money | None = Field(None, description="Everything returned (退款总额) = amount + service fee")
    refund_type: Open[RefundType] | None = Field(None, description="Refund type (退款类型): FAILED or BOUNCED")
    status: Open[RefundStatus] = Field(description="Refund status (退款状态)")
    reason: str | None = Field(None, description="Why (退款原因)")
    refund_time: ShanghaiDateTime | None = Field(None, description="When the money came back (退款时间)")


# SFT0801 退款订单查询 -----------------------------------------------------------------------------------


class RefundOrdersRequest(PageRequest):
    """SFT0801: refund orders (paged), optionally by batch, order, type or time."""

    tax_base_code: TaxBaseCode | None = None
    refund_type: RefundType | None = Field(None, description="Only refunds of this type (退款类型)")
    batch_no: BatchNo | None = None
    out_batch_no: OutBatchNo | None = None
    order_no: OrderNo | None = None
    out_order_no: OutOrderNo | None = None
    start_time: ShanghaiDateTime | None = Field(None, description="Refunded at or after (开始时间)")
    end_time: ShanghaiDateTime | None = Field(None, description="Refunded before (结束时间)")


class RefundOrdersResponse(PageResponse[RefundOrder]):
    pass


# SFT0802 退款订单明细 -----------------------------------------------------------------------------------


class RefundDetailRequest(RequestModel):
    """SFT0802: one refund order, by ``refundNo`` or by the order it refunds (``orderNo`` or ``outOrderNo``)."""

    one_of: ClassVar[tuple[tuple[str, ...], ...]] = (("refund_no", "order_no", "out_order_no"),)

    refund_no: RefundNo | None = None
    order_no: OrderNo | None = None
    out_order_no: OutOrderNo | None = None


class RefundDetailResponse(ResponseModel, RefundOrder):
    pass


__all__ = [
    "RefundDetailRequest",
    "RefundDetailResponse",
    "RefundOrder",
    "RefundOrdersRequest",
    "RefundOrdersResponse",
    "RefundStatus",
    "RefundType",
]
