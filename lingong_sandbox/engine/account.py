"""Custody accounts (SFT0301–0304) and the enterprise's own bank accounts (SFT0310–0312).

Each service provider keeps one custody account per merchant; its balance moves only through
:mod:`.ledger`. SFT0304 tells the enterprise where to transfer a recharge: a recharge account per
provider, derived from the merchant and provider numbers. Enterprise bank accounts are where
withdrawals go; binding the same account again returns the same ``bindNo``.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from lingong_core.masking import mask_card

from ..db import schema
from ..settings import ServiceProvider
from . import ledger
from .base import Ctx, drop_none, handles, not_found, yuan
from .fields import Biz

BOUND, UNBOUND = "BOUND", "UNBOUND"
ACCOUNT_BANK = ("招商银行", "招商银行股份有限公司海口分行")

schema(
    """
    CREATE TABLE IF NOT EXISTS eng_ent_account (
        bind_no TEXT PRIMARY KEY,
        merchant_no TEXT NOT NULL,
        bank_acct_no TEXT NOT NULL,
        bank_acct_name TEXT NOT NULL,
        bank_name TEXT NOT NULL,
        bank_branch TEXT,
        status TEXT NOT NULL,
        bind_time TEXT NOT NULL,
        unbind_time TEXT,
        UNIQUE (merchant_no, bank_acct_no)
    )
    """
)


def _provider_view(p: ServiceProvider) -> dict[str, Any]:
    return {
        "taxBaseCode": p.tax_base_code,
        "taxBaseName": p.name,
        "feeRate": p.fee_rate,
        "perOrderLimit": p.per_order_limit,
        "monthlyLimit": p.monthly_limit,
        "status": "ENABLED",
    }


def _balance_view(ctx: Ctx, p: ServiceProvider) -> dict[str, Any]:
    bal, frozen = ledger.balance_fen(ctx.conn, ctx.merchant_no, p.tax_base_code)
    return {
        "taxBaseCode": p.tax_base_code,
        "taxBaseName": p.name,
        "balance": yuan(bal),
        "frozenAmount": yuan(frozen),
        "availableAmount": yuan(bal - frozen),
    }


@handles("SFT0301")
def providers(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    items = [_provider_view(p) for p in ctx.settings.providers]
    return {"total": len(items), "list": items}


@handles("SFT0302")
def accounts(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    chosen = ctx.settings.providers
    if biz.has("taxBaseCode"):
        chosen = [ctx.provider(biz.req("taxBaseCode"))]
    items = [{**_balance_view(ctx, p), "accountNo": _custody_no(ctx, p), "status": "NORMAL"} for p in chosen]
    return {"total": len(items), "list": items}


@handles("SFT0303")
def balance(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    return _balance_view(ctx, ctx.provider(biz.req("taxBaseCode")))


def _custody_no(ctx: Ctx, p: ServiceProvider) -> str:
    return f"9{p.tax_base_code[-6:]}{ctx.merchant_no[-8:]}"


@handles("SFT0304")
def recharge_account(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    p = ctx.provider(biz.req("taxBaseCode"))
    return {
        "taxBaseCode": p.tax_base_code,
        "payeeAcctType": "BANK",
        "payeeBankAcctName": p.name,
        "payeeBankAcctNo": f"7{p.tax_base_code[-6:]}{ctx.merchant_no[-8:]}01",
        "payeeBankName": f"{ACCOUNT_BANK[0]}（{ACCOUNT_BANK[1]}）",
        "remark": f"转账时请备注商户号 {ctx.merchant_no}",
    }


# -- enterprise bank accounts --------------------------------------------------------------------------


def ent_view(row: sqlite3.Row) -> dict[str, Any]:
    return drop_none(
        {
            "bindNo": row["bind_no"],
            "bankAcctNo": mask_card(row["bank_acct_no"]),
            "bankAcctName": row["bank_acct_name"],
            "bankName": row["bank_name"],
            "bankBranch": row["bank_branch"],
            "bindStatus": row["status"],
            "bindTime": row["bind_time"],
            "unbindTime": row["unbind_time"],
        }
    )


def bound_ent_account(ctx: Ctx, bank_acct_no: str) -> sqlite3.Row | None:
    return ctx.one(
        "SELECT * FROM eng_ent_account WHERE merchant_no = ? AND bank_acct_no = ? AND status = ?",
        ctx.merchant_no,
        bank_acct_no,
        BOUND,
    )


@handles("SFT0310")
def ent_accounts(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    rows = ctx.all("SELECT * FROM eng_ent_account WHERE merchant_no = ? ORDER BY bind_time, bind_no", ctx.merchant_no)
    status = biz.text("bindStatus", required=False, choices=(BOUND, UNBOUND))
    items = [ent_view(r) for r in rows if status is None or r["status"] == status]
    return {"total": len(items), "list": items}


@handles("SFT0311")
def ent_bind(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    acct_no = biz.req("bankAcctNo", max_len=40, pattern=r"\d{6,32}", rule="must be 6–32 digits")
    acct_name = biz.req("bankAcctName", max_len=128)
    bank_name = biz.req("bankName", max_len=128)
    branch = biz.text("bankBranch", required=False, max_len=128) or biz.text("bankCode", required=False, max_len=32)
    row = ctx.one("SELECT * FROM eng_ent_account WHERE merchant_no = ? AND bank_acct_no = ?", ctx.merchant_no, acct_no)
    if row is None:
        bind_no = ctx.next_no("EA")
        ctx.exec(
            "INSERT INTO eng_ent_account (bind_no, merchant_no, bank_acct_no, bank_acct_name, bank_name, bank_branch,"
            " status, bind_time) VALUES (?,?,?,?,?,?,?,?)",
            bind_no,
            ctx.merchant_no,
            acct_no,
            acct_name,
            bank_name,
            branch,
            BOUND,
            ctx.stamp,
        )
    else:
        bind_no = row["bind_no"]
        ctx.exec(
            "UPDATE eng_ent_account SET bank_acct_name = ?, bank_name = ?, bank_branch = COALESCE(?, bank_branch),"
            " status = ?, unbind_time = NULL, bind_time = CASE WHEN status = ? THEN bind_time ELSE ? END"
            " WHERE bind_no = ?",
            acct_name,
            bank_name,
            branch,
            BOUND,
            BOUND,
            ctx.stamp,
            bind_no,
        )
    fresh = ctx.one("SELECT * FROM eng_ent_account WHERE bind_no = ?", bind_no)
    assert fresh is not None
    return ent_view(fresh)


@handles("SFT0312")
def ent_unbind(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    biz.one_of("bindNo", "bankAcctNo")
    if biz.has("bindNo"):
        row = ctx.one(
            "SELECT * FROM eng_ent_account WHERE merchant_no = ? AND bind_no = ?", ctx.merchant_no, biz.req("bindNo")
        )
    else:
        row = ctx.one(
            "SELECT * FROM eng_ent_account WHERE merchant_no = ? AND bank_acct_no = ?",
            ctx.merchant_no,
            biz.req("bankAcctNo"),
        )
    if row is None:
        raise not_found("no such enterprise bank account")
    if row["status"] == BOUND:
        ctx.exec(
            "UPDATE eng_ent_account SET status = ?, unbind_time = ? WHERE bind_no = ?",
            UNBOUND,
            ctx.stamp,
            row["bind_no"],
        )
        row = ctx.one("SELECT * FROM eng_ent_account WHERE bind_no = ?", row["bind_no"])
        assert row is not None
    return ent_view(row)
