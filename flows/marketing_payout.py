"""Pay a marketing campaign's participants (营销金结算): create or reuse the campaign (SFT1101), read what the
platform already holds for this campaign and period, hold anyone whose paid money the list no longer accounts
for, onboard who is missing, check the balance, ask for approval, pay in batches through the marketing form
of SFT0502, follow them through SFT0503/SFT0504, report.

Nobody is paid twice, as in ``payroll_run``: the run's identity is (merchant, provider, period, additional
reference, the campaign's ``campaignNo``) and every order's ``outOrderNo`` (``MO…``) derives from it, the
person, the amount and the line's occurrence (lingong_payroll.keys); the by-person guard
(lingong_payroll.guard) pays nobody more than the list accounts for; the run journal indexes the batches
(written before each SFT0502, closed whatever happens). The participants come as a payee-store reference
(``PR…``; ``lingong marketing run`` stores a file's) or a file the worker reads, never typed into the run's parameters.

The campaign is keyed by the merchant, provider and its name (lingong_payroll.marketing), so naming it again
reuses it: SFT1101 answers 409 with its ``campaignNo``. SFT0510 (a payout made outside the platform, reported)
is not used: this flow pays through the platform.

``lingong marketing run FILE --campaign NAME --period yyyy-MM`` is the command line.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from prefect import flow, get_run_logger
from prefect.artifacts import acreate_markdown_artifact
from prefect.utilities.annotations import quote

from flows import DEFAULT_TAX_BASE_CODE
from lingong_core.money import fmt_yuan
from lingong_core.timeutil import now
from lingong_payroll import outcomes, pacing
from lingong_payroll.files import ParsedPayroll, SheetReading, validate_rows
from lingong_payroll.guard import decide
from lingong_payroll.journal import Journal
from lingong_payroll.keys import RunKey, check_period, check_ref
from lingong_payroll.marketing import (
    CampaignRef,
    MarketingRefusedError,
    MarketingReport,
    campaign_key,
    check_budget,
    check_campaign_name,
    check_dates,
)
from lingong_payroll.orders import Check, PlannedOrder
from lingong_payroll.plan import MAX_BATCH, PlannedBatch, plan_batches, plan_orders
from lingong_payroll.report import Lines, Outcome, PayeeLine
from tasks.approval import payroll_summary, require_approval
from tasks.credentials import CredentialsParameter, credentials_name, load_settings
from tasks.marketing import (
    collect_campaign_orders,
    ensure_campaign,
    publish_marketing_report,
    read_campaign_orders,
    submit_campaign_batch,
    wait_campaign_batches,
)
from tasks.onboarding import Freelancer, store_people
from tasks.payees import read_payroll_location, stored_payroll
from tasks.settlement import (
    ONBOARDING_CODES,
    Submission,
    available_balance,
    lookup_orders,
    precalculate,
    send_journalled,
    without_taken,
)

MAX_RESUBMIT_ROUNDS = 5
ONBOARD_FIRST = "onboard them with this card (the onboard-freelancers deployment), then run again"


async def _load(
    participants_ref: str | None, participants_file: str | None, skip_invalid: bool, reading: SheetReading | None
) -> ParsedPayroll:
    if bool(participants_ref) == bool(participants_file):
        raise MarketingRefusedError("give one of participants_ref or participants_file (exactly one)")
    if participants_file:
        parsed = read_payroll_location(participants_file, reading.options() if reading else None)
    else:
        parsed = validate_rows((r.row, r.fields()) for r in stored_payroll(participants_ref or ""))
    if parsed.errors and not skip_invalid:
        text = parsed.report()
        await acreate_markdown_artifact("# Marketing payout refused\n\n```\n" + text + "\n```", key="marketing-refused")
        raise MarketingRefusedError(f"{len(parsed.invalid_rows)} invalid row(s); nothing was paid:\n{text}")
    return parsed


@flow(name="marketing-payout", description="Pay a marketing campaign's participants, each no more than the list says.")
async def marketing_payout(
    period: str,
    campaign_name: str | None = None,
    participants_ref: str | None = None,
    participants_file: str | None = None,
    reading: SheetReading | None = None,
    campaign_no: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    budget: str | None = None,
    tax_base_code: str = DEFAULT_TAX_BASE_CODE,
    additional_ref: str | None = None,
    skip_invalid: bool = False,
    onboard_missing: bool = True,
    wait_timeout_seconds: float = 900.0,
    max_batch: int = MAX_BATCH,
    credentials_block: CredentialsParameter = None,
    approved_by: str | None = None,
) -> MarketingReport:
    """Pay the participants of a campaign for ``period`` through ``tax_base_code``.

    Args:
        period: The month the rewards are for, yyyy-MM (e.g. 2026-11). Part of the run's identity.
        campaign_name: The campaign (活动名称): created once (SFT1101) and reused by every run naming it.
        participants_ref: The participants stored in the payee store (PR…): name, ID, mobile, card, amount.
        participants_file: Or a .csv/.xlsx file of them the worker can read (a path or an fsspec URL).
        reading: How to read participants_file when the defaults refuse it: which sheet, which amount
            column, the per-line ceiling, hidden rows (the command line's --sheet, --amount-column, …).
        campaign_no: Instead of campaign_name: a campaign the platform already has (its campaignNo).
        start_date: The campaign's first day, yyyy-MM-dd, when it is created (default today).
        end_date: Its last day, yyyy-MM-dd, when it is created (default today); payouts only while it runs.
        budget: Its budget in yuan (e.g. "50000.00") when it is created; empty for no cap.
        tax_base_code: The service provider (服务商) paying through, e.g. 2000064001.
        additional_ref: An additional payment on purpose, on top of what this campaign paid for the period.
        skip_invalid: Pay the valid lines of a list with invalid ones (reported) instead of refusing it.
        onboard_missing: Verify, bind and sign up participants the platform does not know yet.
        wait_timeout_seconds: How long to wait for the platform to finish paying; a re-run picks up the rest.
        max_batch: Orders per batch (the platform takes at most 1,000).
        credentials_block: A saved LingongCredentials Block, picked in the form (or its name); empty: LINGONG_*.
        approved_by: Approve in advance (command line ``--approve``): who. Ignored for a deployment's run.
    """
    logger = get_run_logger()
    credentials_block = credentials_name(credentials_block)  # tasks take the Block's name
    period, additional = check_period(period), check_ref(additional_ref)
    if bool(campaign_name) == bool(campaign_no):
        raise MarketingRefusedError("give one of campaign_name or campaign_no (exactly one)")
    name = check_campaign_name(campaign_name) if campaign_name else ""
    first, last = check_dates(start_date, end_date, now().date()) if name else (None, None)
    cap = check_budget(budget) if name else None
    parsed = await _load(participants_ref, participants_file, skip_invalid, reading)
    merchant_no = load_settings(credentials_block).merchant_no

    # 0. The campaign, created once (a re-run, or a creation whose answer was lost, gets the same one).
    if campaign_no or first is None or last is None:
        campaign = CampaignRef(campaign_no=(campaign_no or "").strip())
    else:
        key = campaign_key(merchant_no, tax_base_code, name)
        campaign = await ensure_campaign(
            key, name, tax_base_code, first, last, cap, credentials_block=credentials_block
        )
    run = RunKey(merchant_no, tax_base_code, period, additional, campaign_no=campaign.campaign_no)
    planned = plan_orders(run, parsed.payees, parsed.rows)
    report = MarketingReport(
        run=run.token,
        period=period,
        tax_base_code=tax_base_code,
        additional_ref=additional,
        campaign_no=campaign.campaign_no,
        out_campaign_no=campaign.out_campaign_no,
        campaign_name=campaign.campaign_name,
    )
    report.notes.append(
        f"campaign {campaign.campaign_no}: "
        + ("created now" if campaign.created else "created earlier, reused" if campaign_name else "given")
    )
    lines = {o.out_order_no: outcomes.line_of(o) for o in planned}
    report.lines = Lines(lines.values())  # one value to Prefect when the flow returns (lingong_payroll.report.Lines)
    for err_row, reason in parsed.reasons().items():  # one pass: a file may hold thousands of bad rows
        report.lines.append(outcomes.invalid_line(err_row, reason))
    logger.info("marketing payout %s: %d lines, %d invalid rows", run.label, len(planned), len(parsed.invalid_rows))
    by_key = {o.out_order_no: o for o in planned}

    journal = Journal()
    pace = pacing.slower_collector()  # payees held to the run's end: fewer full collections (lingong_payroll.pacing)
    try:
        # 1. What the platform already holds for this campaign and period (the journal is an index only).
        checks = {c.out_order_no: c for c in await precalculate(quote(planned), tax_base_code, credentials_block)}
        index = outcomes.index_batches(journal.orders(tax_base_code, runs={run.token}), run)
        used = sorted(k for k, c in checks.items() if c.key_used)
        found = (
            await read_campaign_orders(run.campaign_no, index, used, credentials_block=credentials_block)
            if index or used
            else []
        )

        # 2. The by-person guard: pay only what the list accounts for; hold anyone it does not.
        verdict = decide(planned, found)
        earlier, held_lines, notes = outcomes.apply_verdict(verdict, found, lines, run)
        report.lines += held_lines
        report.notes += notes
        if verdict.held:
            logger.warning("marketing payout %s: %d person(s) HELD", run.label, len(verdict.held))
        candidates = sorted(verdict.to_pay)
        for key in candidates:
            if checks[key].key_used:
                lines[key].outcome, lines[key].reason = Outcome.REFUSED, outcomes.USED_WITHOUT_ORDER
        missing = [k for k in candidates if not checks[k].passed and checks[k].code in ONBOARDING_CODES]
        if missing and onboard_missing:  # verify, bind, sign (onboard_freelancers), then ask SFT0501 again
            checks |= await _onboard([by_key[k] for k in missing], tax_base_code, credentials_block)
        to_pay = [by_key[k] for k in candidates if not checks[k].key_used and outcomes.apply_check(lines[k], checks[k])]
        if not onboard_missing:
            for key in missing:
                if lines[key].outcome == Outcome.REFUSED:
                    lines[key].reason += f" — {ONBOARD_FIRST}"

        # 3. The balance, then the four-eyes approval (tasks/approval.py), before the first SFT0502.
        need = sum((o.amount + checks[o.out_order_no].service_amount for o in to_pay), Decimal("0.00"))
        available = await available_balance(tax_base_code, credentials_block) if to_pay else need
        if available < need:
            raise MarketingRefusedError(
                f"the account with {tax_base_code} holds {fmt_yuan(available)}; this payout needs {fmt_yuan(need)} "
                "(payouts + service fee) — fund it (fund_account) and run again; nothing was paid"
            )
        summary = payroll_summary(report, [o.out_order_no for o in to_pay], available).model_copy(
            update={
                "kind": "marketing",
                "title": f"marketing payout {campaign.campaign_name or campaign.campaign_no} · {period} · "
                f"{tax_base_code}",
            }
        )
        approval = await require_approval(summary, approved_by=approved_by)
        report.notes.append(approval.note)
        if not approval.approved:
            for order in to_pay:
                lines[order.out_order_no].outcome = Outcome.REFUSED
                lines[order.out_order_no].reason = approval.note
            to_pay = []

        # 4. Submit, wait, collect.
        sent: set[str] = set()
        taken: list[str] = []
        submitted = await _submit(run, to_pay, lines, max_batch, credentials_block, journal, sent, taken)
        for state in await lookup_orders(quote(taken), credentials_block=credentials_block) if taken else []:
            earlier[state.out_order_no] = state
            outcomes.apply_state(lines[state.out_order_no], state, earlier=True)
        wait_for = sorted(set(submitted) | {o.out_batch_no for o in earlier.values() if not o.final})
        if wait_for:
            statuses = await wait_campaign_batches(
                run.campaign_no, wait_for, wait_timeout_seconds, credentials_block=credentials_block
            )
            unfinished = sorted(b for b, s in statuses.items() if s != "COMPLETED")
            if unfinished:
                report.notes.append(
                    f"still processing when the run stopped waiting: {', '.join(unfinished)}; "
                    "run again with the same inputs to pick up the results (nothing is paid twice)"
                )
            for state in await collect_campaign_orders(run.campaign_no, wait_for, credentials_block=credentials_block):
                line = lines.get(state.out_order_no)
                if line is not None and line.outcome != Outcome.HELD:
                    outcomes.apply_state(line, state, earlier=state.out_order_no in earlier)
        report.batches = sorted({line.batch_no for line in lines.values() if line.batch_no})
        journal.record(outcomes.journal_rows(run, lines.values(), sent))
    finally:
        journal.close()
        pace.restore()

    report.lines.sort(key=lambda x: x.row)
    counts = report.counts()
    logger.info("marketing payout %s: %s", run.label, ", ".join(f"{k.lower()} {v}" for k, v in sorted(counts.items())))
    await publish_marketing_report(report)
    return report


async def _onboard(orders: list[PlannedOrder], tax_base_code: str, credentials_block: str | None) -> dict[str, Check]:
    """Onboard these orders' participants (a subflow; people already onboarded are skipped) and price the
    orders again (SFT0501): key → the new check, with onboarding's reason where it refused someone."""
    from flows.onboard_freelancers import onboard_freelancers

    people: dict[str, Freelancer] = {}
    for order in orders:
        p = order.payee
        people.setdefault(
            p.id_card_no,
            Freelancer(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no),
        )
    ref = store_people(list(people.values()), source="marketing-payout")
    onboarding = await onboard_freelancers(ref, tax_base_code, credentials_block=credentials_block, publish=False)
    result = dict(zip(people, onboarding.results, strict=True))  # results keep the order given
    person = {o.out_order_no: o.payee.id_card_no for o in orders}
    checks = {}
    for check in await precalculate(quote(orders), tax_base_code, credentials_block):
        why = result[person[check.out_order_no]]
        checks[check.out_order_no] = outcomes.after_onboarding(check, why.code, why.reason)
    return checks


async def _submit(
    run: RunKey,
    orders: list[PlannedOrder],
    lines: dict[str, PayeeLine],
    max_batch: int,
    credentials_block: str | None,
    journal: Journal,
    sent: set[str],
    taken: list[str],
) -> list[str]:
    """Submit every batch once (in the journal before it is sent); a batch refused for some of its orders
    goes again without them, in a batch of its own; one refused as a whole (the campaign's budget or dates,
    the balance) leaves its orders REFUSED with the platform's reason. Keys another batch holds go to ``taken``."""
    queue = plan_batches(run, orders, max_batch)
    accepted: list[str] = []

    async def submit(batch: PlannedBatch) -> Submission:
        return await submit_campaign_batch(
            run.campaign_no,
            batch.out_batch_no,
            quote(list(batch.orders)),
            run.tax_base_code,
            run.period,
            credentials_block=credentials_block,
        )

    for _ in range(MAX_RESUBMIT_ROUNDS):
        if not queue:
            break
        again: list[PlannedOrder] = []
        taken_so_far = len(taken)
        for batch in queue:
            result = await send_journalled(run, batch, lines, journal, sent, submit)
            if result.accepted:
                accepted.append(batch.out_batch_no)
                continue
            if not result.refused:  # the whole batch: nothing in it can be paid as it stands
                for o in batch.orders:
                    lines[o.out_order_no].outcome, lines[o.out_order_no].reason = Outcome.REFUSED, result.reason
                continue
            for key, check in result.refused.items():
                if key not in lines:
                    continue
                if check.key_used:
                    taken.append(key)
                    continue
                lines[key].outcome, lines[key].reason = Outcome.REFUSED, outcomes.refusal(check)
                if check.code in ONBOARDING_CODES:
                    lines[key].reason += f" — {ONBOARD_FIRST}"
            again += [o for o in batch.orders if o.out_order_no not in result.refused]
        if len(taken) > taken_so_far:  # another run holds keys: find all of them before sending the rest
            again, used = await without_taken(again, run.tax_base_code, credentials_block)
            taken += used
        queue = plan_batches(run, again, max_batch)
    outcomes.not_submitted([lines[o.out_order_no] for batch in queue for o in batch.orders], MAX_RESUBMIT_ROUNDS)
    return accepted


@flow(name="marketing-payout", description="Pay a marketing campaign's participants, each no more than the list says.")
async def marketing_payout_deployed(
    period: str,
    campaign_name: str | None = None,
    participants_ref: str | None = None,
    participants_file: str | None = None,
    reading: SheetReading | None = None,
    campaign_no: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    budget: str | None = None,
    tax_base_code: str = DEFAULT_TAX_BASE_CODE,
    additional_ref: str | None = None,
    skip_invalid: bool = False,
    onboard_missing: bool = True,
    wait_timeout_seconds: float = 900.0,
    max_batch: int = MAX_BATCH,
    credentials_block: CredentialsParameter = None,
) -> MarketingReport:
    """``marketing_payout`` as the marketing-payout deployment offers it: no advance approval (whoever starts a
    run must not approve it), and the credentials Block picked from a list.

    Args:
        period: The month the rewards are for, yyyy-MM (e.g. 2026-11). Part of the run's identity.
        campaign_name: The campaign (活动名称, e.g. 双十一推广活动): created once and reused by every run naming it.
        participants_ref: The participants stored in the payee store (PR…), e.g. by `lingong marketing run`.
        participants_file: Or a .csv/.xlsx file of them the workers can read (a path or an fsspec URL).
        reading: How to read participants_file when the defaults refuse it: which sheet (a workbook with
            two payout sheets), which amount column, the per-line ceiling, hidden rows.
        campaign_no: Instead of campaign_name: a campaign the platform already has (its campaignNo).
        start_date: The campaign's first day, yyyy-MM-dd, when it is created (default today).
        end_date: Its last day, yyyy-MM-dd, when it is created (default today); payouts only while it runs.
        budget: Its budget in yuan (e.g. "50000.00") when it is created; empty for no cap.
        tax_base_code: The service provider (服务商) paying through, e.g. 2000064001.
        additional_ref: An additional payment on purpose, on top of what this campaign paid for the period.
        skip_invalid: Pay the valid lines of a list with invalid ones (reported) instead of refusing it.
        onboard_missing: Verify, bind and sign up participants the platform does not know yet.
        wait_timeout_seconds: How long to wait for the platform to finish paying; a re-run picks up the rest.
        max_batch: Orders per batch (the platform takes at most 1,000).
        credentials_block: A saved LingongCredentials Block; empty: the worker's LINGONG_* variables.
    """
    given = dict(locals())
    given["credentials_block"] = credentials_name(credentials_block)
    result: MarketingReport = await marketing_payout.fn(**given)
    return result


if __name__ == "__main__":  # pragma: no cover - a thin command-line entry
    import sys

    if len(sys.argv) != 4:
        sys.exit("usage: python -m flows.marketing_payout FILE CAMPAIGN_NAME PERIOD(yyyy-MM)")
    print(asyncio.run(marketing_payout(sys.argv[3], sys.argv[2], participants_file=sys.argv[1])).markdown())
