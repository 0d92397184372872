"""Marketing-fund settlement (营销金结算): campaigns (SFT1101) and the marketing form of SFT0502/0510.

A campaign has a budget, a service provider and a date range; ``outCampaignNo`` is unique per merchant
(409 with ``campaignNo``). Its ``status`` follows its dates in Asia/Shanghai: ``CREATED`` before its first
day, ``ACTIVE`` from its first to its last day, ``ENDED`` after; a campaign whose last day has passed is
not created (400 on ``endDate``). There is no query of campaigns: the 409 is how a merchant finds one again.
A settlement that names a ``campaignNo`` is a marketing batch: the same rules as any payout, plus the
campaign must exist for the provider (4901), be running today (4903), and have budget left for the batch
(4902: accepted, processing and paid orders count against it; a campaign without ``budgetAmount`` has no
cap).
SFT0503/0504 answer marketing batches like any other, with ``settleType`` ``MARKETING``.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from lingong_core.timeutil import to_shanghai

from ..db import schema
from . import codes
from .base import Ctx, conflict, drop_none, handles, to_fen, yuan
from .fields import Biz, bad

CREATED, ACTIVE, ENDED = "CREATED", "ACTIVE", "ENDED"
DATE = r"\d{4}-\d{2}-\d{2}"

schema(
    """
    CREATE TABLE IF NOT EXISTS eng_campaign (
        campaign_no TEXT PRIMARY KEY,
        merchant_no TEXT NOT NULL,
        out_campaign_no TEXT NOT NULL,
        campaign_name TEXT NOT NULL,
        tax_base_code TEXT NOT NULL,
        budget_fen INTEGER,
        start_date TEXT NOT NULL,
        end_date TEXT NOT NULL,
        description TEXT,
        status TEXT NOT NULL,
        create_time TEXT NOT NULL,
        UNIQUE (merchant_no, out_campaign_no)
    )
    """
)


def _get(ctx: Ctx, campaign_no: str) -> sqlite3.Row | None:
    return ctx.one("SELECT * FROM eng_campaign WHERE merchant_no = ? AND campaign_no = ?", ctx.merchant_no, campaign_no)


def status_of(start_date: str, end_date: str, today: str) -> str:
    """The campaign's state on ``today`` (yyyy-MM-dd, Asia/Shanghai)."""
    return CREATED if today < start_date else ENDED if today > end_date else ACTIVE


def require_active(ctx: Ctx, campaign_no: str, tax_base_code: str) -> sqlite3.Row:
    row = _get(ctx, campaign_no)
    if row is None:
        raise codes.CAMPAIGN_NOT_FOUND.error(f"campaignNo {campaign_no}")
    if row["tax_base_code"] != tax_base_code:
        raise codes.CAMPAIGN_NOT_FOUND.error(f"campaignNo {campaign_no} belongs to taxBaseCode {row['tax_base_code']}")
    today = f"{to_shanghai(ctx.now):%Y-%m-%d}"
    if not row["start_date"] <= today <= row["end_date"]:
        raise codes.CAMPAIGN_NOT_ACTIVE.error(f"the campaign runs {row['start_date']} … {row['end_date']}")
    return row


def used_fen(ctx: Ctx, campaign_no: str) -> int:
    row = ctx.one(
        "SELECT COALESCE(SUM(o.amount_fen), 0) FROM eng_order o JOIN eng_batch b ON b.batch_no = o.batch_no"
        " WHERE b.campaign_no = ? AND o.status IN ('ACCEPTED', 'PROCESSING', 'SUCCESS')",
        campaign_no,
    )
    return int(row[0]) if row else 0


def require_budget(ctx: Ctx, campaign_no: str, total: Decimal) -> None:
    row = _get(ctx, campaign_no)
    assert row is not None
    if row["budget_fen"] is None:
        return
    used = used_fen(ctx, campaign_no)
    if used + to_fen(total) > int(row["budget_fen"]):
        raise codes.CAMPAIGN_BUDGET_EXCEEDED.error(
            f"the batch needs {total}, the campaign has {yuan(int(row['budget_fen']) - used)} of its budget left"
        )


@handles("SFT1101")
def create_campaign(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    out_campaign_no = biz.req("outCampaignNo")
    name = biz.req("campaignName", max_len=100)
    code = biz.req("taxBaseCode")
    budget = biz.money("budgetAmount", required=False)
    start = biz.req("startDate", pattern=DATE, rule="must be yyyy-MM-dd")
    end = biz.req("endDate", pattern=DATE, rule="must be yyyy-MM-dd")
    if end < start:
        raise bad("endDate", "must not be before startDate")
    today = f"{to_shanghai(ctx.now):%Y-%m-%d}"
    existing = ctx.one(
        "SELECT campaign_no FROM eng_campaign WHERE merchant_no = ? AND out_campaign_no = ?",
        ctx.merchant_no,
        out_campaign_no,
    )
    if existing is not None:
        raise conflict(
            f"outCampaignNo {out_campaign_no}", campaignNo=existing["campaign_no"], outCampaignNo=out_campaign_no
        )
    ctx.provider(code)
    if end < today:
        raise bad("endDate", f"the campaign's last day {end} has passed (today is {today})")
    status = status_of(start, end, today)
    campaign_no = ctx.next_no("MC")
    ctx.exec(
        "INSERT INTO eng_campaign (campaign_no, merchant_no, out_campaign_no, campaign_name, tax_base_code, budget_fen,"
        " start_date, end_date, description, status, create_time) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        campaign_no,
        ctx.merchant_no,
        out_campaign_no,
        name,
        code,
        to_fen(budget) if budget is not None else None,
        start,
        end,
        biz.text("description", required=False, max_len=1000),
        status,
        ctx.stamp,
    )
    return drop_none(
        {
            "campaignNo": campaign_no,
            "outCampaignNo": out_campaign_no,
            "taxBaseCode": code,
            "budgetAmount": budget,
            "status": status,
        }
    )
