"""E-contracts between a freelancer and a service provider (SFT0104–0107, SFT0111; notification 8001).

State machine: ``CREATED → SIGNING → SIGNED | EXPIRED``. SFT0105 (authorised signing) moves CREATED
to SIGNING; the background makes it SIGNED after ``delays.contract_sign`` and sends 8001. A signed
contract runs :data:`TERM_DAYS` days, an unsigned one :data:`SIGN_WINDOW_DAYS`; after that it is
EXPIRED (swept by ``run_due``, and checked at
payout time). A contract is keyed by (person, taxBaseCode): while one is live (not EXPIRED) a second
SFT0104 is 409 with its ``contractNo``.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from typing import Any

from lingong_core.masking import mask_id, mask_name
from lingong_core.timeutil import SHANGHAI

from ..db import schema
from . import codes, registry
from .base import Ctx, conflict, drop_none, handles, not_found, paged, stamp
from .fields import Biz
from .jobs import job

CREATED, SIGNING, SIGNED, EXPIRED = "CREATED", "SIGNING", "SIGNED", "EXPIRED"
LIVE = (CREATED, SIGNING, SIGNED)
TERM_DAYS = 365
SIGN_WINDOW_DAYS = 30  # an unsigned contract expires this long after it was generated
DEFAULT_TEMPLATE = "TPL-FREELANCE-SERVICE-V1"
PREVIEW_TTL = timedelta(minutes=30)  # how long an SFT0107 preview link works

schema(
    """
    CREATE TABLE IF NOT EXISTS eng_contract (
        contract_no TEXT PRIMARY KEY,
        merchant_no TEXT NOT NULL,
        freelancer_no TEXT NOT NULL,
        tax_base_code TEXT NOT NULL,
        template_no TEXT NOT NULL,
        status TEXT NOT NULL,
        create_time TEXT NOT NULL,
        sign_time TEXT,
        expire_time TEXT
    );
    CREATE INDEX IF NOT EXISTS eng_contract_person ON eng_contract (freelancer_no, tax_base_code);
    -- the background's expiry sweep, every tick: the live contracts due, not every contract ever made
    CREATE INDEX IF NOT EXISTS eng_contract_expiry ON eng_contract (status, expire_time)
    """
)


def live(ctx: Ctx, freelancer_no: str, tax_base_code: str) -> sqlite3.Row | None:
    """The person's contract with the provider that is not (and should not yet be) EXPIRED."""
    return ctx.one(
        "SELECT * FROM eng_contract WHERE freelancer_no = ? AND tax_base_code = ? AND status IN (?,?,?)"
        " AND (expire_time IS NULL OR expire_time > ?) ORDER BY create_time DESC, contract_no DESC LIMIT 1",
        freelancer_no,
        tax_base_code,
        *LIVE,
        ctx.stamp,
    )


def signed(ctx: Ctx, freelancer_no: str, tax_base_code: str) -> sqlite3.Row | None:
    row = live(ctx, freelancer_no, tax_base_code)
    return row if row is not None and row["status"] == SIGNED else None


def latest(ctx: Ctx, freelancer_no: str, tax_base_code: str) -> sqlite3.Row | None:
    return ctx.one(
        "SELECT * FROM eng_contract WHERE freelancer_no = ? AND tax_base_code = ?"
        " ORDER BY create_time DESC, contract_no DESC LIMIT 1",
        freelancer_no,
        tax_base_code,
    )


def of_person(ctx: Ctx, freelancer_no: str) -> list[sqlite3.Row]:
    return ctx.all(
        "SELECT * FROM eng_contract WHERE freelancer_no = ? ORDER BY create_time, contract_no", freelancer_no
    )


def _create(ctx: Ctx, person: sqlite3.Row, tax_base_code: str, template_no: str | None) -> sqlite3.Row:
    contract_no = ctx.next_no("HT")
    ctx.exec(
        "INSERT INTO eng_contract (contract_no, merchant_no, freelancer_no, tax_base_code, template_no, status,"
        " create_time, expire_time) VALUES (?,?,?,?,?,?,?,?)",
        contract_no,
        ctx.merchant_no,
        person["freelancer_no"],
        tax_base_code,
        template_no or DEFAULT_TEMPLATE,
        CREATED,
        ctx.stamp,
        stamp(ctx.now + timedelta(days=SIGN_WINDOW_DAYS)),
    )
    row = ctx.one("SELECT * FROM eng_contract WHERE contract_no = ?", contract_no)
    assert row is not None
    return row


def _start_signing(ctx: Ctx, row: sqlite3.Row) -> sqlite3.Row:
    if row["status"] == CREATED:
        ctx.exec(
            "UPDATE eng_contract SET status = ? WHERE contract_no = ? AND status = ?",
            SIGNING,
            row["contract_no"],
            CREATED,
        )
        ctx.schedule("contract_sign", row["contract_no"], ctx.settings.delays.contract_sign)
        fresh = ctx.one("SELECT * FROM eng_contract WHERE contract_no = ?", row["contract_no"])
        assert fresh is not None
        return fresh
    return row


def open_and_sign(ctx: Ctx, person: sqlite3.Row, tax_base_code: str, template_no: str | None) -> sqlite3.Row:
    """SFT0109: the live contract (created and put to signing if there is none)."""
    row = live(ctx, person["freelancer_no"], tax_base_code) or _create(ctx, person, tax_base_code, template_no)
    return _start_signing(ctx, row)


