"""Scenario first_payroll: the first payroll of N people the platform has never seen (10,000; 40 with
``--quick``; ``LINGONG_BENCH_FIRST_PAYROLL_SIZE``), against a running local Prefect server.

Issue 20: such a payroll once failed — ``payroll_run`` started its ``onboard_freelancers`` subflow with the
people as a 1.2 MB parameter and the server refused it (HTTP 422, over 512 KiB). The people now travel as
a payee-store reference. Rows, each on a fresh sandbox (time compressed 1000-fold, funded):

- ``first_payroll/N-new-server``: ``payroll_run`` on a file of N new people: SFT0501 refuses them (not
  verified), the subflow onboards them, the re-check passes, everyone is paid. ``ok`` only if all N are PAID.
- ``first_payroll/onboarding-N-c4-floor``: the bare loop (:func:`bench.floor.onboard_bare`) onboarding the
  same N people at its best concurrency (4), five calls each.
- ``first_payroll/onboarding-N-server``: ``onboard_freelancers`` as ``payroll_run`` calls it for people the
  platform has just refused (no SFT0103 pre-check), against the server; its ratio to the floor above
  (target ≤ 1.2×). Measured right after the floor, so both see the same load.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from pathlib import Path

from lingong_sandbox.people import Person, team

from .floor import BEST_CONCURRENCY, CALLS_PER_PERSON, TIME_SCALE, measure_onboarding_floor, start_sandbox
from .flowrun import amounts, flow_env, flow_missing, fresh_dir, run_flow_process, write_payroll_csv
from .harness import Context, Result, skipped
from .payroll import fund
from .prefect_server import PrefectServer

NAME = "first_payroll"
ONBOARDING_TARGET = 1.2
SEED = 20  # people no other scenario uses


def size(ctx: Context) -> int:
    return ctx.size(40, int(os.environ.get("LINGONG_BENCH_FIRST_PAYROLL_SIZE", "10000")))


def run(ctx: Context) -> list[Result]:
    n = size(ctx)
    missing = flow_missing("payroll_run", "payroll_run")
    if missing:
        return [skipped(NAME, f"{NAME}/{n}-new-server", missing)]
    people = team(n, seed=SEED)
    csv = write_payroll_csv(ctx.state / f"first-payroll-{n}.csv", people, amounts(n, seed=SEED))
    results: list[Result] = []
    with PrefectServer(fresh_dir(ctx.state / "prefect-server"), ctx.state / "prefect-server.log") as server:
        if os.environ.get("LINGONG_BENCH_FIRST_PAYROLL_PAY", "1") != "0":
            results.append(first_payroll(ctx, server, csv, n))
        if os.environ.get("LINGONG_BENCH_FIRST_PAYROLL_ONBOARDING", "1") != "0":
            m = int(os.environ.get("LINGONG_BENCH_ONBOARDING_SIZE", str(n)))
            ctx.log(f"first_payroll: the bare loop onboarding {m:,} new people at concurrency {BEST_CONCURRENCY}")
            floor = measure_onboarding_floor(ctx, people[:m], BEST_CONCURRENCY)
            floor.scenario, floor.name = NAME, f"{NAME}/onboarding-{m}-c{BEST_CONCURRENCY}-floor"
            results.append(floor)
            results.append(onboarding_flow(ctx, server, people, m, floor))
    return results


def first_payroll(ctx: Context, server: PrefectServer, csv: Path, n: int) -> Result:
    ctx.log(f"first_payroll: payroll_run for {n:,} people the platform has never seen")
    with start_sandbox(ctx, time_scale=TIME_SCALE) as sandbox:
        asyncio.run(fund(sandbox.base_url, ctx.key("merchant"), "9000000000.00"))
        tag = f"first-payroll-{n}"
        flow = run_flow_process(
            ctx,
            "payroll",
            ["--file", str(csv), "--period", "2026-06", "--batch-ref", tag],
            env=flow_env(ctx, sandbox, home=server.home, api_url=server.api_url, tag=tag),
            tag=tag,
            also_sample=lambda: [sandbox.pid, server.pid],
        )
        stats = sandbox.request_stats(0)
    child = flow.child
    flow_s = float(child.get("flow_s") or flow.wall_s)
    return Result(
        NAME,
        f"{NAME}/{n}-new-server",
        status="ok" if flow.ok else "failed",
        wall_s=flow_s,
        calls=stats["calls"],
        peak_rss_mb=child.get("self_peak_rss_mb"),
        child_peak_rss_mb=flow.tree_peak_mb,
        target="completes, everyone PAID (issue 20)",
        met=flow.ok,
        note=(
            f"payroll_run for {n:,} people never seen: onboarded by its subflow and paid in {flow_s:.1f} s "
            f"(process {flow.wall_s:.1f} s); outcome {child.get('outcome')}; calls {stats['by_api']}"
            + ("" if flow.ok else f"; FAILED: {flow.error()}")
        ),
        details={"payees": n, "child": child, "sandbox": stats, "log": str(flow.log)},
    )


def onboarding_flow(ctx: Context, server: PrefectServer, people: list[Person], m: int, floor: Result) -> Result:
    csv = write_payroll_csv(ctx.state / f"first-onboarding-{m}.csv", people[:m], amounts(m, seed=SEED))
    ctx.log(f"first_payroll: onboard_freelancers for {m:,} new people (no pre-check, as payroll_run calls it)")
    with start_sandbox(ctx) as sandbox:
        tag = f"first-onboarding-{m}"
        flow = run_flow_process(
            ctx,
            "onboarding",
            ["--file", str(csv), "--no-precheck"],
            env=flow_env(ctx, sandbox, home=server.home, api_url=server.api_url, tag=tag),
            tag=tag,
            also_sample=lambda: [sandbox.pid, server.pid],
        )
        stats = sandbox.request_stats(0)
    child = flow.child
    flow_s = float(child.get("flow_s") or flow.wall_s)
    ratio = flow_s / floor.wall_s if floor.wall_s else None
    by_api: Counter[str] = Counter(stats["by_api"])
    return Result(
        NAME,
        f"{NAME}/onboarding-{m}-server",
        status="ok" if flow.ok else "failed",
        wall_s=flow_s,
        calls=stats["calls"],
        peak_rss_mb=child.get("self_peak_rss_mb"),
        child_peak_rss_mb=flow.tree_peak_mb,
        ratio=ratio,
        ratio_to=f"bare loop at concurrency {BEST_CONCURRENCY} ({floor.wall_s:.1f} s)",
        target=f"≤ {ONBOARDING_TARGET}× the bare loop at its best concurrency",
        met=None if ratio is None else (flow.ok and ratio <= ONBOARDING_TARGET),
        note=(
            f"onboard_freelancers(precheck=False) for {m:,} new people: {flow_s:.1f} s, {stats['calls']:,} calls "
            f"({stats['calls'] / m:.1f} per person vs the bare loop's {CALLS_PER_PERSON}: {dict(by_api)}); "
            f"outcome {child.get('outcome')}" + ("" if flow.ok else f"; FAILED: {flow.error()}")
        ),
        details={"people": m, "child": child, "sandbox": stats, "floor_wall_s": floor.wall_s, "log": str(flow.log)},
    )
