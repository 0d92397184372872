"""Scenario ``followup``: a notification's follow-up, from the receiver's acknowledgement to its run Running.

On the whole stack (``lingong stack up``: Prefect server, the sandbox, the receiver, the follow-ups served
by one long-lived runner, lingong_cli/followups.py): one person is onboarded through the platform so a
real contract exists and its 8001 is known; then ``N`` fresh, validly signed 8001 notifications about
that contract are posted to the receiver, one at a time, each once the previous follow-up finished.
The figure per notification is the time from the receiver's ``success`` answer (the platform's view:
acknowledged) to the ``start_time`` Prefect records for the contract-signed run it started (Running).

``BENCH_STACK_DIR=.state/stack python -m bench --only followup`` measures on a stack already running
(``make up``); without it the scenario starts a stack of its own on free ports and stops it after.
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


def _signed_contract(stack: Any) -> dict[str, Any]:
    """A real 8001 the sandbox sent (onboarding one person first if there is none yet)."""
    from lingong_sandbox.people import team
    from tests.integration.stack_helpers import eventually, notifications, start_run, wait_run

    found = notifications(stack, "8001")
    if not found:
        person = team(1, seed=9401)[0]
        people = [
            {"name": person.name, "id_card_no": person.id_card_no, "mobile": person.mobile,
             "bank_card_no": person.bank_card_no}
        ]  # fmt: skip
        wait_run(stack, start_run(stack, "onboard-freelancers/onboard-freelancers", {"people": people}), timeout=300)
        found = eventually(lambda: notifications(stack, "8001"), bool, "the onboarding's 8001", timeout=120)
    return found[0]


def measure(stack: Any, count: int, ctx: Context) -> list[float]:
    from prefect.client.schemas.objects import FlowRun

    from lingong_core.signing import load_private_key
    from tests.integration.stack_helpers import eventually, notification_body, notify, runs_of, wait_run

    signed = _signed_contract(stack)
    key = load_private_key((stack.config.keys_dir / "platform_private.pem").read_text())
    latencies: list[float] = []
    for i in range(count):
        # Quiet first: every earlier contract-signed run final, so the first new run is this notification's.
        before = {
            r.id
            for r in eventually(
                lambda: runs_of(stack, "contract-signed"),
                lambda runs: all(r.state is not None and r.state.is_final() for r in runs),
                "earlier follow-ups final",
                timeout=300,
            )
        }
        body = notification_body(key, "8001", f"N-BENCH-{time.time_ns()}-{i}", signed["bizModel"], signed["merchantNo"])
        answer = notify(stack, body)
        acked = datetime.now(UTC)
        if (answer.status_code, answer.text) != (200, "success"):
            raise RuntimeError(f"the receiver answered {answer.status_code} {answer.text[:200]}")

        def started(seen: set[Any] = before) -> list[FlowRun]:
            return [r for r in runs_of(stack, "contract-signed") if r.id not in seen and r.start_time is not None]

        (flow_run,) = eventually(started, bool, "the follow-up's run Running", timeout=120)[:1]
        assert flow_run.start_time is not None
        latency = (flow_run.start_time - acked).total_seconds()
        latencies.append(latency)
        ctx.log(f"followup: notification {i + 1}/{count} → Running in {latency:.2f} s")
        wait_run(stack, flow_run.id, timeout=180)
    return latencies


def run(ctx: Context) -> list[Result]:
    from lingong_cli.stack import StackConfig, load_config, running, up

    count = 5 if ctx.quick else 20
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
        latencies = measure(stack, count, ctx)
        wall = time.perf_counter() - started
    median, p95 = statistics.median(latencies), _percentile(latencies, 0.95)
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
                "follow-ups served by one runner, PREFECT_RUNNER_POLL_FREQUENCY=1)"
            ),
            details={"latencies_s": [round(x, 3) for x in latencies], "median_s": median, "p95_s": p95},
        )
    ]
