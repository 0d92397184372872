"""payroll_run against the sandbox: every payee paid exactly once, whatever happens to the run."""

from __future__ import annotations

import asyncio
import csv
from decimal import Decimal
from pathlib import Path

import pytest

from flows.fund_account import fund_account
from flows.payroll_run import PayrollRefusedError, payroll_run
from lingong_payroll.payees import PayeeRow
from lingong_payroll.report import Outcome
from lingong_sandbox.people import Person, bad_checksum, card_number
from tests.flows.conftest import Platform
from tests.flows.people import team

pytestmark = pytest.mark.usefixtures("prefect")

TAX = "2000064001"


def rows(people: list[Person], amounts: list[str]) -> list[PayeeRow]:
    return [
        PayeeRow(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no, amount=a)
        for p, a in zip(people, amounts, strict=True)
    ]


def fund(amount: str, ref: str) -> None:
    asyncio.run(fund_account(amount=amount, tax_base_code=TAX, recharge_time="2026-11-01 09:00:00", reference=ref))


def paid_once(platform: Platform, keys: list[str]) -> None:
    audit = platform.audit()
    assert audit["paid_twice"] == []
    assert audit["balanced"] is True
    for key in keys:
        assert audit["orders"].get(key, {"debited": 0})["debited"] <= 1, key


def test_a_clean_payroll_is_paid_once_and_a_rerun_pays_nobody_again(platform: Platform) -> None:
    people = team(5, seed=101)
    fund("100000.00", "clean")
    payroll = rows(people, ["1000.00", "2500.50", "88.00", "12345.67", "0.01"])
    report = asyncio.run(payroll_run("2026-11", payees=payroll, batch_ref="CLEAN"))
    assert [line.outcome for line in report.lines] == [Outcome.PAID] * 5
    assert report.total(Outcome.PAID) == Decimal("15934.18")
    assert report.fees(Outcome.PAID) > 0
    keys = [line.out_order_no for line in report.lines]
    paid_once(platform, keys)

    again = asyncio.run(payroll_run("2026-11", payees=payroll, batch_ref="CLEAN"))
    assert [line.outcome for line in again.lines] == [Outcome.PAID] * 5
    assert all("earlier run" in line.reason for line in again.lines)
    assert [line.order_no for line in again.lines] == [line.order_no for line in report.lines]
    paid_once(platform, keys)


def test_refused_payees_are_reported_and_the_others_paid(platform: Platform) -> None:
    import random

    people = team(4, seed=202)
    credit = Person(
        "钱多多", team(1, seed=203)[0].id_card_no, "13900001111", card_number(random.Random(1), "622230", 16)
    )  # an ICBC credit card
    fund("200000.00", "refusals")
    payroll = rows([*people, credit], ["100.00", "100.00", "60000.00", "100.00", "100.00"])
    report = asyncio.run(payroll_run("2026-11", payees=payroll, batch_ref="REFUSE"))
    outcomes = [line.outcome for line in report.lines]
    assert outcomes == [Outcome.PAID, Outcome.PAID, Outcome.REFUSED, Outcome.PAID, Outcome.REFUSED]
    assert "4501" in report.lines[2].reason  # over the single-payout limit
    assert "card" in report.lines[4].reason.lower()
    paid_once(platform, [line.out_order_no for line in report.lines])
    # The card is checked first (SFT0202): a card that cannot be paid into leaves no verification or contract behind.
    from lingong_core.config import LingongSettings
    from lingong_core.errors import NotFoundError

    with LingongSettings().client() as client:
        assert client.freelancer.query(id_card_no=people[0].id_card_no).freelancer_no  # onboarded, and paid
        with pytest.raises(NotFoundError):
            client.freelancer.query(id_card_no=credit.id_card_no)


def test_invalid_rows_refuse_the_whole_payroll_unless_skipped(platform: Platform) -> None:
    people = team(3, seed=303)
    payroll = rows(people, ["10.00", "10.00", "10.00"])
    payroll[1] = payroll[1].model_copy(update={"id_card_no": bad_checksum(people[1].id_card_no)})
    before = platform.audit()
    with pytest.raises(PayrollRefusedError, match="row 2, idCardNo"):
        asyncio.run(payroll_run("2026-11", payees=payroll, batch_ref="INVALID"))
    assert platform.audit()["orders"].keys() == before["orders"].keys()
    fund("1000.00", "skip-invalid")
    report = asyncio.run(payroll_run("2026-11", payees=payroll, batch_ref="INVALID", skip_invalid=True))
    assert [line.outcome for line in report.lines] == [Outcome.PAID, Outcome.INVALID, Outcome.PAID]


def test_an_interrupted_run_is_finished_by_a_rerun_paying_each_payee_once(platform: Platform) -> None:
    people = team(6, seed=404)
    fund("100000.00", "interrupted")
    payroll = rows(people, ["321.00"] * 6)
    first = asyncio.run(payroll_run("2026-12", payees=payroll, wait_timeout_seconds=0))
    assert any(line.outcome == Outcome.PENDING for line in first.lines) or first.complete
    second = asyncio.run(payroll_run("2026-12", payees=payroll))
    assert [line.outcome for line in second.lines] == [Outcome.PAID] * 6
    assert {line.order_no for line in second.lines} == {line.order_no for line in first.lines if line.order_no}
    paid_once(platform, [line.out_order_no for line in second.lines])


