"""daily_reconcile: quiet while the books agree; the event ``lingong.reconcile.difference`` once they do not."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect.settings import PREFECT_API_URL

from flows.daily_reconcile import DIFFERENCE_EVENT, daily_reconcile
from flows.fund_account import fund_account
from flows.payroll_run import payroll_run
from lingong_core.timeutil import now
from lingong_payroll.journal import Journal, JournalOrder
from lingong_payroll.payees import PayeeRow
from tests.flows.fresh import fresh_platform
from tests.flows.people import team

pytestmark = pytest.mark.usefixtures("prefect")

TAX = "2000064002"


def _events(seconds: float = 20.0, want: int = 1) -> list[dict[str, Any]]:
    """The server's ``lingong.reconcile.difference`` events about this provider (waits for ``want``)."""
    body = {
        "filter": {"event": {"name": [DIFFERENCE_EVENT]}, "any_resource": {"id": [f"lingong.reconcile.{TAX}"]}},
        "limit": 50,
    }
    deadline = time.monotonic() + seconds
    while True:
        answer = httpx.post(f"{PREFECT_API_URL.value()}/events/filter", json=body, timeout=10)
        answer.raise_for_status()
        events: list[dict[str, Any]] = answer.json()["events"]
        if len(events) >= want or time.monotonic() > deadline:
            return events
        time.sleep(0.25)


def test_daily_reconcile_emits_an_event_only_when_something_differs(tmp_path: Path) -> None:
    month = f"{now():%Y-%m}"
    with fresh_platform(tmp_path):
        people = team(2, seed=1911)
        asyncio.run(fund_account(amount="1000.00", recharge_time=now(), tax_base_code=TAX, reference="daily"))
        payroll = [
            PayeeRow(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no, amount="10.00")
            for p in people
        ]
        asyncio.run(payroll_run(month, payees=payroll, tax_base_code=TAX, batch_ref="DAILY"))
        clean = asyncio.run(daily_reconcile(TAX))
        assert clean.differences == []
        assert _events(seconds=2, want=1) == []

        journal = Journal()
        journal.record(
            [JournalOrder("PO-DAILY-GHOST", "manual", month, TAX, "", "", "", Decimal("5.00"), Decimal("0.30"), "PAID")]
        )
        journal.close()
        report = asyncio.run(daily_reconcile(TAX))
        assert [(d.kind, d.key) for d in report.differences] == [("missing on platform", "PO-DAILY-GHOST")]
        events = _events()
        assert len(events) == 1
        payload = events[0]["payload"]
        assert payload["differences"] == 1
        assert payload["kinds"] == {"missing on platform": 1}
        assert payload["first"][0]["key"] == "PO-DAILY-GHOST"
        assert events[0]["resource"]["lingong.tax-base-code"] == TAX
