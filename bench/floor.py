"""Scenario 2, the floor: a bare async loop over the core — no Prefect — against the sandbox on loopback.

It onboards people exactly as ``onboard_freelancers`` has to, five signed calls each, one after the other
per person: SFT0101 verify, SFT0202 card BIN, SFT0203 bind card, SFT0104 contract, SFT0105 sign; C
people at a time over one ``AsyncLingongClient``. Its wall time for N people is the floor the onboarding
flow is compared with (same calls, same sandbox set-up, same run): see :func:`floor_for`.

The sandbox runs in its own process (:mod:`bench.sandbox_proc`) with no added latency and no faults.
It verifies every signature and writes every call to SQLite, on the same 2 cores as the client: the
floor is "client + platform on one machine", and the record shows each side's CPU seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lingong_core.client import AsyncLingongClient
from lingong_core.errors import ConflictError, LingongError
from lingong_sandbox.people import Person, team
from lingong_sandbox.settings import DEFAULT_MERCHANT_NO

from .harness import Context, Result, TreeSampler, measure
from .sandbox_proc import SandboxProcess

NAME = "floor"
TAX_BASE = "2000064001"
CALLS_PER_PERSON = 5
CONCURRENCY = 16
# The bare loop's best concurrency on 2 cores (floor/sweep-c*): past it, httpcore's connection pool scans
# and polls every connection for each request it places, and the client's CPU per call grows.
BEST_CONCURRENCY = 4
# Sandbox time compressed 1000-fold: contract signing (5 simulated s) completes in 5 ms.
TIME_SCALE = 1000.0


@dataclass
class Onboarded:
    """What the bare loop got back: contract numbers by ID number, and the failures."""

    calls: int = 0
    contracts: dict[str, str] = field(default_factory=dict)
    failures: Counter[str] = field(default_factory=Counter)


async def onboard_one(client: AsyncLingongClient, person: Person, out: Onboarded) -> None:
    """Verify, check the card, bind it, generate and sign the contract: 5 calls, in order."""
    try:
        await client.freelancer.verify(name=person.name, id_card_no=person.id_card_no, mobile=person.mobile)
        await client.freelancer.card_bin(bank_card_no=person.bank_card_no)
        await client.freelancer.bind_card(
            id_card_no=person.id_card_no, name=person.name, bank_card_no=person.bank_card_no, mobile=person.mobile
        )
        out.calls += 3
        try:
            contract_no = (
                await client.contract.generate(id_card_no=person.id_card_no, tax_base_code=TAX_BASE)
            ).contract_no
        except ConflictError as exc:  # already has one (a re-run on the same sandbox)
            contract_no = exc.existing_no or ""
        out.calls += 1
        await client.contract.sign(contract_no=contract_no)
        out.calls += 1
        out.contracts[person.id_card_no] = contract_no
    except LingongError as exc:
        out.failures[f"{type(exc).__name__} {getattr(exc, 'code', '')}".strip()] += 1


async def onboard_bare(
    base_url: str, private_key: Any, people: Sequence[Person], concurrency: int = CONCURRENCY
) -> Onboarded:
    """Onboard ``people``, ``concurrency`` at a time, over one client (as many connections)."""
    out = Onboarded()
    queue: asyncio.Queue[Person] = asyncio.Queue()
    for person in people:
        queue.put_nowait(person)

    async def worker(client: AsyncLingongClient) -> None:
        while True:
            try:
                person = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await onboard_one(client, person, out)

    async with AsyncLingongClient(
        base_url, DEFAULT_MERCHANT_NO, private_key, max_connections=concurrency, timeout=60.0
    ) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return out


def start_sandbox(
    ctx: Context, *, time_scale: float = TIME_SCALE, seed: int = 0, onboard: Path | None = None
) -> SandboxProcess:
    """A sandbox process; ``onboard``: a CSV of people it onboards in-process before it serves (set-up)."""
    keys = ctx.pem_files()
    return SandboxProcess(
        merchant_public_key=keys["merchant_public"],
        platform_private_key=keys["platform_private"],
        time_scale=time_scale,
        seed=seed,
        log=ctx.state / "sandbox.log",
        onboard=onboard,
    )


def measure_onboarding_floor(ctx: Context, people: Sequence[Person], concurrency: int = CONCURRENCY) -> Result:
    """The bare loop onboarding ``people`` on a fresh sandbox: one row, with both processes' CPU seconds."""
    with start_sandbox(ctx) as sandbox:
        key = ctx.key("merchant")
        cpu0 = sandbox.cpu_seconds()
        with TreeSampler(lambda: [sandbox.pid]) as sampler, measure() as m:
            out = asyncio.run(onboard_bare(sandbox.base_url, key, people, concurrency))
        sandbox_cpu = sandbox.cpu_seconds() - cpu0
        sandbox_peak = sandbox.peak_rss_mb()
    calls = len(people) * CALLS_PER_PERSON
    return Result(
        NAME,
        f"floor/onboarding-{len(people)}-c{concurrency}",
        status="ok" if not out.failures else "failed",
        wall_s=m.wall_s,
        calls=calls,
        peak_rss_mb=m.peak_rss_mb,
        child_peak_rss_mb=max(sandbox_peak or 0.0, sampler.peak_mb),
        note=(
            f"{len(people)} people × {CALLS_PER_PERSON} calls at concurrency {concurrency}; CPU: client "
            f"{m.cpu_s:.1f} s, sandbox {sandbox_cpu:.1f} s in {m.wall_s:.1f} s wall "
            f"({(m.cpu_s + sandbox_cpu) / m.wall_s * 50:.0f} % of 2 cores)"
            + (f"; failures: {dict(out.failures)}" if out.failures else "")
        ),
        details={
            "people": len(people),
            "concurrency": concurrency,
            "client_cpu_s": m.cpu_s,
            "sandbox_cpu_s": sandbox_cpu,
            "ms_per_call": m.wall_s / calls * 1e3,
            "failures": dict(out.failures),
            "completed_calls": out.calls,
        },
    )


