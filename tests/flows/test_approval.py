"""The four-eyes approval step under the Prefect test harness: a run whose amount is above the threshold
pauses with a masked summary and a typed form; it goes on only when a person approves; a rejection or a
timeout is a decision not to pay. The flow here only records what the step returned."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterName,
)
from prefect.client.schemas.sorting import ArtifactSort
from prefect.flow_runs import aresume_flow_run
from prefect.states import State

from lingong_core.errors import ConfigurationError
from lingong_payroll.report import Outcome, PayeeLine, PayrollReport
from tasks.approval import (
    ENV_THRESHOLD,
    ENV_TIMEOUT,
    Approval,
    ApprovalInput,
    ApprovalSettings,
    ApprovalStatus,
    PaymentSummary,
    PendingSummary,
    payroll_summary,
    pending_payroll_summary,
    require_approval,
)

pytestmark = pytest.mark.usefixtures("prefect")


def _line(run: str, row: int, name: str, amount: str, fee: str = "0.00", **refused: Any) -> PayeeLine:
    """A masked report line, as the flow writes them (row n's ID and card end in its digits)."""
    tail = f"{row:04d}"
    return PayeeLine(
        row=row,
        name=name,
        id_card_no=f"1101**********{tail}",
        bank_card_no=f"6222 **** **** {tail}",
        amount=Decimal(amount),
        service_amount=Decimal(fee),
        out_order_no=f"PO{run}{row}",
        **refused,
    )


def _report(run: str) -> PayrollReport:
    report = PayrollReport(run=run, period="2026-11", tax_base_code="2000064001")
    report.lines = [
        _line(run, 1, "张*", "1200.00", "72.00"),
        _line(run, 2, "李*", "845.50", "50.73"),
        _line(run, 3, "王*", "99.00", outcome=Outcome.REFUSED, reason="[6001] not verified"),
    ]
    return report


def _summary(run: str) -> PaymentSummary:
    return payroll_summary(_report(run), [f"PO{run}1", f"PO{run}2"], Decimal("5000.00"))


@flow(name="approval-probe")
async def probe(
    summary: dict[str, Any], threshold: str | None, timeout_seconds: int = 60, approved_by: str | None = None
) -> dict[str, Any]:
    settings = ApprovalSettings(
        threshold=Decimal(threshold) if threshold is not None else None, timeout_seconds=timeout_seconds
    )
    approval = await require_approval(
        PaymentSummary.model_validate(summary), approved_by=approved_by, settings=settings
    )
    return {"approved": approval.approved, **approval.model_dump(mode="json"), "note": approval.note}


async def _paused_run(name: str, timeout: float = 60.0) -> UUID:
    deadline = time.monotonic() + timeout
    async with get_client() as client:
        while time.monotonic() < deadline:
            runs = await client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])))
            if runs and runs[0].state is not None and runs[0].state.is_paused():
                return runs[0].id
            await asyncio.sleep(0.3)
    raise AssertionError(f"run {name} did not pause in {timeout:.0f} s")


async def _artifact(key: str) -> str:
    async with get_client() as client:
        found = await client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), sort=ArtifactSort.UPDATED_DESC, limit=1
        )
    assert found, key
    return str(found[0].data)


async def _run_and_answer(run: str, answer: dict[str, Any] | None, **params: Any) -> dict[str, Any]:
    name = f"approval-{run.lower()}"
    task = asyncio.create_task(
        probe.with_options(flow_run_name=name)(_summary(run).model_dump(mode="json"), "0", **params)
    )
    run_id = await _paused_run(name)
    text = await _artifact(f"approval-payroll-{run.lower()}")
    if answer is not None:
        await aresume_flow_run(run_id, run_input=answer)
    return {"result": await task, "waiting": text, "run_id": run_id}


def test_a_payroll_above_the_threshold_waits_and_goes_on_once_approved() -> None:
    asyncio.run(_a_payroll_above_the_threshold_waits_and_goes_on_once_approved())


