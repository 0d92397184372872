"""Scenario receiver: the notification receiver's throughput — notifications acknowledged per second and
the latency of each acknowledgement — on SQLite and on PostgreSQL.

The receiver runs as in production, ``lingong notify serve`` in its own process (uvicorn, one worker),
recording into a SQLite file (WAL, ``synchronous=FULL``) or into a PostgreSQL database on a private
cluster on loopback (``tests/pg_cluster.py`` with ``durable=True``: PostgreSQL's defaults, ``fsync=on``,
``synchronous_commit=on``), so every acknowledgement waits for its commit to reach the disk on both. It
has no ``PREFECT_API_URL``: events stay pending, and what is measured is verify + record + answer, the
part that must finish before ``success``. The client posts distinct 3001 notifications (each its own
order), signed with RSA-2048 beforehand, ``CONCURRENCY`` at a time over HTTP/1.1 keep-alive; a row counts
the deliveries answered ``success`` and reports p50/p99 of their latencies. Without PostgreSQL's binaries
(or ``LINGONG_TEST_POSTGRES_URL``) the PostgreSQL row is skipped, saying why.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from lingong_core import jsoncodec
from lingong_core.signing import SignAlgorithm, public_key_to_pem, sign_envelope
from lingong_core.timeutil import format_timestamp, now
from lingong_store.db import sqlite_url

from .harness import ROOT, Context, Result, cpu_seconds, peak_rss_mb, skipped

NAME = "receiver"
MERCHANT_NO = "1088202103120003"
CONCURRENCY = 16
STARTUP_TIMEOUT = 180.0  # a loaded 2-core machine takes over a minute to import the receiver (Prefect)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def bodies(key: Any, count: int, tag: str) -> list[bytes]:
    """``count`` signed 3001 notifications, each about its own order of one batch."""
    stamp = format_timestamp(now())
    out = []
    for i in range(count):
        biz = {
            "batchNo": f"B{tag}",
            "outBatchNo": f"OB{tag}",
            "orderNo": f"O{tag}{i:06d}",
            "outOrderNo": f"PO{tag}{i:06d}",
            "amount": "1234.00",
            "serviceAmount": "74.04",
            "status": "SUCCESS",
            "failMsg": "",
            "completeTime": "2026-11-30 16:20:00",
        }
        env = {
            "notifyType": "3001",
            "notifyNo": f"N{tag}{i:08d}",
            "merchantNo": MERCHANT_NO,
            "version": "2.0",
            "timestamp": stamp,
            "bizModel": jsoncodec.dumps(biz),
        }
        env["sign"] = sign_envelope(env, key, SignAlgorithm.SHA256_WITH_RSA)
        out.append(jsoncodec.dumps(env).encode("utf-8"))
    return out


@contextmanager
def receiver_process(database_url: str, public_pem: str, log: Path) -> Iterator[tuple[str, int]]:
    """``lingong notify serve`` on a free loopback port, recording into ``database_url``: (URL, pid)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINGONG_", "PREFECT_API"))}
    env.update(
        {
            "LINGONG_MERCHANT_NO": MERCHANT_NO,
            "LINGONG_PLATFORM_PUBLIC_KEY": public_pem,
            "LINGONG_DATABASE_URL": database_url,
            "PREFECT_HOME": str(log.parent / "prefect-home"),
        }
    )
    lingong = Path(sys.executable).parent / "lingong"
    args = [str(lingong), "notify", "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the receiver exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the receiver did not start within {STARTUP_TIMEOUT:.0f} s")
            time.sleep(0.2)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


