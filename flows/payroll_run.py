"""Pay a payroll: validate every row, onboard who is missing, pre-calculate fees, check the balance,
submit batches, wait for every order to become final, report, and apply for the invoice if asked.

Nobody is paid twice: every order's ``outOrderNo`` and every batch's ``outBatchNo`` derive from the
payroll's period, provider, project, people and the operator's ``batch_ref`` (lingong_payroll.keys),
so a task retry, a re-run, or a run on another machine reaches the same keys — and the platform
refuses a key twice. Orders an earlier run already created are found (SFT0501 flags them, SFT0505
reads them) and reported, never submitted again.

``python -m flows.payroll_run FILE PERIOD`` runs it on a payroll file; ``lingong payroll run`` is the
full command line.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from decimal import Decimal

from prefect import flow, get_run_logger
from prefect.artifacts import acreate_markdown_artifact
from prefect.utilities.annotations import quote

from flows import DEFAULT_TAX_BASE_CODE
from lingong_core.masking import mask_card, mask_id, mask_name
from lingong_core.money import fmt_yuan
from lingong_payroll.files import ParsedPayroll, validate_rows
from lingong_payroll.journal import Journal, JournalOrder
from lingong_payroll.keys import RunKey, check_batch_ref, check_period
from lingong_payroll.payees import PayeeRow
from lingong_payroll.plan import MAX_BATCH, PlannedBatch, PlannedOrder, plan_batches, plan_orders
from lingong_payroll.report import Outcome, PayeeLine, PayrollReport
from tasks.artifacts import publish_report
from tasks.credentials import load_settings
from tasks.invoicing import apply_invoice
from tasks.onboarding import Freelancer, OnboardingResult, OnboardingState, store_people
from tasks.payees import hide_typed_payees, read_payroll_location, stored_payroll
from tasks.settlement import (
    ONBOARDING_CODES,
    OrderIn,
    OrderState,
    Submission,
    available_balance,
    collect_orders,
    lookup_orders,
    precalculate,
    submit_batch,
    wait_batches,
)

MAX_RESUBMIT_ROUNDS = 5
_OUTCOME = {"SUCCESS": Outcome.PAID, "FAILED": Outcome.FAILED, "BOUNCED": Outcome.BOUNCED}
_UNEXPLAINED = {
    Outcome.BOUNCED: "paid, then returned by the bank (退票); the amount and fee were refunded — "
    "pay again once the payee's card is fixed",
    Outcome.FAILED: "the platform reports the payout failed without a reason; the amount and fee were refunded",
}


class PayrollRefusedError(ValueError):
    """The payroll itself cannot be paid as given (invalid rows, short balance). Nothing was paid."""


def _load(payees: Sequence[PayeeRow] | None, payroll_file: str | None, payroll_ref: str | None) -> ParsedPayroll:
    """The payroll from exactly one of: typed rows, a file the worker can read, a payee-store reference."""
    if sum(map(bool, (payees, payroll_file, payroll_ref))) != 1:
        raise PayrollRefusedError("give one of payees, payroll_file or payroll_ref (exactly one)")
    if payroll_file:
        return read_payroll_location(payroll_file)
    if payroll_ref:
        return validate_rows((r.row, r.fields()) for r in stored_payroll(payroll_ref))
    return validate_rows((i, row.model_dump()) for i, row in enumerate(payees or [], start=1))


def _line(order: PlannedOrder) -> PayeeLine:
    p = order.payee
    return PayeeLine(
        row=order.row,
        name=mask_name(p.name),
        id_card_no=mask_id(p.id_card_no),
        bank_card_no=mask_card(p.bank_card_no),
        amount=p.amount,
        out_order_no=order.out_order_no,
    )


def _order_in(order: PlannedOrder) -> OrderIn:
    p = order.payee
    return OrderIn(
        out_order_no=order.out_order_no,
        name=p.name,
        id_card_no=p.id_card_no,
        mobile=p.mobile,
        bank_card_no=p.bank_card_no,
        amount=p.amount,
        remark=p.remark,
    )


def _apply_state(line: PayeeLine, state: OrderState, *, earlier: bool) -> None:
    """What the platform says of an order, onto the payee's line."""
    line.order_no, line.out_batch_no, line.batch_no = state.order_no, state.out_batch_no, state.batch_no
    line.service_amount = state.service_amount
    if state.amount != line.amount:
        line.outcome = Outcome.CONFLICT
        line.reason = (
            f"this period's order {state.out_order_no} already exists for {fmt_yuan(state.amount)} "
            f"({state.status}); not paid again — use a new batch_ref to pay on purpose"
        )
        return
    line.outcome = _OUTCOME.get(state.status, Outcome.PENDING)
    reasons = []
    if earlier:
        reasons.append("submitted by an earlier run")
    if state.fail_msg and line.outcome != Outcome.PAID:
        reasons.append(state.fail_msg)
    elif line.outcome in _UNEXPLAINED:  # the platform gave no reason: a payee not paid is never left without one
        reasons.append(_UNEXPLAINED[line.outcome])
    line.reason = "; ".join(reasons)


