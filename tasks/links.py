"""Record which flow run placed what on the platform (:mod:`lingong_store.links`), from inside a task or flow.

``link_this_run({"lingong.settlement.B123": ""}, role="payroll-run")`` points those resource ids at the
flow run this code runs in, in the project's database (``LINGONG_DATABASE_URL``), where the notification
receiver looks them up to relate its events to the run. Best effort: outside a flow run it does nothing,
and a database that cannot be written is logged, never raised — a missing link costs a link in the UI,
nothing more, and must never stop a payment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from lingong_store.db import Database, database_url
from lingong_store.links import RunLink, RunLinks

__all__ = ["LinkBuffer", "link_this_run", "onboarding_contracts", "placed_by", "this_flow_run"]

log = logging.getLogger(__name__)
_NOT_LINKED = "could not record which run placed %d platform numbers: %s"


def this_flow_run() -> tuple[str, str] | None:
    """(id, name) of the flow run this code runs in (a task's: its flow's), or None outside one."""
    from prefect.context import FlowRunContext, TaskRunContext

    context = FlowRunContext.get()
    if context is not None and context.flow_run is not None:
        return str(context.flow_run.id), context.flow_run.name
    task = TaskRunContext.get()
    if task is not None and task.task_run.flow_run_id is not None:
        return str(task.task_run.flow_run_id), ""
    return None


def link_this_run(
    resource_ids: dict[str, str], *, role: str, group: bool = False, db: Database | None = None
) -> str | None:
    """Point ``resource_ids`` (id → detail) at this flow run; ``group``: group them under the run (a batch).
    ``db``: the database to write to, which the caller owns (a :class:`LinkBuffer` keeps one for all its
    writes); without it, one is opened for this write. Returns the flow run's id, or None when there is none or
    the link could not be written."""
    run = this_flow_run()
    if run is None or not resource_ids:
        return None
    run_id, run_name = run
    try:
        with contextlib.nullcontext(db) if db is not None else Database(database_url()) as target:
            RunLinks(target).link(
                resource_ids, flow_run_id=run_id, flow_run_name=run_name, role=role, group_id=run_id if group else ""
            )
    except Exception as exc:  # best effort: see the module's docstring
        log.warning(_NOT_LINKED, len(resource_ids), exc)
        return None
    return run_id


def onboarding_contracts(onboarding_run: str) -> dict[str, str]:
    """contractNo → freelancerNo of every contract one onboarding run generated ({} when none is known)."""
    if not onboarding_run:
        return {}
    prefix = "lingong.contract."
    try:
        with Database(database_url()) as db:
            found = RunLinks(db).group(onboarding_run)
    except Exception as exc:  # best effort: the follow-up then checks the one contract it was started for
        log.warning("the contracts of onboarding run %s not read: %s", onboarding_run, exc)
        return {}
    return {link.resource_id.removeprefix(prefix): link.detail for link in found if link.resource_id.startswith(prefix)}


def placed_by(resource_id: str) -> RunLink | None:
    """The flow run that placed ``resource_id`` (e.g. ``lingong.settlement.<batchNo>``), when it is known."""
    try:
        with Database(database_url()) as db:
            found = RunLinks(db).find([resource_id])
    except Exception as exc:  # best effort, as every link
        log.warning("which run placed %s not read: %s", resource_id, exc)
        return None
    return found[0] if found else None


class LinkBuffer:
    """Links gathered while a task works and written together, at most ``every`` seconds apart, in one
    transaction each: an onboarding links each contract *before* asking for its signature (its 8001 can come
    half a second later) without a database write per person. ``async with`` it; leaving writes the rest.
    Its writes share one database engine, opened at the first and closed on leaving: opening one per write
    (an engine, a connection, the tables' check) cost more than the write, every tenth of a second of a
    10,000-person onboarding."""

    def __init__(self, *, role: str, group: bool = False, every: float = 0.1) -> None:
        self.role, self.group, self.every = role, group, every
        self._db: Database | None = None  # opened by the first write, in its thread; one write at a time
        self._pending: dict[str, str] = {}
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._writing: asyncio.Future[str | None] | None = None  # the write in flight: finished even if cancelled

    def add(self, resource_id: str, detail: str = "") -> None:
        self._pending[resource_id] = detail
        if self._wake is not None:
            self._wake.set()

    async def flush(self) -> None:
        if self._pending:
            batch, self._pending = self._pending, {}
            self._writing = asyncio.ensure_future(asyncio.to_thread(self._write, batch))
            await asyncio.shield(self._writing)

    def _write(self, batch: dict[str, str]) -> str | None:
        """One write (in a worker thread; the writes follow one another, never overlap)."""
        try:
            self._db = self._db or Database(database_url())
        except Exception as exc:  # best effort, as every link
            log.warning(_NOT_LINKED, len(batch), exc)
            return None
        return link_this_run(batch, role=self.role, group=self.group, db=self._db)

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self.flush()
            await asyncio.sleep(self.every)

    async def __aenter__(self) -> LinkBuffer:
        if this_flow_run() is not None:  # outside a flow run there is nothing to link to
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            if self._task is not None:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
                if self._writing is not None:
                    await self._writing  # a write the cancel interrupted lands before the task returns, not after
                await self.flush()
        finally:
            self._pending.clear()
            if self._db is not None:
                self._db.dispose()
                self._db = None
