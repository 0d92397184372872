"""Prefect artifacts a run leaves for the operator: progress while waiting, a table of results per payee
(masked), a markdown summary. Artifacts work with and without a Prefect server."""

from __future__ import annotations

import asyncio
import re
from uuid import UUID

from prefect.artifacts import (
    acreate_markdown_artifact,
    acreate_progress_artifact,
    acreate_table_artifact,
    aupdate_progress_artifact,
)

from lingong_payroll.report import PayrollReport


def run_link(flow_run_id: str, name: str = "") -> str:
    """A markdown link to a flow run's page in the Prefect UI (its name, else its id); the plain name or id when
    the UI's address is not known. Prefect 3.9 serves its UI under ``/v2``."""
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    ui = str(settings.ui_url or "").rstrip("/")
    label = name or flow_run_id[:8]
    return f"[{label}]({ui}/v2/runs/flow-run/{flow_run_id})" if ui and "://" in ui else label


def artifact_key(text: str) -> str:
    """Artifact keys may hold only lowercase letters, digits and dashes."""
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:100] or "lingong"


class Progress:
    """A progress artifact, created on the first update and moved forward only."""

    def __init__(self, description: str, total: int, key: str | None = None) -> None:
        self.description = description
        self.total = max(1, total)
        self.key = key
        self._id: UUID | None = None
        self._last = -1.0

    async def update(self, done: int) -> None:
        percent = round(100.0 * min(done, self.total) / self.total, 1)
        if percent <= self._last:
            return
        self._last = percent
        if self._id is None:
            self._id = await acreate_progress_artifact(percent, key=self.key, description=self.description)
        else:
            await aupdate_progress_artifact(self._id, percent)


#: Lines in a run's table artifact at most: the Prefect server keeps the table as one JSON value and the UI
#: renders it whole, so a 100,000-payee table (~20 MB) would be neither kept nor read. Every line not paid is
#: in it first; the summary lists every line not paid and counts them all, and the flow's returned report
#: holds every line. At 5,000 lines the table (~1 MB) took the server ~0.2 s to take, at the end of every
#: run of 5,000 payees or more, for lines that were all paid; 1,000 is a page an operator reads.
MAX_TABLE_LINES = 1000


async def publish_report(report: PayrollReport) -> None:
    """The table (one masked line per payee, up to :data:`MAX_TABLE_LINES`) and the markdown summary."""
    key = artifact_key(f"payroll-{report.period}-{report.tax_base_code}-{report.run}")
    table = report.table(MAX_TABLE_LINES)
    description = "Result per payee (masked)"
    if len(table) < len(report.lines):
        description += (
            f": {len(table):,} of {len(report.lines):,} lines — every line not paid, then the first paid, "
            "in sheet order; the summary counts them all"
        )
    await asyncio.gather(  # two independent writes to the Prefect server: at once, not one after the other
        acreate_table_artifact(table, key=key + "-payees", description=description),
        acreate_markdown_artifact(report.markdown(), key=key + "-summary", description="Payroll summary"),
    )
