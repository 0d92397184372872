"""Four-eyes approval before money moves: the run pauses, a second person approves or rejects in the UI.

One awaited call, after everything that decides what would be paid (validation, the by-person guard,
fee pre-calculation, the balance check) and before the first payment::

    approval = await require_approval(summary, approved_by=approved_by)
    if not approval.approved:
        ...  # pay nothing; the report says why (approval.note)

When the amount to pay is above ``LINGONG_APPROVAL_THRESHOLD`` (yuan; ``0`` = every payment; unset =
no approval asked), the run publishes the masked summary as a markdown artifact (``approval-…``: people,
totals, fees, balance, held and refused lines), emits ``lingong.payment.approval-requested`` and waits
for a typed input (:class:`ApprovalInput`: approve or reject, a comment, who decides). Prefect shows it
as a form behind the run's **Resume** button; ``lingong payroll approve RUN_ID --by NAME`` (or
``--reject``) answers it from a shell. Nothing is paid unless someone approves; a run nobody decides
on within ``LINGONG_APPROVAL_TIMEOUT_SECONDS`` (default 3600) pays nothing and fails ("never resumed").

How the run waits:

- A run from a deployment is **suspended** (``suspend_flow_run``): its process exits, freeing the
  worker and the deployment's concurrency slot; once resumed, the worker runs it again from the start,
  everything before the approval is decided again, and the approval given is found under its key. The
  key is a digest of what would be paid (each order's key, amount and fee), so an approval holds only
  for exactly what the approver saw: if the payroll or the fees changed meanwhile, it asks again.
- A run without a deployment (the command line) is **paused** (``pause_flow_run``): it waits in its
  process and goes on when resumed. ``lingong payroll run --approve`` approves in advance instead
  (``approved_by``), for unattended runs; a deployment's run does not accept an advance approval,
  because anyone able to start it could then approve their own payment.

Each decision is an event (``lingong.payment.approved``, ``.rejected``), about the resource
``lingong.payment.<run key>`` and, being emitted inside the run, related to its flow run.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Literal

from prefect import get_run_logger
from prefect.artifacts import acreate_markdown_artifact
from prefect.context import FlowRunContext
from prefect.events import emit_event
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import apause_flow_run, asuspend_flow_run
from prefect.input import RunInput
from pydantic import BaseModel, ConfigDict, Field

from lingong_core.errors import ConfigurationError
from lingong_core.money import fmt_yuan
from lingong_core.timeutil import now
from lingong_payroll.report import Outcome, PayeeLine, PayrollReport
from tasks.artifacts import artifact_key

__all__ = [
    "ENV_THRESHOLD",
    "ENV_TIMEOUT",
    "Approval",
    "ApprovalInput",
    "ApprovalLine",
    "ApprovalSettings",
    "ApprovalStatus",
    "PaymentSummary",
    "PendingSummary",
    "payroll_summary",
    "pending_payroll_summary",
    "require_approval",
]

ENV_THRESHOLD = "LINGONG_APPROVAL_THRESHOLD"
ENV_TIMEOUT = "LINGONG_APPROVAL_TIMEOUT_SECONDS"
DEFAULT_TIMEOUT = 3600
#: How often a paused run asks the server whether it was resumed.
POLL_SECONDS = 2
EVENT_PREFIX = "lingong.payment."


class ApprovalSettings(BaseModel):
    """When approval is asked and how long a run waits for it (from the worker's environment)."""

    threshold: Decimal | None = Field(None, description="Ask when the amount to pay is above this; None: never")
    timeout_seconds: int = Field(DEFAULT_TIMEOUT, gt=0, description="How long a run waits for a decision")

    @classmethod
    def from_env(cls) -> ApprovalSettings:
        raw = os.environ.get(ENV_THRESHOLD, "").strip()
        threshold: Decimal | None = None
        if raw:
            try:
                threshold = Decimal(raw)
            except InvalidOperation:
                threshold = None
            if threshold is None or not threshold.is_finite() or threshold < 0:
                raise ConfigurationError(f"{ENV_THRESHOLD} must be an amount in yuan ≥ 0, e.g. 10000.00 (got {raw!r})")
        raw_timeout = os.environ.get(ENV_TIMEOUT, "").strip()
        timeout = DEFAULT_TIMEOUT
        if raw_timeout:
            if not raw_timeout.isdigit() or int(raw_timeout) <= 0:
                raise ConfigurationError(f"{ENV_TIMEOUT} must be a whole number of seconds > 0 (got {raw_timeout!r})")
            timeout = int(raw_timeout)
        return cls(threshold=threshold, timeout_seconds=timeout)


class ApprovalLine(BaseModel):
    """One line of what would be paid (personal data masked), or of what is held or refused."""

    row: int = 0
    name: str = Field("", description="masked")
    id_card_no: str = Field("", description="masked")
    bank_card_no: str = Field("", description="masked")
    key: str = Field("", description="the order's business key (outOrderNo)")
    amount: Decimal = Decimal("0.00")
    fee: Decimal = Decimal("0.00")
    state: Literal["pay", "held", "refused"] = "pay"
    reason: str = ""


class PaymentSummary(BaseModel):
    """What an approver sees: who would be paid how much, the fees, the balance, and what is left out."""

    kind: str = Field("payroll", description="what is paid: payroll, marketing payout, withdrawal")
    title: str
    run: str = Field(description="the run's business key (the same for a re-run of the same inputs)")
    tax_base_code: str = ""
    balance: Decimal | None = Field(None, description="the account's available balance now")
    lines: list[ApprovalLine] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def _of(self, state: str) -> list[ApprovalLine]:
        return [line for line in self.lines if line.state == state]

    @property
    def to_pay(self) -> list[ApprovalLine]:
        return self._of("pay")

    @property
    def pay_count(self) -> int:
        """How many lines would be paid (as :attr:`PendingSummary.pay_count`)."""
        return len(self.to_pay)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.to_pay), Decimal("0.00"))

    @property
    def fees(self) -> Decimal:
        return sum((line.fee for line in self.to_pay), Decimal("0.00"))

    @property
    def people(self) -> int:
        return len({line.id_card_no or line.key for line in self.to_pay})

    def digest(self) -> str:
        """What an approval is bound to: every order's key, amount and fee (not the balance)."""
        parts = sorted(f"{line.key}\x1f{line.amount:.2f}\x1f{line.fee:.2f}" for line in self.to_pay)
        text = "\x1e".join([self.kind, self.run, *parts])
        return hashlib.blake2b(text.encode("utf-8"), digest_size=10).hexdigest()

    def markdown(self, *, until: datetime | None = None) -> str:
        need = self.total + self.fees
        out = [
            f"# Approval needed: {self.title}",
            "",
            f"**{self.people} {'person' if self.people == 1 else 'people'}, {fmt_yuan(self.total)}** to pay, "
            f"plus {fmt_yuan(self.fees)} service fee: "
            f"**{fmt_yuan(need)}** from the account"
            + (f" with {self.tax_base_code}" if self.tax_base_code else "")
            + ".",
            "",
            "| | lines | amount | service fee |",
            "|---|---:|---:|---:|",
        ]
        for state, label in (("pay", "to pay"), ("held", "held"), ("refused", "refused")):
            chosen = self._of(state)
            if chosen or state == "pay":
                amount = sum((line.amount for line in chosen), Decimal("0.00"))
                fee = sum((line.fee for line in chosen), Decimal("0.00"))
                out.append(f"| {label} | {len(chosen)} | {fmt_yuan(amount)} | {fmt_yuan(fee)} |")
        if self.balance is not None:
            after = self.balance - need
            out += ["", f"Balance now {fmt_yuan(self.balance)}; after paying {fmt_yuan(after)}."]
        out += ["", "## To pay", "", "| row | name | ID | card | amount | fee |", "|---:|---|---|---|---:|---:|"]
        out += [
            f"| {x.row} | {x.name} | {x.id_card_no} | {x.bank_card_no} | {fmt_yuan(x.amount)} | {fmt_yuan(x.fee)} |"
            for x in self.to_pay
        ]
        left_out = self._of("held") + self._of("refused")
        if left_out:
            out += [
                "",
                "## Not paid by this run",
                "",
                "| row | name | ID | amount | | reason |",
                "|---:|---|---|---:|---|---|",
            ]
            out += [
                f"| {x.row} | {x.name} | {x.id_card_no} | {fmt_yuan(x.amount)} | {x.state} | {x.reason} |"
                for x in left_out
            ]
        out += [f"- {note}" for note in self.notes]
        if until is not None:
            out += [
                "",
                f"Approve or reject with the run's **Resume** button (or `lingong payroll approve <run id>`) by "
                f"{until:%Y-%m-%d %H:%M} (Asia/Shanghai); if nobody decides by then, nothing is paid.",
            ]
        return "\n".join(out)


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class ApprovalInput(RunInput):
    """The form the approver fills in (Prefect shows it behind the paused run's Resume button)."""

    model_config = ConfigDict(extra="forbid")

    decision: Decision = Field(
        title="Decision", description="approve: pay exactly the summary above; reject: pay nothing"
    )
    approver: str = Field(
        title="Approver",
        min_length=1,
        max_length=64,
        pattern=r"\S",
        description="Who decides (your name or staff id); recorded in the run's report",
        examples=["Wang Fang"],
    )
    comment: str = Field("", title="Comment", max_length=500, description="Why, for the record (optional)")


