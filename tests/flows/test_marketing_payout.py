"""marketing_payout against the session's sandbox: a campaign created once (SFT1101), its participants paid
through the marketing form of SFT0502 exactly as the list says, judged by person from the sandbox's audit;
a re-run pays and creates nothing twice, an edited list holds the person it no longer accounts for, a lost
answer on each write (SFT1101, SFT0502) creates and pays nothing twice, and a payout nobody approves pays
nothing. Faults go through the sandbox's fault admin, never a monkeypatch."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from flows.fund_account import fund_account
from flows.marketing_payout import marketing_payout
from flows.onboard_freelancers import onboard_freelancers
from lingong_payroll.marketing import MarketingRefusedError, MarketingReport
from lingong_payroll.report import Outcome
from lingong_sandbox.engine.audit import person_digest
from lingong_sandbox.people import Person
from lingong_store.db import Database, database_url
from lingong_store.links import RunLinks
from tasks.approval import ENV_THRESHOLD, ENV_TIMEOUT
from tasks.onboarding import Freelancer, store_people
from tasks.payees import store_payroll
from tests.flows.conftest import Platform
from tests.flows.people import team

pytestmark = pytest.mark.usefixtures("prefect")

TAX = "2000064001"
HOLDING = {"SUCCESS", "ACCEPTED", "PROCESSING"}
D = Decimal


@pytest.fixture(scope="module", autouse=True)
def _funded(prefect: None, platform: Platform) -> None:
    asyncio.run(fund_account(amount="100000.00", recharge_time="2026-11-01 09:00:00", reference="marketing-payout"))


def participants(lines: list[tuple[Person, str]]) -> str:
    """The list as the payee store keeps it (PR…): the flow is given only the reference."""
    rows = [
        {"name": p.name, "id_card_no": p.id_card_no, "mobile": p.mobile, "bank_card_no": p.bank_card_no, "amount": a}
        for p, a in lines
    ]
    return store_payroll(rows, source="marketing test")


def onboard(people: list[Person]) -> None:
    ref = store_people(
        [Freelancer(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no) for p in people]
    )
    report = asyncio.run(onboard_freelancers(ref, TAX, publish=False))
    assert not report.refused, report


def pay(name: str, period: str, ref: str, **options: Any) -> MarketingReport:
    return asyncio.run(marketing_payout(period, campaign_name=name, participants_ref=ref, **options))


def by_person(platform: Platform, report: MarketingReport) -> dict[str, Decimal]:
    """Each person's money in this campaign's run (paid or being paid), from the sandbox's audit: the run's
    orders are the ``MO`` keys carrying the person tokens of its lines (lingong_payroll.keys)."""
    people = {line.out_order_no[8:18] for line in report.lines if line.out_order_no}
    out: dict[str, Decimal] = defaultdict(lambda: D("0.00"))
    for key, entry in platform.audit()["orders"].items():
        if key.startswith("MO") and key[8:18] in people and entry["statuses"][-1] in HOLDING:
            out[entry["person"]] += D(str(entry["amount"]))
    return dict(out)


def answered(platform: Platform, api_code: str) -> int:
    """How many of ``api_code``'s requests the platform answered 200, this session."""
    log = httpx.get(
        f"{platform.server.admin_url}/requests", params={"apiCode": api_code, "limit": 100000}, timeout=30
    ).json()["list"]
    return sum(1 for r in log if r.get("code") == 200)


def expect(platform: Platform, report: MarketingReport, owed: dict[Person, str]) -> None:
    assert by_person(platform, report) == {person_digest(p.id_card_no): D(a) for p, a in owed.items()}
    assert platform.audit()["paid_twice"] == []


