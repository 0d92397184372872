"""Paying freelancers: pre-calculation (SFT0501), settlement (SFT0502), following batches (SFT0503,
SFT0504) and single orders (SFT0505), and reading what a run already holds on the platform (the guard's
input, :func:`read_run_orders`).

Each batch goes in exactly once: its ``outBatchNo`` derives from the orders it carries
(lingong_payroll.keys), each send gets a fresh ``requestNo`` (kept across the core's own transport
retries; the business key is what makes a second send harmless — docs/design.md), a lost answer is
reconciled by querying the batch before anything is sent again (lingong_core.reconcile), and a refused
batch creates nothing on the platform.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from typing import Protocol, cast

from prefect import task
from prefect.utilities.annotations import quote
from pydantic import BaseModel, Field

from lingong_core.client import AsyncLingongClient
from lingong_core.errors import BusinessError, ConflictError, NotFoundError
from lingong_core.masking import scrub
from lingong_core.models.common import BatchStatus
from lingong_core.models.settlement import FeeCalcResult, SettlementOrder
from lingong_payroll import outcomes, pacing
from lingong_payroll.files import ParsedPayroll, ReadOptions, each_payee
from lingong_payroll.journal import Journal
from lingong_payroll.keys import RunKey
from lingong_payroll.orders import Check, PlannedOrder, PlatformOrder
from lingong_payroll.payees import Payee
from lingong_payroll.plan import PlannedBatch, Planner
from lingong_payroll.report import Lines, PayeeLine

from .calls import fan_out, found_or_none, poll_until, write_once
from .common import PLATFORM_TASK, open_client, retry_if_busy
from .links import link_this_run
from .notices import as_text
from .payees import read_payroll_location

#: The platform's refusal codes that onboarding cures (docs/error-codes.md).
NOT_VERIFIED, CARD_NOT_BOUND, CONTRACT_NOT_SIGNED, CONTRACT_EXPIRED = 4106, 4205, 4301, 4302
ONBOARDING_CODES = frozenset({NOT_VERIFIED, CARD_NOT_BOUND, CONTRACT_NOT_SIGNED, CONTRACT_EXPIRED})
MAX_PER_CALL = 1000
CALLS_IN_FLIGHT = 4  # 1,000-order calls (SFT0501, SFT0504 pages) in flight at once, as the bare script of record


class Submission(BaseModel):
    out_batch_no: str
    batch_no: str = ""
    accepted: bool
    refused: dict[str, Check] = Field(default_factory=dict, description="outOrderNo → why, when refused")
    reason: str = ""


def platform_order(order: SettlementOrder) -> PlatformOrder:
    """The platform's answer as the payroll's one order type (personal fields as the platform masks them)."""
    return PlatformOrder(
        order_no=order.order_no,
        out_order_no=order.out_order_no,
        batch_no=sys.intern(order.batch_no or ""),  # one string per batch, not one per order (held by the lines)
        out_batch_no=sys.intern(order.out_batch_no or ""),
        name=order.name or "",
        id_card_no=order.id_card_no or "",
        bank_card_no=order.bank_card_no or "",
        amount=order.amount,
        service_amount=order.service_amount if order.service_amount is not None else Decimal("0.00"),
        status=str(order.status),
        fail_msg=scrub(order.fail_msg or ""),
        create_time=as_text(order.create_time),
        complete_time=as_text(order.complete_time),
    )


def _code(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


@task(name="precalculate-fees", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def precalculate(
    orders: Sequence[PlannedOrder], tax_base_code: str, credentials_block: str | None = None
) -> Lines[Check]:
    """SFT0501 for every order (1,000 per call, :data:`CALLS_IN_FLIGHT` at a time): the fee, and whether the
    platform would take it. Each call's request is built when it is sent and its answer is made ``Check``s at
    once, so a 100,000-order run holds four calls' models, not a hundred. A ``Lines``: Prefect takes the result
    as one value (lingong_payroll.report.Lines)."""
    async with open_client(credentials_block) as client:
        chunks = [orders[i : i + MAX_PER_CALL] for i in range(0, len(orders), MAX_PER_CALL)]
        answers = await fan_out(lambda chunk: _precalculated(client, chunk, tax_base_code), chunks, CALLS_IN_FLIGHT)
        return Lines(c for checks in answers for c in checks)


async def _precalculated(client: AsyncLingongClient, chunk: Sequence[PlannedOrder], tax_base_code: str) -> list[Check]:
    """One SFT0501 call (at most :data:`MAX_PER_CALL` orders): a ``Check`` per order, in the chunk's order."""
    answer = await client.settlement.precalculate(
        tax_base_code=tax_base_code,
        # the orders' fields, validated as FeeCalcOrders by the request in one pass (see order_inputs)
        orders=[{"out_order_no": o.out_order_no, "id_card_no": o.payee.id_card_no, "amount": o.amount} for o in chunk],
    )
    return _checks(chunk, answer.items)