async def deliver(url: str, payloads: list[bytes], concurrency: int) -> tuple[float, list[float], Counter[str]]:
    """Post every payload, ``concurrency`` in flight: (wall seconds, latencies of the acknowledged, the
    answers that were not ``success``, counted by status and text)."""
    queue = list(reversed(payloads))
    latencies: list[float] = []
    refused: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def worker() -> None:
            while queue:
                payload = queue.pop()
                t0 = time.perf_counter()
                for attempt in range(3):  # a connection the server closed while idle: deliver again, as the
                    try:  # platform would (the receiver dedupes by notifyNo); the latency includes it
                        response = await client.post(
                            "/notify", content=payload, headers={"content-type": "application/json"}
                        )
                        break
                    except httpx.TransportError:
                        if attempt == 2:
                            raise
                elapsed = time.perf_counter() - t0
                if response.status_code == 200 and response.text.strip() == "success":
                    latencies.append(elapsed)
                else:
                    refused[f"{response.status_code} {response.text[:80]}"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies, refused


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure_one(ctx: Context, backend: str, database_url: str, workdir: Path, count: int) -> Result:
    key = ctx.key("platform")
    name = f"{NAME}/{backend}-c{CONCURRENCY}"
    with receiver_process(database_url, public_key_to_pem(key.public_key()), workdir / f"{backend}.log") as (url, pid):
        # signed now, not before the receiver started: their timestamps must be within its 5 minutes
        warmup = bodies(key, 50, f"W{backend[:2].upper()}")
        payloads = bodies(key, count, f"M{backend[:2].upper()}")
        asyncio.run(deliver(url, warmup, CONCURRENCY))  # connections, tables, first imports
        cpu0 = cpu_seconds(pid) or 0.0
        wall, latencies, refused = asyncio.run(deliver(url, payloads, CONCURRENCY))
        cpu = (cpu_seconds(pid) or 0.0) - cpu0
        child_rss = peak_rss_mb(pid)
        health = httpx.get(f"{url}/healthz", timeout=10).json()
    if refused or len(latencies) != count:
        why = "; ".join(f"{n}× {answer}" for answer, n in refused.most_common(3))
        return Result(NAME, name, status="failed", note=f"{count - len(latencies)} of {count} not acknowledged: {why}")
    if health.get("notifications") != count + len(warmup):
        return Result(NAME, name, status="failed", note=f"the store holds {health.get('notifications')} notifications")
    p50, p99 = _quantile(latencies, 0.50) * 1000, _quantile(latencies, 0.99) * 1000
    return Result(
        NAME,
        name,
        wall_s=wall,
        calls=count,
        child_peak_rss_mb=child_rss,
        note=(
            f"{count} distinct notifications acknowledged, {CONCURRENCY} in flight: {count / wall:.0f}/s, "
            f"latency p50 {p50:.1f} ms, p99 {p99:.1f} ms; receiver CPU {cpu:.1f} s in {wall:.1f} s wall"
        ),
        details={"acked_per_s": round(count / wall, 1), "p50_ms": round(p50, 2), "p99_ms": round(p99, 2)},
    )


def _guarded(backend: str, measure: Any) -> Result:
    """One backend's row; its failure is that row's, so the other backend's figure is kept."""
    try:
        result: Result = measure()
    except Exception as exc:  # a finding for the row, not a reason to lose the other one
        name = f"{NAME}/{backend}-c{CONCURRENCY}"
        return Result(NAME, name, status="failed", note=f"{type(exc).__name__}: {exc}")
    return result


def run(ctx: Context) -> list[Result]:
    count = ctx.size(200, 2000)
    rows: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="lingong-bench-receiver-") as tmp:
        workdir = Path(tmp)
        ctx.log(f"receiver on SQLite: {count} notifications")
        rows.append(
            _guarded("sqlite", lambda: measure_one(ctx, "sqlite", sqlite_url(workdir / "lingong.db"), workdir, count))
        )
        sys.path.insert(0, str(ROOT))
        from tests import pg_cluster

        reason = pg_cluster.unavailable()
        if reason:
            rows.append(skipped(NAME, f"{NAME}/postgresql-c{CONCURRENCY}", reason))
            return rows
        ctx.log(f"receiver on PostgreSQL (private cluster, fsync on): {count} notifications")
        with pg_cluster.private_cluster(durable=True) as cluster:
            url = cluster.url(cluster.create_database("bench"))
            rows.append(_guarded("postgresql", lambda: measure_one(ctx, "postgresql", url, workdir, count)))
    return rows
