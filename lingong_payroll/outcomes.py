"""The payroll's decisions, in one pure module: what each line's outcome is, given what the platform said.

The flow (flows/payroll_run.py) only orders the steps and the tasks only talk to the platform; what a
pre-calculation, a refusal, an order's state or the guard's verdict *means* for a line, and what the run
journal records, is decided here:

- :func:`line_of` — the report's (masked) line for a planned order;
- :func:`apply_check` — SFT0501's answer: the fee, and a refusal with the platform's reason;
- :func:`apply_state` — an order's state on the platform (PAID, FAILED, BOUNCED, PENDING; CONFLICT when the
  platform holds this key for another amount);
- :func:`hold` / :func:`held_line` — the guard's HELD verdict on a person's lines (and on a person the
  platform paid in this run whom this payroll no longer lists); :func:`apply_verdict` — the whole verdict
  onto a run's lines at once (``flows/marketing_payout.py``);
- :func:`intent_rows`, :func:`journal_rows`, :func:`journal_changed`, :func:`run_states` — the journal;
- :func:`recorded_vs_platform`, :func:`bounced_since` — the journal against the platform (reconcile, the
  month-end close).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal

from pydantic import BaseModel, Field

from lingong_core.masking import mask_card, mask_id, mask_name
from lingong_core.money import fmt_yuan

from .guard import GuardResult, PersonDecision
from .journal import JournalOrder
from .keys import RunKey
from .orders import FINAL_STATUS, Check, PlannedOrder, PlatformOrder
from .report import Outcome, PayeeLine

#: What the journal holds for an order a run is about to send (written before SFT0502, so that a run
#: killed right after the platform took the batch still left the batch in the journal's index).
SUBMITTING = "SUBMITTING"
#: Journal outcomes of orders a run meant to send that need not exist on the platform (refused, or the
#: run stopped between the journal and SFT0502).
NEVER_SENT = frozenset({SUBMITTING, "REFUSED"})
USED_WITHOUT_ORDER = "the platform reports the key used but has no order"
#: The platform's state each final journal outcome stands for.
_PLATFORM_STATE = {outcome: status for status, outcome in FINAL_STATUS.items()}

_UNEXPLAINED = {
    Outcome.BOUNCED: "paid, then returned by the bank (退票); the amount and fee were refunded — "
    "pay again once the payee's card is fixed",
    Outcome.FAILED: "the platform reports the payout failed without a reason; the amount and fee were refunded",
}


def how_to_pay_on_purpose(run: RunKey) -> str:
    return (
        "if more is owed, pay it on purpose as an additional payment: a payroll of just the difference with "
        f"`--additional REF` (flow parameter additional_ref) for {run.period}"
    )


def line_of(order: PlannedOrder) -> PayeeLine:
    p = order.payee
    return PayeeLine(
        row=order.row,
        name=sys.intern(mask_name(p.name)),  # a family name and stars (张**): a few hundred among 100,000 lines
        id_card_no=mask_id(p.id_card_no),
        bank_card_no=mask_card(p.bank_card_no),
        amount=p.amount,
        out_order_no=order.out_order_no,
    )


def invalid_line(row: int, reason: str) -> PayeeLine:
    return PayeeLine(
        row=row,
        name="",
        id_card_no="",
        bank_card_no="",
        amount=Decimal("0.00"),
        outcome=Outcome.INVALID,
        reason=reason,
    )


def refusal(check: Check) -> str:
    return f"[{check.code}] {check.reason}"


def after_onboarding(check: Check, code: int | None, reason: str) -> Check:
    """SFT0501's answer for an order whose payee was just onboarded: when onboarding refused them, its code and
    reason say more than the platform's "not verified"."""
    if check.passed or not reason:
        return check
    return replace(check, code=code or check.code, reason=f"onboarding refused: {reason}")


def apply_check(line: PayeeLine, check: Check) -> bool:
    """SFT0501's answer onto the line; whether the order may be sent (a used key is not, nor refused)."""
    line.service_amount = check.service_amount
    if check.passed:
        return True
    if not check.key_used:
        line.outcome, line.reason = Outcome.REFUSED, refusal(check)
    return False


def not_submitted(lines: Iterable[PayeeLine], rounds: int) -> None:
    """Lines still unsent when a run has sent its refused batches' other orders again ``rounds`` times: REFUSED
    with why, so the operator runs again (a re-run sends them; the guard sees anything that did land)."""
    for line in lines:
        line.outcome = Outcome.REFUSED
        line.reason = (
            f"not sent: the batches holding it were refused {rounds} times in this run (orders beside it refused, "
            "or their keys held by another run); run again with the same inputs to send it — nobody is paid twice"
        )


