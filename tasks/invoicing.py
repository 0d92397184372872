"""Invoicing what became invoiceable: SFT0603 → SFT0605, result by SFT0607 (or notification 9001)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from prefect import task
from pydantic import BaseModel

from lingong_core.errors import BusinessError

from .calls import found_or_none, write_once
from .common import PLATFORM_TASK, open_client, retry_if_busy
from .links import link_this_run

#: 4601: the amount asked is over what the batches make invoiceable now (docs/error-codes.md).
AMOUNT_OVER_INVOICEABLE = 4601
AMOUNT_ATTEMPTS = 3


class InvoiceResult(BaseModel):
    apply_no: str = ""
    out_apply_no: str
    amount: Decimal = Decimal("0.00")
    status: str
    batch_nos: list[str] = []


@task(name="apply-invoice", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def apply_invoice(
    out_apply_no: str, tax_base_code: str, batch_nos: Sequence[str], credentials_block: str | None = None
) -> InvoiceResult:
    """Apply (once per ``out_apply_no``) for an invoice over what these batches made invoiceable.

    What is invoiceable can shrink between reading it (SFT0603) and applying (SFT0605): a bounce refunded
    meanwhile. The platform then refuses the amount (4601) and nothing was applied; it is read again and
    applied for what it is now, a few times at most."""
    for attempt in range(1, AMOUNT_ATTEMPTS + 1):
        try:
            return await _apply_invoice(out_apply_no, tax_base_code, batch_nos, credentials_block)
        except BusinessError as exc:
            if exc.code != AMOUNT_OVER_INVOICEABLE or attempt == AMOUNT_ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


async def _apply_invoice(
    out_apply_no: str, tax_base_code: str, batch_nos: Sequence[str], credentials_block: str | None
) -> InvoiceResult:
    async with open_client(credentials_block) as client:
        wanted = set(batch_nos)
        invoiceable = [
            b
            async for b in client.invoice.invoiceable_batches.iter(tax_base_code=tax_base_code, page_size=1000)
            if b.batch_no in wanted
        ]
        amount = sum((b.invoiceable_amount for b in invoiceable), Decimal("0.00"))
        if not invoiceable or amount <= 0:
            return InvoiceResult(out_apply_no=out_apply_no, status="NOTHING_INVOICEABLE")
        types = await client.invoice.types(tax_base_code=tax_base_code)
        categories = await client.invoice.categories(tax_base_code=tax_base_code)

        detail = await write_once(
            lambda: client.invoice.apply(
                out_apply_no=out_apply_no,
                tax_base_code=tax_base_code,
                batch_nos=[b.batch_no for b in invoiceable],
                invoice_type=types.items[0].invoice_type,
                category_code=categories.items[0].category_code,
                amount=amount,
            ),
            lambda: found_or_none(client.invoice.detail(out_apply_no=out_apply_no)),
            what=f"invoice application {out_apply_no}",
            api_code="SFT0607",
        )
        # Its 9001 names the run that applied for it (tasks/links.py).
        link_this_run({f"lingong.invoice.{detail.apply_no}": out_apply_no}, role="invoice")
        return InvoiceResult(
            apply_no=detail.apply_no,
            out_apply_no=out_apply_no,
            amount=detail.amount,
            status=str(detail.status),
            batch_nos=[b.batch_no for b in invoiceable],
        )
