"""Marketing campaigns (营销活动), as pure logic: the campaign's business key and what a run is told of it.

``outCampaignNo`` derives from the merchant, the service provider and the campaign's name, so every run
that names the same campaign reuses it: SFT1101 refuses a key twice (409 with its ``campaignNo``), and the
platform offers no query of campaigns, so that 409 is how a re-run — or a creation whose answer was lost,
sent again — finds the campaign. A campaign's payout for a period is a run identity of its own
(:class:`lingong_payroll.keys.RunKey` with ``campaign_no``): the by-person guard, the keys, the journal and
the report are the payroll's.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from lingong_core.errors import InputError
from lingong_core.money import to_money

from .report import PayrollReport

MAX_NAME = 100


class MarketingRefusedError(ValueError):
    """The payout cannot be made as given (the message names the field and the rule). Nothing was paid."""


def check_campaign_name(name: str | None) -> str:
    text = " ".join((name or "").split())
    if not text or len(text) > MAX_NAME:
        raise MarketingRefusedError(
            f"campaign_name: 1 to {MAX_NAME} characters naming the campaign (e.g. 双十一推广活动)"
        )
    return text


def check_dates(start: date | str | None, end: date | str | None, today: date) -> tuple[date, date]:
    """The campaign's first and last day (yyyy-MM-dd); by default it runs from today to today."""

    def one(value: date | str | None, field: str) -> date:
        if value is None or value == "":
            return today
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            raise MarketingRefusedError(f"{field}: must be a day as yyyy-MM-dd, e.g. 2026-11-01") from None

    first, last = one(start, "start_date"), one(end, "end_date")
    if last < first:
        raise MarketingRefusedError("end_date: must not be before start_date")
    if last < today:
        raise MarketingRefusedError(f"end_date: {last} has passed; the platform pays a campaign only while it runs")
    return first, last


def check_budget(budget: str | Decimal | None) -> Decimal | None:
    if budget is None or budget == "":
        return None
    try:
        value = to_money(budget, field="budget")
    except InputError as exc:
        raise MarketingRefusedError(f"{exc} (an amount in yuan with at most 2 decimals, e.g. 50000.00)") from None
    if value <= 0:
        raise MarketingRefusedError("budget: must be more than 0 (leave it empty for no cap)")
    return value


def campaign_key(merchant_no: str, tax_base_code: str, campaign_name: str) -> str:
    """The campaign's ``outCampaignNo`` (26 characters)."""
    digest = hashlib.blake2b(
        "\x1f".join(("campaign", merchant_no, tax_base_code, campaign_name)).encode(), digest_size=20
    )
    return "MC" + digest.hexdigest()[:24].upper()


class CampaignRef(BaseModel):
    campaign_no: str
    out_campaign_no: str = ""
    campaign_name: str = ""
    status: str = ""
    created: bool = False  # False: an earlier run (or someone else) created it


class MarketingReport(PayrollReport):
    """A campaign payout's report: the payroll's (one masked line per participant, totals, notes) with the
    campaign it paid for."""

    campaign_no: str = Field(default="", description="the platform's campaign number (SFT1101)")
    out_campaign_no: str = Field(default="", description="the campaign's business key")
    campaign_name: str = ""

    def markdown(self) -> str:
        _, _, rest = super().markdown().partition("\n")
        head = (
            f"# Marketing payout (营销金) · {self.campaign_name or self.campaign_no} · {self.period} · "
            f"{self.tax_base_code}" + (f" · additional payment {self.additional_ref}" if self.additional_ref else "")
        )
        return (
            f"{head}\n\nCampaign {self.campaign_no}"
            + (f" ({self.out_campaign_no})" if self.out_campaign_no else "")
            + f"\n{rest}"
        )