@flow(name="payroll-run", description="Pay a payroll through the platform, each payee exactly once.")
async def payroll_run(
    period: str,
    payees: list[PayeeRow] | None = None,
    payroll_file: str | None = None,
    payroll_ref: str | None = None,
    tax_base_code: str = DEFAULT_TAX_BASE_CODE,
    project_no: str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    invoice: bool = False,
    batch_ref: str | None = None,
    onboard_missing: bool = True,
    wait_timeout_seconds: float = 900.0,
    max_batch: int = MAX_BATCH,
    credentials_block: str | None = None,
) -> PayrollReport:
    """Pay ``payees`` (or the rows of ``payroll_file``) for ``period`` through ``tax_base_code``.

    Args:
        period: The month paid for, yyyy-MM (e.g. 2026-11). Part of every payee's business key.
        payees: The payroll's lines: name, ID number, mobile, debit card and amount (as text, e.g. "1234.50").
        payroll_file: Instead of payees: a .csv (UTF-8 or GB18030) or .xlsx file the worker can read (a path on
            shared storage, or an fsspec URL such as s3://… where that filesystem is installed).
        payroll_ref: Instead of payees: a payroll stored in the payee store (PR…), as the upload page stores it.
        tax_base_code: The service provider (服务商) paying through, e.g. 2000064001.
        project_no: The project (SFT0703) the work was for, if any.
        dry_run: Validate and pre-calculate fees only; pay nothing.
        skip_invalid: Pay the valid lines of a payroll with invalid ones (reported) instead of refusing it.
        invoice: Apply for the invoice (SFT0605) once every order is final.
        batch_ref: Names the run. The same payroll with a new batch_ref pays everyone again, on purpose.
        onboard_missing: Verify, bind and sign up payees the platform does not know yet.
        wait_timeout_seconds: How long to wait for the platform to finish paying; a re-run picks up the rest.
        max_batch: Orders per settlement batch (the platform takes at most 1,000).
        credentials_block: A saved LingongCredentials block; empty: the worker's LINGONG_* variables.
    """
    logger = get_run_logger()
    # Typed rows go into the payee store first, and this run's stored parameters become masked.
    payees, payroll_ref = await hide_typed_payees(payees, payroll_file, payroll_ref)
    period, batch_ref = check_period(period), check_batch_ref(batch_ref)
    parsed = _load(payees, payroll_file, payroll_ref)
    if parsed.errors and not skip_invalid:
        report_text = parsed.report()
        await acreate_markdown_artifact("# Payroll refused\n\n```\n" + report_text + "\n```", key="payroll-refused")
        raise PayrollRefusedError(f"{len(parsed.invalid_rows)} invalid row(s); nothing was paid:\n{report_text}")
    merchant_no = load_settings(credentials_block).merchant_no
    run = RunKey(merchant_no, tax_base_code, period, project_no or "", batch_ref)
    planned = plan_orders(run, parsed.payees, parsed.rows)
    report = PayrollReport(
        run=run.token, period=period, tax_base_code=tax_base_code, project_no=project_no or "", dry_run=dry_run
    )
    lines = {o.out_order_no: _line(o) for o in planned}
    report.lines = sorted(lines.values(), key=lambda x: x.row)
    for err_row in parsed.invalid_rows:
        reason = "; ".join(f"{e.column}: {e.reason}" for e in parsed.errors if e.row == err_row)
        report.lines.append(
            PayeeLine(
                row=err_row,
                name="",
                id_card_no="",
                bank_card_no="",
                amount=Decimal("0.00"),
                outcome=Outcome.INVALID,
                reason=reason,
            )
        )
    report.lines.sort(key=lambda x: x.row)
    if parsed.luhn_flags:
        report.notes.append(f"rows {parsed.luhn_flags} carry cards failing the Luhn check (flagged, not refused)")
    logger.info(
        "payroll %s %s: %d payees, %d invalid rows", period, tax_base_code, len(planned), len(parsed.invalid_rows)
    )

    by_key = {o.out_order_no: o for o in planned}
    inputs = {k: _order_in(o) for k, o in by_key.items()}
    checks = {
        c.out_order_no: c for c in await precalculate(quote(list(inputs.values())), tax_base_code, credentials_block)
    }

    async def onboard(keys: list[str]) -> dict[str, OnboardingResult]:
        """Onboard the payees of these orders (verify, bind this card, contract); order key → result."""
        from flows.onboard_freelancers import onboard_freelancers

        people: dict[str, Freelancer] = {}
        for k in keys:
            p = by_key[k].payee
            people.setdefault(
                p.id_card_no,
                Freelancer(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no),
            )
        people_ref = store_people(list(people.values()), source=f"payroll-run {run.token}")
        onboarding = await onboard_freelancers(
            people_ref, tax_base_code, credentials_block=credentials_block, publish=False
        )
        logger.info("onboarded %d of %d payees", len(people) - len(onboarding.refused), len(people))
        outcome = dict(zip(people, onboarding.results, strict=True))  # results keep the order given
        return {k: outcome[by_key[k].payee.id_card_no] for k in keys}

    missing = [k for k, c in checks.items() if not c.passed and c.code in ONBOARDING_CODES]
    if missing and onboard_missing and not dry_run:
        onboarded = await onboard(missing)
        rechecked = await precalculate(quote([inputs[k] for k in missing]), tax_base_code, credentials_block)
        for check in rechecked:
            result = onboarded[check.out_order_no]
            if not check.passed and result.reason:  # onboarding's refusal says more than "not verified"
                check = check.model_copy(
                    update={"code": result.code or check.code, "reason": f"onboarding refused: {result.reason}"}
                )
            checks[check.out_order_no] = check

    async def cure(keys: list[str]) -> dict[str, str]:
        """Payees a batch was refused for whom onboarding is the cure (a card not bound yet: SFT0501 does
        not look at cards); key → "" when now ready, else why not."""
        if not onboard_missing:
            return dict.fromkeys(keys, "onboarding not asked for (onboard_missing is off)")
        return {
            k: "" if r.state == OnboardingState.READY else f"onboarding refused: {r.reason or r.state}"
            for k, r in (await onboard(keys)).items()
        }

    earlier = [k for k, c in checks.items() if not c.passed and c.code == 409]
    to_pay: list[PlannedOrder] = []
    for key, check in checks.items():
        line = lines[key]
        line.service_amount = check.service_amount
        if check.passed:
            to_pay.append(by_key[key])
        elif check.code != 409:
            line.outcome, line.reason = Outcome.REFUSED, f"[{check.code}] {check.reason}"

    if dry_run:
        report.notes.append(
            f"dry run: {len(to_pay)} payees would be paid "
            f"{fmt_yuan(sum((o.amount for o in to_pay), Decimal('0')))} plus "
            f"{fmt_yuan(sum((checks[o.out_order_no].service_amount for o in to_pay), Decimal('0')))}"
            " service fee; nothing was sent"
        )
        await publish_report(report)
        return report

    need = sum((o.amount + checks[o.out_order_no].service_amount for o in to_pay), Decimal("0.00"))
    if to_pay:
        available = await available_balance(tax_base_code, credentials_block)
        if available < need:
            raise PayrollRefusedError(
                f"the account with {tax_base_code} holds {fmt_yuan(available)}; this payroll needs {fmt_yuan(need)} "
                f"(payouts + service fee) — fund it (fund_account) and run again; nothing was paid"
            )

    journal = Journal()
    taken: list[str] = []  # keys another run's batch took between our pre-calculation and our SFT0502
    submitted = await _submit(
        run,
        to_pay,
        inputs,
        lines,
        period,
        project_no,
        tax_base_code,
        max_batch,
        credentials_block,
        journal,
        cure,
        taken=taken,
    )
    earlier += taken  # followed like the orders an earlier run created, never left pending
    earlier_states = await lookup_orders(quote(earlier), credentials_block=credentials_block) if earlier else []
    for state in earlier_states:
        _apply_state(lines[state.out_order_no], state, earlier=True)
    for key in set(earlier) - {s.out_order_no for s in earlier_states}:
        lines[key].outcome, lines[key].reason = Outcome.REFUSED, "the platform reports the key used but has no order"

    wait_for = sorted(set(submitted) | {s.out_batch_no for s in earlier_states})
    if wait_for:
        statuses = await wait_batches(wait_for, wait_timeout_seconds, credentials_block)
        unfinished = sorted(b for b, s in statuses.items() if s != "COMPLETED")
        if unfinished:
            report.notes.append(
                f"still processing when the run stopped waiting: {', '.join(unfinished)}; "
                "run again with the same inputs to pick up the results (nothing is paid twice)"
            )
        earlier_keys = set(earlier)
        for state in await collect_orders(wait_for, credentials_block):
            if state.out_order_no in lines:
                _apply_state(lines[state.out_order_no], state, earlier=state.out_order_no in earlier_keys)
        report.batches = sorted({line.batch_no for line in lines.values() if line.batch_no})
    journal.record(_journal_rows(run, period, tax_base_code, lines.values()))
    journal.close()

    if invoice:
        report.invoice = await _invoice(run, report, tax_base_code, credentials_block)
    counts = report.counts()
    logger.info("payroll %s: %s", period, ", ".join(f"{k.value.lower()} {v}" for k, v in sorted(counts.items())))
    await publish_report(report)
    return report


