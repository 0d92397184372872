"""Withdrawals of unused funds to the enterprise's bank account (SFT0411–0413; notification 2001).

SFT0412 freezes the amount in the provider account (SFT0303 shows it in ``frozenAmount``; it is no
longer available, and no ledger row is written yet) and the order is ``PROCESSING``; after
``delays.withdrawal`` the bank answers: ``SUCCESS`` releases the freeze and debits the account (one
ledger row WITHDRAWAL −), ``FAILED`` (when a script says so, ``business_key`` = ``outWithdrawNo``)
releases the freeze and moves nothing. Either way notification 2001 goes out. The target
must be an enterprise bank account bound with SFT0311 (4801), named by its ``bindNo`` (or its
``bankAcctNo``); either may be left out when exactly one account is bound. ``outWithdrawNo`` is
unique per merchant (409 with ``withdrawNo``).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from lingong_core.masking import mask_card

from ..db import schema
from . import codes, ledger
from .account import BOUND, bound_ent_account
from .base import Ctx, conflict, drop_none, handles, list_query, not_found, paged, to_fen, yuan
from .fields import Biz
from .jobs import FAIL, job, take_script

PROCESSING, SUCCESS, FAILED = "PROCESSING", "SUCCESS", "FAILED"
FAIL_MSG = "收款账户信息有误，银行退回 (bank rejected the beneficiary account)"

schema(
    """
    CREATE TABLE IF NOT EXISTS eng_withdrawal (
        withdraw_no TEXT PRIMARY KEY,
        merchant_no TEXT NOT NULL,
        out_withdraw_no TEXT NOT NULL,
        tax_base_code TEXT NOT NULL,
        amount_fen INTEGER NOT NULL,
        bank_acct_no TEXT NOT NULL,
        bank_acct_name TEXT NOT NULL,
        bank_name TEXT NOT NULL,
        status TEXT NOT NULL,
        remark TEXT,
        create_time TEXT NOT NULL,
        complete_time TEXT,
        fail_msg TEXT,
        UNIQUE (merchant_no, out_withdraw_no)
    )
    """
)


def _view(row: sqlite3.Row) -> dict[str, Any]:
    return drop_none(
        {
            "withdrawNo": row["withdraw_no"],
            "outWithdrawNo": row["out_withdraw_no"],
            "taxBaseCode": row["tax_base_code"],
            "amount": yuan(row["amount_fen"]),
            "bankAcctNo": mask_card(row["bank_acct_no"]),
            "bankAcctName": row["bank_acct_name"],
            "bankName": row["bank_name"],
            "status": row["status"],
            "remark": row["remark"],
            "applyTime": row["create_time"],
            "completeTime": row["complete_time"],
            "failMsg": row["fail_msg"],
        }
    )


@handles("SFT0412")
def apply(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    out_withdraw_no = biz.req("outWithdrawNo")
    code = biz.req("taxBaseCode")
    amount = biz.amount("amount")
    bind_no = biz.text("bindNo", required=False)
    acct_no = biz.text("bankAcctNo", required=False, max_len=40)
    remark = biz.text("remark", required=False, max_len=256)
    existing = ctx.one(
        "SELECT withdraw_no FROM eng_withdrawal WHERE merchant_no = ? AND out_withdraw_no = ?",
        ctx.merchant_no,
        out_withdraw_no,
    )
    if existing is not None:
        raise conflict(
            f"outWithdrawNo {out_withdraw_no}", withdrawNo=existing["withdraw_no"], outWithdrawNo=out_withdraw_no
        )
    ctx.provider(code)
    if bind_no is not None:
        target = ctx.one(
            "SELECT * FROM eng_ent_account WHERE merchant_no = ? AND bind_no = ? AND status = ?",
            ctx.merchant_no,
            bind_no,
            BOUND,
        )
    elif acct_no is not None:
        target = bound_ent_account(ctx, acct_no)
    else:
        bound = ctx.all("SELECT * FROM eng_ent_account WHERE merchant_no = ? AND status = ?", ctx.merchant_no, BOUND)
        target = bound[0] if len(bound) == 1 else None
    if target is None:
        raise codes.ENTERPRISE_ACCOUNT_NOT_BOUND.error("bind the account with SFT0311 (or name one of the bound ones)")
    have = ledger.available(ctx, code)
    if have < to_fen(amount):
        raise codes.INSUFFICIENT_BALANCE.error(
            f"withdrawing {amount}, the account holds {yuan(have)}", requiredAmount=amount, availableAmount=yuan(have)
        )
    withdraw_no = ctx.next_no("W")
    ctx.exec(
        "INSERT INTO eng_withdrawal (withdraw_no, merchant_no, out_withdraw_no, tax_base_code, amount_fen,"
        " bank_acct_no,"
        " bank_acct_name, bank_name, status, remark, create_time) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        withdraw_no,
        ctx.merchant_no,
        out_withdraw_no,
        code,
        to_fen(amount),
        target["bank_acct_no"],
        target["bank_acct_name"],
        target["bank_name"],
        PROCESSING,
        remark,
        ctx.stamp,
    )
    ledger.freeze(ctx, code, to_fen(amount))
    ctx.schedule("withdraw_finish", withdraw_no, ctx.settings.delays.withdrawal)
    return {"withdrawNo": withdraw_no, "outWithdrawNo": out_withdraw_no, "status": PROCESSING, "amount": amount}


@handles("SFT0411")
def orders(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    sql, params = list_query(
        ctx, biz, "eng_withdrawal", statuses=(PROCESSING, SUCCESS, FAILED), time_column="create_time"
    )
    return paged(ctx, biz, sql + " ORDER BY create_time, withdraw_no", tuple(params), _view)


@handles("SFT0413")
def detail(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    biz.one_of("withdrawNo", "outWithdrawNo")
    if biz.has("withdrawNo"):
        row = ctx.one(
            "SELECT * FROM eng_withdrawal WHERE merchant_no = ? AND withdraw_no = ?",
            ctx.merchant_no,
            biz.req("withdrawNo"),
        )
    else:
        row = ctx.one(
            "SELECT * FROM eng_withdrawal WHERE merchant_no = ? AND out_withdraw_no = ?",
            ctx.merchant_no,
            biz.req("outWithdrawNo"),
        )
    if row is None:
        raise not_found("no withdrawal with this withdrawNo/outWithdrawNo")
    return _view(row)


@job("withdraw_finish")
def finish(ctx: Ctx, withdraw_no: str) -> None:
    row = ctx.one("SELECT * FROM eng_withdrawal WHERE withdraw_no = ?", withdraw_no)
    if row is None or row["status"] != PROCESSING:
        return
    failed = take_script(ctx, ("business_key", row["out_withdraw_no"])) == FAIL
    ledger.unfreeze(ctx, row["tax_base_code"], int(row["amount_fen"]))
    if not failed:
        ledger.post(
            ctx,
            row["tax_base_code"],
            ledger.WITHDRAWAL,
            -int(row["amount_fen"]),
            ref_no=withdraw_no,
            out_ref_no=row["out_withdraw_no"],
            remark="提现",
        )
    ctx.exec(
        "UPDATE eng_withdrawal SET status = ?, complete_time = ?, fail_msg = ? WHERE withdraw_no = ?",
        FAILED if failed else SUCCESS,
        ctx.stamp,
        FAIL_MSG if failed else None,
        withdraw_no,
    )
    ctx.notify(
        "2001",
        drop_none(
            {
                "withdrawNo": withdraw_no,
                "outWithdrawNo": row["out_withdraw_no"],
                "amount": yuan(row["amount_fen"]),
                "status": FAILED if failed else SUCCESS,
                "completeTime": ctx.stamp,
                "failMsg": FAIL_MSG if failed else None,
            }
        ),
    )
