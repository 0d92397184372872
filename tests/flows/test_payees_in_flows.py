"""People travel between flows as payee-store references; what Prefect keeps of a run holds none of them."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentTaskRunId

from flows.fund_account import fund_account
from flows.payroll_run import PayrollRefusedError, payroll_run, payroll_run_deployed
from lingong_payroll.payees import PayeeRow
from lingong_payroll.report import Outcome
from tasks.payees import PAYEE_KEY_BLOCK_ENV, payee_key, store_payroll, stored_payroll
from tests.flows.conftest import Platform
from tests.flows.people import team

pytestmark = pytest.mark.usefixtures("prefect")

TAX = "2000064001"


def _rows(n: int, seed: int, amount: str = "88.00") -> list[PayeeRow]:
    return [
        PayeeRow(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no, amount=amount)
        for p in team(n, seed=seed)
    ]


async def _runs(flow_name: str) -> list[object]:
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    async with get_client() as client:
        return list(
            await client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])), sort=FlowRunSort.START_TIME_DESC
            )
        )


def test_typed_payees_go_into_the_store_and_the_runs_parameters_are_masked(platform: Platform) -> None:
    rows = _rows(2, seed=9101)
    asyncio.run(fund_account(amount="1000.00", tax_base_code=TAX, recharge_time="2026-11-01 09:00:00", reference="pii"))
    report = asyncio.run(payroll_run("2026-11", payees=rows, batch_ref="PII-TYPED"))
    assert [line.outcome for line in report.lines] == [Outcome.PAID] * 2

    (run, *_) = [r for r in asyncio.run(_runs("payroll-run")) if r.parameters.get("batch_ref") == "PII-TYPED"]  # type: ignore[attr-defined]
    stored = run.parameters  # type: ignore[attr-defined]
    text = repr(stored)
    for r in rows:
        assert r.id_card_no not in text
        assert r.mobile not in text
        assert r.bank_card_no not in text
    assert stored["payroll_ref"].startswith("PR")
    assert [p["id_card_no"] for p in stored["payees"]] == [
        r.id_card_no[:6] + "********" + r.id_card_no[-4:] for r in rows
    ]
    assert [r.fields()["id_card_no"] for r in stored_payroll(stored["payroll_ref"])] == [r.id_card_no for r in rows]

    # the onboarding subflow it started took a reference, not people
    async def children() -> list[object]:
        async with get_client() as client:
            tasks = await client.read_task_runs(flow_run_filter=FlowRunFilter(id={"any_": [run.id]}))  # type: ignore[attr-defined]
            return list(
                await client.read_flow_runs(
                    flow_run_filter=FlowRunFilter(
                        parent_task_run_id=FlowRunFilterParentTaskRunId(any_=[t.id for t in tasks])
                    )
                )
            )

    for child in asyncio.run(children()):
        assert set(child.parameters) >= {"people_ref"}  # type: ignore[attr-defined]
        assert child.parameters["people_ref"].startswith("PP")  # type: ignore[attr-defined]

    # a retry of that run sends the masked copy with the reference back: the reference is paid (nobody twice)
    again = asyncio.run(
        payroll_run(
            "2026-11",
            payees=[PayeeRow(**p) for p in stored["payees"]],
            payroll_ref=stored["payroll_ref"],
            batch_ref="PII-TYPED",
        )
    )
    assert [line.out_order_no for line in again.lines] == [line.out_order_no for line in report.lines]
    assert platform.audit()["paid_twice"] == []


def test_a_stored_payroll_is_paid_by_reference_and_two_sources_are_refused(platform: Platform) -> None:
    rows = _rows(1, seed=9102, amount="12.34")
    asyncio.run(fund_account(amount="100.00", tax_base_code=TAX, recharge_time="2026-11-01 09:00:00", reference="pii2"))
    ref = store_payroll(rows, source="test")
    report = asyncio.run(payroll_run_deployed("2026-11", payroll_ref=ref, batch_ref="PII-REF"))
    assert [line.outcome for line in report.lines] == [Outcome.PAID]
    with pytest.raises(PayrollRefusedError, match="exactly one"):
        asyncio.run(payroll_run("2026-11", payees=rows, payroll_ref=ref, batch_ref="PII-BOTH"))
    (both, *_) = [r for r in asyncio.run(_runs("payroll-run")) if r.parameters.get("batch_ref") == "PII-BOTH"]  # type: ignore[attr-defined]
    assert rows[0].id_card_no not in repr(both.parameters)  # type: ignore[attr-defined]  # masked even when refused


def test_the_deployment_offers_every_option_but_typed_in_people() -> None:
    """Everything but typed-in people, and but ``approved_by``: a UI user must not approve their own run."""
    full = set(inspect.signature(payroll_run.fn).parameters)
    deployed = set(inspect.signature(payroll_run_deployed.fn).parameters)
    assert deployed == full - {"payees", "approved_by"}


def test_the_payee_key_can_come_from_a_prefect_secret_block(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.blocks.system import Secret

    from lingong_store.payees import generate_key

    key = generate_key()
    Secret(value=key).save("lingong-payee-key-test", overwrite=True)
    monkeypatch.setenv(PAYEE_KEY_BLOCK_ENV, "lingong-payee-key-test")
    assert payee_key() == key
    monkeypatch.setenv(PAYEE_KEY_BLOCK_ENV, "no-such-block")
    from lingong_store.payees import PayeeStoreError

    with pytest.raises(PayeeStoreError, match="no such Secret block"):
        payee_key()


def test_onboarding_takes_stored_people_or_a_stored_payroll() -> None:
    from flows.onboard_freelancers import onboard_freelancers
    from lingong_store.payees import UnknownReferenceError

    rows = _rows(2, seed=9105)
    report = asyncio.run(onboard_freelancers(store_payroll(rows, source="upload page"), TAX, publish=False))
    assert [r.state for r in report.results] == ["READY", "READY"]
    assert all("*" in r.id_card_no for r in report.results)  # its results, which Prefect may keep, are masked
    with pytest.raises(UnknownReferenceError, match="PPNOSUCH"):
        asyncio.run(onboard_freelancers("PPNOSUCH", TAX, publish=False))