async def _submit(
    run: RunKey,
    orders: list[PlannedOrder],
    inputs: dict[str, OrderIn],
    lines: dict[str, PayeeLine],
    period: str,
    project_no: str | None,
    tax_base_code: str,
    max_batch: int,
    credentials_block: str | None,
    journal: Journal,
    cure: Callable[[list[str]], Awaitable[dict[str, str]]],
    taken: list[str] | None = None,
) -> list[str]:
    """Submit every batch once; a refused batch's other orders go again in a new batch of their own.

    Orders refused for want of onboarding (e.g. a new card not bound yet) are onboarded once (``cure``)
    and go again with them; orders refused for anything else are reported with the platform's reason.
    An order whose key another batch already holds (409: a concurrent run's) is added to ``taken``.
    """
    queue = plan_batches(run, orders, max_batch)
    accepted: list[str] = []
    cured: set[str] = set()
    by_order = {o.out_order_no: o for o in orders}
    gate = asyncio.Semaphore(4)

    async def send(batch: PlannedBatch) -> tuple[PlannedBatch, Submission]:
        async with gate:
            return batch, await submit_batch(
                batch.out_batch_no,
                quote([inputs[o.out_order_no] for o in batch.orders]),  # quote: Prefect need not walk 1,000 rows
                tax_base_code,
                period,
                project_no,
                credentials_block,
            )

    for _ in range(MAX_RESUBMIT_ROUNDS):
        if not queue:
            break
        again: list[PlannedOrder] = []
        curable: list[str] = []
        for batch, result in await asyncio.gather(*(send(b) for b in queue)):
            if result.accepted:
                accepted.append(batch.out_batch_no)
                journal.record(
                    JournalOrder(
                        o.out_order_no,
                        run.token,
                        period,
                        tax_base_code,
                        batch.out_batch_no,
                        result.batch_no,
                        "",
                        o.amount,
                        lines[o.out_order_no].service_amount,
                        "SUBMITTED",
                    )
                    for o in batch.orders
                )
                for o in batch.orders:
                    lines[o.out_order_no].out_batch_no = batch.out_batch_no
                continue
            refused = result.refused
            for key, check in refused.items():
                if key in lines and check.code == 409 and taken is not None:
                    taken.append(key)
                if key not in lines or check.code == 409:
                    continue
                lines[key].outcome, lines[key].reason = Outcome.REFUSED, f"[{check.code}] {check.reason}"
                if check.code in ONBOARDING_CODES and key not in cured:
                    curable.append(key)
            again += [o for o in batch.orders if o.out_order_no not in refused]
        if curable:
            cured.update(curable)
            for key, why in (await cure(curable)).items():
                if why:
                    lines[key].reason += f"; {why}"
                else:
                    lines[key].outcome, lines[key].reason = Outcome.PENDING, ""
                    again.append(by_order[key])
        queue = plan_batches(run, again, max_batch)
    return accepted


