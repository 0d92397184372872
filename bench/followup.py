"""Scenario ``followup``: a notification's follow-up, from the receiver's acknowledgement to its run Running.

On the whole stack (``lingong stack up``: Prefect server, the sandbox, the receiver, the follow-ups run
inside one long-lived runner's process, lingong_cli/followups.py), ``N`` times, one after the other: a new
person is onboarded straight through the platform (no flow run, so the contract belongs to no onboarding
batch and its 8001 starts a run of its own), the sandbox signs the contract and sends its 8001, and the
figure is the time from the receiver's acknowledgement of that delivery (the sandbox's ``ackTime``) to the
``start_time`` Prefect records for the contract-signed run it started (Running). Each also splits into the
server's part (acknowledged → the automation created the run) and the runner's (created → Running).

``BENCH_STACK_DIR=.state/stack python -m bench --only followup`` measures on a stack already running
(``make up``); without it the scenario starts a stack of its own on free ports and stops it after.
``LINGONG_BENCH_FOLLOWUPS`` sets ``N`` (default 20; 5 with ``--quick``).
Target: median and p95 under 5 s on this 2-core machine.
"""

from __future__ import annotations

import os
import socket
import statistics
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .harness import Context, Result

NAME = "followup"
TARGET_S = 5.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[rank]


def _ack_time(notification: dict[str, Any]) -> datetime:
    """When the receiver acknowledged the sandbox's delivery (its ``ackTime``, Shanghai time, ms)."""
    from lingong_core.timeutil import parse_datetime

    return parse_datetime(str(notification["ackTime"]), field="ackTime").astimezone(UTC)


async def _sign_up(stack: Any, seed: int) -> str:
    """One new person onboarded straight through the platform (no flow run: no onboarding batch to join),
    so the platform signs a new contract and sends its 8001; return its contractNo."""
    from lingong_core.config import LingongSettings
    from lingong_sandbox.people import team
    from tasks.onboarding import Freelancer, onboard_one

    env = stack.env
    settings = LingongSettings(
        base_url=env["LINGONG_BASE_URL"],
        merchant_no=env["LINGONG_MERCHANT_NO"],
        private_key_file=env["LINGONG_PRIVATE_KEY_FILE"],
    )
    person = team(1, seed=seed)[0]
    async with settings.async_client() as client:
        result = await onboard_one(
            client,
            Freelancer(
                name=person.name, id_card_no=person.id_card_no, mobile=person.mobile, bank_card_no=person.bank_card_no
            ),
            "2000064001",
        )
    if not result.contract_no:
        raise RuntimeError(f"onboarding for the bench refused: {result.reason}")
    return result.contract_no


def measure(stack: Any, count: int, ctx: Context, split: list[tuple[float, float]]) -> list[float]:
    """Latencies, the receiver's acknowledgement of a contract's 8001 → its follow-up Running, one at a time;
    ``split`` gets (→ run created, created → Running) of each."""
    import asyncio

    from tests.integration.stack_helpers import eventually, notifications, runs_of, wait_run

    latencies: list[float] = []
    seed = 940_000 + int(time.time()) % 50_000 * 10
    for i in range(count):
        contract_no = asyncio.run(_sign_up(stack, seed + i))

        def delivered(no: str = contract_no) -> list[dict[str, Any]]:
            return [
                n
                for n in notifications(stack, "8001")
                if n["biz"].get("contractNo") == no and n.get("status") == "ACKED" and n.get("ackTime")
            ][:1]

        (signed,) = eventually(delivered, bool, f"the 8001 of {contract_no}", timeout=180)
        acked = _ack_time(signed)

        def started(no: str = contract_no) -> list[Any]:
            return [
                r
                for r in runs_of(stack, "contract-signed")
                if r.parameters.get("contract_no") == no and r.start_time is not None
            ]

        flow_run = eventually(started, bool, f"the follow-up of {contract_no} Running", timeout=180)[0]
        latency = (flow_run.start_time - acked).total_seconds()
        latencies.append(latency)
        if flow_run.created is not None:  # where the time went: the server's automation, then the runner
            split.append(
                ((flow_run.created - acked).total_seconds(), (flow_run.start_time - flow_run.created).total_seconds())
            )
        ctx.log(f"followup: notification {i + 1}/{count} → Running in {latency:.2f} s")
        wait_run(stack, flow_run.id, timeout=180)
    return latencies


def run(ctx: Context) -> list[Result]:
    from lingong_cli.stack import StackConfig, load_config, running, up

    count = 5 if ctx.quick else int(os.environ.get("LINGONG_BENCH_FOLLOWUPS", "") or 20)
    with ExitStack() as stack_scope:
        existing = os.environ.get("BENCH_STACK_DIR")
        if existing:
            stack = up(load_config(Path(existing)), ctx.log)
        else:
            state = Path(stack_scope.enter_context(tempfile.TemporaryDirectory(prefix="bench-stack-")))
            config = StackConfig(
                state_dir=state, prefect_port=_free_port(), sandbox_port=_free_port(), receiver_port=_free_port()
            )
            stack = stack_scope.enter_context(running(config, ctx.log))
        started = time.perf_counter()
        split: list[tuple[float, float]] = []
        latencies = measure(stack, count, ctx, split)
        wall = time.perf_counter() - started
    median, p95 = statistics.median(latencies), _percentile(latencies, 0.95)
    automation = [a for a, _ in split] or [0.0]
    runner = [r for _, r in split] or [0.0]
    return [
        Result(
            NAME,
            "followup/notification-to-running",
            wall_s=round(wall, 3),
            calls=len(latencies),
            target=f"median and p95 < {TARGET_S:g} s",
            met=median < TARGET_S and p95 < TARGET_S,
            note=(
                f"notification → follow-up running: median {median:.2f} s, p95 {p95:.2f} s, "
                f"max {max(latencies):.2f} s over {len(latencies)} notifications (receiver's answer → run Running; "
                f"of which the server's automation, → run created: median {statistics.median(automation):.2f} s, "
                f"p95 {_percentile(automation, 0.95):.2f} s; the runner, created → Running: median "
                f"{statistics.median(runner):.2f} s, p95 {_percentile(runner, 0.95):.2f} s; "
                "follow-ups run in the long-lived runner's process, polling every 0.5 s; "
                f"1-minute load average {os.getloadavg()[0]:.1f} at the end on {os.cpu_count()} cores)"
            ),
            details={
                "latencies_s": [round(x, 3) for x in latencies],
                "median_s": median,
                "p95_s": p95,
                "automation_s": [round(a, 3) for a in automation],
                "runner_s": [round(r, 3) for r in runner],
            },
        )
    ]
