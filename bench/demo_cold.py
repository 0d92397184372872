"""Scenario 5, the cold start of ``make demo``: from the command to its exit, on a fresh ``PREFECT_HOME``.

``make demo PREFECT_HOME=<empty folder>`` (a make command-line variable outranks the Makefile's own
``export``), with no ``PREFECT_API_URL``: Prefect has to create its database and start its temporary
server, as on a first run. A second run on the same home follows (``demo/warm``). The project's other
state (``.state/`` outside Prefect's home, the virtualenv) is as earlier runs left it: the virtualenv
is not rebuilt — ``make`` finds it installed.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from .flowrun import fresh_dir
from .harness import ROOT, Context, Result, TreeSampler, skipped
from .prefect_server import prefect_env

NAME = "demo_cold"
TARGET_S = 60.0
TIMEOUT = 900.0


def demo_missing() -> str | None:
    source = (ROOT / "lingong_cli" / "demo.py").read_text(encoding="utf-8")
    if "flows" not in source.replace("Until the flows land", ""):
        return "flows not available yet (lingong demo is still the placeholder that only signs one request)"
    return None


def _make_demo(ctx: Context, home: Path, tag: str) -> tuple[float, int, float, Path]:
    log = ctx.state / f"demo-{tag}.log"
    env = prefect_env(home, None)
    with log.open("wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            ["make", "--no-print-directory", "demo", f"PREFECT_HOME={home}"],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            with TreeSampler(lambda: [proc.pid]) as sampler:
                proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        wall = time.perf_counter() - t0
    return wall, proc.returncode, sampler.peak_mb, log


def run(ctx: Context) -> list[Result]:
    missing = demo_missing()
    if missing:
        return [skipped(NAME, "demo/cold", missing, target=f"< {TARGET_S:.0f} s")]
    home = fresh_dir(ctx.state / "prefect-demo")
    results = []
    for tag in ("cold", "warm"):
        ctx.log(f"demo_cold: make demo ({tag} PREFECT_HOME)")
        wall, code, peak, log = _make_demo(ctx, home, tag)
        results.append(
            Result(
                NAME,
                f"demo/{tag}",
                status="ok" if code == 0 else "failed",
                wall_s=wall,
                child_peak_rss_mb=peak,
                target=f"< {TARGET_S:.0f} s" if tag == "cold" else None,
                met=(code == 0 and wall < TARGET_S) if tag == "cold" else None,
                note=f"`make demo` start to exit, {'fresh' if tag == 'cold' else 'the same'} PREFECT_HOME, no server; "
                f"peak RSS of its process tree (sampled) {peak:.0f} MB"
                + ("" if code == 0 else f"; exit {code}, see {log}"),
                details={"log": str(log), "exit": code},
            )
        )
    return results