def test_participants_are_paid_as_the_list_says_and_a_re_run_pays_and_creates_nothing_twice(
    platform: Platform,
) -> None:
    ann, bob, cat = team(3, seed=1901)  # not onboarded yet: the flow onboards them first
    ref = participants([(ann, "88.00"), (bob, "12.50"), (ann, "88.00"), (cat, "5.00")])
    campaigns, batches = answered(platform, "SFT1101"), answered(platform, "SFT0502")
    first = pay("双十一推广活动 A", "2026-11", ref, budget="1000.00")
    assert [line.outcome for line in first.lines] == [Outcome.PAID] * 4, first.markdown()
    assert first.campaign_no
    assert "created now" in " ".join(first.notes)
    assert all(line.out_order_no.startswith("MO202611") for line in first.lines)
    assert "Marketing payout (营销金) · 双十一推广活动 A" in first.markdown()
    expect(platform, first, {ann: "176.00", bob: "12.50", cat: "5.00"})
    with Database(database_url()) as db:  # its 3001s name the run that placed the batch (tasks/links.py)
        placed = RunLinks(db).find([f"lingong.settlement.{first.lines[0].batch_no}"])
    assert [(x.role, x.detail) for x in placed] == [("marketing-payout", first.lines[0].out_batch_no)]

    again = pay(
        "双十一推广活动 A", "2026-11", participants([(cat, "5.00"), (ann, "88.00"), (bob, "12.50"), (ann, "88.00")])
    )
    assert again.campaign_no == first.campaign_no
    assert "created earlier, reused" in " ".join(again.notes)
    assert {line.outcome for line in again.lines} == {Outcome.PAID}
    assert all("earlier run" in line.reason for line in again.lines)
    expect(platform, again, {ann: "176.00", bob: "12.50", cat: "5.00"})
    assert answered(platform, "SFT1101") == campaigns + 1  # the second SFT1101 was answered 409
    assert answered(platform, "SFT0502") == batches + 1


def test_an_edited_list_holds_the_person_it_no_longer_accounts_for(platform: Platform) -> None:
    ann, bob = people = team(2, seed=1902)
    onboard(people)
    first = pay("拉新奖励 B", "2026-10", participants([(ann, "50.00"), (bob, "20.00")]))
    assert {line.outcome for line in first.lines} == {Outcome.PAID}
    edited = pay("拉新奖励 B", "2026-10", participants([(ann, "60.00"), (bob, "20.00")]))
    outcome = {line.amount: line for line in edited.lines}
    assert outcome[D("60.00")].outcome == Outcome.HELD
    assert "¥50.00 paid" in outcome[D("60.00")].reason
    assert "--additional" in outcome[D("60.00")].reason
    assert outcome[D("20.00")].outcome == Outcome.PAID
    assert edited.needs_operator == [outcome[D("60.00")]]
    expect(platform, edited, {ann: "50.00", bob: "20.00"})
    text = edited.markdown()
    assert ann.id_card_no not in text
    assert ann.bank_card_no not in text


def test_a_lost_answer_on_each_write_creates_and_pays_nothing_twice(platform: Platform) -> None:
    ann, bob = people = team(2, seed=1903)
    onboard(people)
    ref = participants([(ann, "30.00"), (bob, "40.00")])
    campaigns, batches = answered(platform, "SFT1101"), answered(platform, "SFT0502")
    lost = {code: lost_answers(platform, code) for code in ("SFT1101", "SFT0502")}
    # Seed 1 draws 0.10, 0.60, 0.40: SFT1101's first answer is lost (the campaign was created), its second —
    # the 409 naming the campaign — arrives; SFT0502's answer is lost (the batch was taken), found by SFT0503.
    platform.admin("PUT", "faults", spec="error_after=0.5,only=SFT1101+SFT0502", seed=1)
    try:
        report = pay("口碑推荐 C", "2026-09", ref)
    finally:
        platform.admin("PUT", "faults", spec="")
    assert {line.outcome for line in report.lines} == {Outcome.PAID}, report.markdown()
    assert {code: lost_answers(platform, code) - n for code, n in lost.items()} == {"SFT1101": 1, "SFT0502": 1}
    assert answered(platform, "SFT1101") == campaigns  # created by the attempt whose answer was lost
    assert answered(platform, "SFT0502") == batches
    expect(platform, report, {ann: "30.00", bob: "40.00"})
    again = pay("口碑推荐 C", "2026-09", ref)
    assert again.campaign_no == report.campaign_no
    expect(platform, again, {ann: "30.00", bob: "40.00"})
    audit = platform.audit()
    assert all(audit["orders"][line.out_order_no]["debited"] == 1 for line in report.lines)


