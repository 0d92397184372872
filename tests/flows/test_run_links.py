"""Every flow that places something on the platform records which run placed it (lingong_store.links), so
the receiver's event for its notification names that run: a recharge (1001), a withdrawal (2001), an
invoice (9001, see test_followups), a settlement batch (3001/5001) of a payroll or a marketing payout."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from flows.fund_account import fund_account
from flows.withdraw_funds import withdraw_funds
from lingong_core.timeutil import now
from lingong_store.db import Database, database_url
from lingong_store.links import RunLink, RunLinks
from tests.flows.fresh import bind_enterprise_account, fresh_platform

pytestmark = pytest.mark.usefixtures("prefect")

TAX = "2000064001"


def link_of(resource_id: str) -> RunLink | None:
    with Database(database_url()) as db:
        found = RunLinks(db).find([resource_id])
    return found[0] if found else None


def run_of(state: Any) -> str:
    return str(state.state_details.flow_run_id)


def test_a_recharge_and_a_withdrawal_name_the_run_that_made_them(tmp_path: Path) -> None:
    with fresh_platform(tmp_path):
        asyncio.run(bind_enterprise_account("6226090000000002"))
        funded = asyncio.run(
            fund_account(amount="800.00", recharge_time=now(), tax_base_code=TAX, reference="links", return_state=True)
        )
        recharge = funded.result()
        link = link_of(f"lingong.recharge.{recharge.out_order_no}")
        assert link is not None
        assert (link.flow_run_id, link.role, link.detail) == (run_of(funded), "fund-account", recharge.out_order_no)

        withdrawn = asyncio.run(withdraw_funds("100.00", "links", tax_base_code=TAX, return_state=True))
        report = withdrawn.result()
        link = link_of(f"lingong.withdrawal.{report.withdraw_no}")
        assert link is not None
        assert (link.flow_run_id, link.role) == (run_of(withdrawn), "withdraw-funds")
        assert link.detail == report.out_withdraw_no
