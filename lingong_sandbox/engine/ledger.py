"""The one place that moves money: a custody account per (merchant, service provider) and its ledger.

Every change of a balance is a ledger row written by :func:`post`, in the same statement sequence as
the balance update, so for every account at every moment::

    balance == recharges − payouts − fees + refunds − withdrawals

(``withdrawals`` the confirmed ones). Change types and their signs:

=============  ====  =============================================================
RECHARGE        +    a recharge order (SFT0404) reached SUCCESS
PAYOUT          −    a settlement order was accepted (SFT0502) or synced (SFT0510)
SERVICE_FEE     −    its service fee, at the same moment
REFUND          +    a FAILED or BOUNCED order's amount and fee came back
WITHDRAWAL      −    a withdrawal the bank confirmed (frozen until then; see :func:`freeze`)
=============  ====  =============================================================

A balance never goes below zero: callers check :func:`available` first, and :func:`post` refuses
(with an internal error, a bug) any change that would overdraw.

Money promised but not yet gone (a withdrawal the bank has not confirmed) is *frozen*: :func:`freeze`
moves it out of what is available without a ledger row (``balance == frozen + available``), and
:func:`unfreeze` gives it back before the debit is posted or the withdrawal fails.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..db import schema
from .base import Ctx, handles, paged, stamp, yuan
from .fields import Biz

RECHARGE, PAYOUT, SERVICE_FEE, REFUND, WITHDRAWAL = "RECHARGE", "PAYOUT", "SERVICE_FEE", "REFUND", "WITHDRAWAL"
CHANGE_TYPES = (RECHARGE, PAYOUT, SERVICE_FEE, REFUND, WITHDRAWAL)
_SIGN = {RECHARGE: 1, PAYOUT: -1, SERVICE_FEE: -1, REFUND: 1}

schema(
    """
    CREATE TABLE IF NOT EXISTS eng_account (
        merchant_no TEXT NOT NULL,
        tax_base_code TEXT NOT NULL,
        balance_fen INTEGER NOT NULL DEFAULT 0 CHECK (balance_fen >= 0),
        frozen_fen INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (merchant_no, tax_base_code)
    );
    CREATE TABLE IF NOT EXISTS eng_ledger (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        change_no TEXT NOT NULL UNIQUE,
        merchant_no TEXT NOT NULL,
        tax_base_code TEXT NOT NULL,
        change_type TEXT NOT NULL,
        amount_fen INTEGER NOT NULL,
        balance_after_fen INTEGER NOT NULL,
        ref_no TEXT,
        out_ref_no TEXT,
        biz_no TEXT,
        change_time TEXT NOT NULL,
        remark TEXT
    );
    CREATE INDEX IF NOT EXISTS eng_ledger_account ON eng_ledger (merchant_no, tax_base_code, id);
    CREATE INDEX IF NOT EXISTS eng_ledger_ref ON eng_ledger (ref_no)
    """
)


class OverdraftError(RuntimeError):
    """A change would take a balance below zero: a bug in the caller, which must check first."""


def _ensure(conn: sqlite3.Connection, merchant_no: str, tax_base_code: str) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO eng_account (merchant_no, tax_base_code) VALUES (?, ?)", (merchant_no, tax_base_code)
    )


def balance_fen(conn: sqlite3.Connection, merchant_no: str, tax_base_code: str) -> tuple[int, int]:
    """(balance, frozen) in fen."""
    row = conn.execute(
        "SELECT balance_fen, frozen_fen FROM eng_account WHERE merchant_no = ? AND tax_base_code = ?",
        (merchant_no, tax_base_code),
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def available(ctx: Ctx, tax_base_code: str) -> int:
    """What can be spent now, in fen."""
    bal, frozen = balance_fen(ctx.conn, ctx.merchant_no, tax_base_code)
    return bal - frozen


def freeze(ctx: Ctx, tax_base_code: str, amount_fen: int) -> None:
    """Set ``amount_fen`` aside (it stays in the balance but is no longer available); the caller checked."""
    if amount_fen <= 0 or available(ctx, tax_base_code) < amount_fen:
        raise OverdraftError(f"freezing {amount_fen} fen of {tax_base_code}: not available")
    ctx.exec(
        "UPDATE eng_account SET frozen_fen = frozen_fen + ? WHERE merchant_no = ? AND tax_base_code = ?",
        amount_fen,
        ctx.merchant_no,
        tax_base_code,
    )


def unfreeze(ctx: Ctx, tax_base_code: str, amount_fen: int) -> None:
    """Release what :func:`freeze` set aside."""
    _, frozen = balance_fen(ctx.conn, ctx.merchant_no, tax_base_code)
    if amount_fen <= 0 or frozen < amount_fen:
        raise OverdraftError(f"unfreezing {amount_fen} fen of {tax_base_code}: only {frozen} frozen")
    ctx.exec(
        "UPDATE eng_account SET frozen_fen = frozen_fen - ? WHERE merchant_no = ? AND tax_base_code = ?",
        amount_fen,
        ctx.merchant_no,
        tax_base_code,
    )


def post(
    ctx: Ctx,
    tax_base_code: str,
    change_type: str,
    amount_fen: int,
    *,
    ref_no: str | None,
    out_ref_no: str | None,
    biz_no: str | None = None,
    remark: str = "",
) -> str | None:
    """Apply one signed change (fen) to the account and record it; return its changeNo (None if zero)."""
    if change_type not in CHANGE_TYPES:
        raise ValueError(f"unknown change type {change_type}")
    sign = _SIGN.get(change_type)
    if sign is not None and amount_fen * sign < 0:
        raise ValueError(f"{change_type} must be {'+' if sign > 0 else '−'}, got {amount_fen}")
    if amount_fen == 0:
        return None
    _ensure(ctx.conn, ctx.merchant_no, tax_base_code)
    bal, _ = balance_fen(ctx.conn, ctx.merchant_no, tax_base_code)
    after = bal + amount_fen
    if after < 0:
        raise OverdraftError(f"{change_type} of {amount_fen} fen would overdraw {tax_base_code} ({bal} fen)")
    ctx.exec(
        "UPDATE eng_account SET balance_fen = ? WHERE merchant_no = ? AND tax_base_code = ?",
        after,
        ctx.merchant_no,
        tax_base_code,
    )
    change_no = ctx.next_no("L")
    ctx.exec(
        "INSERT INTO eng_ledger (change_no, merchant_no, tax_base_code, change_type, amount_fen, balance_after_fen,"
        " ref_no, out_ref_no, biz_no, change_time, remark) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        change_no,
        ctx.merchant_no,
        tax_base_code,
        change_type,
        amount_fen,
        after,
        ref_no,
        out_ref_no,
        biz_no,
        ctx.stamp,
        remark,
    )
    return change_no


def totals(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Per (merchant, provider): the ledger's sums by type (fen), the stored balance, and whether they agree."""
    accounts = conn.execute(
        "SELECT merchant_no, tax_base_code, balance_fen FROM eng_account ORDER BY merchant_no, tax_base_code"
    ).fetchall()
    out = []
    for acct in accounts:
        sums = dict.fromkeys(CHANGE_TYPES, 0)
        for row in conn.execute(
            "SELECT change_type, SUM(amount_fen) FROM eng_ledger WHERE merchant_no = ? AND tax_base_code = ?"
            " GROUP BY change_type",
            (acct["merchant_no"], acct["tax_base_code"]),
        ):
            sums[row[0]] = int(row[1] or 0)
        last = conn.execute(
            "SELECT balance_after_fen FROM eng_ledger WHERE merchant_no = ? AND tax_base_code = ? ORDER BY id DESC"
            " LIMIT 1",
            (acct["merchant_no"], acct["tax_base_code"]),
        ).fetchone()
        recharges, payouts, fees = sums[RECHARGE], -sums[PAYOUT], -sums[SERVICE_FEE]
        refunds, withdrawals = sums[REFUND], -sums[WITHDRAWAL]
        expected = recharges - payouts - fees + refunds - withdrawals
        stored = int(acct["balance_fen"])
        chained = last is None or int(last[0]) == stored
        out.append(
            {
                "merchant_no": acct["merchant_no"],
                "tax_base_code": acct["tax_base_code"],
                "recharges": recharges,
                "payouts": payouts,
                "fees": fees,
                "refunds": refunds,
                "withdrawals": withdrawals,
                "balance": stored,
                "expected": expected,
                "balanced": stored == expected and chained,
            }
        )
    return out


