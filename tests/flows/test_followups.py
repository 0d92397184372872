"""The notification follow-ups against the sandbox: each reads the platform's state, records it, tells the
operator with personal data masked, and changes nothing more when run twice."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.sorting import ArtifactSort
from sqlalchemy import delete

from flows.bounced_order import RepayRefusedError, bounced_order
from flows.contract_signed import contract_signed
from flows.fund_account import fund_account
from flows.invoice_result import invoice_result
from flows.onboard_freelancers import onboard_freelancers
from flows.payroll_run import payroll_run
from flows.recharge_confirmed import recharge_confirmed
from flows.settlement_result import settlement_result
from lingong_core.config import LingongSettings
from lingong_core.errors import NotFoundError
from lingong_payroll.journal import Journal, JournalOrder, journal_order
from lingong_payroll.payees import PayeeRow
from lingong_payroll.report import Outcome
from lingong_sandbox.people import Person, card_number
from lingong_store.db import Database, database_url
from lingong_store.links import RunLinks
from tasks.artifacts import artifact_key
from tasks.bounces import repay_ref
from tasks.onboarding import Freelancer, store_people
from tests.flows.conftest import Platform
from tests.flows.people import team

pytestmark = pytest.mark.usefixtures("prefect")

TAX = "2000064001"


def rows(people: list[Person], amount: str) -> list[PayeeRow]:
    return [
        PayeeRow(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no, amount=amount)
        for p in people
    ]


def eventually(read: Callable[[], Any], ok: Callable[[Any], bool], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if ok(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still {value!r} after {timeout} s")
        time.sleep(0.05)


def artifacts(key: str) -> list[Any]:
    """Every version of the artifact ``key``, the latest first."""

    async def read() -> list[Any]:
        async with get_client() as client:
            return await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), sort=ArtifactSort.CREATED_DESC
            )

    return asyncio.run(read())


def journal_rows() -> dict[str, JournalOrder]:
    journal = Journal()
    try:
        return {o.out_order_no: o for o in journal.orders()}
    finally:
        journal.close()


def fund(amount: str, ref: str) -> str:
    result = asyncio.run(
        fund_account(amount=amount, tax_base_code=TAX, recharge_time="2026-11-02 09:00:00", reference=ref)
    )
    return result.out_order_no


def test_contract_signed_marks_the_freelancer_ready_and_a_rerun_adds_nothing() -> None:
    person = team(1, seed=701)[0]
    onboarded = asyncio.run(
        onboard_freelancers(
            store_people(
                [
                    Freelancer(
                        name=person.name,
                        id_card_no=person.id_card_no,
                        mobile=person.mobile,
                        bank_card_no=person.bank_card_no,
                    )
                ]
            ),
            TAX,
            publish=False,
        )
    )
    first = onboarded.results[0]
    result = asyncio.run(contract_signed(first.contract_no, first.freelancer_no))
    assert (result.status, result.ready, result.tax_base_code) == ("SIGNED", True, TAX)
    assert result.id_card_no == first.id_card_no != person.id_card_no  # masked, as the platform shows it
    again = asyncio.run(contract_signed(first.contract_no, first.freelancer_no))
    assert again == result
    published = artifacts(artifact_key(f"freelancer-{first.freelancer_no}-{TAX}"))
    assert len(published) == 1
    assert person.id_card_no not in published[0].data
    assert "ready to be paid: **yes**" in published[0].data

    with pytest.raises(NotFoundError):
        asyncio.run(contract_signed("HT2099010199999999"))


def test_settlement_result_settles_the_runs_journal_from_the_platform(platform: Platform) -> None:
    people = team(2, seed=702)
    fund("20000.00", "settlement-followup")
    report = asyncio.run(
        payroll_run("2026-11", payees=rows(people, "300.00"), additional_ref="FOLLOW3001", invoice=True)
    )
    assert [line.outcome for line in report.lines] == [Outcome.PAID, Outcome.PAID]
    keys = [line.out_order_no for line in report.lines]
    # A run that stopped before it saw the outcome: the journal still says SUBMITTED. (The journal only moves
    # forward, so the test takes the rows out before writing them back as they were at submission.)
    held = journal_rows()
    journal = Journal()
    with journal.db.begin() as conn:
        conn.execute(delete(journal_order).where(journal_order.c.out_order_no.in_(keys)))
    journal.record(
        JournalOrder(
            k, held[k].run, held[k].period, TAX, held[k].out_batch_no, "", "", held[k].amount, Decimal(0), "SUBMITTED"
        )
        for k in keys
    )
    journal.close()

    batch_no = report.lines[0].batch_no
    result = asyncio.run(settlement_result(batch_no, keys[0]))
    assert result.batch.status == "COMPLETED"
    assert sorted(result.journal.updated) == sorted(keys)
    assert [run.counts for run in result.journal.runs] == [{"PAID": 2}]
    assert all(journal_rows()[k].outcome == "PAID" and journal_rows()[k].order_no for k in keys)
    stamp = {k: journal_rows()[k] for k in keys}

    again = asyncio.run(settlement_result(batch_no, keys[1]))
    assert again.journal.updated == []
    assert sorted(again.journal.unchanged) == sorted(keys)
    assert {k: journal_rows()[k] for k in keys} == stamp
    published = artifacts(artifact_key(f"settlement-{batch_no}"))
    assert len(published) == 1
    assert all(p.id_card_no not in published[0].data for p in people)

    # 9001 for the invoice the run applied for, once the platform has issued it.
    apply_no = report.invoice.split()[0]
    with LingongSettings().client() as client:
        eventually(lambda: str(client.invoice.detail(apply_no=apply_no).status), lambda s: s != "APPLIED", "invoice")
    invoice = asyncio.run(invoice_result(apply_no))
    assert invoice.status == "ISSUED"
    assert invoice.invoice_nos
    assert asyncio.run(invoice_result(apply_no)) == invoice
    assert len(artifacts(artifact_key(f"invoice-{apply_no}"))) == 1
    with Database(database_url()) as db:  # its 9001's event names the payroll run that applied (tasks/links.py)
        applied_by, placed_by = RunLinks(db).find([f"lingong.invoice.{apply_no}", f"lingong.settlement.{batch_no}"])
    assert (applied_by.role, placed_by.role) == ("invoice", "payroll-run")
    assert applied_by.flow_run_id == placed_by.flow_run_id


def test_a_bounce_is_recorded_and_re_paid_once_only_when_the_card_is_fixed(platform: Platform) -> None:
    people = team(2, seed=703)
    bouncer = people[1]
    platform.script(bank_card_no=bouncer.bank_card_no, outcome="BOUNCE")
    fund("20000.00", "bounce-followup")
    report = asyncio.run(payroll_run("2026-11", payees=rows(people, "450.00"), additional_ref="FOLLOW5001"))
    line = report.lines[1]
    with LingongSettings().client() as client:
        order = eventually(
            lambda: client.settlement.order(out_order_no=line.out_order_no),
            lambda o: str(o.status) == "BOUNCED",
            "the bounce",
        )
    audit_before = platform.audit()

    recorded = asyncio.run(bounced_order(order.order_no, refund_no="R1", bounce_reason="账户已销户"))
    assert recorded.order.status == "BOUNCED"
    assert recorded.repayment is None
    # The run itself may already have seen the bounce (it comes soon after the payment): either way the
    # journal ends BOUNCED, recorded by the run or now by the follow-up.
    assert line.out_order_no in recorded.journal.updated + recorded.journal.unchanged
    assert journal_rows()[line.out_order_no].outcome == "BOUNCED"
    assert platform.audit()["orders"].keys() == audit_before["orders"].keys()  # nothing paid
    published = artifacts(artifact_key(f"bounce-{line.out_order_no}"))
    assert len(published) == 1
    text = published[0].data
    for secret in (bouncer.id_card_no, bouncer.bank_card_no, bouncer.name):
        assert secret not in text
    assert order.id_card_no in text  # masked, as the platform shows it
    assert repay_ref(order.order_no) in text
    assert "card_fixed" in text
    assert asyncio.run(bounced_order(order.order_no)).journal.updated == []

    new_card = card_number(random.Random(7031), "621700", 19)
    someone_else = team(1, seed=704)[0]
    with pytest.raises(RepayRefusedError, match="not"):
        asyncio.run(
            bounced_order(
                order.order_no,
                card_fixed=True,
                payee_ref=store_people(
                    [
                        Freelancer(
                            name=someone_else.name,
                            id_card_no=someone_else.id_card_no,
                            mobile=someone_else.mobile,
                            bank_card_no=new_card,
                        )
                    ]
                ),
            )
        )
    with pytest.raises(RepayRefusedError, match="payee"):
        asyncio.run(bounced_order(order.order_no, card_fixed=True))
    with pytest.raises(RepayRefusedError, match="SUCCESS"):  # a paid order is not re-paid
        asyncio.run(bounced_order(out_order_no=report.lines[0].out_order_no, card_fixed=True))

    fixed = store_people(
        [Freelancer(name=bouncer.name, id_card_no=bouncer.id_card_no, mobile=bouncer.mobile, bank_card_no=new_card)]
    )
    repaid = asyncio.run(bounced_order(order.order_no, card_fixed=True, payee_ref=fixed))
    assert repaid.repayment is not None
    assert repaid.repayment.outcome == Outcome.PAID
    assert repaid.repayment.additional_ref == repay_ref(order.order_no)
    assert repaid.repayment.bank_card_no.endswith(new_card[-4:])
    again = asyncio.run(bounced_order(order.order_no, card_fixed=True, payee_ref=fixed))
    assert again.repayment is not None
    assert again.repayment.out_order_no == repaid.repayment.out_order_no
    audit = platform.audit()
    assert audit["paid_twice"] == []
    assert audit["orders"][repaid.repayment.out_order_no]["debited"] == 1
    assert audit["orders"][line.out_order_no]["debited"] == 0  # the bounced one stays refunded
    assert f"**{Outcome.PAID.value}**" in artifacts(artifact_key(f"bounce-{line.out_order_no}"))[0].data


def test_recharge_confirmed_reads_the_platform_and_a_rerun_adds_nothing() -> None:
    out_order_no = fund("1234.56", "recharge-followup")
    confirmed = asyncio.run(recharge_confirmed(out_order_no))
    assert (confirmed.status, confirmed.amount, confirmed.tax_base_code) == ("SUCCESS", Decimal("1234.56"), TAX)
    assert confirmed.available_balance is not None
    assert confirmed.available_balance >= Decimal("1234.56")
    assert asyncio.run(recharge_confirmed(order_no=confirmed.order_no)).out_order_no == out_order_no
    published = artifacts(artifact_key(f"recharge-{out_order_no}"))
    assert len(published) == 1
    assert "confirmed" in published[0].data
    with pytest.raises(NotFoundError):
        asyncio.run(recharge_confirmed("RC-NOT-THERE"))
