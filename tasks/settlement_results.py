"""Following settlement notifications (3001, 5001): read the batch and its orders from the platform
(SFT0503/SFT0504/SFT0505) and write their final states into the run journal.

A notification only says that something changed; these tasks ask the platform what the state *is*, so a
late, repeated or out-of-order notification leads to the same result. Running one twice changes nothing
more: the journal is written only where the platform's state differs from what it holds (the decision is
lingong_payroll.outcomes.journal_changed). Orders come back as the payroll's one order type,
:class:`~lingong_payroll.orders.PlatformOrder`, personal data masked by the platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from prefect import task
from pydantic import BaseModel, Field

from lingong_core.errors import NotFoundError
from lingong_core.models.common import BatchStatus
from lingong_payroll.journal import Journal, JournalOrder
from lingong_payroll.orders import PlatformOrder
from lingong_payroll.outcomes import JournalUpdate, journal_changed, run_states

from .common import PLATFORM_TASK, open_client, retry_if_busy
from .settlement import platform_order


class BatchFacts(BaseModel):
    batch_no: str
    out_batch_no: str
    tax_base_code: str
    status: str
    order_count: int
    success_count: int = 0
    fail_count: int = 0
    processing_count: int = 0
    bounced_count: int = 0
    total_amount: Decimal = Decimal("0.00")
    success_amount: Decimal = Decimal("0.00")
    service_amount: Decimal = Decimal("0.00")


class Settlement(BaseModel):
    """A batch and the orders read with it: all of them once the batch is COMPLETED, else the one asked about."""

    batch: BatchFacts
    orders: list[PlatformOrder] = Field(default_factory=list)


@task(name="read-settlement", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def read_settlement(
    batch_no: str, out_order_no: str = "", order_no: str = "", credentials_block: str | None = None
) -> Settlement:
    """SFT0503 for the batch; SFT0504 for all its orders once it is COMPLETED, else SFT0505 for the one order."""
    async with open_client(credentials_block) as client:
        answer = await client.settlement.batch(batch_no=batch_no)
        batch = BatchFacts.model_validate(answer.model_dump(include=set(BatchFacts.model_fields)))
        batch = batch.model_copy(update={"status": str(answer.status)})
        if answer.status == BatchStatus.COMPLETED:
            orders = [
                platform_order(o) async for o in client.settlement.batch_orders.iter(batch_no=batch_no, page_size=1000)
            ]
        elif out_order_no or order_no:
            key = {"out_order_no": out_order_no} if out_order_no else {"order_no": order_no}
            orders = [platform_order(await client.settlement.order(**key))]
        else:
            orders = []
    for order in orders:
        if order.batch_no != batch.batch_no:
            raise NotFoundError(f"order {order.out_order_no} is not in batch {batch_no}", api_code="SFT0505")
    return Settlement(batch=batch, orders=orders)


@task(name="read-order", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def read_order(
    order_no: str = "", out_order_no: str = "", credentials_block: str | None = None
) -> tuple[PlatformOrder, str]:
    """SFT0505 for one order, and its batch's service provider (SFT0503): (order, taxBaseCode)."""
    if not (order_no or out_order_no):
        raise ValueError("give order_no or out_order_no")
    async with open_client(credentials_block) as client:
        key = {"order_no": order_no} if order_no else {"out_order_no": out_order_no}
        order = platform_order(await client.settlement.order(**key))
        batch = await client.settlement.batch(batch_no=order.batch_no)
    return order, batch.tax_base_code


@task(name="record-outcomes")
async def record_outcomes(orders: Sequence[PlatformOrder], tax_base_code: str) -> JournalUpdate:
    """Write the platform's final states into the run journal, for orders a payroll run here submitted.

    Orders not final yet are left as the journal has them; orders the journal does not know are reported,
    not added (``reconcile`` reports them as the platform's extras).
    """
    journal = Journal()
    try:
        held = {row.out_order_no: row for row in journal.orders(tax_base_code, keys={o.out_order_no for o in orders})}
        update = JournalUpdate()
        writes: list[JournalOrder] = []
        for order in orders:
            row = held.get(order.out_order_no)
            if row is None:
                update.unknown.append(order.out_order_no)
                continue
            fresh = journal_changed(row, order) if order.final else None
            if fresh is None:
                update.unchanged.append(order.out_order_no)
            else:
                writes.append(fresh)
                update.updated.append(order.out_order_no)
        if writes:
            journal.record(writes)
        touched = {held[k].run for k in update.updated + update.unchanged}
        if touched:
            update.runs = run_states(journal.orders(tax_base_code, runs=touched), touched)
        return update
    finally:
        journal.close()


@task(name="journal-period")
async def journal_period(out_order_no: str, tax_base_code: str) -> str | None:
    """The period of the payroll run that submitted this order, when the journal knows it."""
    journal = Journal()
    try:
        return next((o.period for o in journal.orders(tax_base_code, keys={out_order_no})), None)
    finally:
        journal.close()