class ApprovalStatus(StrEnum):
    NOT_REQUIRED = "NOT_REQUIRED"  # approval is off, or the amount is under the threshold
    PRE_APPROVED = "PRE_APPROVED"  # approved in advance (command line --approve)
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    TIMED_OUT = "TIMED_OUT"  # nobody decided in time


class Approval(BaseModel):
    """The decision, as the run's report records it."""

    status: ApprovalStatus
    approver: str = ""
    comment: str = ""
    decided_at: str = ""
    total: Decimal = Decimal("0.00")
    fees: Decimal = Decimal("0.00")

    @property
    def approved(self) -> bool:
        return self.status in (ApprovalStatus.NOT_REQUIRED, ApprovalStatus.PRE_APPROVED, ApprovalStatus.APPROVED)

    @property
    def note(self) -> str:
        """One line for the run's report."""
        amount = f"{fmt_yuan(self.total)} + {fmt_yuan(self.fees)} fee"
        said = f" — “{self.comment}”" if self.comment else ""
        if self.status == ApprovalStatus.NOT_REQUIRED:
            return f"approval: not required ({self.comment or 'under the threshold'})"
        if self.status == ApprovalStatus.PRE_APPROVED:
            return f"approval: {amount} approved in advance by {self.approver} at {self.decided_at}"
        if self.status == ApprovalStatus.APPROVED:
            return f"approval: {amount} approved by {self.approver} at {self.decided_at}{said}"
        if self.status == ApprovalStatus.REJECTED:
            return f"approval: {amount} rejected by {self.approver} at {self.decided_at}{said}; nothing was paid"
        return f"approval: nobody approved {amount} in time ({self.comment}); nothing was paid"


