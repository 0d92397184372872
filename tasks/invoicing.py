"""Invoicing what became invoiceable: SFT0603 → SFT0605, result by SFT0607 (or notification 9001)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from prefect import task
from pydantic import BaseModel

from lingong_core.errors import NotFoundError
from lingong_core.models.invoice import InvoiceDetailResponse
from lingong_core.reconcile import submit_once

from .common import PLATFORM_TASK, open_client, retry_if_busy


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
    """Apply (once per ``out_apply_no``) for an invoice over what these batches made invoiceable."""
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

        async def lookup() -> InvoiceDetailResponse | None:
            try:
                return await client.invoice.detail(out_apply_no=out_apply_no)
            except NotFoundError:
                return None

        async def write() -> InvoiceDetailResponse | None:
            await client.invoice.apply(
                out_apply_no=out_apply_no,
                tax_base_code=tax_base_code,
                batch_nos=[b.batch_no for b in invoiceable],
                invoice_type=types.items[0].invoice_type,
                category_code=categories.items[0].category_code,
                amount=amount,
            )
            return await lookup()

        detail = await submit_once(write, lookup)
        if detail is None:
            raise NotFoundError(f"invoice application {out_apply_no} accepted but not found", api_code="SFT0607")
        return InvoiceResult(
            apply_no=detail.apply_no,
            out_apply_no=out_apply_no,
            amount=detail.amount,
            status=str(detail.status),
            batch_nos=[b.batch_no for b in invoiceable],
        )