def _journal_rows(run: RunKey, period: str, tax_base_code: str, lines: Iterable[PayeeLine]) -> list[JournalOrder]:
    return [
        JournalOrder(
            line.out_order_no,
            run.token,
            period,
            tax_base_code,
            line.out_batch_no,
            line.batch_no,
            line.order_no,
            line.amount,
            line.service_amount,
            line.outcome.value,
        )
        for line in lines
        if line.out_order_no and line.outcome != Outcome.REFUSED
    ]


async def _invoice(run: RunKey, report: PayrollReport, tax_base_code: str, credentials_block: str | None) -> str:
    if not report.complete:
        return "not applied: the payroll is not complete yet"
    batch_nos = sorted({line.batch_no for line in report.lines if line.outcome == Outcome.PAID and line.batch_no})
    if not batch_nos:
        return "not applied: nothing was paid"
    result = await apply_invoice(run.invoice_apply_no(batch_nos), tax_base_code, batch_nos, credentials_block)
    return f"{result.apply_no or result.out_apply_no} {result.status} {fmt_yuan(result.amount)}"


@flow(name="payroll-run", description="Pay a payroll file or an uploaded payroll, each payee exactly once.")
async def payroll_run_deployed(
    period: str,
    payroll_file: str | None = None,
    payroll_ref: str | None = None,
    tax_base_code: str = DEFAULT_TAX_BASE_CODE,
    project_no: str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    invoice: bool = False,
    batch_ref: str | None = None,
    onboard_missing: bool = True,
    wait_timeout_seconds: float = 900.0,
    max_batch: int = MAX_BATCH,
    credentials_block: str | None = None,
) -> PayrollReport:
    """``payroll_run`` as the payroll-run deployment offers it: from a file or a stored payroll, never typed-in
    people — the Prefect server keeps a run's parameters as it received them, and overwriting them later
    leaves copies in its database files (docs/operations.md, "Personal data").

    Args:
        period: The month paid for, yyyy-MM (e.g. 2026-11). Part of every payee's business key.
        payroll_file: A .csv (UTF-8 or GB18030) or .xlsx file the worker can read: a path on shared storage, or
            an fsspec URL such as s3://bucket/payroll.xlsx where that filesystem is installed.
        payroll_ref: Or a payroll stored in the payee store (PR…): the upload page stores one and starts this.
        tax_base_code: The service provider (服务商) paying through, e.g. 2000064001.
        project_no: The project (SFT0703) the work was for, if any.
        dry_run: Validate and pre-calculate fees only; pay nothing.
        skip_invalid: Pay the valid lines of a payroll with invalid ones (reported) instead of refusing it.
        invoice: Apply for the invoice (SFT0605) once every order is final.
        batch_ref: Names the run. The same payroll with a new batch_ref pays everyone again, on purpose.
        onboard_missing: Verify, bind and sign up payees the platform does not know yet.
        wait_timeout_seconds: How long to wait for the platform to finish paying; a re-run picks up the rest.
        max_batch: Orders per settlement batch (the platform takes at most 1,000).
        credentials_block: A saved LingongCredentials block; empty: the worker's LINGONG_* variables.
    """
    given = dict(locals())
    result: PayrollReport = await payroll_run.fn(**given)
    return result


if __name__ == "__main__":  # pragma: no cover - a thin command-line entry
    if len(sys.argv) != 3:
        sys.exit("usage: python -m flows.payroll_run FILE PERIOD(yyyy-MM)")
    print(asyncio.run(payroll_run(sys.argv[2], payroll_file=sys.argv[1])).markdown())
