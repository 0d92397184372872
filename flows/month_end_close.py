"""Month-end close: for one month and service provider, download the electronic receipt of every paid
order (SFT0506) and the tax payment certificates (SFT1001) into the month's folder, reconcile the
ledger (SFT0305) against the run journal, the platform's orders (SFT0505) and its refunds
(SFT0801/0802), and publish one summary: totals paid, refunded, fees and invoiced (SFT0606), the
documents fetched, and every difference with its order.

Scheduled for the 2nd of each month at 09:00 Asia/Shanghai (``prefect.yaml``), closing the month
before; runnable for any past month. Running it again fetches nothing twice: what the folder holds,
verified by size and hash (``lingong_store.documents``), is kept; certificates still pending are
fetched by a later run. The folder is ``.state/receipts/<taxBaseCode>/<yyyy-MM>/`` by default, or
under ``storage_url`` / ``LINGONG_DOCUMENTS_URL`` (any fsspec URL).

``python -m flows.month_end_close [yyyy-MM] [TAX_BASE_CODE]`` runs it.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from prefect import flow, get_run_logger
from prefect.artifacts import acreate_markdown_artifact

from flows import DEFAULT_TAX_BASE_CODE
from lingong_payroll.journal import Journal
from lingong_payroll.month_close import (
    REFUNDED,
    MonthCloseReport,
    check_month,
    compare_month,
    month_order_keys,
    month_start,
    next_month_start,
    order_counts,
    previous_month,
    totals,
)
from lingong_payroll.outcomes import bounced_since, bounced_since_note
from lingong_store.documents import MonthFolder, default_root
from tasks.artifacts import artifact_key
from tasks.closing import read_invoices, read_ledger_since, read_refunds
from tasks.credentials import CredentialsParameter, credentials_name
from tasks.receipts import fetch_certificates, fetch_receipts
from tasks.settlement import lookup_orders


@flow(
    name="month-end-close",
    description="Receipts and tax certificates of a month, the ledger reconciled, one summary for finance.",
)
async def month_end_close(
    month: str | None = None,
    tax_base_code: str = DEFAULT_TAX_BASE_CODE,
    storage_url: str | None = None,
    credentials_block: CredentialsParameter = None,
) -> MonthCloseReport:
    """Close ``month`` for ``tax_base_code``: fetch its documents, reconcile its books, summarise.

    Args:
        month: The month to close, yyyy-MM (e.g. 2026-11). Empty: the month before today (Asia/Shanghai).
        tax_base_code: The service provider (服务商) whose account is closed, e.g. 2000064001.
        storage_url: Where the documents go: a folder or any fsspec URL (s3://bucket/receipts …). Empty:
            LINGONG_DOCUMENTS_URL, or .state/receipts on the worker.
        credentials_block: A saved LingongCredentials Block, picked in the form (or its name); empty: LINGONG_*.
    """
    credentials_block = credentials_name(credentials_block)  # tasks take the Block's name
    logger = get_run_logger()
    month = check_month(month) if month else previous_month()
    root = storage_url or default_root()
    start, end = month_start(month), next_month_start(month)

    rows, balance = await read_ledger_since(tax_base_code, start, credentials_block)
    keys = month_order_keys(rows, month)
    month_keys = set(keys)
    with Journal() as journal:
        recorded = [j for j in journal.orders(tax_base_code) if j.out_order_no in month_keys or j.period == month]
        orders = await lookup_orders(
            sorted(month_keys | {j.out_order_no for j in recorded}), credentials_block=credentials_block
        )
        by_key = {o.out_order_no: o for o in orders}
        caught_up = bounced_since(recorded, by_key)
        journal.record(caught_up)  # a bounce whose notification is late or lost: the journal learns it here
    paid_this_month = [by_key[k] for k in keys if k in by_key]
    refunded = [o.out_order_no for o in paid_this_month if o.status in REFUNDED]

    refunds, invoices, receipts, certificates = await asyncio.gather(
        read_refunds(tax_base_code, start, refunded, credentials_block),
        read_invoices(tax_base_code, start, end - timedelta(seconds=1), credentials_block),
        fetch_receipts(paid_this_month, tax_base_code, month, root, credentials_block),
        fetch_certificates(tax_base_code, month, root, credentials_block),
    )
    folder = MonthFolder(tax_base_code, month, root)
    report = MonthCloseReport(
        month=month,
        tax_base_code=tax_base_code,
        folder=folder.url,
        totals=totals(rows, month, invoices, balance),
        orders=order_counts(orders, keys),
        documents=[*receipts, *certificates],
        differences=compare_month(month, rows, balance, recorded, orders, refunds),
    )
    if not keys:
        report.notes.append("no payout left the account this month")
    if note := bounced_since_note([r.out_order_no for r in caught_up]):
        report.notes.append(note)
    if any(d.state == "pending" for d in certificates):
        report.notes.append("tax certificates still pending are issued after the month is over: run the close again")
    folder.save(report.markdown())
    logger.info(
        "month %s %s: %d orders, %d receipts fetched, %d certificates fetched, %d differences; documents in %s",
        month,
        tax_base_code,
        len(keys),
        report.count("receipt", "fetched"),
        report.count("tax certificate", "fetched"),
        len(report.differences),
        folder.url,
    )
    await acreate_markdown_artifact(
        report.markdown(), key=artifact_key(f"month-end-close-{tax_base_code}-{month}"), description="Month-end close"
    )
    return report


if __name__ == "__main__":  # pragma: no cover - a thin command-line entry
    args = sys.argv[1:]
    print(asyncio.run(month_end_close(args[0] if args else None, *(args[1:2] or [DEFAULT_TAX_BASE_CODE]))).markdown())
