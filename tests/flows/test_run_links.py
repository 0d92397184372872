"""Every flow that places something on the platform records which run placed it (lingong_store.links), so
the receiver's event for its notification names that run: a recharge (1001), a withdrawal (2001), an
invoice (9001, see test_followups), a settlement batch (3001/5001) of a payroll or a marketing payout."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from prefect import flow

from flows.fund_account import fund_account
from flows.withdraw_funds import withdraw_funds
from lingong_core.timeutil import now
from lingong_store.db import Database, database_url
from lingong_store.links import RunLink, RunLinks
from tasks.links import LinkBuffer, this_flow_run
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


def test_a_link_buffer_writes_every_link_it_is_given_over_many_writes() -> None:
    """Onboarding's buffer (tasks/links.py) writes every tenth of a second through one engine, opened by its
    first write: every link lands, the last ones on leaving, whichever write they fell in."""

    @flow
    async def gather() -> str:
        async with LinkBuffer(role="onboarding", group=True, every=0.01) as links:
            for i in range(40):
                links.add(f"lingong.contract.LB{i:03d}", f"F{i}")
                await asyncio.sleep(0.003 if i % 7 else 0.03)  # some writes hold one link, some several
            links.add("lingong.contract.LB-last", "F-last")  # left for the write on leaving
        run = this_flow_run()
        assert run is not None
        return run[0]

    run_id = asyncio.run(gather())
    with Database(database_url()) as db:
        linked = RunLinks(db).group(run_id)
    assert {x.resource_id: x.detail for x in linked} == {
        **{f"lingong.contract.LB{i:03d}": f"F{i}" for i in range(40)},
        "lingong.contract.LB-last": "F-last",
    }
    assert {(x.flow_run_id, x.role) for x in linked} == {(run_id, "onboarding")}