def apply_state(line: PayeeLine, state: PlatformOrder, *, earlier: bool) -> None:
    """What the platform says of an order, onto the payee's line."""
    line.order_no = state.order_no
    # a value the line already holds stays the one held: at 100,000 lines, a copy per line of the batch numbers
    # and the fee is tens of MB kept for nothing
    if line.out_batch_no != state.out_batch_no:
        line.out_batch_no = state.out_batch_no
    if line.batch_no != state.batch_no:
        line.batch_no = state.batch_no
    if line.service_amount != state.service_amount:
        line.service_amount = state.service_amount
    if state.amount != line.amount:
        line.outcome = Outcome.CONFLICT
        line.reason = (
            f"the platform holds order {state.out_order_no} for {fmt_yuan(state.amount)} ({state.status}); "
            "not paid again"
        )
        return
    line.outcome = Outcome(FINAL_STATUS[state.status]) if state.final else Outcome.PENDING
    reasons = []
    if earlier:
        reasons.append("submitted by an earlier run")
    if state.fail_msg and line.outcome != Outcome.PAID:
        reasons.append(state.fail_msg)
    elif line.outcome in _UNEXPLAINED:  # the platform gave no reason: a payee not paid is never left without one
        reasons.append(_UNEXPLAINED[line.outcome])
    line.reason = "; ".join(reasons)


def hold(line: PayeeLine, decision: PersonDecision, run: RunKey) -> None:
    line.outcome, line.reason = Outcome.HELD, decision.reason(how_to_pay_on_purpose(run))


def held_line(decision: PersonDecision, run: RunKey) -> PayeeLine:
    """A person the platform paid in this run whom this payroll no longer lists: held, with what was paid."""
    first = decision.unaccounted[0]
    return PayeeLine(
        row=0,
        name=first.name,
        id_card_no=first.id_card_no,
        bank_card_no=first.bank_card_no,
        amount=Decimal("0.00"),
        outcome=Outcome.HELD,
        reason=decision.reason(how_to_pay_on_purpose(run)),
    )


def apply_verdict(
    verdict: GuardResult, found: Iterable[PlatformOrder], lines: dict[str, PayeeLine], run: RunKey
) -> tuple[dict[str, PlatformOrder], list[PayeeLine], list[str]]:
    """The guard's verdict onto a run's lines (outOrderNo → line): each line with an order on the platform
    takes its state, the held person's other lines are HELD. Returns the orders found for these lines, the
    lines to add for held people this run has no line of its own left for, and the notes for the report."""
    earlier = {o.out_order_no: o for o in found if o.out_order_no in lines}
    for key, order in earlier.items():
        apply_state(lines[key], order, earlier=True)
    extra: list[PayeeLine] = []
    for decision in verdict.held:
        unpaid = [line.out_order_no for line in decision.lines if line.out_order_no not in earlier]
        for key in unpaid:
            hold(lines[key], decision, run)
        if not unpaid:
            extra.append(held_line(decision, run))
    notes = []
    if verdict.absent:
        money = sum((d.paid + d.in_flight for d in verdict.absent), Decimal(0))
        notes.append(
            f"{len(verdict.absent)} person(s) already paid in this run have no line in this list "
            f"({fmt_yuan(money)}); nothing paid to them"
        )
    if verdict.unattributed:
        notes.append(
            f"{len(verdict.unattributed)} order(s) in this run's batches carry keys not made by this version; "
            "not counted by the guard"
        )
    return earlier, extra, notes


def _row(run: RunKey, line: PayeeLine, outcome: str, out_batch_no: str = "") -> JournalOrder:
    return JournalOrder(
        line.out_order_no,
        run.token,
        run.period,
        run.tax_base_code,
        out_batch_no or line.out_batch_no,
        line.batch_no,
        line.order_no,
        line.amount,
        line.service_amount,
        outcome,
    )


def intent_rows(run: RunKey, out_batch_no: str, lines: Iterable[PayeeLine]) -> list[JournalOrder]:
    """The journal's rows for a batch about to be sent (the index the next run's guard reads)."""
    return [_row(run, line, SUBMITTING, out_batch_no) for line in lines]


def index_batches(rows: Iterable[JournalOrder], run: RunKey) -> list[str]:
    """The batches the journal says this run identity sent (or was about to send): where the guard looks."""
    return sorted({r.out_batch_no for r in rows if r.run == run.token and r.out_batch_no})


def journal_rows(run: RunKey, lines: Iterable[PayeeLine], sent: set[str]) -> list[JournalOrder]:
    """The journal's rows at the end of a run: every line with an order on the platform, and every line
    this run put in the journal before sending it (``sent``), with its outcome now. Lines held, invalid,
    or refused before anything was sent are not recorded."""
    out = []
    for line in lines:
        if not line.out_order_no or line.outcome in (Outcome.HELD, Outcome.INVALID):
            continue
        if line.outcome == Outcome.REFUSED and line.out_order_no not in sent:
            continue
        out.append(_row(run, line, line.outcome.value))
    return out


