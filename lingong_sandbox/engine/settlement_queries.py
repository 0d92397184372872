"""Settlement queries: a batch (SFT0503), its orders (SFT0504), one order (SFT0505) and its receipt (SFT0506)."""

from __future__ import annotations

from typing import Any

from lingong_core.masking import mask_card, mask_name

from . import codes, documents
from .base import Ctx, drop_none, handles, paged, yuan
from .fields import Biz
from .settlement_orders import (
    ACCEPTED,
    BOUNCED,
    FAILED,
    PROCESSING,
    SUCCESS,
    batch_of,
    batch_view,
    find_batch,
    find_order,
    order_view,
)


@handles("SFT0503")
def query_batch(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    return batch_view(ctx, find_batch(ctx, biz))


@handles("SFT0504")
def query_batch_orders(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    batch = find_batch(ctx, biz)
    status = biz.text("status", required=False, choices=(ACCEPTED, PROCESSING, SUCCESS, FAILED, BOUNCED))
    sql = "SELECT * FROM eng_order WHERE batch_no = ?"
    params: list[Any] = [batch["batch_no"]]
    if status:
        sql += " AND status = ?"
        params.append(status)
    answer = paged(ctx, biz, sql + " ORDER BY order_no", tuple(params), lambda r: order_view(r, batch))
    head = {"batchNo": batch["batch_no"], "outBatchNo": batch["out_batch_no"], "status": batch["status"]}
    if batch["campaign_no"]:
        head["campaignNo"] = batch["campaign_no"]
    return {**head, **answer}


@handles("SFT0505")
def query_order(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    row = find_order(ctx, biz)
    return order_view(row, batch_of(ctx, row))


@handles("SFT0506")
def receipt(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    row = find_order(ctx, biz)
    if row["status"] == BOUNCED:
        raise codes.RECEIPT_NOT_AVAILABLE.error(
            f"the order was paid at {row['complete_time']} and bounced (退票) at {row['bounce_time']}; refund"
            f" {row['refund_no']} returned the amount and fee, and the payment's receipt is void",
            status=BOUNCED,
            refundNo=row["refund_no"],
            bounceTime=row["bounce_time"],
        )
    if row["status"] != SUCCESS:
        raise codes.RECEIPT_NOT_AVAILABLE.error(f"the order is {row['status']}", status=row["status"])
    batch = batch_of(ctx, row)
    receipt_no = documents.receipt_no(row["order_no"])
    return drop_none(
        {
            "receiptNo": receipt_no,
            "orderNo": row["order_no"],
            "outOrderNo": row["out_order_no"],
            "batchNo": row["batch_no"],
            "outBatchNo": batch["out_batch_no"] if batch is not None else None,
            "payeeName": mask_name(row["name"]),
            "payeeBankCardNo": mask_card(row["bank_card_no"]) if row["bank_card_no"] else None,
            "payeeBankName": row["bank_name"],
            "amount": yuan(row["amount_fen"]),
            "payTime": row["complete_time"],
            "receiptTime": row["complete_time"],
            "receiptUrl": documents.files_url(ctx, documents.RECEIPTS, receipt_no),
        }
    )
