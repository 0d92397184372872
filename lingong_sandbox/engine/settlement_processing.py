"""Settlement in the background: each accepted batch's orders move ``ACCEPTED → PROCESSING → SUCCESS |
FAILED`` (3001 per order, with the batch's totals on the one that completes the batch), and a paid
order may later be ``BOUNCED`` (5001). A FAILED or BOUNCED order's amount and fee come back as one
REFUND row and a refund record (SFT0801/0802).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from . import ledger
from .base import Ctx, yuan
from .jobs import BOUNCE, FAIL, job, rolled, take_script
from .jobs import SUCCESS as OK
from .settlement_orders import ACCEPTED, BOUNCED, COMPLETED, FAILED, PROCESSING, SUCCESS, batch_counts

FAIL_CODE = "BANK_REJECTED"
FAIL_MSG = "收款账户状态异常，银行退回 (payee account abnormal, rejected by the bank)"
BOUNCE_REASON = "收款账户已销户，资金退回 (payee account closed, funds returned)"


@job("settle_start")
def start_batch(ctx: Ctx, batch_no: str) -> None:
    batch = ctx.one("SELECT * FROM eng_batch WHERE batch_no = ?", batch_no)
    if batch is None or batch["status"] != ACCEPTED:
        return
    ctx.exec("UPDATE eng_batch SET status = ? WHERE batch_no = ?", PROCESSING, batch_no)
    orders = ctx.all(
        "SELECT order_no FROM eng_order WHERE batch_no = ? AND status = ? ORDER BY order_no", batch_no, ACCEPTED
    )
    ctx.exec("UPDATE eng_order SET status = ? WHERE batch_no = ? AND status = ?", PROCESSING, batch_no, ACCEPTED)
    for order in orders:
        ctx.schedule("settle_finish", order["order_no"], ctx.settings.delays.settlement_finish)


def _refund(ctx: Ctx, order: sqlite3.Row, refund_type: str, reason: str) -> str:
    refund_no = ctx.next_no("R")
    ctx.exec(
        "INSERT INTO eng_refund (refund_no, merchant_no, tax_base_code, order_no, batch_no, refund_type, amount_fen,"
        " service_fen, reason, status, create_time) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        refund_no,
        order["merchant_no"],
        order["tax_base_code"],
        order["order_no"],
        order["batch_no"],
        refund_type,
        order["amount_fen"],
        order["service_fen"],
        reason,
        SUCCESS,
        ctx.stamp,
    )
    ledger.post(
        ctx,
        order["tax_base_code"],
        ledger.REFUND,
        int(order["amount_fen"]) + int(order["service_fen"]),
        ref_no=order["order_no"],
        out_ref_no=order["out_order_no"],
        biz_no=refund_no,
        remark="退票退款" if refund_type == BOUNCED else "失败退款",
    )
    ctx.exec("UPDATE eng_order SET refund_no = ? WHERE order_no = ?", refund_no, order["order_no"])
    return refund_no


def _outcome(ctx: Ctx, order: sqlite3.Row) -> str:
    scripted = take_script(
        ctx,
        ("business_key", order["out_order_no"]),
        ("bank_card_no", order["bank_card_no"]),
        ("id_card_no", order["id_card_no"]),
    )
    if scripted is not None:
        return scripted
    outcomes = ctx.settings.outcomes
    if rolled(ctx, order["order_no"], "fail", outcomes.settlement_fail_rate):
        return FAIL
    if rolled(ctx, order["order_no"], "bounce", outcomes.bounce_rate):
        return BOUNCE
    return OK


@job("settle_finish")
def finish_order(ctx: Ctx, order_no: str) -> None:
    order = ctx.one("SELECT * FROM eng_order WHERE order_no = ?", order_no)
    if order is None or order["status"] != PROCESSING:
        return
    outcome = _outcome(ctx, order)
    if outcome == FAIL:
        ctx.exec(
            "UPDATE eng_order SET status = ?, fail_code = ?, fail_msg = ?, complete_time = ? WHERE order_no = ?",
            FAILED,
            FAIL_CODE,
            FAIL_MSG,
            ctx.stamp,
            order_no,
        )
        _refund(ctx, order, FAILED, FAIL_MSG)
    else:
        ctx.exec("UPDATE eng_order SET status = ?, complete_time = ? WHERE order_no = ?", SUCCESS, ctx.stamp, order_no)
        if outcome == BOUNCE:
            ctx.schedule("settle_bounce", order_no, ctx.settings.delays.bounce)
    batch = ctx.one("SELECT * FROM eng_batch WHERE batch_no = ?", order["batch_no"])
    assert batch is not None
    biz: dict[str, Any] = {
        "batchNo": batch["batch_no"],
        "outBatchNo": batch["out_batch_no"],
        "orderNo": order_no,
        "outOrderNo": order["out_order_no"],
        "amount": yuan(order["amount_fen"]),
        "serviceAmount": yuan(order["service_fen"]),
        "status": FAILED if outcome == FAIL else SUCCESS,
        "failMsg": FAIL_MSG if outcome == FAIL else "",
        "completeTime": ctx.stamp,
        "settleType": batch["kind"],
    }
    if batch["campaign_no"]:  # a marketing batch: the merchant tells the two families apart by it
        biz["campaignNo"] = batch["campaign_no"]
    # Whether any order of the batch is still open, not a count of them for each order finished. Orders finish
    # in the order of their numbers, so the newest is open until the batch's last one is done: read from the
    # newest (eng_order_batch), this stops at the first row nearly every time. The answer never depends on it.
    still_open = ctx.one(
        "SELECT 1 FROM eng_order WHERE batch_no = ? AND status IN (?, ?) ORDER BY order_no DESC LIMIT 1",
        batch["batch_no"],
        ACCEPTED,
        PROCESSING,
    )
    if batch["status"] != COMPLETED and still_open is None:
        ctx.exec(
            "UPDATE eng_batch SET status = ?, complete_time = ? WHERE batch_no = ?",
            COMPLETED,
            ctx.stamp,
            batch["batch_no"],
        )
        counts = batch_counts(ctx, batch["batch_no"])
        biz.update(
            {
                "batchStatus": COMPLETED,
                "successCount": counts["successCount"],
                "failCount": counts["failCount"],
                "successAmount": counts["successAmount"],
                "failAmount": counts["failAmount"],
            }
        )
    ctx.notify("3001", biz)


@job("settle_bounce")
def bounce_order(ctx: Ctx, order_no: str) -> None:
    order = ctx.one("SELECT * FROM eng_order WHERE order_no = ?", order_no)
    if order is None or order["status"] != SUCCESS:
        return
    ctx.exec("UPDATE eng_order SET status = ?, bounce_time = ? WHERE order_no = ?", BOUNCED, ctx.stamp, order_no)
    refund_no = _refund(ctx, order, BOUNCED, BOUNCE_REASON)
    batch = ctx.one("SELECT out_batch_no FROM eng_batch WHERE batch_no = ?", order["batch_no"])
    ctx.notify(
        "5001",
        {
            "batchNo": order["batch_no"],
            "outBatchNo": batch["out_batch_no"] if batch is not None else "",
            "orderNo": order_no,
            "outOrderNo": order["out_order_no"],
            "amount": yuan(order["amount_fen"]),
            "serviceAmount": yuan(order["service_fen"]),
            "refundNo": refund_no,
            "bounceReason": BOUNCE_REASON,
            "bounceTime": ctx.stamp,
        },
    )