def _stamp() -> str:
    return f"{now():%Y-%m-%d %H:%M:%S}"


def _emit(what: str, summary: PaymentSummary, approval: Approval | None = None) -> None:
    payload: dict[str, str] = {
        "run": summary.run,
        "kind": summary.kind,
        "total": format(summary.total, "f"),
        "fees": format(summary.fees, "f"),
        "people": str(summary.people),
    }
    if approval is not None:
        payload.update(approver=approval.approver, comment=approval.comment, status=approval.status.value)
    emit_event(  # inside the run, Prefect relates it to the flow run, its flow and deployment
        event=EVENT_PREFIX + what,
        resource={
            "prefect.resource.id": f"{EVENT_PREFIX}{summary.run}",
            "prefect.resource.name": summary.title,
            "lingong.tax-base-code": summary.tax_base_code,
        },
        payload=payload,
    )


async def _record(summary: PaymentSummary, key: str, approval: Approval) -> Approval:
    logger = get_run_logger()
    logger.info("%s", approval.note)
    await acreate_markdown_artifact(
        summary.markdown().replace("# Approval needed:", "# Approval:", 1) + f"\n\n**{approval.note}**",
        key=key,
        description=f"Approval of {summary.title}: {approval.status.value.lower().replace('_', ' ')}",
    )
    if approval.status in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED, ApprovalStatus.PRE_APPROVED):
        _emit("approved" if approval.approved else "rejected", summary, approval)
    elif approval.status == ApprovalStatus.TIMED_OUT:
        _emit("approval-timed-out", summary, approval)
    return approval


@dataclass(frozen=True, slots=True)
class PendingSummary:
    """A summary not built yet: the totals that tell whether anyone must approve, and how to build the rest.

    A payroll of 100,000 lines would otherwise build 100,000 :class:`ApprovalLine` models (~100 MB) for a
    run that no one is asked to approve (no threshold set, or an amount under it)."""

    pay_count: int  # lines to pay
    total: Decimal
    fees: Decimal
    build: Callable[[], PaymentSummary]