# -- SFT0305 -------------------------------------------------------------------------------------------


def _render(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "changeNo": row["change_no"],
        "taxBaseCode": row["tax_base_code"],
        "changeType": row["change_type"],
        "amount": yuan(row["amount_fen"]),
        "balanceAfter": yuan(row["balance_after_fen"]),
        "refNo": row["ref_no"],
        "outRefNo": row["out_ref_no"],
        "changeTime": row["change_time"],
        "remark": row["remark"] or "",
    }


@handles("SFT0305")
def ledger_query(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    code = biz.req("taxBaseCode")
    ctx.provider(code)
    start, end = biz.when("startTime"), biz.when("endTime")
    change_type = biz.text("changeType", required=False, choices=CHANGE_TYPES)
    sql = "SELECT * FROM eng_ledger WHERE merchant_no = ? AND tax_base_code = ?"
    params: list[Any] = [ctx.merchant_no, code]
    if start is not None:
        sql += " AND change_time >= ?"
        params.append(stamp(start))
    if end is not None:
        sql += " AND change_time <= ?"
        params.append(stamp(end))
    if change_type:
        sql += " AND change_type = ?"
        params.append(change_type)
    answer = paged(ctx, biz, sql + " ORDER BY id", tuple(params), _render)
    return {"taxBaseCode": code, **answer}
