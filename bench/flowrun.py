"""What the flow scenarios share: is the flow there yet, the CSV they read, and one flow run in a child process."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from lingong_sandbox.people import Person
from lingong_sandbox.settings import DEFAULT_MERCHANT_NO

from .harness import ROOT, Context, TreeSampler
from .prefect_server import prefect_env
from .sandbox_proc import SandboxProcess

FLOW_TIMEOUT = 1800.0  # seconds: one flow process is stopped after this, whatever it is doing


def flow_missing(module: str, attr: str) -> str | None:
    """Why ``flows.<module>.<attr>`` cannot be benchmarked yet, or None if it is there (found without importing)."""
    try:
        spec = importlib.util.find_spec(f"flows.{module}")
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None:
        return "flows not available yet"
    source = Path(spec.origin).read_text(encoding="utf-8")
    if f"def {attr}(" not in source:
        return f"flows not available yet (flows/{module}.py has no {attr})"
    return None


def amounts(n: int, seed: int) -> list[Decimal]:
    """Payouts between 100.00 and 5,000.00 yuan, deterministic for a seed."""
    rng = random.Random(seed)
    return [Decimal(rng.randint(10_000, 500_000)) / 100 for _ in range(n)]


def write_payroll_csv(path: Path, people: Sequence[Person], pay: Sequence[Decimal]) -> Path:
    """The payroll file: ``name,idCardNo,mobile,bankCardNo,amount``, UTF-8."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["name,idCardNo,mobile,bankCardNo,amount"]
    lines += [f"{p.name},{p.id_card_no},{p.mobile},{p.bank_card_no},{a:.2f}" for p, a in zip(people, pay, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def lingong_env(ctx: Context, sandbox: SandboxProcess) -> dict[str, str]:
    keys = ctx.pem_files()
    return {
        "LINGONG_BASE_URL": sandbox.base_url,
        "LINGONG_MERCHANT_NO": DEFAULT_MERCHANT_NO,
        "LINGONG_PRIVATE_KEY_FILE": str(keys["merchant_private"]),
        "LINGONG_PLATFORM_PUBLIC_KEY_FILE": str(keys["platform_public"]),
    }


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class FlowRun:
    """One flow process: the parent's wall time, what the child measured, and the sampled memory."""

    wall_s: float
    child: dict[str, Any]
    tree_peak_mb: float
    returncode: int
    log: Path
    extra_pids_peak_mb: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and bool(self.child.get("ok"))

    def error(self) -> str:
        if "error" in self.child:
            return str(self.child["error"])
        if self.returncode != 0:
            return f"flow process exited {self.returncode}; see {self.log}"
        return f"outcome {self.child.get('outcome')}"


def run_flow_process(
    ctx: Context,
    kind: str,
    args: Iterable[str],
    *,
    env: dict[str, str],
    tag: str,
    also_sample: Callable[[], Iterable[int]] = lambda: (),
) -> FlowRun:
    """``python -m bench.flow_proc KIND …`` with ``env``; its tree's RSS is sampled while it runs."""
    out = ctx.state / f"flow-{tag}.json"
    log = ctx.state / f"flow-{tag}.log"
    out.unlink(missing_ok=True)
    with log.open("wb") as log_fh:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.flow_proc", kind, "--out", str(out), *args],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log_fh,
            stderr=subprocess.STDOUT,
            env={**env, "PYTHONPATH": str(ROOT)},
        )
        try:
            with TreeSampler(lambda: [proc.pid]) as sampler, TreeSampler(also_sample) as others:
                proc.wait(FLOW_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        wall = time.perf_counter() - t0
    try:
        child = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        child = {"error": f"no result from the flow process (exit {proc.returncode}); see {log}"}
    return FlowRun(wall, child, sampler.peak_mb, proc.returncode, log, others.peak_mb)


def flow_env(ctx: Context, sandbox: SandboxProcess, *, home: Path, api_url: str | None, tag: str) -> dict[str, str]:
    """Environment of a flow process: Prefect (server or none), the gateway, a fresh journal."""
    env = prefect_env(home, api_url)
    env.update(lingong_env(ctx, sandbox))
    env["LINGONG_JOURNAL_DB"] = str(ctx.state / f"journal-{tag}.db")
    (ctx.state / f"journal-{tag}.db").unlink(missing_ok=True)
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


def loadavg() -> float:
    return round(os.getloadavg()[0], 2)
