"""The sandbox in its own process, so it has its own interpreter (and GIL) beside the client's.

Parent side: :class:`SandboxProcess` (a context manager) starts ``python -m bench.sandbox_proc …``, reads
``READY <base_url>`` from its stdout, and stops it on exit (stdin closed, then SIGTERM, then SIGKILL).
It can read the child's CPU seconds and peak RSS from ``/proc`` while it runs.

Child side: :func:`main` runs :class:`lingong_sandbox.server.SandboxServer` on 127.0.0.1 and a free port
with the keys and settings given, and serves until its stdin closes or it is told to stop.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from .harness import ROOT, cpu_seconds, peak_rss_mb

STARTUP_TIMEOUT = 60.0
ONBOARD_TIMEOUT = 3600.0  # with people to onboard in-process first (100,000 take minutes on a loaded machine)


class SandboxProcess:
    """A sandbox in a child process, on loopback. Keys are PEM files; the merchant's public key is registered."""

    def __init__(
        self,
        *,
        merchant_public_key: Path,
        platform_private_key: Path,
        time_scale: float = 1000.0,
        seed: int = 0,
        db: str = ":memory:",
        log: Path | None = None,
        onboard: Path | None = None,
    ) -> None:
        self.args = [
            sys.executable,
            "-m",
            "bench.sandbox_proc",
            "--merchant-public-key",
            str(merchant_public_key),
            "--platform-private-key",
            str(platform_private_key),
            "--time-scale",
            repr(time_scale),
            "--seed",
            str(seed),
            "--db",
            db,
            *(["--onboard", str(onboard)] if onboard is not None else []),
        ]
        self.startup_timeout = STARTUP_TIMEOUT if onboard is None else ONBOARD_TIMEOUT
        self.log = log
        self.proc: subprocess.Popen[str] | None = None
        self.base_url = ""
        self._http: httpx.Client | None = None

    def start(self) -> SandboxProcess:
        stderr: Any = subprocess.DEVNULL
        if self.log is not None:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            stderr = self.log.open("a", encoding="utf-8")
        self.proc = subprocess.Popen(
            self.args,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        if stderr is not subprocess.DEVNULL:
            stderr.close()
        line = _readline(self.proc, self.startup_timeout)
        if not line.startswith("READY "):
            self.stop()
            raise RuntimeError(f"the sandbox process did not start: {line!r}")
        self.base_url = line.split()[1]
        self._http = httpx.Client(base_url=self.base_url, timeout=60.0, trust_env=False)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid) or 0.0

    def peak_rss_mb(self) -> float | None:
        return peak_rss_mb(self.pid)

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        from lingong_core import jsoncodec

        assert self._http is not None
        content = None if body is None else jsoncodec.dumps(body)
        response = self._http.request(method, "/sandbox/admin/" + path, content=content)
        response.raise_for_status()
        return jsoncodec.loads(response.content)

    def last_request_id(self) -> int:
        """The id of the newest entry in the sandbox's request log (0 if none)."""
        since = 0
        while True:  # the log is read oldest first: page to its end
            page = self.admin("GET", f"requests?sinceId={since}&limit=100000")["list"]
            if not page:
                return since
            since = int(page[-1]["id"])

    def request_stats(self, since_id: int) -> dict[str, Any]:
        """What the sandbox logged after ``since_id``: calls by apiCode and answer code, and its own time."""
        by_api: Counter[str] = Counter()
        by_code: Counter[str] = Counter()
        ms_by_api: dict[str, float] = {}
        sandbox_ms = 0.0
        first = last = None
        since = since_id
        while True:
            page = self.admin("GET", f"requests?sinceId={since}&limit=100000")["list"]
            if not page:
                break
            for item in page:
                by_api[str(item["apiCode"])] += 1
                by_code[str(item["code"])] += 1
                sandbox_ms += float(item["durationMs"])
                ms_by_api[str(item["apiCode"])] = ms_by_api.get(str(item["apiCode"]), 0.0) + float(item["durationMs"])
                first = first if first is not None else float(item["epoch"])
                last = float(item["epoch"])
            since = int(page[-1]["id"])
        return {
            "calls": sum(by_api.values()),
            "by_api": dict(sorted(by_api.items())),
            "by_code": dict(sorted(by_code.items())),
            "sandbox_handling_s": sandbox_ms / 1000,
            "handling_s_by_api": {k: round(v / 1000, 3) for k, v in sorted(ms_by_api.items())},
            "first_to_last_s": (last - first) if first is not None and last is not None else 0.0,
            "last_id": since,
        }

    def stop(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(OSError):
            if proc.stdin is not None:
                proc.stdin.close()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _readline(proc: subprocess.Popen[str], timeout: float) -> str:
    """The child's first line of stdout, or "" if it says nothing in time (or dies)."""
    box: list[str] = []
    reader = threading.Thread(target=lambda: box.append(proc.stdout.readline() if proc.stdout else ""), daemon=True)
    reader.start()
    reader.join(timeout)
    return box[0].strip() if box else ""


# --- the child ---------------------------------------------------------------------------------------------------


def _wait_for_eof(stop: threading.Event) -> None:
    """The parent closing our stdin (or dying) is the signal to stop."""
    sys.stdin.read()
    stop.set()


def onboard_in_process(sandbox: Any, merchant_no: str, people_csv: Path, tax_base_code: str = "2000064001") -> int:
    """Onboard every person of ``people_csv`` straight through the engine (no HTTP, no signatures): the
    one-call verification and signing (SFT0109) and the card bind (SFT0203), then the background's due
    transitions an hour ahead so every contract is SIGNED. A benchmark's set-up: what the floor and the flow
    pay is the same either way, and 100,000 people take minutes here instead of an hour over HTTP."""
    import csv
    from datetime import timedelta

    from lingong_core.timeutil import now

    with people_csv.open(encoding="utf-8", newline="") as f:
        people = list(csv.DictReader(f))
    for start in range(0, len(people), 1000):
        with sandbox.db.transaction() as conn:
            for p in people[start : start + 1000]:
                ident = {"name": p["name"], "idCardNo": p["idCardNo"], "mobile": p["mobile"]}
                sandbox.engine.handle(conn, merchant_no, "SFT0109", {**ident, "taxBaseCode": tax_base_code})
                sandbox.engine.handle(conn, merchant_no, "SFT0203", {**ident, "bankCardNo": p["bankCardNo"]})
    with sandbox.db.transaction() as conn:
        sandbox.engine.run_due(conn, now() + timedelta(hours=1))
    return len(people)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sandbox_proc")
    parser.add_argument("--merchant-public-key", type=Path, required=True)
    parser.add_argument("--platform-private-key", type=Path, required=True)
    parser.add_argument("--time-scale", type=float, default=1000.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--db", default=":memory:")
    parser.add_argument(
        "--onboard",
        type=Path,
        default=None,
        help="a CSV (name,idCardNo,mobile,bankCardNo,…) of people to onboard in-process before serving (set-up)",
    )
    args = parser.parse_args(argv)

    from lingong_core.signing import load_private_key
    from lingong_sandbox.server import SandboxServer
    from lingong_sandbox.settings import SandboxSettings

    settings = SandboxSettings(time_scale=args.time_scale, seed=args.seed)
    settings.merchant.public_key_pem = args.merchant_public_key.read_text(encoding="ascii")
    server = SandboxServer(
        settings,
        platform_private_key=load_private_key(args.platform_private_key.read_text(encoding="ascii")),
        db_path=args.db,
        host="127.0.0.1",
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    if args.onboard is not None:
        assert server.app is not None
        onboard_in_process(server.app.sandbox, settings.merchant.merchant_no, args.onboard)
    try:
        print(f"READY {server.base_url}", flush=True)
        threading.Thread(target=_wait_for_eof, args=(stop,), daemon=True).start()
        stop.wait()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
