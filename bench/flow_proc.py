"""A flow run in its own process, timed from inside: ``python -m bench.flow_proc KIND --out FILE …``.

KIND is ``onboarding`` (``onboard_freelancers`` over the people of a CSV) or ``payroll`` (``payroll_run``
on a payroll CSV). The process is configured by its environment: ``LINGONG_*`` for the gateway,
``PREFECT_*`` for Prefect (``PREFECT_API_URL`` set: a running server; unset: Prefect starts its
temporary local server, the cold case). It writes one JSON object to ``--out``: seconds spent importing
(Prefect and the flow), in the flow call, in all; its own peak RSS and its children's; and the outcome.
"""

from __future__ import annotations

import time

_STARTED = time.perf_counter()  # before anything heavy is imported

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, TypeVar  # noqa: E402

T = TypeVar("T")


def _rss() -> dict[str, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "self_peak_rss_mb": usage.ru_maxrss / 1024,
        "children_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def _profiled(path: Path | None, call: Callable[[], T]) -> T:
    """``call()``, under cProfile when ``path`` is given (stats dumped there; this thread only)."""
    if path is None:
        return call()
    import cProfile

    profile = cProfile.Profile()
    try:
        return profile.runcall(call)
    finally:
        profile.dump_stats(str(path))


class _PeakSnapshots:
    """tracemalloc while the flow runs, keeping the snapshot taken nearest its peak (sampled every 0.2 s):
    where the flow process's memory is when it holds the most. Slows the process; for analysis only."""

    def __init__(self, path: Path) -> None:
        import threading
        import tracemalloc

        self.path, self.tracemalloc = path, tracemalloc
        self.best: Any = None
        self.best_size = 0
        self.stop = threading.Event()
        tracemalloc.start(1)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.2):
            current, _ = self.tracemalloc.get_traced_memory()
            if current > self.best_size * 1.05:
                self.best, self.best_size = self.tracemalloc.take_snapshot(), current
                self.best_size = self.tracemalloc.get_traced_memory()[0]

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        _, peak = self.tracemalloc.get_traced_memory()
        lines = [f"traced peak {peak / 2**20:.1f} MiB; snapshot at {self.best_size / 2**20:.1f} MiB"]
        if self.best is not None:
            for stat in self.best.statistics("lineno")[:40]:
                lines.append(f"{stat.size / 2**20:8.2f} MiB {stat.count:9d} blocks  {stat.traceback}")
        self.tracemalloc.stop()
        self.path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def onboarding(args: argparse.Namespace) -> dict[str, Any]:
    from lingong_payroll.files import read_payroll_file

    t0 = time.perf_counter()
    from flows.onboard_freelancers import onboard_freelancers
    from tasks.onboarding import Freelancer, store_people

    imported = time.perf_counter() - t0
    parsed = read_payroll_file(args.file)
    people = [
        Freelancer(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no)
        for p in parsed.payees
    ]
    t1 = time.perf_counter()
    people_ref = store_people(people, source="bench")
    report = _profiled(
        args.profile,
        lambda: asyncio.run(
            onboard_freelancers(people_ref, concurrency=args.concurrency, precheck=not args.no_precheck)
        ),
    )
    flow_s = time.perf_counter() - t1
    states = Counter(str(r.state) for r in report.results)
    return {
        "import_s": imported,
        "flow_s": flow_s,
        "people": len(people),
        "outcome": dict(states),
        "ok": states.get("READY", 0) == len(people),
    }


def payroll(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    from flows.payroll_run import payroll_run

    imported = time.perf_counter() - t0
    t1 = time.perf_counter()
    c1 = time.process_time()
    started_epoch = time.time()
    snapshots = _PeakSnapshots(args.tracemalloc) if args.tracemalloc else None
    report = _profiled(
        args.profile,
        lambda: asyncio.run(
            payroll_run(
                args.period,
                payroll_file=args.file,
                additional_ref=args.batch_ref,
                wait_timeout_seconds=args.wait_timeout,
            )
        ),
    )
    flow_s = time.perf_counter() - t1
    flow_cpu_s = time.process_time() - c1
    ended_epoch = time.time()
    if snapshots is not None:
        snapshots.close()
    counts = {str(k): v for k, v in report.counts().items()}
    return {
        "import_s": imported,
        "flow_s": flow_s,
        "flow_cpu_s": flow_cpu_s,
        "flow_epochs": [started_epoch, ended_epoch],  # wall clock, to line the flow up with the sandbox's log
        "payees": len(report.lines),
        "outcome": counts,
        "complete": bool(report.complete),
        "notes": list(report.notes),
        "ok": counts.get("PAID", 0) == len(report.lines),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.flow_proc")
    parser.add_argument("kind", choices=("onboarding", "payroll"))
    parser.add_argument("--file", required=True, help="the CSV (name,idCardNo,mobile,bankCardNo,amount)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--period", default="2026-01")
    parser.add_argument(
        "--batch-ref", default=None, help="the run's additional reference: its keys meet no other run's"
    )
    parser.add_argument("--wait-timeout", type=float, default=900.0)
    parser.add_argument("--profile", type=Path, default=None, help="run the flow under cProfile, stats to this file")
    parser.add_argument("--concurrency", type=int, default=16, help="onboarding: people in flight")
    parser.add_argument(
        "--no-precheck", action="store_true", help="onboarding: no SFT0103 first (as payroll_run onboards new people)"
    )
    parser.add_argument(
        "--tracemalloc", type=Path, default=None, help="trace allocations; the top lines near the peak to this file"
    )
    args = parser.parse_args(argv)
    result: dict[str, Any]
    try:
        result = onboarding(args) if args.kind == "onboarding" else payroll(args)
        status = 0
    except Exception as exc:
        result = {"error": f"{type(exc).__name__}: {exc}"[:2000], "ok": False}
        status = 1
    result["total_s"] = time.perf_counter() - _STARTED
    result.update(_rss())
    args.out.write_text(json.dumps(result, default=str, indent=2), encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
