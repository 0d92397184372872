"""``lingong payroll approve RUN_ID --by NAME`` (or ``--reject``) and ``lingong payroll waiting``: answer a
payment run waiting for approval (tasks/approval.py) from a shell instead of the UI's Resume button.

Both talk to ``PREFECT_API_URL``. ``RUN_ID`` is the flow run's id (or its name, e.g. ``crimson-otter``),
as ``waiting`` lists it. The answer is the same typed input the UI's form sends; Prefect refuses one
without an approver.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from uuid import UUID

import typer

#: The deployments whose runs wait for approval.
PAYING = ("payroll-run", "end-to-end", "marketing-payout", "withdraw-funds")


async def _find(run: str) -> Any:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    async with get_client() as client:
        try:
            return await client.read_flow_run(UUID(run))
        except ValueError:
            pass
        runs = await client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[run])))
        if len(runs) != 1:
            raise typer.BadParameter(f"no single flow run named {run!r} ({len(runs)} found)", param_hint="RUN_ID")
        return runs[0]


def approve(
    run: Annotated[str, typer.Argument(help="The waiting run's id or name (lingong payroll waiting lists them).")],
    by: Annotated[str, typer.Option("--by", help="Who decides (name or staff id); recorded in the report.")],
    reject: Annotated[bool, typer.Option("--reject", help="Reject: pay nothing.")] = False,
    comment: Annotated[str, typer.Option("--comment", help="Why, for the record.")] = "",
) -> None:
    """Approve (or --reject) a payment run waiting for approval."""
    from prefect.exceptions import FlowPauseTimeout
    from prefect.flow_runs import aresume_flow_run

    if not by.strip():
        raise typer.BadParameter("must name who decides", param_hint="--by")
    flow_run = asyncio.run(_find(run))
    state = flow_run.state
    if state is None or not state.is_paused():
        typer.echo(
            f"error: run {flow_run.name} is {state.name if state else 'unknown'}, not waiting for approval", err=True
        )
        raise typer.Exit(1)
    answer = {"decision": "reject" if reject else "approve", "approver": by.strip(), "comment": comment.strip()}
    try:
        asyncio.run(aresume_flow_run(flow_run.id, run_input=answer))
    except FlowPauseTimeout:
        typer.echo(
            f"error: run {flow_run.name} waited too long and can no longer be approved; nothing was paid", err=True
        )
        raise typer.Exit(1) from None
    except RuntimeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{'rejected' if reject else 'approved'} {flow_run.name} ({flow_run.id}) as {by.strip()}")


def waiting() -> None:
    """The payment runs waiting for approval: id, name, since when."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType

    async def read() -> list[Any]:
        async with get_client() as client:
            return await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
                ),
                limit=200,
            )

    runs = asyncio.run(read())
    if not runs:
        typer.echo("no run is waiting for approval")
        return
    for flow_run in runs:
        since = flow_run.state.timestamp if flow_run.state else None
        until = flow_run.state.state_details.pause_timeout if flow_run.state else None
        typer.echo(
            f"{flow_run.id}\t{flow_run.name}\tsince {since:%Y-%m-%d %H:%M}\tuntil {until:%Y-%m-%d %H:%M}"
            if since and until
            else f"{flow_run.id}\t{flow_run.name}"
        )
