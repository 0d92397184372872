"""Invoices (SFT0601–0611; notification 9001).

What can be invoiced: a COMPLETED settlement batch earns, for each order paid and not bounced, the
order's amount plus its service fee (the provider invoices the enterprise for the full sum it
handled). A batch's ``invoiceableAmount`` is what it earned less what applications that are APPLIED
or ISSUED already hold against it (never below zero). SFT0605 names batches and an amount; the amount
(at most the batches' invoiceable sum, 4601) is allocated over them in the order given.

Application states: ``APPLIED → ISSUED | REJECTED | CANCELLED``. After ``delays.invoice`` the
background issues it (invoice numbers of 20 digits, one per :data:`MAX_PER_INVOICE` yuan) or rejects
it (rate ``outcomes.invoice_reject_rate``, or a script on ``outApplyNo``), and notification 9001 goes
out. A rejected or cancelled application releases its amount. SFT0611 cancels an APPLIED one (4603
otherwise). ``outApplyNo`` is unique per merchant (409 with ``applyNo``). Quota accounts (SFT0609/0610), one
per provider: ``totalQuota`` earned, ``usedQuota`` issued, ``frozenQuota`` applied and pending,
``availableQuota`` what SFT0605 would still accept.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from lingong_core import jsoncodec
from lingong_core.timeutil import to_shanghai

from ..db import schema
from ..settings import ServiceProvider
from . import codes
from .base import Ctx, conflict, drop_none, handles, list_query, not_found, paged, to_fen, yuan
from .fields import Biz, bad
from .jobs import FAIL, job, rolled, take_script
from .settlement_orders import order_view

APPLIED, ISSUED, REJECTED, CANCELLED = "APPLIED", "ISSUED", "REJECTED", "CANCELLED"
HOLDING = (APPLIED, ISSUED)
MAX_PER_INVOICE = Decimal("1000000.00")
REJECT_REASON = "购买方信息与税务登记信息不一致 (buyer details differ from the tax registration)"
INVOICE_TYPES: dict[str, str] = {
    "VAT_SPECIAL": "增值税专用发票",
    "VAT_NORMAL": "增值税普通发票",
    "E_VAT_SPECIAL": "电子发票（增值税专用发票）",
    "E_VAT_NORMAL": "电子发票（普通发票）",
}
VAT_RATE = Decimal("0.06")

schema(
    """
    CREATE TABLE IF NOT EXISTS eng_invoice (
        apply_no TEXT PRIMARY KEY,
        merchant_no TEXT NOT NULL,
        out_apply_no TEXT NOT NULL,
        tax_base_code TEXT NOT NULL,
        invoice_type TEXT NOT NULL,
        category_code TEXT NOT NULL,
        amount_fen INTEGER NOT NULL,
        status TEXT NOT NULL,
        invoice_nos TEXT NOT NULL DEFAULT '[]',
        remark TEXT,
        apply_time TEXT NOT NULL,
        issue_time TEXT,
        reject_reason TEXT,
        cancel_time TEXT,
        cancel_reason TEXT,
        UNIQUE (merchant_no, out_apply_no)
    );
    CREATE TABLE IF NOT EXISTS eng_invoice_batch (
        apply_no TEXT NOT NULL,
        batch_no TEXT NOT NULL,
        amount_fen INTEGER NOT NULL,
        PRIMARY KEY (apply_no, batch_no)
    );
    CREATE INDEX IF NOT EXISTS eng_invoice_batch_by_batch ON eng_invoice_batch (batch_no)
    """
)


def categories(provider: ServiceProvider) -> dict[str, str]:
    """categoryCode → name, from the provider's configured ``invoice_categories``."""
    return {f"C{i + 1:02d}": name for i, name in enumerate(provider.invoice_categories)}


