"""Following an invoice notification (9001): the invoice application (SFT0607) as the platform answers now."""

from __future__ import annotations

from decimal import Decimal

from prefect import task
from pydantic import BaseModel, Field

from lingong_core.masking import scrub

from .common import PLATFORM_TASK, open_client, retry_if_busy
from .notices import as_text


class InvoiceFacts(BaseModel):
    apply_no: str
    out_apply_no: str
    status: str
    amount: Decimal
    invoice_type: str = ""
    category_code: str = ""
    invoice_nos: list[str] = Field(default_factory=list)
    issue_time: str = ""
    reject_reason: str = ""


@task(name="read-invoice", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def read_invoice(
    apply_no: str = "", out_apply_no: str = "", credentials_block: str | None = None
) -> InvoiceFacts:
    """SFT0607 for the invoice application."""
    if not (apply_no or out_apply_no):
        raise ValueError("give apply_no or out_apply_no")
    async with open_client(credentials_block) as client:
        key = {"apply_no": apply_no} if apply_no else {"out_apply_no": out_apply_no}
        detail = await client.invoice.detail(**key)
    return InvoiceFacts(
        apply_no=detail.apply_no,
        out_apply_no=detail.out_apply_no,
        status=str(detail.status),
        amount=detail.amount,
        invoice_type=detail.invoice_type,
        category_code=detail.category_code,
        invoice_nos=list(detail.invoice_nos),
        issue_time=as_text(detail.issue_time),
        reject_reason=scrub(detail.reject_reason or ""),
    )
