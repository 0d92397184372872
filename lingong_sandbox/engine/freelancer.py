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

from ..db import schema
from . import bins, codes, contract, identity
from .base import Ctx, drop_none, handles, not_found
from .fields import Biz, bad
from .registry import BOUND, UNBOUND, person, verify

MAX_IMAGE_CHARS = 4 * 1024 * 1024  # base64 characters, about 3 MB of image

schema(
    """
    CREATE TABLE IF NOT EXISTS eng_id_photo (
        freelancer_no TEXT NOT NULL,
        side TEXT NOT NULL,
        image TEXT NOT NULL,
        upload_time TEXT NOT NULL,
        PRIMARY KEY (freelancer_no, side)
    )
    """
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
    if identity.normalise_name(name) != row["name"]:
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
