"""Settlement result (notification 3001): settle the state of the payroll run the order belongs to.

The batch and the order are read from the platform (SFT0503, SFT0505; every order with SFT0504 once the
batch is COMPLETED), their final states written into the run journal, and a markdown artifact
``settlement-<batchNo>`` shows the batch and, once it completed, every order (masked) and what the
journal now holds for the payroll run. Orders no payroll run here submitted are reported, not recorded.
Running it again changes nothing.

``python -m flows.settlement_result BATCH_NO [OUT_ORDER_NO]`` runs it by hand.
"""

from __future__ import annotations

import asyncio
import sys

from prefect import flow, get_run_logger
from pydantic import BaseModel

from lingong_payroll.orders import PlatformOrder
from lingong_payroll.outcomes import JournalUpdate
from tasks.notices import cell, publish_once, yuan
from tasks.settlement_results import BatchFacts, read_settlement, record_outcomes


class SettlementResult(BaseModel):
    batch: BatchFacts
    orders: list[PlatformOrder]
    journal: JournalUpdate


def _markdown(result: SettlementResult) -> str:
    b = result.batch
    lines = [
        f"# Settlement batch {b.batch_no} ({b.out_batch_no}) · {b.tax_base_code}",
        "",
        f"**{b.status}** — {b.order_count} orders: {b.success_count} paid, {b.fail_count} failed, "
        f"{b.bounced_count} bounced, {b.processing_count} processing; paid {yuan(b.success_amount)} "
        f"of {yuan(b.total_amount)}",
    ]
    if b.status == "COMPLETED" and result.orders:
        lines += ["", "| order | name | ID | card | amount | state | reason |", "|---|---|---|---|---:|---|---|"]
        lines += [
            f"| {o.out_order_no} | {o.name} | {o.id_card_no} | {o.bank_card_no} | {yuan(o.amount)} | {o.status} "
            f"| {cell(o.fail_msg)} |"
            for o in result.orders
        ]
    for run in result.journal.runs:
        counts = ", ".join(f"{k.lower()} {v} ({yuan(run.amounts[k])})" for k, v in sorted(run.counts.items()))
        state = "settled" if run.settled else "not settled yet"
        lines += ["", f"Payroll run {run.run} ({run.period}): {state} — {counts}"]
    if result.journal.unknown:
        lines += ["", "Not submitted by a payroll run of this journal: " + ", ".join(result.journal.unknown)]
    return "\n".join(lines)


@flow(
    name="settlement-result",
    description="Notification 3001: read the batch and order from the platform and settle the payroll run's journal.",
)
async def settlement_result(
    batch_no: str,
    out_order_no: str = "",
    credentials_block: str | None = None,
) -> SettlementResult:
    """Read a settlement batch (and the order notified) and record the final states in the run journal.

    Args:
        batch_no: The platform's batch number (batchNo).
        out_order_no: The order the notification was about (outOrderNo); every order is read once the
            batch is COMPLETED.
        credentials_block: The name of a LingongCredentials block; empty: the worker's LINGONG_* variables.
    """
    settlement = await read_settlement(batch_no, out_order_no, credentials_block=credentials_block)
    journal = await record_outcomes(settlement.orders, settlement.batch.tax_base_code)
    result = SettlementResult(batch=settlement.batch, orders=settlement.orders, journal=journal)
    await publish_once(f"settlement-{settlement.batch.batch_no}", _markdown(result), "Settlement batch (masked)")
    get_run_logger().info(
        "batch %s %s: %d journal rows updated, %d unchanged, %d unknown",
        batch_no,
        settlement.batch.status,
        len(journal.updated),
        len(journal.unchanged),
        len(journal.unknown),
    )
    return result


if __name__ == "__main__":  # pragma: no cover - a thin command-line entry
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python -m flows.settlement_result BATCH_NO [OUT_ORDER_NO]")
    print(asyncio.run(settlement_result(*sys.argv[1:])))
