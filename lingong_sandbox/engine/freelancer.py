"""Freelancers: real-name verification, ID photos, bank cards (SFT0101/0102/0103/0110/0201–0204).

A person is keyed per merchant by the ID number; verifying again returns the same ``freelancerNo``
(a different name for the same number is refused: 4105). Cards are keyed per merchant by the card
number; binding the same card to the same person again returns the same ``bindNo``. Answers mask
personal data.
"""

from __future__ import annotations

import base64
import binascii
import sqlite3
from typing import Any

from lingong_core.masking import mask_card, mask_id, mask_mobile, mask_name
from lingong_core.timeutil import to_shanghai

from ..db import schema
from . import bins, codes, identity
from .base import Ctx, drop_none, handles, not_found
from .fields import Biz, bad

VERIFIED = "VERIFIED"
BOUND, UNBOUND = "BOUND", "UNBOUND"
MAX_IMAGE_CHARS = 4 * 1024 * 1024  # base64 characters, about 3 MB of image

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
    );
    CREATE TABLE IF NOT EXISTS eng_id_photo (
        freelancer_no TEXT NOT NULL,
        side TEXT NOT NULL,
        image TEXT NOT NULL,
        upload_time TEXT NOT NULL,
        PRIMARY KEY (freelancer_no, side)
    )
    """
)


# -- shared lookups --------------------------------------------------------------------------------


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


def _verify_answer(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "freelancerNo": row["freelancer_no"],
        "verifyStatus": row["verify_status"],
        "verifyTime": row["verify_time"],
    }


# -- SFT0101 / SFT0109 -----------------------------------------------------------------------------


@handles("SFT0101")
def verify_person(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    name, id_card_no, mobile = (
        biz.req("name", max_len=50),
        biz.req("idCardNo", max_len=32),
        biz.req("mobile", max_len=20),
    )
    if biz.has("taxBaseCode"):
        ctx.provider(biz.req("taxBaseCode"))
    row, _ = verify(ctx, name, id_card_no, mobile)
    return _verify_answer(row)


@handles("SFT0109")
def verify_and_contract(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    from . import contract

    name, id_card_no, mobile = (
        biz.req("name", max_len=50),
        biz.req("idCardNo", max_len=32),
        biz.req("mobile", max_len=20),
    )
    code = biz.req("taxBaseCode")
    ctx.provider(code)
    template_no = biz.text("templateNo", required=False)
    row, _ = verify(ctx, name, id_card_no, mobile)
    signed = contract.open_and_sign(ctx, row, code, template_no)
    return {**_verify_answer(row), "contractNo": signed["contract_no"], "contractStatus": signed["status"]}


# -- SFT0102 / SFT0110: ID photos ------------------------------------------------------------------


def _image(biz: Biz, key: str) -> str | None:
    text = biz.text(key, required=False, max_len=MAX_IMAGE_CHARS)
    if text is None:
        return None
    payload = text.split(",", 1)[1] if text.startswith("data:") and "," in text else text
    try:
        base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise bad(biz.name(key), "must be a base64-encoded image") from None
    return payload


@handles("SFT0102")
def upload_photo(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    row = person(ctx, biz)
    assert row is not None
    front, back = _image(biz, "frontImage"), _image(biz, "backImage")
    if front is None and back is None:
        raise bad("frontImage/backImage", "one of frontImage, backImage is required")
    for side, image in (("FRONT", front), ("BACK", back)):
        if image is not None:
            ctx.exec(
                "INSERT INTO eng_id_photo (freelancer_no, side, image, upload_time) VALUES (?,?,?,?)"
                " ON CONFLICT(freelancer_no, side) DO UPDATE SET image = excluded.image,"
                " upload_time = excluded.upload_time",
                row["freelancer_no"],
                side,
                image,
                ctx.stamp,
            )
    return {"freelancerNo": row["freelancer_no"], "uploadStatus": "UPLOADED", "uploadTime": ctx.stamp}


@handles("SFT0110")
def fetch_photo(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    row = person(ctx, biz)
    assert row is not None
    photos = {
        r["side"]: r
        for r in ctx.all(
            "SELECT side, image, upload_time FROM eng_id_photo WHERE freelancer_no = ?", row["freelancer_no"]
        )
    }
    if not photos:
        raise not_found("no ID photo uploaded for this freelancer")
    front, back = photos.get("FRONT"), photos.get("BACK")
    return drop_none(
        {
            "freelancerNo": row["freelancer_no"],
            "frontImage": front["image"] if front else None,
            "backImage": back["image"] if back else None,
            "uploadTime": max(r["upload_time"] for r in photos.values()),
        }
    )


# -- SFT0103: query --------------------------------------------------------------------------------


def card_view(row: sqlite3.Row) -> dict[str, Any]:
    return drop_none(
        {
            "bindNo": row["bind_no"],
            "bankCardNo": mask_card(row["bank_card_no"]),
            "bankCode": row["bank_code"],
            "bankName": row["bank_name"],
            "cardType": row["card_type"],
            "bindStatus": row["bind_status"],
            "bindTime": row["bind_time"],
            "unbindTime": row["unbind_time"],
        }
    )


@handles("SFT0103")
def query_person(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    from . import contract

    row = person(ctx, biz, must_exist=False)
    if row is None:
        raise not_found("no freelancer with this idCardNo/freelancerNo")
    cards = ctx.all("SELECT * FROM eng_card WHERE freelancer_no = ? ORDER BY bind_time, bind_no", row["freelancer_no"])
    return {
        "freelancerNo": row["freelancer_no"],
        "name": mask_name(row["name"]),
        "idCardNo": mask_id(row["id_card_no"]),
        "mobile": mask_mobile(row["mobile"]),
        "verifyStatus": row["verify_status"],
        "verifyTime": row["verify_time"],
        "bankCards": [card_view(c) for c in cards],
        "contracts": [
            {"contractNo": c["contract_no"], "taxBaseCode": c["tax_base_code"], "status": c["status"]}
            for c in contract.of_person(ctx, row["freelancer_no"])
        ],
    }


# -- SFT0202 / SFT0201 / SFT0203 / SFT0204: cards ----------------------------------------------------


@handles("SFT0202")
def bin_lookup(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    number = bins.check_format(biz.req("bankCardNo", max_len=32))
    info = bins.lookup(number)
    return drop_none(
        {
            "bankCardNo": mask_card(number),
            "bankCode": info.bank_code,
            "bankName": info.bank_name,
            "cardType": info.card_type,
            "luhnValid": info.luhn_valid,
        }
    )


@handles("SFT0201")
def list_cards(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    row = person(ctx, biz)
    assert row is not None
    status = biz.text("bindStatus", required=False, choices=(BOUND, UNBOUND))
    sql = "SELECT * FROM eng_card WHERE freelancer_no = ?"
    params: list[Any] = [row["freelancer_no"]]
    if status:
        sql += " AND bind_status = ?"
        params.append(status)
    cards = ctx.all(sql + " ORDER BY bind_time, bind_no", *params)
    return {"freelancerNo": row["freelancer_no"], "total": len(cards), "list": [card_view(c) for c in cards]}


@handles("SFT0203")
def bind_card(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    row = person(ctx, biz)
    assert row is not None
    name = biz.req("name", max_len=50)
    if name.strip() != row["name"]:
        raise codes.NAME_MISMATCH.error("the card holder's name differs from the verified name")
    mobile = biz.text("mobile", required=False, max_len=20)
    if mobile is not None:
        mobile = identity.check_mobile(mobile)
    info = bins.check_payable(biz.req("bankCardNo", max_len=32), luhn_strict=ctx.settings.merchant.luhn_strict)
    existing = ctx.one(
        "SELECT * FROM eng_card WHERE merchant_no = ? AND bank_card_no = ?", ctx.merchant_no, info.card_no
    )
    if existing is not None:
        if existing["freelancer_no"] != row["freelancer_no"]:
            if existing["bind_status"] == BOUND:
                raise codes.CARD_BOUND_TO_OTHER.error("unbind it from the other person first")
            ctx.exec(
                "UPDATE eng_card SET freelancer_no = ?, bind_status = ?, bind_time = ?, unbind_time = NULL,"
                " reserved_mobile = ? WHERE bind_no = ?",
                row["freelancer_no"],
                BOUND,
                ctx.stamp,
                mobile,
                existing["bind_no"],
            )
        elif existing["bind_status"] != BOUND:
            ctx.exec(
                "UPDATE eng_card SET bind_status = ?, bind_time = ?, unbind_time = NULL WHERE bind_no = ?",
                BOUND,
                ctx.stamp,
                existing["bind_no"],
            )
        bind_no = existing["bind_no"]
    else:
        bind_no = ctx.next_no("K")
        ctx.exec(
            "INSERT INTO eng_card (bind_no, merchant_no, freelancer_no, bank_card_no, bank_code, bank_name, card_type,"
            " luhn_valid, reserved_mobile, bind_status, bind_time) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            bind_no,
            ctx.merchant_no,
            row["freelancer_no"],
            info.card_no,
            info.bank_code,
            info.bank_name,
            info.card_type,
            int(info.luhn_valid),
            mobile,
            BOUND,
            ctx.stamp,
        )
    card = ctx.one("SELECT * FROM eng_card WHERE bind_no = ?", bind_no)
    assert card is not None
    return {"freelancerNo": row["freelancer_no"], "luhnValid": info.luhn_valid, **card_view(card)}


@handles("SFT0204")
def unbind_card(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    if biz.has("bindNo"):
        card = ctx.one(
            "SELECT * FROM eng_card WHERE merchant_no = ? AND bind_no = ?", ctx.merchant_no, biz.req("bindNo")
        )
    elif not (biz.has("idCardNo") or biz.has("freelancerNo")):
        number = bins.check_format(biz.req("bankCardNo", max_len=32))
        card = ctx.one("SELECT * FROM eng_card WHERE merchant_no = ? AND bank_card_no = ?", ctx.merchant_no, number)
    else:
        row = person(ctx, biz)
        assert row is not None
        number = bins.check_format(biz.req("bankCardNo", max_len=32))
        card = ctx.one(
            "SELECT * FROM eng_card WHERE merchant_no = ? AND bank_card_no = ? AND freelancer_no = ?",
            ctx.merchant_no,
            number,
            row["freelancer_no"],
        )
    if card is None:
        raise not_found("no such bound card")
    if card["bind_status"] == BOUND:
        ctx.exec(
            "UPDATE eng_card SET bind_status = ?, unbind_time = ? WHERE bind_no = ?",
            UNBOUND,
            ctx.stamp,
            card["bind_no"],
        )
        card = ctx.one("SELECT * FROM eng_card WHERE bind_no = ?", card["bind_no"])
        assert card is not None
    return {"freelancerNo": card["freelancer_no"], **card_view(card)}
