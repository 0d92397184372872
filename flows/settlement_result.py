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
from pydantic import BaseModel, Field

from lingong_payroll.orders import PlatformOrder
from lingong_payroll.outcomes import JournalUpdate
from tasks.artifacts import run_link
from tasks.credentials import CredentialsParameter, credentials_name
from tasks.links import placed_by
from tasks.notices import cell, publish_once, yuan
from tasks.settlement_results import BatchFacts, read_settlement, record_outcomes


class SettlementResult(BaseModel):
    batch: BatchFacts
    orders: list[PlatformOrder]
    journal: JournalUpdate
    placed_by: str = Field("", description="The flow run that placed the batch, as a link to its page in the UI")


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
    placed = f" — placed by the flow run {result.placed_by}" if result.placed_by else ""
    for run in result.journal.runs:
        counts = ", ".join(f"{k.lower()} {v} ({yuan(run.amounts[k])})" for k, v in sorted(run.counts.items()))
        state = "settled" if run.settled else "not settled yet"
        lines += ["", f"Payroll run {run.run} ({run.period}){placed}: {state} — {counts}"]
    if placed and not result.journal.runs:
        lines += ["", f"Batch{placed}"]
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
    credentials_block: CredentialsParameter = None,
) -> SettlementResult:
    """Read a settlement batch (and the order notified) and record the final states in the run journal.

    Args:
        batch_no: The platform's batch number (batchNo).
        out_order_no: The order the notification was about (outOrderNo); every order is read once the
            batch is COMPLETED.
        credentials_block: A saved LingongCredentials Block, picked in the form (or its name); empty: LINGONG_*.
    """
    credentials_block = credentials_name(credentials_block)  # tasks take the Block's name
    settlement = await read_settlement(batch_no, out_order_no, credentials_block=credentials_block)
    journal = await record_outcomes(settlement.orders, settlement.batch.tax_base_code)
    placed = placed_by(f"lingong.settlement.{settlement.batch.batch_no}")
    result = SettlementResult(
        batch=settlement.batch,
        orders=settlement.orders,
        journal=journal,
        placed_by=run_link(placed.flow_run_id, placed.flow_run_name) if placed else "",
    )
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
