"""Invoice result (notification 9001): record the invoice the platform issued, or why it refused.

The application is read from the platform (SFT0607); a markdown artifact ``invoice-<applyNo>`` records
its state, amount and invoice numbers — or the reason it was rejected. Running it again changes nothing.

``python -m flows.invoice_result APPLY_NO`` runs it by hand.
"""

from __future__ import annotations

import asyncio
import sys

from prefect import flow, get_run_logger

from tasks.credentials import CredentialsParameter, credentials_name
from tasks.invoice_results import InvoiceFacts, read_invoice
from tasks.notices import cell, publish_once, yuan


def _markdown(facts: InvoiceFacts) -> str:
    lines = [
        f"# Invoice application {facts.apply_no} ({facts.out_apply_no}): {facts.status}",
        "",
        f"- amount: {yuan(facts.amount)}",
        f"- type {facts.invoice_type or '—'}, category {facts.category_code or '—'}",
    ]
    if facts.invoice_nos:
        lines.append("- invoice numbers: " + ", ".join(facts.invoice_nos))
    if facts.issue_time:
        lines.append(f"- issued at {facts.issue_time}")
    if facts.reject_reason:
        lines.append(f"- rejected: {cell(facts.reject_reason)}")
    return "\n".join(lines)


@flow(name="invoice-result", description="Notification 9001: record the invoice issued (or rejected) by the platform.")
async def invoice_result(
    apply_no: str = "",
    out_apply_no: str = "",
    credentials_block: CredentialsParameter = None,
) -> InvoiceFacts:
    """Read an invoice application from the platform and record its outcome.

    Args:
        apply_no: The platform's invoice application number (applyNo).
        out_apply_no: Or the merchant's application key (outApplyNo).
        credentials_block: A saved LingongCredentials Block, picked in the form (or its name); empty: LINGONG_*.
    """
    credentials_block = credentials_name(credentials_block)  # tasks take the Block's name
    facts = await read_invoice(apply_no, out_apply_no, credentials_block)
    await publish_once(f"invoice-{facts.apply_no}", _markdown(facts), "Invoice application")
    get_run_logger().info(
        "invoice %s: %s %s %s", facts.apply_no, facts.status, facts.amount, ", ".join(facts.invoice_nos)
    )
    return facts


if __name__ == "__main__":  # pragma: no cover - a thin command-line entry
    if len(sys.argv) != 2:
        sys.exit("usage: python -m flows.invoice_result APPLY_NO")
    print(asyncio.run(invoice_result(sys.argv[1])))