def test_a_bounced_order_is_reported_as_bounced_and_not_repaid(platform: Platform) -> None:
    people = team(2, seed=505)
    platform.script(bank_card_no=people[1].bank_card_no, outcome="BOUNCE")
    fund("10000.00", "bounce")
    payroll = rows(people, ["500.00", "700.00"])
    asyncio.run(payroll_run("2026-11", payees=payroll, batch_ref="BOUNCE"))
    for _ in range(100):  # the bounce comes after the payment, asynchronously
        report = asyncio.run(payroll_run("2026-11", payees=payroll, batch_ref="BOUNCE"))
        if report.lines[1].outcome == Outcome.BOUNCED:
            break
    assert [line.outcome for line in report.lines] == [Outcome.PAID, Outcome.BOUNCED]
    audit = platform.audit()
    assert audit["orders"][report.lines[1].out_order_no]["debited"] == 0  # refunded, not paid again
    paid_once(platform, [line.out_order_no for line in report.lines])


def test_gb18030_csv_with_chinese_headers_through_the_flow(platform: Platform, workdir: Path) -> None:
    people = team(2, seed=606)
    path = workdir / "工资.csv"
    with path.open("w", encoding="gb18030", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["姓名", "身份证号", "手机号", "银行卡号", "金额", "备注"])
        for p in people:
            writer.writerow([p.name, p.id_card_no, p.mobile, p.bank_card_no, "66.60", "十一月"])
    report = asyncio.run(payroll_run("2026-11", payroll_file=str(path), dry_run=True, batch_ref="CSV"))
    assert report.dry_run
    assert [line.name[0] for line in report.lines] == [p.name[0] for p in people]  # decoded from GB18030
    assert [line.amount for line in report.lines] == [Decimal("66.60")] * 2
    # a dry run onboards nobody: it says these two would be onboarded first (the platform does not know them)
    assert all(line.outcome == Outcome.PENDING for line in report.lines)
    assert all("would be onboarded first" in line.reason and "4106" in line.reason for line in report.lines)
    assert any("would onboard first: 2 person(s)" in note for note in report.notes)


def test_logs_never_hold_a_full_id_card_or_mobile(platform: Platform) -> None:
    import logging

    people = team(3, seed=707070)
    payroll = rows(people, ["10.00", "60000.00", "10.00"])  # one over the single-payout limit
    payroll[2] = payroll[2].model_copy(update={"id_card_no": bad_checksum(people[2].id_card_no)})
    fund("1000.00", "logs")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    loggers = [logging.getLogger(n) for n in ("prefect", "lingong_core", "lingong_sandbox", "httpx", "")]
    saved = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    try:
        report = asyncio.run(payroll_run("2026-11", payees=payroll, batch_ref="LOGS", skip_invalid=True))
    finally:
        for lg, level in saved:
            lg.removeHandler(handler)
            lg.setLevel(level)
    assert [line.outcome for line in report.lines] == [Outcome.PAID, Outcome.REFUSED, Outcome.INVALID]
    text = "\n".join(r.getMessage() for r in records) + report.markdown() + str(report.table())
    assert len(records) > 10
    for p in people:
        for secret in (p.id_card_no, p.bank_card_no, p.mobile, bad_checksum(p.id_card_no)):
            assert secret not in text


def test_a_payee_paid_to_a_new_card_gets_it_bound_and_is_paid(platform: Platform) -> None:
    import random

    from flows.onboard_freelancers import onboard_freelancers
    from tasks.onboarding import Freelancer, store_people

    person = team(1, seed=808080)[0]
    asyncio.run(
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
            )
        )
    )
    new_card = card_number(random.Random(8080), "622848", 19)  # an ABC debit card, never bound
    moved = Person(person.name, person.id_card_no, person.mobile, new_card)
    fund("1000.00", "new-card")
    report = asyncio.run(payroll_run("2026-11", payees=rows([moved], ["77.00"]), batch_ref="NEWCARD"))
    assert [line.outcome for line in report.lines] == [Outcome.PAID], report.lines[0].reason
    assert report.lines[0].bank_card_no.endswith(new_card[-4:])
    paid_once(platform, [report.lines[0].out_order_no])


def test_a_payroll_of_many_batches_is_read_back_group_by_group_into_the_journal(platform: Platform) -> None:
    """Nine one-order batches: three groups of SFT0504 reads (4, 4, 1), each read while the one before is
    journalled. Every order comes back PAID, in the report and in the journal, and nobody is paid twice."""
    from lingong_payroll.journal import Journal
    from tasks.settlement import CALLS_IN_FLIGHT

    people = team(9, seed=117)
    fund("20000.00", "groups")
    report = asyncio.run(
        payroll_run("2026-11", payees=rows(people, [f"{100 + i}.00" for i in range(9)]), batch_ref="G", max_batch=1)
    )
    assert len(report.batches) == 9 > 2 * CALLS_IN_FLIGHT
    assert [line.outcome for line in report.lines] == [Outcome.PAID] * 9
    keys = {line.out_order_no for line in report.lines}
    with Journal() as journal:
        outcomes = {j.out_order_no: j.outcome for j in journal.orders(TAX, keys=keys)}
        batches = {j.out_order_no: j.batch_no for j in journal.orders(TAX, keys=keys)}
    assert outcomes == dict.fromkeys(keys, "PAID")
    assert all(batches.values())
    assert len(set(batches.values())) == 9
    paid_once(platform, sorted(keys))