class Priced:
    """A payroll file read and validated, its orders planned, and each order pre-calculated (SFT0501): what
    :func:`read_and_precalculate` answers, one opaque value to Prefect (neither walked nor persisted)."""

    __slots__ = ("checks", "parsed", "planned")

    def __init__(self, parsed: ParsedPayroll, planned: list[PlannedOrder], checks: Lines[Check]) -> None:
        self.parsed, self.planned, self.checks = parsed, planned, checks


@task(name="read-and-precalculate", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def read_and_precalculate(
    location: str,
    options: ReadOptions | None,
    run: RunKey,
    credentials_block: str | None = None,
    part_size: int = MAX_PER_CALL,
) -> Priced:
    """Read and validate a payroll file (tasks/payees.py), plan its orders (lingong_payroll.plan) and
    pre-calculate them, as :func:`precalculate` does, while it is read: each ``part_size`` valid lines go to the
    platform as soon as they are validated (:data:`CALLS_IN_FLIGHT` calls at a time) while the file's
    next lines are validated in a thread, so a large file's validation is hidden behind the platform's
    answers instead of coming before the first call. The same calls, orders and keys as reading first and
    pre-calculating after; whether the file may be paid (its errors) is the caller's to decide, once it is read.
    Reads only, on both sides: a retry reads and prices again."""
    loop = asyncio.get_running_loop()
    parts: asyncio.Queue[list[tuple[int, Payee]] | None] = asyncio.Queue()
    part: list[tuple[int, Payee]] = []

    def post(item: list[tuple[int, Payee]] | None) -> None:  # from the reading thread
        with contextlib.suppress(RuntimeError):  # the loop is gone: the task was cancelled, nobody listens
            loop.call_soon_threadsafe(parts.put_nowait, item)

    def on_payee(row: int, payee: Payee) -> None:
        part.append((row, payee))
        if len(part) >= part_size:
            post(part.copy())
            part.clear()

    def read() -> ParsedPayroll:
        try:
            with each_payee(on_payee):
                return read_payroll_location(location, options)
        finally:
            switches.restore()
            if part:  # the last part, shorter than part_size
                post(part.copy())
            post(None)

    planner = Planner(run)
    planned: list[PlannedOrder] = []
    calls: list[asyncio.Future[list[Check]]] = []
    async with open_client(credentials_block) as client:
        gate = asyncio.Semaphore(CALLS_IN_FLIGHT)

        async def price(chunk: list[PlannedOrder]) -> list[Check]:
            async with gate:
                return await _precalculated(client, chunk, run.tax_base_code)

        # Held only here, next to the finally that gives it back: taken before the client opened, it leaked
        # when that failed (a bad credentials block) and left the process at the finer interval for good.
        switches = pacing.finer_switches()  # the loop gets the GIL back at once while the thread validates
        reading = asyncio.ensure_future(asyncio.to_thread(read))
        try:
            while (lines := await parts.get()) is not None:
                chunk = planner.plan([payee for _, payee in lines], [row for row, _ in lines])
                planned += chunk
                calls.append(asyncio.ensure_future(price(chunk)))
            parsed = await reading
            checks = Lines(c for answer in await asyncio.gather(*calls) for c in answer)
        except BaseException:
            for call in calls:
                call.cancel()
            await asyncio.gather(reading, *calls, return_exceptions=True)  # nothing left running, nor unheard
            raise
        finally:
            switches.restore()  # the thread has ended (or never ran): its own restore came first, if any
    return Priced(parsed, planned, checks)


def _checks(chunk: Sequence[PlannedOrder], items: Sequence[FeeCalcResult]) -> list[Check]:
    """SFT0501's answer for ``chunk``, one ``Check`` per order in the chunk's order."""
    by_key = {item.out_order_no: item for item in items}
    checks = []
    for order in chunk:
        item = by_key.get(order.out_order_no)
        if item is None:
            checks.append(Check(out_order_no=order.out_order_no, passed=False, reason="not in SFT0501's answer"))
            continue
        checks.append(
            Check(
                out_order_no=order.out_order_no,
                passed=str(item.check_result) == "PASS",
                service_amount=item.service_amount,
                code=_code(item.fail_code) if item.fail_code else None,
                reason=item.fail_msg or "",
            )
        )
    return checks


async def without_taken(
    orders: Sequence[PlannedOrder], tax_base_code: str, credentials_block: str | None = None
) -> tuple[list[PlannedOrder], list[str]]:
    """The orders a refused batch leaves, less those whose key another batch already holds; and those keys.

    SFT0502's 409 names one used key per refusal, so a batch holding many orders a concurrent run took would
    need one round per key; SFT0501 answers for every order (409 in ``failCode``), so one pre-calculation
    finds them all before the rest is sent again."""
    if not orders:
        return [], []
    checks = await precalculate(quote(list(orders)), tax_base_code, credentials_block)
    used = {c.out_order_no for c in checks if c.key_used}
    return [o for o in orders if o.out_order_no not in used], sorted(used)


@task(name="available-balance", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def available_balance(tax_base_code: str, credentials_block: str | None = None) -> Decimal:
    """SFT0303: what the account can pay out now."""
    async with open_client(credentials_block) as client:
        return (await client.account.balance(tax_base_code=tax_base_code)).available_amount


@task(name="submit-batch", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def submit_batch(
    out_batch_no: str,
    orders: Sequence[PlannedOrder],
    tax_base_code: str,
    period: str | None = None,
    project_no: str | None = None,
    credentials_block: str | None = None,
) -> Submission:
    """SFT0502, exactly once per ``out_batch_no``. A refusal comes back as ``refused``; nothing was created."""
    async with open_client(credentials_block) as client:
        return await place_batch(
            out_batch_no,
            lambda: client.settlement.submit(
                out_batch_no=out_batch_no,
                tax_base_code=tax_base_code,
                period=period,
                project_no=project_no,
                orders=order_inputs(orders),
            ),
            lambda: found_or_none(client.settlement.batch(out_batch_no=out_batch_no)),
            role="payroll-run",
        )


async def send_journalled(
    run: RunKey,
    batch: PlannedBatch,
    lines: Mapping[str, PayeeLine],
    journal: Journal,
    sent: set[str],
    send: Callable[[PlannedBatch], Awaitable[Submission]],
) -> Submission:
    """One batch, sent the way every payout sends one: its rows into the journal first (the next run's guard
    finds the batch even if this process dies right after the platform took it) and its keys into ``sent``;
    then ``send(batch)`` (the flow's submitting task); once the platform took it, the journal learns its batch
    number and each line its ``outBatchNo``. What became of it is the flow's to say."""
    keys = [o.out_order_no for o in batch.orders]
    journal.record(outcomes.intent_rows(run, batch.out_batch_no, [lines[k] for k in keys]))
    sent.update(keys)
    result = await send(batch)
    if result.accepted:  # journalled at once, while the platform works on the other batches
        journal.accepted(batch.out_batch_no, result.batch_no)
        for k in keys:
            lines[k].out_batch_no = batch.out_batch_no
    return result


class _Placed(Protocol):
    @property
    def batch_no(self) -> str: ...


def _placed(answer: object) -> _Placed | None:
    """The write's own answer, when it names the batch it created (SFT0502's does): then no SFT0503 follows
    each SFT0502 — a hundred calls at 100,000 payees, each queued behind the batches being processed."""
    batch_no = getattr(answer, "batch_no", None)
    return cast(_Placed, answer) if isinstance(batch_no, str) and batch_no else None


def order_inputs(orders: Sequence[PlannedOrder]) -> list[dict[str, object]]:
    """The orders' fields as SFT0502 takes them (``SettlementOrderInput``), in either form (payroll or
    marketing). Plain fields, not models: the request (``SettlementRequest(orders=…)``) validates all 1,000
    in one pass of pydantic's own, where a model built per order cost a Python call each."""
    return [
        {
            "out_order_no": o.out_order_no,
            "name": o.payee.name,
            "id_card_no": o.payee.id_card_no,
            "mobile": o.payee.mobile,
            "bank_card_no": o.payee.bank_card_no,
            "amount": o.amount,
            "remark": o.payee.remark or None,
        }
        for o in orders
    ]


async def place_batch(
    out_batch_no: str,
    send: Callable[[], Awaitable[object]],
    find: Callable[[], Awaitable[_Placed | None]],
    *,
    role: str,
    whole_refusal: Callable[[BusinessError], Submission] | None = None,
) -> Submission:
    """Send one batch (``send``) exactly once per ``out_batch_no`` and answer what became of it; ``find``
    reads the batch by that key. The platform refusing some orders, or one of its keys already held by
    another batch (409), comes back as ``refused`` — nothing was created. A refusal of the whole batch is
    raised, or answered by ``whole_refusal`` when given. An accepted batch is linked to this flow run
    (``role``), so the receiver relates its notifications to the run (tasks/links.py)."""
    try:
        batch = await write_once(send, find, what=f"batch {out_batch_no}", api_code="SFT0503", answered=_placed)
    except BusinessError as exc:
        refused = {
            str(f.get("outOrderNo")): Check(
                out_order_no=str(f.get("outOrderNo")),
                passed=False,
                code=_code(f.get("failCode")),
                reason=str(f.get("failMsg", "")),
            )
            for f in exc.body.get("failures") or []
            if isinstance(f, dict)
        }
        if whole_refusal is not None:
            return whole_refusal(exc).model_copy(update={"refused": refused})
        if not refused:
            raise  # a refusal of the whole batch (e.g. balance): the flow reports it
        return Submission(out_batch_no=out_batch_no, accepted=False, refused=refused, reason=exc.msg)
    except ConflictError as exc:
        # An order key of this batch is already used by another batch (a concurrent or earlier run).
        key = str(exc.body.get("outOrderNo", ""))
        if not key:
            raise
        return Submission(
            out_batch_no=out_batch_no,
            accepted=False,
            reason=exc.msg,
            refused={key: Check(out_order_no=key, passed=False, code=409, reason=exc.msg)},
        )
    link_this_run({f"lingong.settlement.{batch.batch_no}": out_batch_no}, role=role)
    return Submission(out_batch_no=out_batch_no, batch_no=batch.batch_no, accepted=True)


@task(name="wait-batches", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def wait_batches(
    out_batch_nos: Sequence[str],
    timeout_seconds: float = 600.0,
    credentials_block: str | None = None,
    max_poll_seconds: float = 10.0,
) -> dict[str, str]:
    """Poll SFT0503 until every batch is COMPLETED (or the timeout passes): outBatchNo → status.

    One call per poll: the first batch not yet seen COMPLETED is asked, and while it is, the next one at once.
    Every batch is done only once the last is, so asking the others in the meantime learns nothing; and one
    call a poll lets the pauses stay short — at most a tenth of the time waited so far (and at least 0.25 s,
    at most ``max_poll_seconds``), so the run learns the payroll is paid soon after it is. A settlement
    notification (3001) recorded by the receiver ends a pause early. At the timeout every batch not seen
    COMPLETED is asked once, so each has its state.
    """
    from .artifacts import Progress

    batches = list(dict.fromkeys(out_batch_nos))
    pending = list(batches)
    states: dict[str, str] = {}
    if not pending:
        return states
    progress = Progress("Waiting for the platform to pay", total=len(batches))
    async with open_client(credentials_block) as client:

        async def ask(out_batch_no: str) -> bool:
            answer = await client.settlement.batch(out_batch_no=out_batch_no)
            states[out_batch_no] = str(answer.status)
            return answer.status == BatchStatus.COMPLETED

        async def read() -> dict[str, str]:
            while pending and await ask(pending[0]):
                pending.pop(0)
            await progress.update(len(batches) - len(pending))
            return states

        await poll_until(
            read,
            lambda _: not pending,
            timeout_seconds=timeout_seconds,
            watch=lambda _: [f"lingong.settlement.{b}" for b in pending],
            final={"COMPLETED"},
            max_delay=max_poll_seconds,
            overshoot=0.1,
        )
        if pending:  # timed out: the state of each batch not seen COMPLETED, for the report
            await fan_out(ask, pending[1:], CALLS_IN_FLIGHT)
            await progress.update(sum(1 for b in batches if states.get(b) == str(BatchStatus.COMPLETED)))
    return states


@task(name="collect-orders", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def collect_orders(out_batch_nos: Sequence[str], credentials_block: str | None = None) -> Lines[PlatformOrder]:
    """Every order of these batches (SFT0504, 1,000 a page, :data:`CALLS_IN_FLIGHT` pages at a time)."""
    async with open_client(credentials_block) as client:
        chunks = await fan_out(lambda b: _batch_orders(client, b), out_batch_nos, CALLS_IN_FLIGHT)
    return Lines(s for chunk in chunks for s in chunk)


async def collect_in_groups(
    out_batch_nos: Sequence[str], credentials_block: str | None = None, group: int = CALLS_IN_FLIGHT
) -> AsyncGenerator[Lines[PlatformOrder], None]:
    """Every order of these batches, ``group`` batches at a time (one ``collect_orders`` each), the next group
    read while this one is awaited and then applied and journalled by the caller: the platform is never left
    waiting on the caller's bookkeeping, and at most two groups' orders are held at once, whatever the run's
    size. Use it under ``contextlib.aclosing``: a caller that stops early leaves no read running."""

    def read(batch_nos: Sequence[str]) -> asyncio.Future[Lines[PlatformOrder]]:
        return asyncio.ensure_future(collect_orders(batch_nos, credentials_block))

    groups = [out_batch_nos[i : i + group] for i in range(0, len(out_batch_nos), group)]
    ahead: asyncio.Future[Lines[PlatformOrder]] | None = None
    try:
        for i, batch_nos in enumerate(groups):
            current = ahead or read(batch_nos)
            # the next group's calls go out now, while this one is awaited: they are on the platform's side
            # by the time the caller's (synchronous) bookkeeping holds the event loop
            ahead = read(groups[i + 1]) if i + 1 < len(groups) else None
            yield await current
    finally:
        if ahead is not None:  # the caller stopped early (an error): the read ahead is not left running
            ahead.cancel()
            if ahead.done() and not ahead.cancelled():
                ahead.exception()  # retrieved: its failure does not matter once the caller has stopped


async def _batch_orders(client: AsyncLingongClient, out_batch_no: str) -> list[PlatformOrder]:
    """Every order of one batch (SFT0504, 1,000 a page), as the payroll's order type."""
    return [
        platform_order(o)
        async for o in client.settlement.batch_orders.iter(out_batch_no=out_batch_no, page_size=MAX_PER_CALL)
    ]


@task(name="lookup-orders", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def lookup_orders(
    out_order_nos: Sequence[str], concurrency: int = 16, credentials_block: str | None = None
) -> Lines[PlatformOrder]:
    """SFT0505 for orders an earlier run created; orders the platform does not know are left out."""
    async with open_client(credentials_block) as client:

        async def one(key: str) -> PlatformOrder | None:
            order = await found_or_none(client.settlement.order(out_order_no=key))
            return platform_order(order) if order is not None else None

        found = await fan_out(one, out_order_nos, concurrency)
    return Lines(s for s in found if s is not None)


@task(name="read-run-orders", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def read_run_orders(
    out_batch_nos: Sequence[str], out_order_nos: Sequence[str], credentials_block: str | None = None
) -> Lines[PlatformOrder]:
    """What the platform holds for a run: every order of these batches (SFT0503, then SFT0504; a batch the
    platform does not know is skipped — it was never created), and each of these keys not found in them
    (SFT0505). The guard's input; the batches come from the run journal, an index only."""
    found: dict[str, PlatformOrder] = {}
    async with open_client(credentials_block) as client:

        async def batch(out_batch_no: str) -> list[PlatformOrder]:
            try:
                await client.settlement.batch(out_batch_no=out_batch_no)
            except NotFoundError:
                return []
            return await _batch_orders(client, out_batch_no)

        for chunk in await fan_out(batch, sorted(set(out_batch_nos)), CALLS_IN_FLIGHT):
            found.update((o.out_order_no, o) for o in chunk)
    rest = [k for k in out_order_nos if k not in found]
    if rest:
        found.update((o.out_order_no, o) for o in await lookup_orders.fn(rest, credentials_block=credentials_block))
    return Lines(found[k] for k in sorted(found))
