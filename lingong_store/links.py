"""Which flow run placed what on the platform: a platform number (as its Prefect resource id) → the run.

A payroll run that has a settlement batch accepted records ``lingong.settlement.<batchNo>`` → its flow run;
an onboarding records each contract it had generated, ``lingong.contract.<contractNo>`` → its flow run,
grouped by that run (the onboarding batch) with the person's freelancerNo; a marketing payout its batches
as a payroll does; ``fund_account`` its recharge (``lingong.recharge.<outOrderNo>``), ``withdraw_funds``
its withdrawal (``lingong.withdrawal.<withdrawNo>``), a payroll's invoice application its
``lingong.invoice.<applyNo>``. The notification receiver reads
them when it turns a notification into an event, so the event names the run that placed the orders
(a related resource ``prefect.flow-run.<id>``, which the Prefect UI links to the run), and the 8001s of one
onboarding batch carry the batch, so one contract-signed run follows up the whole batch.

Platform numbers and run ids only: nothing personal. A number linked again (a re-run placing the same
batch, a person onboarded again) points at the latest run. Best effort: a link that cannot be written
is logged and skipped, never a reason to stop a payment (tasks/links.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, MetaData, String, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from .db import Database

__all__ = ["RunLink", "RunLinks"]

metadata = MetaData()

run_link = Table(
    "run_link",
    metadata,
    Column("resource_id", String(200), primary_key=True),  # lingong.settlement.<batchNo>, lingong.contract.<no>
    Column("flow_run_id", String(36), nullable=False),
    Column("flow_run_name", String(200), nullable=False, default=""),
    Column("role", String(40), nullable=False),  # what the run did: payroll-run, onboarding, …
    Column("group_id", String(80), nullable=False, default="", index=True),  # e.g. the onboarding batch
    Column("detail", String(80), nullable=False, default=""),  # e.g. a contract's freelancerNo
    Column("created_at", BigInteger, nullable=False),  # Unix seconds
)


@dataclass(frozen=True, slots=True)
class RunLink:
    resource_id: str
    flow_run_id: str
    flow_run_name: str
    role: str
    group_id: str = ""
    detail: str = ""


class RunLinks:
    """The links in ``db`` (the caller owns it)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.db.create_all(metadata)

    def link(
        self,
        resource_ids: Iterable[str] | dict[str, str],
        *,
        flow_run_id: str,
        flow_run_name: str = "",
        role: str,
        group_id: str = "",
    ) -> int:
        """Point each resource id at the run (a dict maps each id to its detail); return how many."""
        details = dict(resource_ids) if isinstance(resource_ids, dict) else dict.fromkeys(resource_ids, "")
        rows = [
            {
                "resource_id": rid[:200],
                "flow_run_id": flow_run_id,
                "flow_run_name": flow_run_name[:200],
                "role": role[:40],
                "group_id": group_id[:80],
                "detail": detail[:80],
                "created_at": int(time.time()),
            }
            for rid, detail in details.items()
            if rid
        ]
        if not rows:
            return 0
        dialect = sqlite if self.db.is_sqlite else postgresql
        statement = dialect.insert(run_link)
        statement = statement.on_conflict_do_update(
            index_elements=[run_link.c.resource_id],
            set_={name: statement.excluded[name] for name in rows[0] if name != "resource_id"},
        )
        with self.db.begin() as connection:
            connection.execute(statement, rows)
        return len(rows)

    def find(self, resource_ids: Iterable[str]) -> list[RunLink]:
        """The links of those resource ids that have one, in the order asked."""
        wanted = [rid for rid in dict.fromkeys(resource_ids) if rid]
        if not wanted:
            return []
        with self.db.connect() as connection:
            found = {
                row.resource_id: _link(row)
                for row in connection.execute(select(run_link).where(run_link.c.resource_id.in_(wanted)))
            }
        return [found[rid] for rid in wanted if rid in found]

    def group(self, group_id: str) -> list[RunLink]:
        """Every link of one group (an onboarding batch's contracts), by resource id."""
        if not group_id:
            return []
        with self.db.connect() as connection:
            rows = connection.execute(
                select(run_link).where(run_link.c.group_id == group_id).order_by(run_link.c.resource_id)
            )
            return [_link(row) for row in rows]


def _link(row: object) -> RunLink:
    return RunLink(
        resource_id=row.resource_id,  # type: ignore[attr-defined]
        flow_run_id=row.flow_run_id,  # type: ignore[attr-defined]
        flow_run_name=row.flow_run_name,  # type: ignore[attr-defined]
        role=row.role,  # type: ignore[attr-defined]
        group_id=row.group_id,  # type: ignore[attr-defined]
        detail=row.detail,  # type: ignore[attr-defined]
    )
