"""``lingong followups serve``: the notification follow-ups, run inside one long-lived process, so they start fast.

A process worker, and Prefect's own ``serve`` runner alike, start a new Python interpreter for every flow
run (``multiprocessing`` spawn), which imports Prefect and the flow again: 2-3 s on an idle 2-core machine,
25-48 s when it is loaded. A follow-up is a few reads of the platform, so this command runs them in the
process that serves them instead:

1. it imports every follow-up flow once and applies its deployment (the ones tagged ``notification`` in
   ``prefect.yaml``, with their triggers, descriptions and concurrency limits read from that file, so there
   is one definition) without a work pool: a *served* deployment, READY while this process polls;
2. every ``LINGONG_FOLLOWUPS_POLL_SECONDS`` (default 0.5) it reads their scheduled runs (a read only: the
   poll that also marks the deployments READY, a write, comes every ``MARK_READY_SECONDS``),
   claims each one (Pending; the server refuses a run another runner claimed, or one whose deployment has
   no free concurrency slot), and runs it with Prefect's engine (``run_flow``) in a thread of its own with
   its own event loop, at most ``--limit`` at once; the engine sets Running, the tasks, logs, artifacts and
   the final state exactly as in a worker's subprocess.

Notification → follow-up Running is then the automation, one poll and a thread start (bench:
``python -m bench --only followup``). What a process per run would give and this does not: a follow-up
cannot be killed half-way (Cancel in the UI takes effect when it ends; they are short reads), and they
share one process's memory. Stopping it (SIGTERM, Ctrl-C) claims nothing more, lets the runs in flight
finish for up to 30 s and marks the rest Crashed (the follow-ups read before they write: running one
again is safe). Stopped, the deployments and their automations stay: events arriving meanwhile create
runs that wait (Late) until it serves again.

``lingong stack up`` starts it; in production run it next to the receiver (as a service), or keep the
follow-ups on a worker with ``prefect deploy --all``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="Serve the notification follow-up deployments from one long-lived runner.", no_args_is_help=True)

REPO = Path(__file__).resolve().parents[1]
PREFECT_YAML = REPO / "prefect.yaml"
FOLLOW_UP_TAG = "notification"


def follow_up_configs(path: Path = PREFECT_YAML) -> list[dict[str, Any]]:
    """The deployments of ``prefect.yaml`` tagged ``notification``, as written there."""
    import yaml

    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [d for d in config.get("deployments", []) if FOLLOW_UP_TAG in (d.get("tags") or [])]


def other_deployment_names(path: Path = PREFECT_YAML) -> list[str]:
    """The deployments a worker runs (everything that is not a follow-up)."""
    import yaml

    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [d["name"] for d in config.get("deployments", []) if FOLLOW_UP_TAG not in (d.get("tags") or [])]


def build_deployments(path: Path = PREFECT_YAML) -> list[tuple[Any, Any]]:
    """(RunnerDeployment, flow) of each follow-up, with the triggers, descriptions and limits of ``prefect.yaml``."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig
    from prefect.events import DeploymentEventTrigger
    from prefect.flows import load_flow_from_entrypoint

    deployments = []
    for config in follow_up_configs(path):
        entrypoint = str(config["entrypoint"])
        if not Path(entrypoint.split(":")[0]).is_absolute():
            entrypoint = str(path.parent / entrypoint)
        flow: Any = load_flow_from_entrypoint(entrypoint)
        limit = config.get("concurrency_limit")
        deployments.append(
            (
                flow.to_deployment(
                    name=config["name"],
                    description=config.get("description"),
                    tags=config.get("tags"),
                    triggers=[DeploymentEventTrigger(**trigger) for trigger in config.get("triggers") or []],
                    concurrency_limit=ConcurrencyLimitConfig(**limit) if isinstance(limit, dict) else limit,
                ),
                flow,
            )
        )
    return deployments