async def require_approval(
    summary: PaymentSummary | PendingSummary,
    *,
    approved_by: str | None = None,
    settings: ApprovalSettings | None = None,
) -> Approval:
    """Wait for a person to approve ``summary`` when its amount is above the threshold; return the decision.

    Call it from a flow, after everything that decides what would be paid and before the first payment.
    It never pays anything: the caller pays only when ``approval.approved``. A :class:`PendingSummary` is
    built only when someone is asked.
    """
    settings = settings or ApprovalSettings.from_env()
    logger = get_run_logger()
    base = {"total": summary.total, "fees": summary.fees}
    if not summary.pay_count:
        return Approval(status=ApprovalStatus.NOT_REQUIRED, comment="nothing to pay", **base)
    if settings.threshold is None:
        return Approval(status=ApprovalStatus.NOT_REQUIRED, comment=f"{ENV_THRESHOLD} is not set", **base)
    if settings.threshold > 0 and summary.total <= settings.threshold:
        return Approval(status=ApprovalStatus.NOT_REQUIRED, comment=f"at most {fmt_yuan(settings.threshold)}", **base)
    if isinstance(summary, PendingSummary):
        summary = summary.build()
    key = artifact_key(f"approval-{summary.kind}-{summary.run}")

    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        raise RuntimeError("require_approval must be called inside a flow run")
    from_deployment = context.flow_run.deployment_id is not None
    advance = (approved_by or "").strip()
    if advance and not from_deployment:
        approval = Approval(status=ApprovalStatus.PRE_APPROVED, approver=advance[:64], decided_at=_stamp(), **base)
        return await _record(summary, key, approval)
    if advance:
        summary = summary.model_copy(
            update={"notes": [*summary.notes, "an advance approval is not accepted for a deployment's run"]}
        )
        logger.warning("approved_by=%r ignored: a deployment's run waits for approval in the UI", advance[:64])

    until = now() + timedelta(seconds=settings.timeout_seconds)
    text = summary.markdown(until=until)
    pause_key = f"approval-{summary.digest()}"
    # A suspended run that comes back finds its answer under pause_key at once: the request (artifact, event)
    # was made before it was suspended, and is not made again for the same summary.
    resumed = from_deployment and _resumed(context, pause_key)
    if not resumed:
        await acreate_markdown_artifact(text, key=key, description=f"Waiting for approval: {summary.title}")
        _emit("approval-requested", summary)
    form = ApprovalInput.with_initial_data(description=text)
    try:
        if from_deployment:
            logger.info("resumed: reading the decision" if resumed else "waiting for approval (suspended)")
            answer = await asuspend_flow_run(wait_for_input=form, timeout=settings.timeout_seconds, key=pause_key)
        else:
            logger.info("waiting for approval (paused; resume it in the UI or with `lingong payroll approve`)")
            answer = await apause_flow_run(
                wait_for_input=form, timeout=settings.timeout_seconds, poll_interval=POLL_SECONDS, key=pause_key
            )
    except FlowPauseTimeout:
        approval = Approval(
            status=ApprovalStatus.TIMED_OUT,
            comment=f"waited {settings.timeout_seconds} s",
            decided_at=_stamp(),
            **base,
        )
        return await _record(summary, key, approval)
    status = ApprovalStatus.APPROVED if answer.decision == Decision.APPROVE else ApprovalStatus.REJECTED
    approval = Approval(
        status=status, approver=answer.approver.strip(), comment=answer.comment.strip(), decided_at=_stamp(), **base
    )
    return await _record(summary, key, approval)


def _resumed(context: FlowRunContext, pause_key: str) -> bool:
    """Whether this run was already suspended under ``pause_key`` (and is now running again)."""
    policy = context.flow_run.empirical_policy if context.flow_run else None
    keys: Sequence[str] = sorted(getattr(policy, "pause_keys", None) or ())
    return pause_key in keys


def _paid(line: PayeeLine, chosen: set[str]) -> bool:
    """Whether a payroll's approval pays this line: its order's key is one of those the run would pay."""
    return bool(line.out_order_no) and line.out_order_no in chosen


def pending_payroll_summary(report: PayrollReport, pay: Sequence[str], balance: Decimal | None) -> PendingSummary:
    """:func:`payroll_summary`'s totals, from one pass over the report's lines; the summary itself on demand."""
    chosen = set(pay)
    to_pay = [line for line in report.lines if _paid(line, chosen)]
    return PendingSummary(
        pay_count=len(to_pay),
        total=sum((line.amount for line in to_pay), Decimal("0.00")),
        fees=sum((line.service_amount for line in to_pay), Decimal("0.00")),
        build=lambda: payroll_summary(report, pay, balance),
    )


def payroll_summary(report: PayrollReport, pay: Sequence[str], balance: Decimal | None) -> PaymentSummary:
    """The approval summary of a payroll run: the lines whose order keys are in ``pay`` are to be paid;
    invalid and refused lines are refused; any other line (found already paid, held by the guard, in
    conflict) is held, with the report's reason."""
    chosen = set(pay)
    lines = []
    for line in report.lines:
        if _paid(line, chosen):
            state: Literal["pay", "held", "refused"] = "pay"
        elif line.outcome in (Outcome.INVALID, Outcome.REFUSED):
            state = "refused"
        else:
            state = "held"
        lines.append(
            ApprovalLine(
                row=line.row,
                name=line.name,
                id_card_no=line.id_card_no,
                bank_card_no=line.bank_card_no,
                key=line.out_order_no,
                amount=line.amount,
                fee=line.service_amount,
                state=state,
                reason="" if state == "pay" else (line.reason or line.outcome.value.lower()),
            )
        )
    title = f"payroll {report.period} · {report.tax_base_code}" + (
        f" · project {report.project_no}" if report.project_no else ""
    )
    return PaymentSummary(
        kind="payroll", title=title, run=report.run, tax_base_code=report.tax_base_code, balance=balance, lines=lines
    )
