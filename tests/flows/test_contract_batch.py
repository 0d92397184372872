"""One contract-signed run per onboarding batch: an onboarding records the contracts it generated under its
run (lingong_store.links), and the run started for the batch's first signature checks every contract of it."""

from __future__ import annotations

import asyncio

import pytest
from prefect.client.schemas.objects import State

from flows.contract_signed import contract_signed
from flows.onboard_freelancers import OnboardingReport, onboard_freelancers
from lingong_store.db import Database, database_url
from lingong_store.links import RunLinks
from tasks.onboarding import Freelancer, store_people
from tests.flows.people import team

pytestmark = [pytest.mark.usefixtures("prefect")]

TAX = "2000064001"


def test_the_run_for_a_batch_checks_every_contract_the_onboarding_generated() -> None:
    people = [
        Freelancer(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no)
        for p in team(3, seed=7311)
    ]

    async def onboard() -> tuple[OnboardingReport, str]:
        state: State[OnboardingReport] = await onboard_freelancers(
            store_people(people), TAX, publish=False, return_state=True
        )
        return await state.aresult(), str(state.state_details.flow_run_id)

    report, onboarding_run = asyncio.run(onboard())
    contracts = {r.contract_no: r.freelancer_no for r in report.results}
    assert len(contracts) == 3

    with Database(database_url()) as db:
        linked = RunLinks(db).group(onboarding_run)
    assert {x.resource_id: x.detail for x in linked} == {f"lingong.contract.{c}": f for c, f in contracts.items()}
    assert {x.flow_run_id for x in linked} == {onboarding_run}

    first, *rest = sorted(contracts)
    result = asyncio.run(contract_signed(first, contracts[first], onboarding_run=onboarding_run))
    assert (result.contract_no, result.ready) == (first, True)
    assert sorted(r.contract_no for r in result.batch) == rest  # the whole batch, in this one run
    assert all(r.ready and r.status == "SIGNED" for r in result.batch)
    assert {r.freelancer_no for r in result.batch} == {contracts[c] for c in rest}

    alone = asyncio.run(contract_signed(first, contracts[first]))  # no batch named: the one contract, as before
    assert alone.batch == []
