"""Refunds (SFT0801 list, SFT0802 detail): money that came back to the account from a settlement order.

A refund is created, already SUCCESS, when an order FAILED (``refundType`` ``FAILED``) or was paid
and then BOUNCED (``BOUNCED``, 退票); it returns the order's amount and service fee (``refundAmount``)
and is the REFUND row in the ledger.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from lingong_core.masking import mask_id, mask_name

from .base import Ctx, drop_none, handles, not_found, paged, stamp, yuan
from .fields import Biz

_SELECT = (
    "SELECT r.*, o.out_order_no, o.name, o.id_card_no, b.out_batch_no FROM eng_refund r"
    " JOIN eng_order o ON o.order_no = r.order_no JOIN eng_batch b ON b.batch_no = r.batch_no"
)


def _view(row: sqlite3.Row) -> dict[str, Any]:
    out = {
        "refundNo": row["refund_no"],
        "refundType": row["refund_type"],
        "orderNo": row["order_no"],
        "outOrderNo": row["out_order_no"],
        "batchNo": row["batch_no"],
        "outBatchNo": row["out_batch_no"],
        "taxBaseCode": row["tax_base_code"],
        "amount": yuan(row["amount_fen"]),
        "serviceAmount": yuan(row["service_fen"]),
        "refundAmount": yuan(row["amount_fen"] + row["service_fen"]),
        "reason": row["reason"],
        "status": row["status"],
        "refundTime": row["create_time"],
        "name": mask_name(row["name"]),
        "idCardNo": mask_id(row["id_card_no"]),
    }
    return drop_none(out)


@handles("SFT0801")
def refunds(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    sql = _SELECT + " WHERE r.merchant_no = ?"
    params: list[Any] = [ctx.merchant_no]
    if biz.has("taxBaseCode"):
        code = biz.req("taxBaseCode")
        ctx.provider(code)
        sql += " AND r.tax_base_code = ?"
        params.append(code)
    if biz.has("batchNo"):
        sql += " AND r.batch_no = ?"
        params.append(biz.req("batchNo"))
    if biz.has("outBatchNo"):
        sql += " AND b.out_batch_no = ?"
        params.append(biz.req("outBatchNo"))
    if biz.has("orderNo"):
        sql += " AND r.order_no = ?"
        params.append(biz.req("orderNo"))
    if biz.has("outOrderNo"):
        sql += " AND o.out_order_no = ?"
        params.append(biz.req("outOrderNo"))
    kind = biz.text("refundType", required=False, choices=("FAILED", "BOUNCED"))
    if kind:
        sql += " AND r.refund_type = ?"
        params.append(kind)
    start, end = biz.when("startTime"), biz.when("endTime")
    if start is not None:
        sql += " AND r.create_time >= ?"
        params.append(stamp(start))
    if end is not None:
        sql += " AND r.create_time <= ?"
        params.append(stamp(end))
    return paged(ctx, biz, sql + " ORDER BY r.create_time, r.refund_no", tuple(params), _view)


@handles("SFT0802")
def refund_detail(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    biz.one_of("refundNo", "orderNo", "outOrderNo")
    if biz.has("refundNo"):
        row = ctx.one(_SELECT + " WHERE r.merchant_no = ? AND r.refund_no = ?", ctx.merchant_no, biz.req("refundNo"))
    elif biz.has("orderNo"):
        row = ctx.one(_SELECT + " WHERE r.merchant_no = ? AND r.order_no = ?", ctx.merchant_no, biz.req("orderNo"))
    else:
        row = ctx.one(
            _SELECT + " WHERE r.merchant_no = ? AND o.out_order_no = ?", ctx.merchant_no, biz.req("outOrderNo")
        )
    if row is None:
        raise not_found("no refund for this refundNo/orderNo/outOrderNo")
    return _view(row)