#: Seconds between two asks for scheduled follow-ups (``LINGONG_FOLLOWUPS_POLL_SECONDS``).
DEFAULT_POLL_SECONDS = 0.5
#: Seconds between two polls that also mark the deployments READY (the server writes each one; the polls in
#: between only read). Prefect marks a served deployment NOT_READY after 60 s without such a poll.
MARK_READY_SECONDS = 15.0
#: Seconds a stopping runner waits for the runs in flight before it marks them Crashed.
SHUTDOWN_GRACE_SECONDS = 30.0


class FollowUpRunner:
    """Claims the follow-up deployments' scheduled runs and runs each in a thread of this process."""

    def __init__(
        self, deployments: list[tuple[Any, Any]], *, limit: int = 8, poll_seconds: float = DEFAULT_POLL_SECONDS
    ) -> None:
        self.deployments = deployments  # (RunnerDeployment, flow)
        self.limit = max(1, limit)
        self.poll_seconds = max(0.05, poll_seconds)
        self.flows: dict[Any, Any] = {}  # deployment id → flow
        self.in_flight: dict[Any, threading.Thread] = {}  # flow run id → its thread
        self.stopping = threading.Event()
        self.marked_ready_at = float("-inf")  # time.monotonic() of the last poll that marked them READY
        self.log = logging.getLogger("lingong.followups")

    async def apply(self, client: Any) -> None:
        """Create or update every deployment (served: no work pool), with its triggers."""
        for deployment, flow in self.deployments:
            self.flows[await deployment.aapply()] = flow

    async def poll_once(self, client: Any) -> int:
        """Claim and start the scheduled runs due now, as far as slots allow; return how many started."""
        from prefect.client.schemas.objects import StateType
        from prefect.states import Pending
        from prefect.utilities.engine import propose_state

        self._reap()
        free = self.limit - len(self.in_flight)
        if free <= 0 or not self.flows:
            return 0
        due = datetime.now(UTC) + timedelta(seconds=1)
        runs = await self._scheduled(client, due)
        started = 0
        for flow_run in sorted(runs, key=lambda r: r.next_scheduled_start_time or r.expected_start_time or due):
            if started >= free or self.stopping.is_set():
                break
            if flow_run.id in self.in_flight or flow_run.deployment_id not in self.flows:
                continue
            try:
                state = await propose_state(client, Pending(), flow_run_id=flow_run.id)
            except Exception as exc:  # Abort: claimed elsewhere, or no concurrency slot; the server says which
                self.log.info("follow-up %s not claimed: %s", flow_run.name, exc)
                continue
            if state.type != StateType.PENDING:
                continue
            claimed = await client.read_flow_run(flow_run.id)
            thread = threading.Thread(
                target=self._execute,
                args=(self.flows[flow_run.deployment_id], claimed),
                name=f"follow-up {flow_run.name}",
                daemon=True,
            )
            self.in_flight[flow_run.id] = thread
            thread.start()
            started += 1
        return started

    async def _scheduled(self, client: Any, due: datetime) -> list[Any]:
        """The follow-ups' scheduled runs due by ``due``, read without writing most of the time.

        Prefect's runner endpoint (``get_scheduled_flow_runs_for_deployments``) also marks the deployments
        READY, a write transaction on the server's database at every call. On SQLite, a write committed while
        another request's transaction has read but not yet written makes that request fail with "database is
        locked" — seen as the UI's Resume of a run waiting for approval failing when polls came twice a
        second. So it is called every ``MARK_READY_SECONDS``; the polls in between read the same runs with
        the flow-run filter, which writes nothing."""
        if time.monotonic() - self.marked_ready_at >= MARK_READY_SECONDS:
            runs: list[Any] = await client.get_scheduled_flow_runs_for_deployments(
                list(self.flows), scheduled_before=due
            )
            self.marked_ready_at = time.monotonic()
            return runs
        from prefect.client.schemas.filters import (
            DeploymentFilter,
            DeploymentFilterId,
            FlowRunFilter,
            FlowRunFilterNextScheduledStartTime,
            FlowRunFilterState,
            FlowRunFilterStateType,
        )
        from prefect.client.schemas.objects import StateType
        from prefect.client.schemas.sorting import FlowRunSort

        found: list[Any] = await client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=list(self.flows))),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
                next_scheduled_start_time=FlowRunFilterNextScheduledStartTime(before_=due),
            ),
            sort=FlowRunSort.NEXT_SCHEDULED_START_TIME_ASC,
            limit=max(self.limit * 4, 50),
        )
        return found

    def _execute(self, flow: Any, flow_run: Any) -> None:
        """One run, by Prefect's engine, in this thread's own event loop (the engine sets every state)."""
        import asyncio

        from prefect.context import SyncClientContext
        from prefect.flow_engine import run_flow

        try:
            # The engine asks for a sync client per run (Prefect 3.9's result storage lookup) and never closes
            # it: one context per run's thread hands it that client and closes it when the run ends, so a
            # long-lived runner does not leave a socket behind per follow-up.
            with SyncClientContext.get_or_create():
                outcome = run_flow(flow, flow_run=flow_run, return_type="state")
                if asyncio.iscoroutine(outcome):
                    asyncio.run(outcome)
        except BaseException:  # the engine already recorded the run's failure; keep serving the others
            self.log.exception("follow-up %s ended with an error", flow_run.name)

    def _reap(self) -> None:
        for run_id, thread in list(self.in_flight.items()):
            if not thread.is_alive():
                del self.in_flight[run_id]

    async def crash_unfinished(self, client: Any) -> None:
        """Mark the runs still in flight Crashed: this process is going away and they go with it."""
        from prefect.states import Crashed

        self._reap()
        for run_id in list(self.in_flight):
            with contextlib.suppress(Exception):
                await client.set_flow_run_state(
                    run_id, Crashed(message="the follow-up runner stopped before the run ended"), force=True
                )

    async def serve(self) -> None:
        import asyncio

        from prefect.client.orchestration import get_client

        async with get_client() as client:
            await self.apply(client)
            self.log.info("serving %s", ", ".join(d.name for d, _ in self.deployments))
            while not self.stopping.is_set():
                try:
                    await self.poll_once(client)
                except Exception as exc:  # the server restarting, or busy: ask again at the next poll
                    self.log.warning("asking for scheduled follow-ups failed: %s", exc)
                await asyncio.sleep(self.poll_seconds)
            deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS
            while self.in_flight and time.monotonic() < deadline:
                self._reap()
                await asyncio.sleep(0.2)
            await self.crash_unfinished(client)


@app.command("serve")
def serve_command(
    limit: Annotated[int, typer.Option("--limit", help="Follow-up runs at once.")] = 8,
) -> None:
    """Serve every follow-up deployment until stopped (Ctrl-C); PREFECT_API_URL must point at the server."""
    import asyncio
    import signal

    from prefect.settings import get_current_settings

    if not get_current_settings().api.url:
        typer.echo("error: PREFECT_API_URL is not set: a runner needs the Prefect server it serves", err=True)
        raise typer.Exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per poll
    poll = float(os.environ.get("LINGONG_FOLLOWUPS_POLL_SECONDS", "") or DEFAULT_POLL_SECONDS)
    runner = FollowUpRunner(build_deployments(), limit=limit, poll_seconds=poll)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: runner.stopping.set())
    names = ", ".join(d.name for d, _ in runner.deployments)
    typer.echo(f"serving {names} (poll {runner.poll_seconds:g} s)")
    asyncio.run(runner.serve())


@app.command("list")
def list_command() -> None:
    """The follow-up deployments and the events that start them."""
    for config in follow_up_configs():
        events = sorted({e for t in config.get("triggers") or [] for e in t.get("expect", [])})
        typer.echo(f"{config['name']}\t{', '.join(events)}")