async def _a_payroll_above_the_threshold_waits_and_goes_on_once_approved() -> None:
    seen = await _run_and_answer("APPROVE1", {"decision": "approve", "approver": "Wang Fang", "comment": "checked"})
    result = seen["result"]
    assert result["approved"] is True
    assert (result["status"], result["approver"], result["comment"]) == ("APPROVED", "Wang Fang", "checked")
    assert result["total"] == "2045.50"
    assert result["fees"] == "122.73"
    assert "approved by Wang Fang" in result["note"]
    waiting = seen["waiting"]
    # The summary an approver sees: people, totals, fees, balance, the refused line with its reason, masked.
    assert "**2 people, " in waiting
    assert "Balance now" in waiting
    assert "[6001] not verified" in waiting
    assert "6222 **** **** 0001" in waiting
    assert "1101**********0001" in waiting
    recorded = await _artifact("approval-payroll-approve1")
    assert "approved by Wang Fang" in recorded


def test_a_rejection_is_a_decision_not_to_pay() -> None:
    asyncio.run(_a_rejection_is_a_decision_not_to_pay())


async def _a_rejection_is_a_decision_not_to_pay() -> None:
    result = (await _run_and_answer("REJECT1", {"decision": "reject", "approver": "Li Wei", "comment": "wrong month"}))[
        "result"
    ]
    assert result["approved"] is False
    assert result["status"] == "REJECTED"
    assert "rejected by Li Wei" in result["note"]
    assert "nothing was paid" in result["note"]


def test_a_form_without_an_approver_is_refused_and_the_run_keeps_waiting() -> None:
    asyncio.run(_a_form_without_an_approver_is_refused_and_the_run_keeps_waiting())


async def _a_form_without_an_approver_is_refused_and_the_run_keeps_waiting() -> None:
    name = "approval-noone1"
    task = asyncio.create_task(
        probe.with_options(flow_run_name=name)(_summary("NOONE1").model_dump(mode="json"), "0", timeout_seconds=60)
    )
    run_id = await _paused_run(name)
    async with get_client() as client:
        refused = await client.resume_flow_run(run_id, run_input={"decision": "approve", "approver": ""})
        assert refused.status.value == "REJECT"
        assert "approver" in str(refused.details)
        assert (await client.read_flow_run(run_id)).state.is_paused()  # type: ignore[union-attr]
    await aresume_flow_run(run_id, run_input={"decision": "approve", "approver": "Zhao Min"})
    assert (await task)["approver"] == "Zhao Min"


def test_nobody_deciding_in_time_is_not_paid() -> None:
    asyncio.run(_nobody_deciding_in_time_is_not_paid())


async def _nobody_deciding_in_time_is_not_paid() -> None:
    state: State[Any] = await probe(
        _summary("LATE1").model_dump(mode="json"), "0", timeout_seconds=3, return_state=True
    )
    # The step returned "not approved"; Prefect then fails the run itself ("paused and never resumed").
    assert state.is_failed()
    assert "never resumed" in (state.message or "")
    recorded = await _artifact("approval-payroll-late1")
    assert "nobody approved" in recorded
    assert "nothing was paid" in recorded


def test_under_the_threshold_unset_or_approved_in_advance_nothing_waits() -> None:
    asyncio.run(_under_the_threshold_unset_or_approved_in_advance_nothing_waits())


async def _under_the_threshold_unset_or_approved_in_advance_nothing_waits() -> None:
    summary = _summary("QUICK1").model_dump(mode="json")
    under = await probe(summary, "5000.00")
    assert (under["status"], under["approved"]) == ("NOT_REQUIRED", True)
    off = await probe(summary, None)
    assert (off["status"], off["approved"]) == ("NOT_REQUIRED", True)
    advance = await probe(summary, "0", approved_by="ops-cron")
    assert (advance["status"], advance["approver"], advance["approved"]) == ("PRE_APPROVED", "ops-cron", True)
    assert "approved in advance by ops-cron" in await _artifact("approval-payroll-quick1")