def floor_for(ctx: Context, people: int, concurrency: int = CONCURRENCY) -> Result:
    """The floor for onboarding ``people`` (team seed 0) at ``concurrency``, measured once per run and reused."""
    cache: dict[tuple[int, int], Result] = ctx.shared.setdefault("onboarding_floor", {})
    if (people, concurrency) not in cache:
        ctx.log(
            f"floor: bare async loop onboarding {people} people ({people * CALLS_PER_PERSON} calls) "
            f"at concurrency {concurrency}"
        )
        cache[people, concurrency] = measure_onboarding_floor(ctx, team(people, seed=0), concurrency)
    return cache[people, concurrency]


def run(ctx: Context) -> list[Result]:
    n = ctx.size(40, 1000)
    results = [floor_for(ctx, n)]
    if not ctx.quick:
        # The same floor at the concurrency the sweep below finds fastest on this machine.
        results.append(floor_for(ctx, n, BEST_CONCURRENCY))
        # How the bare loop scales with concurrency (200 people = 1,000 calls each, one sandbox).
        ctx.log("floor: concurrency sweep 1, 4, 16, 64")
        with start_sandbox(ctx) as sandbox:
            for i, c in enumerate((1, 4, 16, 64)):
                people = team(200, seed=100 + i)
                cpu0 = sandbox.cpu_seconds()
                t0 = time.perf_counter()
                with measure() as m:
                    out = asyncio.run(onboard_bare(sandbox.base_url, ctx.key("merchant"), people, c))
                wall = time.perf_counter() - t0
                sandbox_cpu = sandbox.cpu_seconds() - cpu0
                results.append(
                    Result(
                        NAME,
                        f"floor/sweep-c{c}",
                        status="ok" if not out.failures else "failed",
                        wall_s=wall,
                        calls=len(people) * CALLS_PER_PERSON,
                        peak_rss_mb=m.peak_rss_mb,
                        note=f"CPU: client {m.cpu_s:.1f} s, sandbox {sandbox_cpu:.1f} s; "
                        f"{wall / (len(people) * CALLS_PER_PERSON) * 1e3 * c:.2f} ms per call as one caller sees it"
                        + (f"; failures: {dict(out.failures)}" if out.failures else ""),
                        details={"client_cpu_s": m.cpu_s, "sandbox_cpu_s": sandbox_cpu, "concurrency": c},
                    )
                )
    return results