# --- the journal, from the platform's answers (follow-ups) -------------------------------------------


class RunState(BaseModel):
    """A payroll run's orders as the journal holds them after an update."""

    run: str
    period: str
    tax_base_code: str
    counts: dict[str, int]
    amounts: dict[str, Decimal]

    @property
    def settled(self) -> bool:
        return all(outcome in FINAL_STATUS.values() for outcome in self.counts)


class JournalUpdate(BaseModel):
    updated: list[str] = Field(default_factory=list, description="outOrderNos whose outcome changed now")
    unchanged: list[str] = Field(default_factory=list, description="outOrderNos the journal already had right")
    unknown: list[str] = Field(default_factory=list, description="outOrderNos no payroll run here submitted")
    runs: list[RunState] = Field(default_factory=list)


def journal_changed(held: JournalOrder, order: PlatformOrder) -> JournalOrder | None:
    """The journal's row for a final order, when it differs from what the journal holds; else None."""
    outcome = FINAL_STATUS[order.status]
    fresh = JournalOrder(
        held.out_order_no,
        held.run,
        held.period,
        held.tax_base_code,
        order.out_batch_no,
        order.batch_no,
        order.order_no,
        order.amount,
        order.service_amount,
        outcome,
    )
    same = (held.outcome, held.batch_no, held.order_no, held.service_amount) == (
        outcome,
        order.batch_no,
        order.order_no,
        order.service_amount,
    )
    return None if same else fresh


def run_states(rows: Iterable[JournalOrder], wanted: set[str]) -> list[RunState]:
    by_run: dict[str, list[JournalOrder]] = {}
    for row in rows:
        if row.run in wanted:
            by_run.setdefault(row.run, []).append(row)
    states = []
    for run, orders in sorted(by_run.items()):
        amounts: dict[str, Decimal] = {}
        for o in orders:
            amounts[o.outcome] = amounts.get(o.outcome, Decimal("0.00")) + o.amount
        states.append(
            RunState(
                run=run,
                period=orders[0].period,
                tax_base_code=orders[0].tax_base_code,
                counts=dict(Counter(o.outcome for o in orders)),
                amounts=amounts,
            )
        )
    return states


def _bounced_since(mine: JournalOrder, theirs: PlatformOrder) -> bool:
    return mine.outcome == "PAID" and theirs.status == "BOUNCED"


def recorded_vs_platform(
    recorded: Iterable[JournalOrder], states: Mapping[str, PlatformOrder]
) -> list[tuple[str, str, str]]:
    """Each recorded order against the platform's: (kind, outOrderNo, detail) for one missing, of another
    amount, or in another state.

    A bounce is the one change the platform makes to a paid order after its run is over, so an order the run
    recorded PAID that the platform holds BOUNCED is not a disagreement: the journal is behind (the bounce
    notification 5001 has not reached the receiver yet, or was lost); :func:`bounced_since` catches it up.
    """
    out: list[tuple[str, str, str]] = []
    for mine in recorded:
        key = mine.out_order_no
        theirs = states.get(key)
        if theirs is None:
            if mine.outcome not in NEVER_SENT:  # put in the journal before sending, and not taken: nothing to match
                out.append(("missing on platform", key, f"a run recorded it {mine.outcome}"))
            continue
        if theirs.amount != mine.amount:
            out.append(("amount", key, f"recorded {mine.amount}, platform {theirs.amount}"))
        expected = _PLATFORM_STATE.get(mine.outcome)
        if expected and theirs.status != expected and not _bounced_since(mine, theirs):
            out.append(("state", key, f"recorded {mine.outcome}, platform {theirs.status}"))
    return out


def bounced_since(recorded: Iterable[JournalOrder], states: Mapping[str, PlatformOrder]) -> list[JournalOrder]:
    """The journal's rows, moved forward to BOUNCED, of orders its runs saw paid and the bank returned since."""
    return [
        replace(mine, outcome="BOUNCED")
        for mine in recorded
        if (theirs := states.get(mine.out_order_no)) is not None and _bounced_since(mine, theirs)
    ]


def bounced_since_note(keys: Sequence[str]) -> str | None:
    """The operator's line about payments (outOrderNos) the bank returned after their run reported them paid."""
    if not keys:
        return None
    return (
        f"{len(keys)} order(s) paid by a run were returned by the bank (退票) since: {', '.join(keys)}; the "
        "amount and fee were refunded, and the journal now records them BOUNCED — the bounced-order deployment "
        "pays each again, once, after the card is fixed"
    )
