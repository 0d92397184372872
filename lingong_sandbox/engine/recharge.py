"""Recharges (SFT0401, SFT0403, SFT0404; notification 1001).

SFT0404 reports a transfer the enterprise made to the provider's recharge account (SFT0304). The
order is ``PROCESSING``; after ``delays.recharge`` the platform has matched the transfer and the order
is ``SUCCESS`` — the account is credited with ``amount`` (ledger RECHARGE) — or ``FAILED`` (rate
``outcomes.recharge_fail_rate``, or a script on the ``outOrderNo``), and notification 1001 goes out.
``serviceAmount`` is recorded as reported; it does not move the balance. ``outOrderNo`` is unique per
merchant among recharge orders: a second SFT0404 with it is 409 with the existing ``orderNo``.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from decimal import Decimal
from typing import Any

from lingong_core import jsoncodec

from ..db import schema
from . import codes, ledger
from .base import Ctx, conflict, drop_none, handles, list_query, not_found, paged, stamp, to_fen, yuan
from .fields import Biz
from .jobs import FAIL, job, rolled, take_script

PROCESSING, SUCCESS, FAILED = "PROCESSING", "SUCCESS", "FAILED"
PAY_CHANNELS = {
    "3000001": "支付宝",
    "3000002": "微信",
    "3000003": "招商银行",
    "3000005": "平安银行",
    "3000007": "兴业银行",
}
RECHARGE_WAYS = ("ONLINE_RECHARGE", "ACCT_TRANSFER_RECHARGE")
ACCT_TYPES = ("BANK", "ALI_PAY")
FAIL_MSG = "未查询到对应的入账流水 (no matching incoming transfer)"

schema(
    """
    CREATE TABLE IF NOT EXISTS eng_recharge (
        order_no TEXT PRIMARY KEY,
        merchant_no TEXT NOT NULL,
        out_order_no TEXT NOT NULL,
        tax_base_code TEXT NOT NULL,
        amount_fen INTEGER NOT NULL,
        service_fen INTEGER NOT NULL,
        pay_channel_code TEXT NOT NULL,
        recharge_time TEXT NOT NULL,
        recharge_way TEXT NOT NULL,
        open_invoice_model INTEGER NOT NULL,
        details TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL,
        create_time TEXT NOT NULL,
        complete_time TEXT,
        fail_msg TEXT,
        UNIQUE (merchant_no, out_order_no)
    )
    """
)


def _view(row: sqlite3.Row) -> dict[str, Any]:
    return drop_none(
        {
            "orderNo": row["order_no"],
            "outOrderNo": row["out_order_no"],
            "taxBaseCode": row["tax_base_code"],
            "amount": yuan(row["amount_fen"]),
            "serviceAmount": yuan(row["service_fen"]),
            "payChannelCode": row["pay_channel_code"],
            "rechargeWay": row["recharge_way"],
            "openInvoiceModel": row["open_invoice_model"],
            "status": row["status"],
            "rechargeTime": row["recharge_time"],
            "createTime": row["create_time"],
            "completeTime": row["complete_time"],
            "failMsg": row["fail_msg"],
        }
    )


@handles("SFT0404")
def sync(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    out_order_no = biz.req("outOrderNo")
    code = biz.req("taxBaseCode")
    amount = biz.amount("amount")
    service = biz.amount("serviceAmount", positive=False)
    channel = biz.req("payChannelCode")
    recharge_time = biz.when("rechargeTime", required=True)
    assert recharge_time is not None
    if recharge_time > ctx.now + timedelta(seconds=ctx.settings.clock_skew_seconds):
        raise codes.RECHARGE_TIME_IN_FUTURE.error(f"rechargeTime {stamp(recharge_time)} is after {ctx.stamp}")
    way = biz.text("rechargeWay", required=False, choices=RECHARGE_WAYS) or "ACCT_TRANSFER_RECHARGE"
    open_invoice = biz.integer("openInvoiceModel", default=0, choices=(0, 1, 2))
    details = {
        key: biz.text(key, required=False, max_len=128, choices=ACCT_TYPES if key.endswith("AcctType") else None)
        for key in (
            "payeeAcctType",
            "payeeBankAcctName",
            "payeeBankAcctNo",
            "payeeBankName",
            "payerAcctType",
            "payerBankAcctName",
            "payerBankAcctNo",
            "payerBankName",
            "remark",
        )
    }
    existing = ctx.one(
        "SELECT order_no FROM eng_recharge WHERE merchant_no = ? AND out_order_no = ?", ctx.merchant_no, out_order_no
    )
    if existing is not None:
        raise conflict(f"outOrderNo {out_order_no}", orderNo=existing["order_no"], outOrderNo=out_order_no)
    ctx.provider(code)
    if channel not in PAY_CHANNELS:
        raise codes.PAY_CHANNEL_UNKNOWN.error(f"payChannelCode {channel}")
    order_no = ctx.next_no()
    ctx.exec(
        "INSERT INTO eng_recharge (order_no, merchant_no, out_order_no, tax_base_code, amount_fen, service_fen,"
        " pay_channel_code, recharge_time, recharge_way, open_invoice_model, details, status, create_time)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        order_no,
        ctx.merchant_no,
        out_order_no,
        code,
        to_fen(amount),
        to_fen(service if service is not None else Decimal("0.00")),
        channel,
        stamp(recharge_time),
        way,
        open_invoice,
        jsoncodec.dumps(drop_none(details)),
        PROCESSING,
        ctx.stamp,
    )
    ctx.schedule("recharge_finish", order_no, ctx.settings.delays.recharge)
    return {"orderNo": order_no, "outOrderNo": out_order_no}


def _find(ctx: Ctx, biz: Biz) -> sqlite3.Row | None:
    biz.one_of("outOrderNo", "orderNo")
    if biz.has("orderNo"):
        return ctx.one(
            "SELECT * FROM eng_recharge WHERE merchant_no = ? AND order_no = ?", ctx.merchant_no, biz.req("orderNo")
        )
    return ctx.one(
        "SELECT * FROM eng_recharge WHERE merchant_no = ? AND out_order_no = ?", ctx.merchant_no, biz.req("outOrderNo")
    )


@handles("SFT0403")
def query(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    row = _find(ctx, biz)
    if row is None:
        raise not_found("no recharge order with this outOrderNo/orderNo")
    return _view(row)


@handles("SFT0401")
def records(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    sql, params = list_query(
        ctx, biz, "eng_recharge", statuses=(PROCESSING, SUCCESS, FAILED), time_column="create_time"
    )
    return paged(ctx, biz, sql + " ORDER BY create_time, order_no", tuple(params), _view)


@job("recharge_finish")
def finish(ctx: Ctx, order_no: str) -> None:
    row = ctx.one("SELECT * FROM eng_recharge WHERE order_no = ?", order_no)
    if row is None or row["status"] != PROCESSING:
        return
    scripted = take_script(ctx, ("business_key", row["out_order_no"]))
    failed = (
        scripted == FAIL if scripted else rolled(ctx, order_no, "recharge", ctx.settings.outcomes.recharge_fail_rate)
    )
    if failed:
        ctx.exec(
            "UPDATE eng_recharge SET status = ?, complete_time = ?, fail_msg = ? WHERE order_no = ?",
            FAILED,
            ctx.stamp,
            FAIL_MSG,
            order_no,
        )
    else:
        ledger.post(
            ctx,
            row["tax_base_code"],
            ledger.RECHARGE,
            int(row["amount_fen"]),
            ref_no=order_no,
            out_ref_no=row["out_order_no"],
            remark="充值到账",
        )
        ctx.exec(
            "UPDATE eng_recharge SET status = ?, complete_time = ? WHERE order_no = ?", SUCCESS, ctx.stamp, order_no
        )
    ctx.notify(
        "1001",
        drop_none(
            {
                "orderNo": order_no,
                "outOrderNo": row["out_order_no"],
                "taxBaseCode": row["tax_base_code"],
                "amount": yuan(row["amount_fen"]),
                "status": FAILED if failed else SUCCESS,
                "completeTime": ctx.stamp,
                "failMsg": FAIL_MSG if failed else None,
            }
        ),
    )
