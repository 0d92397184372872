"""Scenario 3, onboarding: ``onboard_freelancers`` for N people (1,000; 40 with ``--quick``) against a running
local Prefect server, compared with the floor (:mod:`bench.floor`) for the same people in the same run.

Both start from a fresh sandbox process (time compressed 1000-fold, no added latency). The flow runs in
its own process with ``PREFECT_API_URL`` pointing at ``prefect server start`` on loopback. The figure is
the flow call's own time, measured inside that process (Prefect's import and the client's start-up are
in the details, not in the ratio); the calls are what the sandbox logged for the run, so a flow that
makes more calls per person than the floor's five shows it.
"""

from __future__ import annotations

from lingong_sandbox.people import team

from .floor import BEST_CONCURRENCY, CALLS_PER_PERSON, floor_for, start_sandbox
from .flowrun import amounts, flow_env, flow_missing, fresh_dir, run_flow_process, write_payroll_csv
from .harness import Context, Result, skipped
from .prefect_server import PrefectServer

NAME = "onboarding"
TARGET = 2.0


def run(ctx: Context) -> list[Result]:
    n = ctx.size(40, 1000)
    row = f"onboarding/{n}-server"
    target = f"≤ {TARGET}× floor"
    missing = flow_missing("onboard_freelancers", "onboard_freelancers")
    if missing:
        return [skipped(NAME, row, missing, target=target)]
    floor = floor_for(ctx, n)
    people = team(n, seed=0)  # the floor's people, on a fresh sandbox
    csv = write_payroll_csv(ctx.state / f"people-{n}.csv", people, amounts(n, seed=0))
    ctx.log(f"onboarding: onboard_freelancers for {n} people against a running Prefect server")
    with (
        PrefectServer(fresh_dir(ctx.state / "prefect-server"), ctx.state / "prefect-server.log") as server,
        start_sandbox(ctx) as sandbox,
    ):
        since = sandbox.last_request_id()
        env = flow_env(ctx, sandbox, home=server.home, api_url=server.api_url, tag=f"onboarding-{n}")
        cpu0 = sandbox.cpu_seconds()
        flow = run_flow_process(
            ctx,
            "onboarding",
            ["--file", str(csv)],
            env=env,
            tag=f"onboarding-{n}",
            also_sample=lambda: [sandbox.pid, server.pid],
        )
        sandbox_cpu = sandbox.cpu_seconds() - cpu0
        stats = sandbox.request_stats(since)
    child = flow.child
    flow_s = float(child.get("flow_s") or flow.wall_s)
    best: Result | None = ctx.shared.get("onboarding_floor", {}).get((n, BEST_CONCURRENCY))
    versus_best = (
        f"; against the bare loop at concurrency {BEST_CONCURRENCY} ({best.wall_s:.1f} s): {flow_s / best.wall_s:.2f}×"
        if best is not None and best.wall_s
        else ""
    )
    ratio = flow_s / floor.wall_s if floor.wall_s else None
    per_call_flow = flow_s / stats["calls"] if stats["calls"] else None
    per_call_floor = floor.wall_s / floor.calls if floor.wall_s and floor.calls else None
    return [
        Result(
            NAME,
            row,
            status="ok" if flow.ok else "failed",
            wall_s=flow_s,
            calls=stats["calls"],
            peak_rss_mb=child.get("self_peak_rss_mb"),
            child_peak_rss_mb=flow.tree_peak_mb,
            ratio=ratio,
            ratio_to=f"floor ({floor.calls:,} calls, {floor.wall_s:.1f} s)",
            target=target,
            met=None if ratio is None else (ratio <= TARGET and flow.ok),
            note=(
                f"the flow call took {flow_s:.1f} s for {n} people and {stats['calls']:,} calls "
                f"({stats['calls'] / n:.1f} per person vs the floor's {CALLS_PER_PERSON}); per call "
                f"{(per_call_flow or 0) * 1e3:.2f} ms vs the floor's {(per_call_floor or 0) * 1e3:.2f} ms; "
                f"whole process {flow.wall_s:.1f} s (import {float(child.get('import_s') or 0):.1f} s); "
                f"Prefect server healthy after {server.startup_s:.1f} s"
                + versus_best
                + ("" if flow.ok else f"; FAILED: {flow.error()}")
            ),
            details={
                "people": n,
                "flow_s": flow_s,
                "process_wall_s": flow.wall_s,
                "child": child,
                "sandbox": stats,
                "sandbox_cpu_s": sandbox_cpu,
                "sandbox_and_server_peak_mb": flow.extra_pids_peak_mb,
                "prefect_server_startup_s": server.startup_s,
                "floor_wall_s": floor.wall_s,
                "floor_calls": floor.calls,
                "log": str(flow.log),
            },
        )
    ]
