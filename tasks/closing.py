"""What the month-end close reads from the platform: the ledger since the month began (SFT0305), the
balance (SFT0303), the refunds (SFT0801, each confirmed with SFT0802) and the invoice applications of
the month (SFT0606). Reads only: safe to retry, one task per kind of record (not per order)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from prefect import task

from lingong_core.models.refund import RefundOrder
from lingong_payroll.month_close import InvoiceFact, LedgerRow, RefundFact

from .calls import fan_out, found_or_none
from .common import PLATFORM_TASK, open_client, retry_if_busy

PAGE = 1000


@task(name="read-ledger-since", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def read_ledger_since(
    tax_base_code: str, start: datetime, credentials_block: str | None = None
) -> tuple[list[LedgerRow], Decimal]:
    """Every ledger row from ``start`` on (oldest first), and the account's balance now."""
    async with open_client(credentials_block) as client:
        rows = [
            LedgerRow(
                change_no=e.change_no,
                change_type=str(e.change_type),
                amount=e.amount,
                balance_after=e.balance_after,
                change_time=e.change_time,
                ref_no=e.ref_no or "",
                out_ref_no=e.out_ref_no or "",
            )
            async for e in client.account.ledger.iter(tax_base_code=tax_base_code, start_time=start, page_size=PAGE)
        ]
        balance = (await client.account.balance(tax_base_code=tax_base_code)).balance
    return rows, balance


@task(name="read-refunds", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def read_refunds(
    tax_base_code: str, start: datetime, out_order_nos: Sequence[str], credentials_block: str | None = None
) -> list[RefundFact]:
    """Refunds since ``start`` (SFT0801); those of ``out_order_nos`` read again one by one (SFT0802)."""
    wanted = set(out_order_nos)
    async with open_client(credentials_block) as client:
        listed = [
            r async for r in client.refund.orders.iter(tax_base_code=tax_base_code, start_time=start, page_size=PAGE)
        ]
        confirmed = await fan_out(
            lambda r: found_or_none(client.refund.detail(refund_no=r.refund_no)),
            [r for r in listed if r.out_order_no in wanted],
            concurrency=8,
        )
    details = {d.refund_no: d for d in confirmed if d is not None}
    return [_refund(details.get(r.refund_no) or r) for r in listed]


def _refund(r: RefundOrder) -> RefundFact:
    return RefundFact(
        refund_no=r.refund_no,
        out_order_no=r.out_order_no,
        order_no=r.order_no,
        amount=r.amount,
        service_amount=r.service_amount,
        refund_type=str(r.refund_type),
        status=str(r.status),
        refund_time=r.refund_time,
    )


@task(name="read-invoices", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def read_invoices(
    tax_base_code: str, start: datetime, end: datetime, credentials_block: str | None = None
) -> list[InvoiceFact]:
    """Invoice applications made from ``start`` to ``end`` inclusive (SFT0606)."""
    async with open_client(credentials_block) as client:
        found = [
            a
            async for a in client.invoice.applications.iter(
                tax_base_code=tax_base_code, start_time=start, end_time=end, page_size=PAGE
            )
        ]
    return [InvoiceFact(apply_no=a.apply_no, amount=a.amount, status=str(a.status)) for a in found]