def view(ctx: Ctx, row: sqlite3.Row) -> dict[str, Any]:
    person = registry.by_no(ctx, row["freelancer_no"])
    status = row["status"]
    if status in LIVE and row["expire_time"] is not None and row["expire_time"] <= ctx.stamp:
        status = EXPIRED  # due to expire; the next background pass records it
    return drop_none(
        {
            "contractNo": row["contract_no"],
            "freelancerNo": row["freelancer_no"],
            "name": mask_name(person["name"]) if person else None,
            "idCardNo": mask_id(person["id_card_no"]) if person else None,
            "taxBaseCode": row["tax_base_code"],
            "templateNo": row["template_no"],
            "status": status,
            "createTime": row["create_time"],
            "signTime": row["sign_time"],
            "expireTime": row["expire_time"],
        }
    )


def _by_no(ctx: Ctx, contract_no: str) -> sqlite3.Row | None:
    return ctx.one("SELECT * FROM eng_contract WHERE merchant_no = ? AND contract_no = ?", ctx.merchant_no, contract_no)


@handles("SFT0104")
def generate(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    code = biz.req("taxBaseCode")
    ctx.provider(code)
    person = registry.person(ctx, biz)
    assert person is not None
    existing = live(ctx, person["freelancer_no"], code)
    if existing is not None:
        raise conflict(
            f"a {existing['status']} contract exists for this person and taxBaseCode",
            contractNo=existing["contract_no"],
            status=existing["status"],
        )
    row = _create(ctx, person, code, biz.text("templateNo", required=False))
    return {
        "contractNo": row["contract_no"],
        "freelancerNo": row["freelancer_no"],
        "taxBaseCode": code,
        "status": CREATED,
    }


@handles("SFT0105")
def authorise_signing(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    row = _by_no(ctx, biz.req("contractNo"))
    if row is None:
        raise not_found("no such contractNo")
    if row["status"] == EXPIRED or (row["expire_time"] is not None and row["expire_time"] <= ctx.stamp):
        raise codes.CONTRACT_EXPIRED.error("generate a new contract with SFT0104")
    row = _start_signing(ctx, row)
    return {"contractNo": row["contract_no"], "status": row["status"]}


@handles("SFT0106")
def query(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    if biz.has("contractNo"):
        row = _by_no(ctx, biz.req("contractNo"))
    else:
        code = biz.req("taxBaseCode")
        person = registry.person(ctx, biz, must_exist=False)
        row = latest(ctx, person["freelancer_no"], code) if person is not None else None
    if row is None:
        raise not_found("no such contract")
    return view(ctx, row)


@handles("SFT0107")
def preview(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    code = biz.req("taxBaseCode")
    provider = ctx.provider(code)
    person = registry.person(ctx, biz)
    assert person is not None
    template_no = biz.text("templateNo", required=False) or DEFAULT_TEMPLATE
    content = (
        f"《自由职业者服务协议》\n甲方：{provider.name}（服务商 {code}）\n乙方：{mask_name(person['name'])}"
        f"（身份证号 {mask_id(person['id_card_no'])}）\n"
        "乙方以自由职业者身份承接甲方转包的项目服务，按项目结算服务报酬；甲方依法代征个人所得税等税费。"
        f"\n本协议自签署之日起 {TERM_DAYS} 日内有效。"
    )
    return {
        "templateNo": template_no,
        "taxBaseCode": code,
        "freelancerNo": person["freelancer_no"],
        "title": "自由职业者服务协议",
        "content": content,
        "previewUrl": f"https://sandbox.lingong.local/contracts/preview/{template_no}/{person['freelancer_no']}",
        "expireTime": stamp(ctx.now + PREVIEW_TTL),
    }


@handles("SFT0111")
def of_freelancer(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    person = registry.person(ctx, biz)
    assert person is not None
    sql = "SELECT * FROM eng_contract WHERE freelancer_no = ?"
    params: list[Any] = [person["freelancer_no"]]
    if biz.has("taxBaseCode"):
        sql += " AND tax_base_code = ?"
        params.append(biz.req("taxBaseCode"))
    answer = paged(ctx, biz, sql + " ORDER BY create_time, contract_no", tuple(params), lambda r: view(ctx, r))
    return {"freelancerNo": person["freelancer_no"], **answer}


# -- background --------------------------------------------------------------------------------------


@job("contract_sign")
def finish_signing(ctx: Ctx, contract_no: str) -> None:
    row = ctx.one("SELECT * FROM eng_contract WHERE contract_no = ?", contract_no)
    if row is None or row["status"] != SIGNING:
        return
    expire = stamp(ctx.now + timedelta(days=TERM_DAYS))
    ctx.exec(
        "UPDATE eng_contract SET status = ?, sign_time = ?, expire_time = ? WHERE contract_no = ? AND status = ?",
        SIGNED,
        ctx.stamp,
        expire,
        contract_no,
        SIGNING,
    )
    person = registry.by_no(ctx, row["freelancer_no"])
    ctx.notify(
        "8001",
        {
            "contractNo": contract_no,
            "freelancerNo": row["freelancer_no"],
            "idCardNo": mask_id(person["id_card_no"]) if person else "",
            "taxBaseCode": row["tax_base_code"],
            "status": SIGNED,
            "signTime": ctx.stamp,
        },
    )


def sweep_expired(conn: sqlite3.Connection, now: datetime) -> int:
    """Mark contracts past their term EXPIRED; return how many."""
    cur = conn.execute(
        "UPDATE eng_contract SET status = ? WHERE status IN (?,?,?) AND expire_time IS NOT NULL AND expire_time <= ?",
        (EXPIRED, *LIVE, stamp(now.astimezone(SHANGHAI))),
    )
    return cur.rowcount