def lost_answers(platform: Platform, api_code: str) -> int:
    log = httpx.get(
        f"{platform.server.admin_url}/requests", params={"apiCode": api_code, "limit": 100000}, timeout=30
    ).json()["list"]
    return sum(1 for r in log if r.get("code") in (500, 503))


async def _paused(name: str, timeout: float = 180.0) -> Any:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    deadline = time.monotonic() + timeout
    async with get_client() as client:
        while time.monotonic() < deadline:
            runs = await client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])))
            if runs and runs[0].state is not None and runs[0].state.is_paused():
                return runs[0].id
            await asyncio.sleep(0.3)
    raise AssertionError(f"run {name} did not pause in {timeout:.0f} s")


def _answered_run(name: str, start: Any, answer: dict[str, Any] | None) -> Any:
    """Start a run, wait until it pauses for approval, give ``answer`` (None: nobody does); its final state."""
    from prefect.flow_runs import aresume_flow_run

    async def go() -> Any:
        task = asyncio.ensure_future(start())
        run_id = await _paused(name)
        if answer is not None:
            await aresume_flow_run(run_id, run_input=answer)
        return await task

    return asyncio.run(go())


def test_a_payout_rejected_or_not_approved_in_time_pays_nobody(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann, bob = people = team(2, seed=1904)
    onboard(people)
    ref = participants([(ann, "700.00"), (bob, "300.00")])
    monkeypatch.setenv(ENV_THRESHOLD, "500.00")
    monkeypatch.setenv(ENV_TIMEOUT, "120")
    before = set(platform.audit()["orders"])

    def run(name: str) -> Any:
        flow = marketing_payout.with_options(flow_run_name=name)
        return lambda: flow("2026-08", campaign_name="年终回馈 D", participants_ref=ref, return_state=True)

    answer = {"decision": "reject", "approver": "Chen Jing", "comment": "budget not agreed"}
    rejected = _answered_run("marketing-rejected-1", run("marketing-rejected-1"), answer)
    assert rejected.is_completed()
    report = rejected.result()
    assert {line.outcome for line in report.lines} == {Outcome.REFUSED}
    assert all("rejected by Chen Jing" in line.reason for line in report.lines)
    assert set(platform.audit()["orders"]) == before  # nothing was submitted

    monkeypatch.setenv(ENV_TIMEOUT, "4")
    late = _answered_run("marketing-late-1", run("marketing-late-1"), None)
    assert late.is_failed()  # Prefect fails a pause nobody resumed; the step had decided: not paid
    assert "never resumed" in (late.message or "")
    assert set(platform.audit()["orders"]) == before

    monkeypatch.setenv(ENV_TIMEOUT, "120")
    approved = _answered_run(
        "marketing-approved-1", run("marketing-approved-1"), {"decision": "approve", "approver": "Chen Jing"}
    )
    paid = approved.result()
    assert {line.outcome for line in paid.lines} == {Outcome.PAID}
    assert any("approved by Chen Jing" in note for note in paid.notes)
    expect(platform, paid, {ann: "700.00", bob: "300.00"})


def test_bad_input_is_refused_naming_the_field_and_nothing_is_paid(platform: Platform) -> None:
    ref = participants([(team(1, seed=1905)[0], "10.00")])
    before = set(platform.audit()["orders"])
    for options, field in (
        ({"campaign_name": ""}, "campaign_name"),
        ({"campaign_name": "x", "end_date": "2020-01-01"}, "end_date"),
        ({"campaign_name": "x", "start_date": "11/01/2026"}, "start_date"),
        ({"campaign_name": "x", "budget": "-5"}, "budget"),
        ({"campaign_name": "x", "participants_ref": None}, "participants_ref"),
    ):
        given = {"participants_ref": ref, **options}
        with pytest.raises(MarketingRefusedError, match=field):
            asyncio.run(marketing_payout("2026-07", **given))
    assert set(platform.audit()["orders"]) == before


def test_a_withdrawal_waits_for_approval_and_a_rejected_one_withdraws_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.withdraw_funds import withdraw_funds
    from lingong_core.timeutil import now
    from tasks.common import open_client
    from tests.flows.fresh import fresh_platform

    async def bind() -> None:
        async with open_client() as client:
            await client.account.bind_bank_account(
                bank_acct_name="灵工示例科技有限公司", bank_acct_no="6226090000000001", bank_name="招商银行深圳分行"
            )

    with fresh_platform(tmp_path) as fresh:
        asyncio.run(bind())
        asyncio.run(fund_account(amount="1000.00", recharge_time=now(), tax_base_code=TAX, reference="withdraw"))
        monkeypatch.setenv(ENV_THRESHOLD, "0")
        monkeypatch.setenv(ENV_TIMEOUT, "120")

        def run(name: str) -> Any:
            flow = withdraw_funds.with_options(flow_run_name=name)
            return lambda: flow("300.00", "2026-11 surplus", tax_base_code=TAX, return_state=True)

        answer = {"decision": "reject", "approver": "Li Wei", "comment": "keep it for December"}
        rejected = _answered_run("withdraw-rejected-1", run("withdraw-rejected-1"), answer).result()
        assert (rejected.status, rejected.withdraw_no) == ("", "")
        assert "rejected by Li Wei" in rejected.approval
        assert "rejected by Li Wei" in rejected.markdown()
        assert answered(fresh, "SFT0412") == 0
        assert fresh.audit()["ledger"][TAX]["withdrawals"] == D("0.00")

        answer = {"decision": "approve", "approver": "Li Wei"}
        done = _answered_run("withdraw-approved-1", run("withdraw-approved-1"), answer).result()
        assert done.status == "SUCCESS"
        assert "approved by Li Wei" in done.approval
        assert answered(fresh, "SFT0412") == 1
        assert fresh.audit()["ledger"][TAX]["withdrawals"] == D("300.00")


def test_the_command_line_pays_a_file_once(platform: Platform, tmp_path: Path) -> None:
    import csv
    import os

    from typer.testing import CliRunner

    from lingong_cli.main import app

    ann, bob = people = team(2, seed=1906)
    onboard(people)
    path = tmp_path / "participants.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["姓名", "身份证号", "手机号", "银行卡号", "金额"])
        for p, amount in ((ann, "18.80"), (bob, "6.60")):
            writer.writerow([p.name, p.id_card_no, p.mobile, p.bank_card_no, amount])
    args = ["marketing", "run", str(path), "--campaign", "命令行活动 E", "--period", "2026-06", "--wait", "120"]
    for _ in range(2):
        result = CliRunner().invoke(app, args, env=dict(os.environ))
        assert result.exit_code == 0, result.output
        assert "| paid | 2 |" in result.output
        assert ann.id_card_no not in result.output
    assert sum(1 for k, e in platform.audit()["orders"].items() if k.startswith("MO202606")) == 2


def test_the_deployment_form_takes_references_and_the_credentials_block_never_an_advance_approval() -> None:
    import yaml
    from prefect.utilities.callables import parameter_schema

    from flows.marketing_payout import marketing_payout_deployed

    schema = parameter_schema(marketing_payout_deployed.fn).model_dump_for_openapi()
    assert "approved_by" not in schema["properties"]
    assert {"$ref": "#/definitions/LingongCredentials"} in schema["properties"]["credentials_block"]["anyOf"]
    assert {"participants_ref", "participants_file", "campaign_name", "period"} <= set(schema["properties"])
    assert "活动名称" in schema["properties"]["campaign_name"]["description"]
    deployments = {
        d["name"]: d
        for d in yaml.safe_load((Path(__file__).parents[2] / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]
    }
    deployment = deployments["marketing-payout"]
    assert deployment["entrypoint"] == "flows/marketing_payout.py:marketing_payout_deployed"
    assert deployment["concurrency_limit"] == {"limit": 1, "collision_strategy": "ENQUEUE"}
    assert deployments["withdraw-funds"]["concurrency_limit"] == {"limit": 1, "collision_strategy": "ENQUEUE"}
