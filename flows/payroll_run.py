"""Pay a payroll: validate every row, read what the platform already holds for this run, hold anyone whose
paid money the payroll no longer accounts for, onboard who is missing, check the balance, submit batches,
wait for every order to become final, report, and apply for the invoice if asked.

Nobody is paid twice, whatever the operator does between runs. A run's identity is (merchant, provider,
period, additional reference — empty for the period's regular payroll); every order's ``outOrderNo``
derives from it, the person, the amount and the line's occurrence among that person's lines with that
amount (lingong_payroll.keys), so a retry, a re-run, a re-exported, reordered or re-projected file reaches
the same keys, and the platform refuses a key twice. Before the first SFT0502 the by-person guard
(lingong_payroll.guard) compares what the platform holds for each person in this run with what the payroll
asks, and pays nobody more than it accounts for. The decisions are lingong_payroll.outcomes'; this flow
orders the steps.

``python -m flows.payroll_run FILE PERIOD`` runs it on a payroll file; ``lingong payroll run`` is the
full command line.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from decimal import Decimal

from prefect import flow, get_run_logger
from prefect.artifacts import acreate_markdown_artifact
from prefect.utilities.annotations import quote

from flows import DEFAULT_TAX_BASE_CODE
from lingong_core.money import fmt_yuan
from lingong_payroll import outcomes, pacing
from lingong_payroll.files import SheetReading, validate_rows
from lingong_payroll.guard import decide
from lingong_payroll.journal import Journal
from lingong_payroll.keys import RunKey, check_batch_ref, check_period, check_ref
from lingong_payroll.orders import Check, PlannedOrder, PlatformOrder
from lingong_payroll.payees import PayeeRow
from lingong_payroll.plan import MAX_BATCH, PlannedBatch, plan_batches, plan_orders
from lingong_payroll.projects import check_project_name, project_key
from lingong_payroll.report import Lines, Outcome, PayeeLine, PayrollReport
from tasks.approval import pending_payroll_summary, require_approval
from tasks.artifacts import publish_report
from tasks.credentials import CredentialsParameter, credentials_name, load_settings
from tasks.invoicing import apply_invoice
from tasks.onboarding import Freelancer, OnboardingResult, OnboardingState, store_people
from tasks.payees import hide_typed_payees, stored_payroll
from tasks.projects import ensure_project, file_confirmations
from tasks.settlement import (
    CALLS_IN_FLIGHT,
    ONBOARDING_CODES,
    Priced,
    Submission,
    available_balance,
    collect_in_groups,
    lookup_orders,
    precalculate,
    read_and_precalculate,
    read_run_orders,
    send_journalled,
    submit_batch,
    wait_batches,
    without_taken,
)

MAX_RESUBMIT_ROUNDS = 5


class PayrollRefusedError(ValueError):
    """The payroll itself cannot be paid as given (invalid rows, short balance). Nothing was paid."""


async def _load_payroll(
    run: RunKey,
    payees: Sequence[PayeeRow] | None,
    payroll_file: str | None,
    payroll_ref: str | None,
    skip_invalid: bool,
    reading: SheetReading | None,
    credentials_block: str | None,
) -> Priced:
    """The payroll from exactly one of: typed rows, a file the worker can read, a payee-store reference;
    validated and refused (nothing paid) when invalid rows are not to be skipped; its orders planned and
    pre-calculated (SFT0501: each key already used flagged, the rest priced). A file is priced while it is
    read (tasks/settlement.py, ``read_and_precalculate``)."""
    if sum(map(bool, (payees, payroll_file, payroll_ref))) != 1:
        raise PayrollRefusedError("give one of payees, payroll_file or payroll_ref (exactly one)")
    priced: Priced | None = None
    if payroll_file:
        options = reading.options() if reading else None
        priced = await read_and_precalculate(payroll_file, options, run, credentials_block)
        parsed = priced.parsed
    elif payroll_ref:
        parsed = validate_rows((r.row, r.fields()) for r in stored_payroll(payroll_ref))
    else:
        parsed = validate_rows((i, row.model_dump()) for i, row in enumerate(payees or [], start=1))
    if parsed.errors and not skip_invalid:
        report_text = parsed.report()
        await acreate_markdown_artifact("# Payroll refused\n\n```\n" + report_text + "\n```", key="payroll-refused")
        raise PayrollRefusedError(f"{len(parsed.invalid_rows)} invalid row(s); nothing was paid:\n{report_text}")
    if priced is None:
        planned = plan_orders(run, parsed.payees, parsed.rows)
        priced = Priced(parsed, planned, await precalculate(quote(planned), run.tax_base_code, credentials_block))
    return priced


@flow(name="payroll-run", description="Pay a payroll through the platform, each person no more than it says.")
async def payroll_run(
    period: str,
    payees: list[PayeeRow] | None = None,
    payroll_file: str | None = None,
    payroll_ref: str | None = None,
    reading: SheetReading | None = None,
    tax_base_code: str = DEFAULT_TAX_BASE_CODE,
    project_no: str | None = None,
    project_name: str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    invoice: bool = False,
    additional_ref: str | None = None,
    batch_ref: str | None = None,
    onboard_missing: bool = True,
    wait_timeout_seconds: float = 900.0,
    max_batch: int = MAX_BATCH,
    credentials_block: CredentialsParameter = None,
    approved_by: str | None = None,
) -> PayrollReport:
    """Pay ``payees`` (or the rows of ``payroll_file``) for ``period`` through ``tax_base_code``.

    Args:
        period: The month paid for, yyyy-MM (e.g. 2026-11). Part of the run's identity.
        payees: The payroll's lines: name, ID number, mobile, debit card and amount (as text, e.g. "1234.50").
        payroll_file: Instead of payees: a .csv (UTF-8 or GB18030) or .xlsx file the worker can read (a path on
            shared storage, or an fsspec URL such as s3://… where that filesystem is installed).
        payroll_ref: Instead of payees: a payroll stored in the payee store (PR…), as the upload page stores it.
        reading: How to read payroll_file when the defaults refuse it: which sheet, which amount column, the
            per-line ceiling, hidden rows (the command line's --sheet, --amount-column, --max-amount, …).
        tax_base_code: The service provider (服务商) paying through, e.g. 2000064001.
        project_no: The project (SFT0703) the work was for, if any. Sent with the batches; no part of any key.
        project_name: Or the project by name: created once (SFT0703) and reused by every run naming it; each
            batch it paid gets its confirmation sheet (SFT0705), once. No part of any key: naming it pays nobody again.
        dry_run: Read only: who would be paid, onboarded, held, and the balance needed; pay nothing.
        skip_invalid: Pay the valid lines of a payroll with invalid ones (reported) instead of refusing it.
        invoice: Apply for the invoice (SFT0605) once every order is final.
        additional_ref: An additional payment on purpose (a bonus, 补发): a run of its own, paid on top of
            the period's regular payroll. Empty: the period's regular payroll.
        batch_ref: A label for the run, shown in the report. It pays nobody again: use additional_ref for that.
        onboard_missing: Verify, bind and sign up payees the platform does not know yet.
        wait_timeout_seconds: How long to wait for the platform to finish paying; a re-run picks up the rest.
        max_batch: Orders per settlement batch (the platform takes at most 1,000).
        credentials_block: A saved LingongCredentials Block, picked in the form (or its name); empty: LINGONG_*.
        approved_by: Approve in advance (``lingong payroll run --approve``): who. Not offered by the deployment;
            ignored for a deployment's run, which waits for a second person (tasks/approval.py).
    """
    credentials_block = credentials_name(credentials_block)  # tasks take the Block's name
    logger = get_run_logger()
    # Typed rows go into the payee store first, and this run's stored parameters become masked.
    payees, payroll_ref = await hide_typed_payees(payees, payroll_file, payroll_ref)
    period, additional, label = check_period(period), check_ref(additional_ref), check_batch_ref(batch_ref) or ""
    project_name = check_project_name(project_name) if project_name else None
    merchant_no = load_settings(credentials_block).merchant_no
    run = RunKey(merchant_no, tax_base_code, period, additional)
    report = PayrollReport(
        run=run.token,
        period=period,
        tax_base_code=tax_base_code,
        additional_ref=additional,
        batch_ref=label,
        project_no=project_no or "",
        dry_run=dry_run,
    )

    journal = Journal()
    pace = pacing.slower_collector()  # payees held to the run's end: fewer full collections (lingong_payroll.pacing)
    try:
        onboard = _onboarder(run, tax_base_code, credentials_block)
        decided = await _decide(
            run,
            await _load_payroll(run, payees, payroll_file, payroll_ref, skip_invalid, reading, credentials_block),
            report,
            journal,
            onboard if onboard_missing else None,
            dry_run=dry_run,
            credentials_block=credentials_block,
        )
        if decided is None:  # a dry run: reported, nothing but reads was sent
            await publish_report(report)
            return report
        lines, earlier, available = decided.lines, decided.earlier, decided.available

        # ---- decided and balance checked: the four-eyes approval (tasks/approval.py), before the first SFT0502 ----
        approval = await require_approval(
            pending_payroll_summary(report, [o.out_order_no for o in decided.to_pay], available),
            approved_by=approved_by,
        )
        report.notes.append(approval.note)
        if not approval.approved:
            for planned_order in decided.to_pay:
                not_paid = lines[planned_order.out_order_no]
                not_paid.outcome, not_paid.reason = Outcome.REFUSED, approval.note
            report.lines.sort(key=lambda x: x.row)
            await publish_report(report)
            return report

        if project_name and not project_no:  # the project, created once (SFT0703), goes on every batch
            key = project_key(merchant_no, tax_base_code, project_name)
            project_no = (
                await ensure_project(key, project_name, tax_base_code, credentials_block=credentials_block)
            ).project_no
            report.project_no = project_no

        # 5. Submit, wait, collect.
        taken: list[str] = []  # keys another run's batch took between our pre-calculation and our SFT0502
        sent: set[str] = set()
        submitted = await _submit(
            run,
            decided.take_orders(),  # the payees' full details are not held past their batches
            lines,
            project_no,
            max_batch,
            credentials_block,
            journal,
            onboard if onboard_missing else None,
            sent,
            taken,
        )
        taken_states = await lookup_orders(quote(taken), credentials_block=credentials_block) if taken else []
        for state in taken_states:
            earlier[state.out_order_no] = state
            outcomes.apply_state(lines[state.out_order_no], state, earlier=True)
        for key in set(taken) - {s.out_order_no for s in taken_states}:
            lines[key].outcome, lines[key].reason = Outcome.REFUSED, outcomes.USED_WITHOUT_ORDER

        wait_for = sorted(set(submitted) | {o.out_batch_no for o in earlier.values() if not o.final})
        journalled: set[str] = set()  # keys whose final state went into the journal with their batch
        if wait_for:
            logger.info("payroll %s: %d batch(es) accepted; waiting for the platform", run.label, len(wait_for))
            statuses = await wait_batches(wait_for, wait_timeout_seconds, credentials_block)
            unfinished = sorted(b for b, s in statuses.items() if s != "COMPLETED")
            if unfinished:
                report.notes.append(
                    f"still processing when the run stopped waiting: {', '.join(unfinished)}; "
                    "run again with the same inputs to pick up the results (nothing is paid twice)"
                )
            logger.info(
                "payroll %s: %d of %d batch(es) completed; reading the orders",
                run.label,
                len(wait_for) - len(unfinished),
                len(wait_for),
            )
            # CALLS_IN_FLIGHT batches' orders at a time, each group journalled as it is read (the next group read
            # meanwhile): a 100,000-payee run never holds every platform order, nor every journal row, at once
            async with aclosing(collect_in_groups(wait_for, credentials_block)) as groups:
                async for group in groups:
                    read = []
                    for state in group:
                        line = lines.get(state.out_order_no)
                        if line is not None and line.outcome != Outcome.HELD:
                            outcomes.apply_state(line, state, earlier=state.out_order_no in earlier)
                            read.append(line)
                    journal.record(outcomes.journal_rows(run, read, sent))
                    journalled.update(line.out_order_no for line in read)
        report.batches = sorted({line.batch_no for line in lines.values() if line.batch_no})
        rest = (line for line in lines.values() if line.out_order_no not in journalled)
        journal.record(outcomes.journal_rows(run, rest, sent))
    finally:
        journal.close()
        pace.restore()

    report.lines.sort(key=lambda x: x.row)
    if project_no:  # the work of each batch paid under the project confirmed (SFT0705), once
        report.notes.append(await _confirm_project(project_no, project_name, period, report, credentials_block))
    if invoice:
        report.invoice = await _invoice(run, report, tax_base_code, credentials_block)
    counts = report.counts()
    logger.info("payroll %s: %s", run.label, ", ".join(f"{k.value.lower()} {v}" for k, v in sorted(counts.items())))
    await publish_report(report)
    return report


Onboard = Callable[[list[PlannedOrder]], Awaitable[dict[str, OnboardingResult]]]


@dataclass(slots=True)
class Decided:
    """What a run pays, once decided and the balance checked (steps 1–4). What it read to decide — the
    file's rows, a pre-calculation and a guard's decision per payee — dies with :func:`_decide`."""

    lines: dict[str, PayeeLine]  # the report's line of each order key, masked
    to_pay: list[PlannedOrder]
    earlier: dict[str, PlatformOrder]  # this payroll's lines the platform already holds an order for
    available: Decimal  # the account's balance now

    def take_orders(self) -> list[PlannedOrder]:
        """The orders to pay, handed over once (to submission): each holds its payee's full details, a third
        of a 100,000-payee run's memory, which nothing needs once its batch is sent."""
        orders, self.to_pay = self.to_pay, []
        return orders


async def _decide(
    run: RunKey,
    priced: Priced,
    report: PayrollReport,
    journal: Journal,
    onboard: Onboard | None,
    *,
    dry_run: bool,
    credentials_block: str | None,
) -> Decided | None:
    """Steps 1–4: the payroll's orders and report lines, what the platform holds for this run, the by-person
    guard, onboarding (``onboard``; None: not asked for) and the balance. None for a dry run: the report then
    says what would happen, and nothing but reads was sent."""
    logger = get_run_logger()
    tax_base_code = run.tax_base_code
    parsed, planned = priced.parsed, priced.planned
    lines = {o.out_order_no: outcomes.line_of(o) for o in planned}
    report.lines = Lines(lines.values())  # one value to Prefect when the flow returns (not 100,000)
    for err_row, reason in parsed.reasons().items():  # one pass: a file may hold thousands of bad rows
        report.lines.append(outcomes.invalid_line(err_row, reason))
    if parsed.luhn_flags:
        report.notes.append(f"rows {parsed.luhn_flags} carry cards failing the Luhn check (flagged, not refused)")
    logger.info("payroll %s: %d lines, %d invalid rows", run.label, len(planned), len(parsed.invalid_rows))
    by_key = {o.out_order_no: o for o in planned}
    # 1. What the platform already holds for this run: SFT0501 flagged each line's key already used (and
    #    priced the rest); the journal's index lists the run's batches (SFT0503/0504) — it is never the truth.
    checks = {c.out_order_no: c for c in priced.checks}
    index = outcomes.index_batches(journal.orders(tax_base_code, runs={run.token}), run)
    used = sorted(k for k, c in checks.items() if c.key_used)
    found = await read_run_orders(index, used, credentials_block) if index or used else []

    # 2. The by-person guard: pay only what the payroll accounts for; hold anyone it does not.
    verdict = decide(planned, found)
    earlier = {o.out_order_no: o for o in found if o.out_order_no in lines}
    for key, order in earlier.items():
        outcomes.apply_state(lines[key], order, earlier=True)
    for decision in verdict.held:  # lines with an order keep its state; the others are held
        unpaid = [line.out_order_no for line in decision.lines if line.out_order_no not in earlier]
        for key in unpaid:
            outcomes.hold(lines[key], decision, run)
        if not unpaid:
            report.lines.append(outcomes.held_line(decision, run))
    if verdict.absent:
        report.notes.append(
            f"{len(verdict.absent)} person(s) already paid in this run have no line in this payroll "
            f"({fmt_yuan(sum((d.paid + d.in_flight for d in verdict.absent), Decimal(0)))}); nothing paid to them"
        )
    if verdict.held:
        logger.warning("payroll %s: %d person(s) HELD, paid nothing more", run.label, len(verdict.held))
    if verdict.unattributed:
        report.notes.append(
            f"{len(verdict.unattributed)} order(s) in this run's batches carry keys not made by this version; "
            "not counted by the guard"
        )
    candidates = sorted(verdict.to_pay)
    for key in candidates:
        if checks[key].key_used:  # used, yet neither in the run's batches nor found by its key
            lines[key].outcome, lines[key].reason = Outcome.REFUSED, outcomes.USED_WITHOUT_ORDER

    # 3. Onboarding: who the platform does not know yet (a dry run only says who).
    missing = [k for k in candidates if not checks[k].passed and checks[k].code in ONBOARDING_CODES]
    if missing and onboard is not None and not dry_run:
        checks |= await _onboard_and_recheck([by_key[k] for k in missing], onboard, tax_base_code, credentials_block)
    if dry_run and missing:
        people = {by_key[k].person: lines[k] for k in missing}
        report.notes.append(
            f"would onboard first: {len(people)} person(s): "
            + ", ".join(f"{x.name} ({x.id_card_no})" for x in people.values())
        )
    to_pay = [by_key[k] for k in candidates if not checks[k].key_used and outcomes.apply_check(lines[k], checks[k])]

    # 4. The balance (a dry run reports it and stops: nothing but reads was sent).
    need = sum((o.amount + checks[o.out_order_no].service_amount for o in to_pay), Decimal("0.00"))
    available = await available_balance(tax_base_code, credentials_block) if to_pay or dry_run else need
    if dry_run:
        for key in missing:
            if lines[key].outcome == Outcome.REFUSED and onboard is not None:
                lines[key].outcome = Outcome.PENDING
                lines[key].reason = f"would be onboarded first ({lines[key].reason})"
        would = to_pay + [by_key[k] for k in missing if onboard is not None]
        # The people onboarded first are paid by the same run: the balance must cover them too (their fee as
        # SFT0501 quoted it now, which the platform prices again once they are onboarded).
        need = sum((o.amount + checks[o.out_order_no].service_amount for o in would), Decimal("0.00"))
        report.notes.append(
            f"dry run: {len(would)} line(s) would be paid {fmt_yuan(sum((o.amount for o in would), Decimal(0)))}; "
            f"balance needed {fmt_yuan(need)} (payouts + service fee), available "
            f"{fmt_yuan(available)}{' — NOT ENOUGH' if available < need else ''}; "
            f"{len(verdict.held)} person(s) would be HELD; nothing was sent but reads"
        )
        return None
    if available < need:
        raise PayrollRefusedError(
            f"the account with {tax_base_code} holds {fmt_yuan(available)}; this payroll needs {fmt_yuan(need)} "
            f"(payouts + service fee) — fund it (fund_account) and run again; nothing was paid"
        )
    logger.info("payroll %s: %d line(s) to pay, %s with fees", run.label, len(to_pay), fmt_yuan(need))
    return Decided(lines, to_pay, earlier, available)


def _onboarder(run: RunKey, tax_base_code: str, credentials_block: str | None) -> Onboard:
    async def onboard(orders: list[PlannedOrder]) -> dict[str, OnboardingResult]:
        """Onboard the payees of these orders (verify, bind this card, contract); order key → result."""
        from flows.onboard_freelancers import onboard_freelancers

        people: dict[str, Freelancer] = {}
        for o in orders:
            p = o.payee
            people.setdefault(
                p.id_card_no,
                Freelancer(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no),
            )
        people_ref = store_people(list(people.values()), source=f"payroll-run {run.token}")
        # precheck off: these are people the platform has just refused for want of onboarding
        onboarding = await onboard_freelancers(
            people_ref, tax_base_code, credentials_block=credentials_block, publish=False, precheck=False
        )
        get_run_logger().info("onboarded %d of %d payees", len(people) - len(onboarding.refused), len(people))
        outcome = dict(zip(people, onboarding.results, strict=True))  # results keep the order given
        return {o.out_order_no: outcome[o.payee.id_card_no] for o in orders}

    return onboard


async def _onboard_and_recheck(
    orders: list[PlannedOrder], onboard: Onboard, tax_base_code: str, credentials_block: str | None
) -> dict[str, Check]:
    onboarded = await onboard(orders)
    checks = {}
    for check in await precalculate(quote(orders), tax_base_code, credentials_block):
        result = onboarded[check.out_order_no]
        checks[check.out_order_no] = outcomes.after_onboarding(check, result.code, result.reason)
    return checks


async def _submit(
    run: RunKey,
    orders: list[PlannedOrder],
    lines: dict[str, PayeeLine],
    project_no: str | None,
    max_batch: int,
    credentials_block: str | None,
    journal: Journal,
    onboard: Onboard | None,
    sent: set[str],
    taken: list[str],
) -> list[str]:
    """Submit every batch once; a refused batch's other orders go again in a new batch of their own.

    Each batch is put in the journal before it is sent (the next run's guard finds it even if this process
    dies right after the platform took it). Orders refused for want of onboarding (e.g. a new card not bound
    yet) are onboarded once and go again; orders refused for anything else are reported with the platform's
    reason. An order whose key another batch already holds (409: a concurrent run's) is added to ``taken``.
    """
    queue = plan_batches(run, orders, max_batch)
    accepted: list[str] = []
    cured: set[str] = set()
    gate = asyncio.Semaphore(CALLS_IN_FLIGHT)  # SFT0502s in flight, as every other 1,000-order call

    async def submit(batch: PlannedBatch) -> Submission:
        return await submit_batch(
            batch.out_batch_no,
            quote(list(batch.orders)),  # quote: Prefect need not walk 1,000 rows
            run.tax_base_code,
            run.period,
            project_no,
            credentials_block,
        )

    async def send(batch: PlannedBatch) -> tuple[PlannedBatch, Submission]:
        async with gate:  # journalled just before it is sent, not all batches up front while none is sent
            return batch, await send_journalled(run, batch, lines, journal, sent, submit)

    async def cure(curable: list[PlannedOrder]) -> dict[str, str]:
        """Payees a batch was refused for whom onboarding is the cure (a card not bound yet: SFT0501 does
        not look at cards); key → "" when now ready, else why not."""
        if onboard is None:
            return dict.fromkeys((o.out_order_no for o in curable), "onboarding not asked for (onboard_missing is off)")
        return {
            k: "" if r.state == OnboardingState.READY else f"onboarding refused: {r.reason or r.state}"
            for k, r in (await onboard(curable)).items()
        }

    for _ in range(MAX_RESUBMIT_ROUNDS):
        if not queue:
            break
        again: list[PlannedOrder] = []
        curable: list[str] = []
        taken_so_far = len(taken)
        for batch, result in await asyncio.gather(*(send(b) for b in queue)):
            if result.accepted:
                accepted.append(batch.out_batch_no)
                continue
            for key, check in result.refused.items():
                if key not in lines:
                    continue
                if check.key_used:
                    taken.append(key)
                    continue
                lines[key].outcome, lines[key].reason = Outcome.REFUSED, outcomes.refusal(check)
                if check.code in ONBOARDING_CODES and key not in cured:
                    curable.append(key)
            again += [o for o in batch.orders if o.out_order_no not in result.refused]
        if curable:
            cured.update(curable)
            by_order = {o.out_order_no: o for o in orders}  # only when some are cured: rare, and 100,000 entries
            for key, why in (await cure([by_order[k] for k in curable])).items():
                if why:
                    lines[key].reason += f"; {why}"
                else:
                    lines[key].outcome, lines[key].reason = Outcome.PENDING, ""
                    again.append(by_order[key])
        if len(taken) > taken_so_far:  # another run holds keys: find all of them before sending the rest
            again, used = await without_taken(again, run.tax_base_code, credentials_block)
            taken += used
        queue = plan_batches(run, again, max_batch)
    outcomes.not_submitted([lines[o.out_order_no] for batch in queue for o in batch.orders], MAX_RESUBMIT_ROUNDS)
    return accepted


async def _invoice(run: RunKey, report: PayrollReport, tax_base_code: str, credentials_block: str | None) -> str:
    if not report.complete:
        return "not applied: the payroll is not complete yet"
    batch_nos = sorted({line.batch_no for line in report.lines if line.outcome == Outcome.PAID and line.batch_no})
    if not batch_nos:
        return "not applied: nothing was paid"
    result = await apply_invoice(run.invoice_apply_no(batch_nos), tax_base_code, batch_nos, credentials_block)
    return f"{result.apply_no or result.out_apply_no} {result.status} {fmt_yuan(result.amount)}"


async def _confirm_project(
    project_no: str, project_name: str | None, period: str, report: PayrollReport, credentials_block: str | None
) -> str:
    batches = sorted({line.out_batch_no for line in report.lines if line.outcome == Outcome.PAID and line.out_batch_no})
    if not batches:
        return f"project {project_no}: no batch paid anyone, no confirmation sheet filed"
    content = f"{project_name or project_no}：{period} 的工作已完成并验收（{report.counts().get(Outcome.PAID, 0)} 人）"
    sheets = await file_confirmations(project_no, batches, content, credentials_block=credentials_block)
    filed = [c.confirm_no for c in sheets if c.confirm_no and not c.earlier]
    before = [c.confirm_no for c in sheets if c.earlier]
    other = [f"{c.out_batch_no} ({c.reason})" for c in sheets if c.reason]
    return (
        f"project {project_no}: confirmation sheets filed {', '.join(filed) or 'none'}"
        + (f"; filed before {', '.join(before)}" if before else "")
        + (f"; not filed: {'; '.join(other)}" if other else "")
    )


@flow(name="payroll-run", description="Pay a payroll file or an uploaded payroll, each person no more than it says.")
async def payroll_run_deployed(
    period: str,
    payroll_file: str | None = None,
    payroll_ref: str | None = None,
    reading: SheetReading | None = None,
    tax_base_code: str = DEFAULT_TAX_BASE_CODE,
    project_no: str | None = None,
    project_name: str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    invoice: bool = False,
    additional_ref: str | None = None,
    batch_ref: str | None = None,
    onboard_missing: bool = True,
    wait_timeout_seconds: float = 900.0,
    max_batch: int = MAX_BATCH,
    credentials_block: CredentialsParameter = None,
) -> PayrollReport:
    """``payroll_run`` as the payroll-run deployment offers it: from a file or a stored payroll, never typed-in
    people — the Prefect server keeps a run's parameters as it received them, and overwriting them later
    leaves copies in its database files (docs/operations.md, "Personal data").

    Args:
        period: The month paid for, yyyy-MM (e.g. 2026-11). Part of the run's identity.
        payroll_file: A .csv (UTF-8 or GB18030) or .xlsx file the worker can read: a path on shared storage, or
            an fsspec URL such as s3://bucket/payroll.xlsx where that filesystem is installed.
        payroll_ref: Or a payroll stored in the payee store (PR…): the upload page stores one and starts this.
        reading: How to read payroll_file when the defaults refuse it: which sheet (a workbook with two
            payroll sheets), which amount column (应发 and 实发), the per-line ceiling, hidden rows.
        tax_base_code: The service provider (服务商) paying through, e.g. 2000064001.
        project_no: The project (SFT0703) the work was for, if any. Sent with the batches; no part of any key.
        project_name: Or the project by name: created once (SFT0703) and reused by every run naming it; each
            batch it paid gets its confirmation sheet (SFT0705), once. No part of any key: naming it pays nobody again.
        dry_run: Read only: who would be paid, onboarded, held, and the balance needed; pay nothing.
        skip_invalid: Pay the valid lines of a payroll with invalid ones (reported) instead of refusing it.
        invoice: Apply for the invoice (SFT0605) once every order is final.
        additional_ref: An additional payment on purpose (a bonus, 补发): a run of its own, paid on top of
            the period's regular payroll. Empty: the period's regular payroll.
        batch_ref: A label for the run, shown in the report. It pays nobody again: use additional_ref for that.
        onboard_missing: Verify, bind and sign up payees the platform does not know yet.
        wait_timeout_seconds: How long to wait for the platform to finish paying; a re-run picks up the rest.
        max_batch: Orders per settlement batch (the platform takes at most 1,000).
        credentials_block: A saved LingongCredentials Block (the form offers a picker; a Block's name also
            works); empty: the worker's LINGONG_* variables.
    """
    given = dict(locals())
    given["credentials_block"] = credentials_name(credentials_block)  # tasks take the Block's name
    result: PayrollReport = await payroll_run.fn(**given)
    return result


if __name__ == "__main__":  # pragma: no cover - a thin command-line entry
    if len(sys.argv) != 3:
        sys.exit("usage: python -m flows.payroll_run FILE PERIOD(yyyy-MM)")
    print(asyncio.run(payroll_run(sys.argv[2], payroll_file=sys.argv[1])).markdown())