def test_a_pending_summary_has_the_built_ones_totals_and_is_built_only_when_someone_is_asked() -> None:
    report = _report("LAZY1")
    pending = pending_payroll_summary(report, ["POLAZY11", "POLAZY12"], Decimal("5000.00"))
    built = payroll_summary(report, ["POLAZY11", "POLAZY12"], Decimal("5000.00"))
    assert (pending.pay_count, pending.total, pending.fees) == (built.pay_count, built.total, built.fees)
    assert (pending.total, pending.fees) == (Decimal("2045.50"), Decimal("122.73"))
    assert pending.build() == built

    builds: list[int] = []

    def build() -> PaymentSummary:
        builds.append(1)
        return built

    @flow(name="approval-lazy-probe")
    async def lazy(threshold: str | None) -> str:
        settings = ApprovalSettings(threshold=Decimal(threshold) if threshold is not None else None)
        summary = PendingSummary(pending.pay_count, pending.total, pending.fees, build)
        return str((await require_approval(summary, settings=settings, approved_by="ops-cron")).status)

    assert asyncio.run(lazy(None)) == "NOT_REQUIRED"
    assert asyncio.run(lazy("5000.00")) == "NOT_REQUIRED"
    assert not builds  # nobody asked: 100,000 lines would not be built for nothing
    assert asyncio.run(lazy("0")) == "PRE_APPROVED"
    assert builds == [1]


def test_the_threshold_and_the_wait_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_THRESHOLD, raising=False)
    assert ApprovalSettings.from_env().threshold is None
    monkeypatch.setenv(ENV_THRESHOLD, "0")
    monkeypatch.setenv(ENV_TIMEOUT, "120")
    assert ApprovalSettings.from_env() == ApprovalSettings(threshold=Decimal("0"), timeout_seconds=120)
    for bad in ("-1", "lots", "NaN"):
        monkeypatch.setenv(ENV_THRESHOLD, bad)
        with pytest.raises(ConfigurationError, match=ENV_THRESHOLD):
            ApprovalSettings.from_env()
    monkeypatch.setenv(ENV_THRESHOLD, "10")
    monkeypatch.setenv(ENV_TIMEOUT, "soon")
    with pytest.raises(ConfigurationError, match=ENV_TIMEOUT):
        ApprovalSettings.from_env()


def test_the_form_asks_for_a_decision_and_an_approver() -> None:
    schema = ApprovalInput.model_json_schema()
    assert set(schema["required"]) == {"decision", "approver"}
    decision = json.dumps(schema)
    assert '"approve"' in decision
    assert '"reject"' in decision
    assert schema["properties"]["approver"]["minLength"] == 1


def test_an_approval_binds_to_what_would_be_paid() -> None:
    summary = _summary("BIND1")
    same = _summary("BIND1").model_copy(update={"balance": Decimal("1.00")})
    assert summary.digest() == same.digest()  # the balance is shown, not approved
    changed = summary.model_copy(deep=True)
    changed.lines[0].amount = Decimal("1200.01")
    assert changed.digest() != summary.digest()
    assert Approval(status=ApprovalStatus.TIMED_OUT).approved is False


# --- the payroll waits for it ------------------------------------------------------------------------------