def earned_fen(ctx: Ctx, batch_no: str) -> int:
    row = ctx.one(
        "SELECT COALESCE(SUM(amount_fen + service_fen), 0) FROM eng_order WHERE batch_no = ? AND status = 'SUCCESS'",
        batch_no,
    )
    return int(row[0]) if row else 0


def held_fen(ctx: Ctx, batch_no: str) -> int:
    row = ctx.one(
        "SELECT COALESCE(SUM(ib.amount_fen), 0) FROM eng_invoice_batch ib"
        " JOIN eng_invoice i ON i.apply_no = ib.apply_no"
        " WHERE ib.batch_no = ? AND i.status IN (?, ?)",
        batch_no,
        *HOLDING,
    )
    return int(row[0]) if row else 0


def invoiceable_fen(ctx: Ctx, batch_no: str) -> int:
    return max(0, earned_fen(ctx, batch_no) - held_fen(ctx, batch_no))


# -- SFT0601 / SFT0602 -------------------------------------------------------------------------------


@handles("SFT0601")
def list_categories(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    provider = ctx.provider(biz.req("taxBaseCode"))
    items = [
        {"categoryCode": code, "categoryName": name, "taxRate": VAT_RATE} for code, name in categories(provider).items()
    ]
    return {"taxBaseCode": provider.tax_base_code, "total": len(items), "list": items}


@handles("SFT0602")
def list_types(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    head: dict[str, Any] = {}
    if biz.has("taxBaseCode"):
        head["taxBaseCode"] = ctx.provider(biz.req("taxBaseCode")).tax_base_code
    items = [{"invoiceType": code, "invoiceTypeName": name} for code, name in INVOICE_TYPES.items()]
    return {**head, "total": len(items), "list": items}


# -- SFT0603 -------------------------------------------------------------------------------------------


@handles("SFT0603")
def invoiceable_batches(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    code = biz.req("taxBaseCode")
    ctx.provider(code)
    sql = (
        "SELECT b.*, (SELECT COALESCE(SUM(o.amount_fen + o.service_fen), 0) FROM eng_order o"
        " WHERE o.batch_no = b.batch_no AND o.status = 'SUCCESS') AS earned_fen,"
        " (SELECT COALESCE(SUM(ib.amount_fen), 0) FROM eng_invoice_batch ib JOIN eng_invoice i"
        " ON i.apply_no = ib.apply_no WHERE ib.batch_no = b.batch_no AND i.status IN ('APPLIED', 'ISSUED')) AS held_fen"
        " FROM eng_batch b WHERE b.merchant_no = ? AND b.tax_base_code = ? AND b.status = 'COMPLETED'"
    )
    outer = f"SELECT * FROM ({sql}) WHERE earned_fen > held_fen ORDER BY complete_time, batch_no"

    def render(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "batchNo": row["batch_no"],
            "outBatchNo": row["out_batch_no"],
            "taxBaseCode": row["tax_base_code"],
            "totalAmount": yuan(row["total_fen"]),
            "serviceAmount": yuan(row["service_fen"]),
            "invoicedAmount": yuan(row["held_fen"]),
            "invoiceableAmount": yuan(max(0, row["earned_fen"] - row["held_fen"])),
            "completeTime": row["complete_time"],
        }

    return {"taxBaseCode": code, **paged(ctx, biz, outer, (ctx.merchant_no, code), render)}


# -- SFT0605 -------------------------------------------------------------------------------------------


@handles("SFT0605")
def apply(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    out_apply_no = biz.req("outApplyNo")
    code = biz.req("taxBaseCode")
    batch_nos = biz.strings("batchNos", max_items=1000)
    invoice_type = biz.req("invoiceType")
    category_code = biz.req("categoryCode")
    amount = biz.amount("amount")
    remark = biz.text("remark", required=False, max_len=256)
    if len(set(batch_nos)) != len(batch_nos):
        raise bad("batchNos", "must not repeat a batchNo")
    existing = ctx.one(
        "SELECT apply_no, status FROM eng_invoice WHERE merchant_no = ? AND out_apply_no = ?",
        ctx.merchant_no,
        out_apply_no,
    )
    if existing is not None:
        raise conflict(
            f"outApplyNo {out_apply_no}",
            applyNo=existing["apply_no"],
            outApplyNo=out_apply_no,
            status=existing["status"],
        )
    provider = ctx.provider(code)
    if invoice_type not in INVOICE_TYPES:
        raise codes.INVOICE_TYPE_UNKNOWN.error(f"invoiceType {invoice_type}; see SFT0602")
    if category_code not in categories(provider):
        raise codes.INVOICE_CATEGORY_UNKNOWN.error(f"categoryCode {category_code}; see SFT0601")
    room: list[tuple[str, int]] = []
    for batch_no in batch_nos:
        batch = ctx.one(
            "SELECT * FROM eng_batch WHERE merchant_no = ? AND (batch_no = ? OR out_batch_no = ?)",
            ctx.merchant_no,
            batch_no,
            batch_no,
        )
        if batch is None:
            raise codes.BATCH_NOT_INVOICEABLE.error(f"batchNo {batch_no} does not exist")
        if batch["tax_base_code"] != code:
            raise codes.BATCH_NOT_INVOICEABLE.error(
                f"batchNo {batch_no} belongs to taxBaseCode {batch['tax_base_code']}"
            )
        if batch["status"] != "COMPLETED":
            raise codes.BATCH_NOT_INVOICEABLE.error(f"batchNo {batch_no} is {batch['status']}, not COMPLETED")
        left = invoiceable_fen(ctx, batch["batch_no"])
        if left <= 0:
            raise codes.BATCH_NOT_INVOICEABLE.error(f"batchNo {batch_no} has nothing left to invoice")
        room.append((batch["batch_no"], left))
    total_room = sum(left for _, left in room)
    want = to_fen(amount)
    if want > total_room:
        raise codes.INVOICE_AMOUNT_EXCEEDED.error(f"{amount} asked, {yuan(total_room)} invoiceable in these batches")
    apply_no = ctx.next_no("IA")
    ctx.exec(
        "INSERT INTO eng_invoice (apply_no, merchant_no, out_apply_no, tax_base_code, invoice_type, category_code,"
        " amount_fen, status, remark, apply_time) VALUES (?,?,?,?,?,?,?,?,?,?)",
        apply_no,
        ctx.merchant_no,
        out_apply_no,
        code,
        invoice_type,
        category_code,
        want,
        APPLIED,
        remark,
        ctx.stamp,
    )
    for batch_no, left in room:
        take = min(left, want)
        if take <= 0:
            break
        ctx.exec(
            "INSERT INTO eng_invoice_batch (apply_no, batch_no, amount_fen) VALUES (?,?,?)", apply_no, batch_no, take
        )
        want -= take
    ctx.schedule("invoice_finish", apply_no, ctx.settings.delays.invoice)
    return {"applyNo": apply_no, "outApplyNo": out_apply_no, "status": APPLIED, "amount": amount}


# -- queries -------------------------------------------------------------------------------------------


def _view(ctx: Ctx, row: sqlite3.Row, *, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "applyNo": row["apply_no"],
        "outApplyNo": row["out_apply_no"],
        "taxBaseCode": row["tax_base_code"],
        "invoiceType": row["invoice_type"],
        "categoryCode": row["category_code"],
        "amount": yuan(row["amount_fen"]),
        "status": row["status"],
        "invoiceNos": jsoncodec.loads(row["invoice_nos"]),
        "remark": row["remark"],
        "applyTime": row["apply_time"],
        "issueTime": row["issue_time"],
        "rejectReason": row["reject_reason"],
        "cancelTime": row["cancel_time"],
    }
    if detail:
        out["batches"] = [
            {"batchNo": r["batch_no"], "outBatchNo": r["out_batch_no"], "amount": yuan(r["amount_fen"])}
            for r in ctx.all(
                "SELECT ib.batch_no, ib.amount_fen, b.out_batch_no FROM eng_invoice_batch ib"
                " JOIN eng_batch b ON b.batch_no = ib.batch_no WHERE ib.apply_no = ? ORDER BY ib.rowid",
                row["apply_no"],
            )
        ]
    return drop_none(out)


def _find(ctx: Ctx, biz: Biz) -> sqlite3.Row:
    biz.one_of("applyNo", "outApplyNo")
    if biz.has("applyNo"):
        row = ctx.one(
            "SELECT * FROM eng_invoice WHERE merchant_no = ? AND apply_no = ?", ctx.merchant_no, biz.req("applyNo")
        )
    else:
        row = ctx.one(
            "SELECT * FROM eng_invoice WHERE merchant_no = ? AND out_apply_no = ?",
            ctx.merchant_no,
            biz.req("outApplyNo"),
        )
    if row is None:
        raise not_found("no invoice application with this applyNo/outApplyNo")
    return row


@handles("SFT0606")
def applications(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    sql, params = list_query(
        ctx, biz, "eng_invoice", statuses=(APPLIED, ISSUED, REJECTED, CANCELLED), time_column="apply_time"
    )
    return paged(ctx, biz, sql + " ORDER BY apply_time, apply_no", tuple(params), lambda r: _view(ctx, r))


@handles("SFT0607")
def application(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    return _view(ctx, _find(ctx, biz), detail=True)


@handles("SFT0608")
def application_orders(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    row = _find(ctx, biz)
    sql = (
        "SELECT o.*, b.out_batch_no FROM eng_order o JOIN eng_invoice_batch ib ON ib.batch_no = o.batch_no"
        " JOIN eng_batch b ON b.batch_no = o.batch_no WHERE ib.apply_no = ? AND o.status = 'SUCCESS'"
        " ORDER BY o.batch_no, o.order_no"
    )

    def render(r: sqlite3.Row) -> dict[str, Any]:
        return {**order_view(r), "outBatchNo": r["out_batch_no"]}

    return {
        "applyNo": row["apply_no"],
        "outApplyNo": row["out_apply_no"],
        **paged(ctx, biz, sql, (row["apply_no"],), render),
    }


def _quota(ctx: Ctx, provider: ServiceProvider) -> dict[str, Any]:
    earned = ctx.one(
        "SELECT COALESCE(SUM(o.amount_fen + o.service_fen), 0) FROM eng_order o"
        " JOIN eng_batch b ON b.batch_no = o.batch_no"
        " WHERE b.merchant_no = ? AND b.tax_base_code = ? AND b.status = 'COMPLETED' AND o.status = 'SUCCESS'",
        ctx.merchant_no,
        provider.tax_base_code,
    )
    sums = {
        r[0]: int(r[1] or 0)
        for r in ctx.all(
            "SELECT status, SUM(amount_fen) FROM eng_invoice WHERE merchant_no = ? AND tax_base_code = ?"
            " GROUP BY status",
            ctx.merchant_no,
            provider.tax_base_code,
        )
    }
    available = sum(
        invoiceable_fen(ctx, r["batch_no"])
        for r in ctx.all(
            "SELECT batch_no FROM eng_batch WHERE merchant_no = ? AND tax_base_code = ? AND status = 'COMPLETED'",
            ctx.merchant_no,
            provider.tax_base_code,
        )
    )
    return {
        "quotaAcctNo": quota_acct_no(ctx, provider),
        "taxBaseCode": provider.tax_base_code,
        "taxBaseName": provider.name,
        "totalQuota": yuan(int(earned[0]) if earned else 0),
        "usedQuota": yuan(sums.get(ISSUED, 0)),
        "frozenQuota": yuan(sums.get(APPLIED, 0)),
        "availableQuota": yuan(available),
    }


def quota_acct_no(ctx: Ctx, provider: ServiceProvider) -> str:
    return f"QA{provider.tax_base_code}{ctx.merchant_no[-6:]}"


@handles("SFT0609")
def quota_accounts(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    chosen = [ctx.provider(biz.req("taxBaseCode"))] if biz.has("taxBaseCode") else ctx.settings.providers
    items = [_quota(ctx, p) for p in chosen]
    return {"total": len(items), "list": items}


@handles("SFT0610")
def quota_account(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    biz.one_of("quotaAcctNo", "taxBaseCode")
    if biz.has("taxBaseCode"):
        return _quota(ctx, ctx.provider(biz.req("taxBaseCode")))
    wanted = biz.req("quotaAcctNo")
    for provider in ctx.settings.providers:
        if quota_acct_no(ctx, provider) == wanted:
            return _quota(ctx, provider)
    raise not_found("no quota account with this quotaAcctNo")


@handles("SFT0611")
def cancel(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    row = _find(ctx, biz)
    if row["status"] == APPLIED:
        ctx.exec(
            "UPDATE eng_invoice SET status = ?, cancel_time = ?, cancel_reason = ? WHERE apply_no = ? AND status = ?",
            CANCELLED,
            ctx.stamp,
            biz.text("reason", required=False, max_len=256),
            row["apply_no"],
            APPLIED,
        )
    elif row["status"] != CANCELLED:
        raise codes.INVOICE_NOT_CANCELLABLE.error(f"the application is {row['status']}")
    fresh = _find(ctx, biz)
    return {
        "applyNo": fresh["apply_no"],
        "outApplyNo": fresh["out_apply_no"],
        "status": fresh["status"],
        "cancelTime": fresh["cancel_time"],
    }


# -- background --------------------------------------------------------------------------------------


def _invoice_numbers(ctx: Ctx, amount_fen: int) -> list[str]:
    count = max(1, -(-amount_fen // to_fen(MAX_PER_INVOICE)))
    numbers = []
    for _ in range(count):
        row = ctx.one(
            "INSERT INTO eng_seq (name, value) VALUES ('invoice', 1) ON CONFLICT(name) DO UPDATE SET value = value + 1"
            " RETURNING value"
        )
        assert row is not None
        numbers.append(f"{to_shanghai(ctx.now):%y}4600{int(row[0]):014d}")
    return numbers


@job("invoice_finish")
def finish(ctx: Ctx, apply_no: str) -> None:
    row = ctx.one("SELECT * FROM eng_invoice WHERE apply_no = ?", apply_no)
    if row is None or row["status"] != APPLIED:
        return
    scripted = take_script(ctx, ("business_key", row["out_apply_no"]))
    rejected = (
        scripted == FAIL if scripted else rolled(ctx, apply_no, "invoice", ctx.settings.outcomes.invoice_reject_rate)
    )
    if rejected:
        ctx.exec(
            "UPDATE eng_invoice SET status = ?, reject_reason = ? WHERE apply_no = ?", REJECTED, REJECT_REASON, apply_no
        )
        numbers: list[str] = []
    else:
        numbers = _invoice_numbers(ctx, int(row["amount_fen"]))
        ctx.exec(
            "UPDATE eng_invoice SET status = ?, invoice_nos = ?, issue_time = ? WHERE apply_no = ?",
            ISSUED,
            jsoncodec.dumps(numbers),
            ctx.stamp,
            apply_no,
        )
    ctx.notify(
        "9001",
        drop_none(
            {
                "applyNo": apply_no,
                "outApplyNo": row["out_apply_no"],
                "status": REJECTED if rejected else ISSUED,
                "invoiceNos": numbers,
                "amount": yuan(row["amount_fen"]),
                "issueTime": None if rejected else ctx.stamp,
                "rejectReason": REJECT_REASON if rejected else None,
            }
        ),
    )
