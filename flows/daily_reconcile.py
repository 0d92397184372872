"""Daily reconcile: the ledger check of ``reconcile`` (the platform's ledger and orders against what the
runs recorded), scheduled every morning (``prefect.yaml``), emitting the Prefect event
``lingong.reconcile.difference`` about ``lingong.reconcile.<taxBaseCode>`` when anything disagrees, so
an automation can alert someone. The event's payload holds numbers, kinds and business keys only.

``python -m flows.daily_reconcile [TAX_BASE_CODE]`` runs it.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter

from prefect import flow, get_run_logger
from prefect.events import emit_event

from flows import DEFAULT_TAX_BASE_CODE
from flows.reconcile import ReconcileReport, reconcile
from lingong_core.timeutil import format_datetime, now
from tasks.credentials import CredentialsParameter, credentials_name

DIFFERENCE_EVENT = "lingong.reconcile.difference"
#: The differences listed in the event's payload (the artifact has them all).
EVENT_DIFFERENCES = 20


@flow(name="daily-reconcile", description="The ledger check of reconcile, every day; an event when anything differs.")
async def daily_reconcile(
    tax_base_code: str = DEFAULT_TAX_BASE_CODE, credentials_block: CredentialsParameter = None
) -> ReconcileReport:
    """Reconcile ``tax_base_code``'s ledger and orders with the run journal; emit an event on any difference.

    Args:
        tax_base_code: The service provider (服务商) whose account is checked, e.g. 2000064001.
        credentials_block: A saved LingongCredentials Block, picked in the form (or its name); empty: LINGONG_*.
    """
    credentials_block = credentials_name(credentials_block)  # tasks take the Block's name
    report = await reconcile(tax_base_code, credentials_block)
    logger = get_run_logger()
    if report.clean:
        logger.info(
            "reconcile %s: clean (%d ledger rows, balance %s)", tax_base_code, report.ledger_rows, report.balance
        )
        return report
    kinds = Counter(d.kind for d in report.differences)
    emit_event(
        event=DIFFERENCE_EVENT,
        resource={"prefect.resource.id": f"lingong.reconcile.{tax_base_code}", "lingong.tax-base-code": tax_base_code},
        payload={
            "taxBaseCode": tax_base_code,
            "checkedAt": format_datetime(now()),
            "differences": len(report.differences),
            "kinds": dict(sorted(kinds.items())),
            "first": [d.model_dump() for d in report.differences[:EVENT_DIFFERENCES]],
            "balance": f"{report.balance:.2f}",
        },
    )
    logger.warning("reconcile %s: %d difference(s): %s", tax_base_code, len(report.differences), dict(kinds))
    return report


if __name__ == "__main__":  # pragma: no cover - a thin command-line entry
    print(asyncio.run(daily_reconcile(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_TAX_BASE_CODE)).markdown())