def _payroll_with_answer(
    monkeypatch: pytest.MonkeyPatch, run_name: str, people_seed: int, ref: str, answer: dict[str, Any] | None
) -> tuple[Any, list[str]]:
    from flows.fund_account import fund_account
    from flows.payroll_run import payroll_run
    from lingong_payroll.payees import PayeeRow
    from tests.flows.people import team

    monkeypatch.setenv(ENV_THRESHOLD, "1000.00")
    monkeypatch.setenv(ENV_TIMEOUT, "4" if answer is None else "120")
    people = team(2, seed=people_seed)
    payees = [
        PayeeRow(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no, amount=a)
        for p, a in zip(people, ["800.00", "450.25"], strict=True)
    ]

    async def go() -> Any:
        await fund_account(
            amount="5000.00", tax_base_code="2000064001", recharge_time="2026-11-01 09:00:00", reference=ref
        )
        task: asyncio.Future[Any] = asyncio.ensure_future(
            payroll_run.with_options(flow_run_name=run_name)("2026-10", payees=payees, batch_ref=ref, return_state=True)
        )
        run_id = await _paused_run(run_name, timeout=180)
        if answer is not None:
            await aresume_flow_run(run_id, run_input=answer)
        return await task

    state = asyncio.run(go())
    return state, [p.id_card_no for p in people]


def test_an_approved_payroll_pays_everyone_once_and_says_who_approved(
    platform: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, _ = _payroll_with_answer(
        monkeypatch, "payroll-approved-1", 7301, "APPROVAL-YES", {"decision": "approve", "approver": "Chen Jing"}
    )
    assert state.is_completed()
    report = state.result()
    assert [line.outcome for line in report.lines] == [Outcome.PAID, Outcome.PAID]
    assert any("approved by Chen Jing" in note for note in report.notes)
    audit = platform.audit()
    assert audit["paid_twice"] == []
    assert all(audit["orders"][line.out_order_no]["debited"] == 1 for line in report.lines)


def test_a_rejected_payroll_pays_nobody(platform: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    before = set(platform.audit()["orders"])
    state, _ = _payroll_with_answer(
        monkeypatch,
        "payroll-rejected-1",
        7302,
        "APPROVAL-NO",
        {"decision": "reject", "approver": "Chen Jing", "comment": "amounts not agreed"},
    )
    assert state.is_completed()
    report = state.result()
    assert [line.outcome for line in report.lines] == [Outcome.REFUSED, Outcome.REFUSED]
    assert all("rejected by Chen Jing" in line.reason for line in report.lines)
    assert set(platform.audit()["orders"]) == before  # nothing was even submitted


def test_a_payroll_nobody_approves_in_time_pays_nobody(platform: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    before = set(platform.audit()["orders"])
    state, _ = _payroll_with_answer(monkeypatch, "payroll-late-1", 7303, "APPROVAL-LATE", None)
    assert state.is_failed()  # Prefect fails a pause nobody resumed; the step had decided already: not paid
    assert "never resumed" in (state.message or "")
    audit = platform.audit()
    assert set(audit["orders"]) == before  # no order was submitted
    assert audit["balanced"] is True


# --- the command line, with nobody to approve ---------------------------------------------------------------


@pytest.mark.parametrize("command", [["payroll", "run"], ["marketing", "run", "--campaign", "双十一推广活动 Q"]])
def test_the_command_line_refuses_a_run_nobody_could_approve(command: list[str], tmp_path: Any) -> None:
    """With an approval threshold and no Prefect server, a run would wait for an answer nobody can give
    (its temporary server is gone when it ends): both commands refuse before anything is paid, exit 1."""
    import os
    import subprocess
    import sys

    from tests.flows.people import team

    ann = team(1, seed=7321 if command[0] == "payroll" else 7322)[0]  # each case its own person
    file = tmp_path / "pay.csv"
    file.write_text(
        f"name,idCardNo,mobile,bankCardNo,amount\n{ann.name},{ann.id_card_no},{ann.mobile},{ann.bank_card_no},10.00\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["LINGONG_APPROVAL_THRESHOLD"] = "0"
    done = subprocess.run(
        [sys.executable, "-m", "lingong_cli.main", *command, str(file), "--period", "2026-11"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "no PREFECT_API_URL is set" in done.stdout
    assert "nothing was paid" in done.stdout
    assert ann.id_card_no not in done.stdout + done.stderr
