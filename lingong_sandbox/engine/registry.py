"""Who the platform knows: verified freelancers and their bound cards (tables and lookups).

The lowest layer of the people side, imported by :mod:`.freelancer` (its handlers), :mod:`.contract`
and :mod:`.settlement_rules`. A person is keyed per merchant by the ID number; a card per merchant by
the card number.
"""

from __future__ import annotations

import sqlite3

from lingong_core.timeutil import to_shanghai

from ..db import schema
from . import bins, codes, identity
from .base import Ctx
from .fields import Biz

VERIFIED = "VERIFIED"
BOUND, UNBOUND = "BOUND", "UNBOUND"

schema(
    """
    CREATE TABLE IF NOT EXISTS eng_freelancer (
        freelancer_no TEXT PRIMARY KEY,
        merchant_no TEXT NOT NULL,
        id_card_no TEXT NOT NULL,
        name TEXT NOT NULL,
        mobile TEXT NOT NULL,
        verify_status TEXT NOT NULL,
        verify_time TEXT NOT NULL,
        UNIQUE (merchant_no, id_card_no)
    );
    CREATE TABLE IF NOT EXISTS eng_card (
        bind_no TEXT PRIMARY KEY,
        merchant_no TEXT NOT NULL,
        freelancer_no TEXT NOT NULL,
        bank_card_no TEXT NOT NULL,
        bank_code TEXT,
        bank_name TEXT,
        card_type TEXT NOT NULL,
        luhn_valid INTEGER NOT NULL,
        reserved_mobile TEXT,
        bind_status TEXT NOT NULL,
        bind_time TEXT NOT NULL,
        unbind_time TEXT,
        UNIQUE (merchant_no, bank_card_no)
    )
    """
)


def by_id(ctx: Ctx, id_card_no: str) -> sqlite3.Row | None:
    return ctx.one(
        "SELECT * FROM eng_freelancer WHERE merchant_no = ? AND id_card_no = ?",
        ctx.merchant_no,
        identity.normalise_id(id_card_no),
    )


def by_no(ctx: Ctx, freelancer_no: str) -> sqlite3.Row | None:
    return ctx.one(
        "SELECT * FROM eng_freelancer WHERE merchant_no = ? AND freelancer_no = ?", ctx.merchant_no, freelancer_no
    )


def person(ctx: Ctx, biz: Biz, *, must_exist: bool = True) -> sqlite3.Row | None:
    """The freelancer named by ``freelancerNo`` or ``idCardNo`` in ``biz``.

    An unknown person is 4106 (not verified) when ``must_exist``; an ill-formed ID number is its 41xx.
    """
    biz.one_of("idCardNo", "freelancerNo")
    row = None
    if biz.has("freelancerNo"):
        row = by_no(ctx, biz.req("freelancerNo"))
        if row is None and not biz.has("idCardNo"):
            if must_exist:
                raise codes.FREELANCER_NOT_VERIFIED.error("no verified freelancer with this freelancerNo")
            return None
    if row is None:
        id_card_no = biz.req("idCardNo", max_len=32)
        identity.check_id(id_card_no, to_shanghai(ctx.now).date(), 0, 200)
        row = by_id(ctx, id_card_no)
    if row is None and must_exist:
        raise codes.FREELANCER_NOT_VERIFIED.error("verify the person with SFT0101 first")
    return row


def verify(ctx: Ctx, name: str, id_card_no: str, mobile: str) -> tuple[sqlite3.Row, bool]:
    """Verify (or re-verify) a person; returns the row and whether it was created now."""
    name = identity.check_name(name)
    id_card_no = identity.check_id(id_card_no, to_shanghai(ctx.now).date(), ctx.settings.min_age, ctx.settings.max_age)
    mobile = identity.check_mobile(mobile)
    row = by_id(ctx, id_card_no)
    if row is not None:
        if row["name"] != name:
            raise codes.NAME_MISMATCH.error("the ID number was verified under another name")
        if row["mobile"] != mobile:
            ctx.exec("UPDATE eng_freelancer SET mobile = ? WHERE freelancer_no = ?", mobile, row["freelancer_no"])
            row = by_no(ctx, row["freelancer_no"])
        assert row is not None
        return row, False
    freelancer_no = ctx.next_no("F")
    ctx.exec(
        "INSERT INTO eng_freelancer (freelancer_no, merchant_no, id_card_no, name, mobile, verify_status, verify_time)"
        " VALUES (?,?,?,?,?,?,?)",
        freelancer_no,
        ctx.merchant_no,
        id_card_no,
        name,
        mobile,
        VERIFIED,
        ctx.stamp,
    )
    row = by_no(ctx, freelancer_no)
    assert row is not None
    return row, True


def bound_card(ctx: Ctx, freelancer_no: str, bank_card_no: str) -> sqlite3.Row | None:
    return ctx.one(
        "SELECT * FROM eng_card WHERE merchant_no = ? AND bank_card_no = ? AND freelancer_no = ? AND bind_status = ?",
        ctx.merchant_no,
        bins.normalise_card(bank_card_no),
        freelancer_no,
        BOUND,
    )


def card_holder(ctx: Ctx, bank_card_no: str) -> sqlite3.Row | None:
    return ctx.one(
        "SELECT * FROM eng_card WHERE merchant_no = ? AND bank_card_no = ? AND bind_status = ?",
        ctx.merchant_no,
        bins.normalise_card(bank_card_no),
        BOUND,
    )
