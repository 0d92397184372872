"""The chaos scenarios and the driver that plays one: many small payroll runs against a sandbox injecting
faults, each run re-run with the same inputs until it completes, then the verdict from the sandbox's ledger.

Every scenario gets a sandbox of its own (so its audit holds nothing but its own runs), a pool of made-up
people (onboarded by the first runs that pay them, under the same faults), and one recharge. A run pays 3–10
people of the pool small random amounts for a period of its own; some runs repeat a person (a second order
on purpose), and where the scenario says so, some payees are refused by the platform (a credit card, an
amount over the single-payout limit) or failed or bounced by the bank (scripted on the sandbox).

Modes:

- ``plain``: the run in this process, under the sandbox's faults;
- ``twins``: the same payroll started twice at once, here and in a subprocess (two workers);
- ``restart``: the sandbox stopped and started again on its database file while the run is in flight;
- ``kill``: the run in a subprocess, SIGKILLed at a random point after it starts submitting, then re-run.

Scenarios with ``edits`` play each payroll, then what an operator does between runs of the same period,
each edit run to completion under the same faults (:func:`edit_plan`): fix a bad row skipped with
``skip_invalid``, reorder and re-cut the batches, add, change or drop the project, rename the batch, change
an amount after payment (that person is HELD), drop a line, add a line or an identical line, run a second
file for the same period, pay a bonus on purpose (``additional_ref``). The judge then checks each person's
total per period, from the audit, against what the final payrolls owe them.

The seed of a scenario derives from the suite's base seed (``CHAOS_SEED``) and the scenario's name only, so
``CHAOS_SEED=<base> … -k <scenario>`` replays the same people, amounts, fault draws and kill points (the
timing of a loaded machine can still move a fault by a request or two).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import httpx

from lingong_core import jsoncodec
from lingong_core.signing import generate_key_pair, sign_envelope
from lingong_core.timeutil import format_timestamp, now
from lingong_payroll.keys import RunKey, occurrences
from lingong_payroll.payees import PayeeRow
from lingong_payroll.report import PayeeLine, PayrollReport
from lingong_sandbox.engine.audit import person_digest
from lingong_sandbox.people import Person, card_number, team

from .judge import Expect, Intended, Tally, check_claims, judge, reported_lines
from .kit import MERCHANT_NO, TAX, ChaosSandbox, Keys, env_var, lingong_env, running_receiver

ROOT = Path(__file__).resolve().parents[2]
POOL = 24
FUND = Decimal("5000000.00")
WAIT_SECONDS = 60.0  # each run's wait_timeout_seconds: far more than the sandbox needs at time scale 1000
ATTEMPTS_UNDER_FAULTS = 3  # then one more attempt with the faults off, counted as an error
Mode = Literal["plain", "twins", "restart", "kill"]


@dataclass(frozen=True)
class Scenario:
    name: str
    spec: str
    small: int  # runs in the small profile (make test); 0: only in the full one
    full: int  # runs in the full profile (make chaos)
    what: str
    mode: Mode = "plain"
    timeout: float | None = None  # LINGONG_TIMEOUT for the runs: the client gives up on a slow answer
    notify: bool = False  # the receiver as the notify URL; forged notifications posted at it
    refusals: bool = False  # payees the platform refuses, and orders the bank fails
    bounces: bool = False  # orders paid, then bounced
    edits: int = 0  # operator edits (each a run of the same period) after each payroll

    def runs(self, profile: str) -> int:
        return self.small if profile == "small" else self.full


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("errors_before", "error_before=0.3", 0, 32, "500/503 before anything happened"),
    Scenario("errors_after", "error_after=0.3", 0, 32, "the write committed, then 500/503"),
    Scenario("reset_after", "reset_after=0.3", 0, 32, "the write committed, then the connection dropped"),
    Scenario(
        "timeouts",
        "latency=50ms,latency_jitter=400ms,only=SFT0502+SFT0404",
        0,
        32,
        "answers slower than the client's 0.3 s timeout",
        timeout=0.3,
    ),
    Scenario("rate_limit_bursts", "rate_limit=0.15,rate_limit_burst=2,max_rps=50", 0, 32, "429 bursts and a throttle"),
    Scenario("latency", "latency=20ms,latency_jitter=60ms", 0, 32, "added latency on every call"),
    Scenario(
        "mixed",
        "latency=5ms,latency_jitter=20ms,error_before=0.08,error_after=0.08,reset_after=0.08,"
        "rate_limit=0.08,rate_limit_burst=2",
        1,
        32,
        "every request fault at once, refusals and bank failures",
        refusals=True,
    ),
    Scenario(
        "notifications",
        "notify_duplicate=0.5,notify_reorder=0.5,error_after=0.1",
        1,
        32,
        "duplicate, late and reordered notifications, forged ones, failures and bounces",
        notify=True,
        refusals=True,
        bounces=True,
    ),
    Scenario(
        "twins",
        "error_after=0.15,reset_after=0.1,latency=10ms,latency_jitter=40ms",
        1,
        26,
        "the same payroll started twice at once",
        mode="twins",
    ),
    Scenario("sandbox_restart", "error_after=0.05", 1, 26, "the platform restarted mid-run", mode="restart"),
    Scenario(
        "sigkill",
        "latency=20ms,latency_jitter=300ms,error_after=0.1,only=SFT0502+SFT0503",
        1,
        26,
        "the flow process SIGKILLed after it starts submitting, then re-run",
        mode="kill",
    ),
    Scenario(
        "operator_edits",
        "latency=5ms,latency_jitter=20ms,error_before=0.08,error_after=0.1,reset_after=0.08,rate_limit=0.05",
        1,
        14,
        "the operator edits the payroll and re-runs it between faulted runs",
        edits=2,
    ),
    Scenario(
        "operator_edits_killed",
        "latency=20ms,latency_jitter=300ms,error_after=0.1,only=SFT0502+SFT0503",
        0,
        10,
        "the operator edits and re-runs while runs are SIGKILLed",
        mode="kill",
        edits=2,
    ),
)


def base_seed() -> int:
    """``CHAOS_SEED`` when set (to replay), else a fresh one (printed with every scenario's line)."""
    text = os.environ.get("CHAOS_SEED", "").strip()
    return int(text) if text else random.SystemRandom().randrange(1, 2**31)


def scenario_seed(base: int, name: str, profile: str) -> int:
    return (base * 1_000_003 + zlib.crc32(f"{name}:{profile}".encode())) % 2**31


# --- one payroll run's plan ------------------------------------------------------------------------------


@dataclass
class Plan:
    label: str
    period: str
    batch_ref: str
    max_batch: int
    lines: list[tuple[Person, Decimal]]
    intended: dict[str, Intended] = field(default_factory=dict)
    scripts: list[dict[str, str]] = field(default_factory=list)
    invalid: set[int] = field(default_factory=set)  # lines sent with a bad mobile (skipped: skip_invalid)
    project_no: str | None = None
    additional_ref: str = ""

    @property
    def skip_invalid(self) -> bool:
        return bool(self.invalid)

    def rows(self) -> list[PayeeRow]:
        return [
            PayeeRow(
                name=p.name,
                id_card_no=p.id_card_no,
                mobile="1234" if i in self.invalid else p.mobile,
                bank_card_no=p.bank_card_no,
                amount=str(a),
            )
            for i, (p, a) in enumerate(self.lines)
        ]

    def run_key(self) -> RunKey:
        return RunKey(MERCHANT_NO, TAX, self.period, self.additional_ref)

    def keyed(self) -> list[tuple[str, Person, Decimal]]:
        """(outOrderNo, person, amount) of each valid line, as lingong_payroll.keys derives them."""
        run = self.run_key()
        valid = [(p, a) for i, (p, a) in enumerate(self.lines) if i not in self.invalid]
        occ = occurrences([(p.id_card_no, a) for p, a in valid])
        return [(run.order_no(p.id_card_no, a, n), p, a) for (p, a), n in zip(valid, occ, strict=True)]

    def intend(self, key: str, person: Person, amount: Decimal, expect: Expect) -> None:
        self.intended[key] = Intended(
            key, amount, expect, self.label, person_digest(person.id_card_no), self.period, self.run_key().token
        )


def _amount(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(1, 50_000)) / 100  # ¥0.01 … ¥500.00, to the fen


def make_plan(
    scenario: Scenario, index: int, rng: random.Random, pool: list[Person], strangers: Iterator[Person]
) -> Plan:
    people = rng.sample(pool, rng.randint(3, 10))
    lines = [(p, _amount(rng)) for p in people]
    expect = [Expect.PAY] * len(lines)
    if rng.random() < 0.2:  # the same person twice in one payroll: a second order, on purpose
        first = lines[0]
        second = _amount(rng)
        while second == first[1]:
            second = _amount(rng)
        lines.append((first[0], second))
        expect.append(Expect.PAY)
    if scenario.refusals and rng.random() < 0.5:
        if rng.random() < 0.5:
            credit = next(strangers)  # a new person whose card is a credit card: cannot be bound, cannot be paid
            lines.append(
                (Person(credit.name, credit.id_card_no, credit.mobile, card_number(rng, "622230", 16)), _amount(rng))
            )
        else:
            spare = next(p for p in pool if p not in people)
            lines.append((spare, Decimal("60000.00")))  # over the provider's single-payout limit (¥50,000)
        expect.append(Expect.REFUSE)
    period = f"{2001 + index // 12}-{index % 12 + 1:02d}"  # a period per run: no payroll repeats another
    plan = Plan(
        label=f"{scenario.name}#{index}",
        period=period,
        batch_ref=f"C{index}",
        max_batch=rng.choice((1, 2, 3, 5, 1000)),
        lines=lines,
    )
    if scenario.edits and rng.random() < 0.4:  # a bad row, skipped: the operator fixes it later
        plan.invalid.add(rng.randrange(len(lines)))
    wanted = [w for i, w in enumerate(expect) if i not in plan.invalid]
    for (key, person, amount), want in zip(plan.keyed(), wanted, strict=True):
        if want == Expect.PAY and scenario.refusals and rng.random() < 0.12:
            want = Expect.FAIL
            plan.scripts.append({"businessKey": key, "outcome": "FAIL"})
        elif want == Expect.PAY and scenario.bounces and rng.random() < 0.12:
            want = Expect.BOUNCE
            plan.scripts.append({"businessKey": key, "outcome": "BOUNCE"})
        plan.intend(key, person, amount, want)
    return plan


EDITS = ("fix", "reorder", "project", "rename", "amount", "drop", "add", "identical", "second", "bonus")


def edit_plan(
    prev: Plan, step: int, rng: random.Random, pool: list[Person], intended: dict[str, Intended]
) -> tuple[Plan, str]:
    """What an operator does to ``prev`` before running the same period again, and the expectation for every
    key it has that no earlier run paid: PAY, or HOLD when that person holds money in this run (an intended
    PAY key of the same run identity) that the edited payroll no longer has — the by-person guard's rule."""
    kind = rng.choice([k for k in EDITS if k != "fix" or prev.invalid])
    plan = Plan(
        label=f"{prev.label}/{step}:{kind}",
        period=prev.period,
        batch_ref=prev.batch_ref,
        max_batch=prev.max_batch,
        lines=list(prev.lines),
        invalid=set(prev.invalid),
        project_no=prev.project_no,
        additional_ref=prev.additional_ref,
    )
    lines = plan.lines
    if kind == "fix":
        plan.invalid = set()
    elif kind == "reorder":
        order = list(range(len(lines)))
        rng.shuffle(order)
        plan.lines = [lines[i] for i in order]
        plan.invalid = {order.index(i) for i in prev.invalid}
        plan.max_batch = rng.choice((1, 2, 3, 5, 1000))
    elif kind == "rename":
        plan.batch_ref = f"{prev.batch_ref}R{step}"
    elif kind == "amount":
        i = rng.randrange(len(lines))
        lines[i] = (lines[i][0], lines[i][1] + Decimal(rng.randint(1, 5000)) / 100)
    elif kind == "drop" and len(lines) > 1:
        i = rng.randrange(len(lines))
        del lines[i]
        plan.invalid = {j - (j > i) for j in prev.invalid if j != i}
    elif kind == "add":
        lines.append((rng.choice(pool), _amount(rng)))
    elif kind == "identical":
        lines.append(lines[rng.randrange(len(lines))])
    elif kind == "second":  # another file for the period: some of the same lines, some new people
        kept = [line for i, line in enumerate(lines) if i not in prev.invalid and rng.random() < 0.4]
        fresh = [(p, _amount(rng)) for p in rng.sample(pool, rng.randint(1, 4))]
        plan.lines, plan.invalid = kept + fresh, set()
    elif kind == "bonus":  # paid on purpose, on top of the period's payroll
        plan.additional_ref = f"BONUS{step}"
        plan.lines = [(p, _amount(rng)) for p, _ in rng.sample(lines, min(2, len(lines)))]
        plan.invalid = set()
    if kind == "project" or rng.random() < 0.2:
        plan.project_no = None if prev.project_no else f"PRJ{step}"  # added, changed or dropped
    if plan.project_no and any(k not in intended or intended[k].expect != Expect.PAY for k, _, _ in plan.keyed()):
        # the project is no part of any key; it is only set where nothing new is submitted, since the
        # sandbox checks that a project exists (SFT0703 is the month-end flow's)
        plan.project_no = None
    token = plan.run_key().token
    mine = {k for k, _, _ in plan.keyed()}
    holding: dict[str, set[str]] = {}
    for key, want in intended.items():
        if want.expect == Expect.PAY and want.period == plan.period and want.ident == token:
            holding.setdefault(want.person, set()).add(key)
    for key, person, amount in plan.keyed():
        if key in intended and intended[key].expect == Expect.PAY:
            continue  # paid by an earlier run
        digest = person_digest(person.id_card_no)
        held = bool(holding.get(digest, set()) - mine)
        plan.intend(key, person, amount, Expect.HOLD if held else Expect.PAY)
    return plan, kind


# --- the warm subprocess runners (kill mode) -----------------------------------------------------------------


class RunnerProcess:
    def __init__(self, workdir: Path, api_url: str, number: int) -> None:
        self.out = workdir / f"runner-{number}.out"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LINGONG_")}
        env.update({"PREFECT_API_URL": api_url, "PYTHONPATH": str(ROOT)})
        with self.out.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.chaos.runner"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def text(self) -> str:
        return self.out.read_text("utf-8", errors="replace")

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while "READY" not in self.text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"the runner did not start: {self.text()[-2000:]}")
            time.sleep(0.05)

    def send(self, job: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(job) + "\n").encode())
        self.proc.stdin.close()

    def report(self) -> PayrollReport | None:
        for line in self.text().splitlines():
            if line.startswith("REPORT "):
                return PayrollReport.model_validate_json(line.removeprefix("REPORT "))
        return None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()  # SIGKILL: no cleanup, no flush, nothing
        self.proc.wait(30)
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()


class Runners:
    """One runner process kept warm (Prefect imported) while another is being used."""

    def __init__(self, workdir: Path, api_url: str) -> None:
        self.workdir, self.api_url = workdir, api_url
        self.count = 0
        self.spare: RunnerProcess | None = None

    def _spawn(self) -> RunnerProcess:
        self.count += 1
        return RunnerProcess(self.workdir, self.api_url, self.count)

    def take(self) -> RunnerProcess:
        runner = self.spare or self._spawn()
        runner.wait_ready()
        self.spare = self._spawn()
        return runner

    def close(self) -> None:
        if self.spare is not None:
            self.spare.kill()
            self.spare = None


# --- the driver --------------------------------------------------------------------------------------------


class Driver:
    def __init__(self, scenario: Scenario, profile: str, base: int, keys: Keys, workdir: Path, api_url: str) -> None:
        self.scenario = scenario
        self.profile = profile
        self.seed = scenario_seed(base, scenario.name, profile)
        self.keys = keys
        self.workdir = workdir
        self.api_url = api_url
        self.rng = random.Random(self.seed)
        self.tally = Tally(scenario.name, profile, self.seed)
        self.intended: dict[str, Intended] = {}
        self.final: dict[str, PayeeLine] = {}
        self.sandbox: ChaosSandbox
        self.env: dict[str, str] = {}
        self.receiver_url = ""

    # -- the whole scenario --

    def play(self) -> Tally:
        started = time.monotonic()
        scenario = self.scenario
        with ExitStack() as stack:
            self.sandbox = sandbox = stack.enter_context(
                ChaosSandbox(self.keys, self.workdir, file_db=scenario.mode == "restart")
            )
            self.env = stack.enter_context(lingong_env(sandbox, self.workdir / "journal.db"))
            stack.enter_context(env_var("LINGONG_TIMEOUT", None if scenario.timeout is None else str(scenario.timeout)))
            receiver = None
            if scenario.notify:
                receiver, self.receiver_url = stack.enter_context(running_receiver(self.keys, self.workdir))
                sandbox.set_notify_url(self.receiver_url)
            runners = None
            if scenario.mode in ("kill", "twins"):
                runners = Runners(self.workdir, self.api_url)
                stack.callback(runners.close)
                runners.spare = runners._spawn()  # importing Prefect while the account is funded
            self._fund()
            pool = team(POOL, seed=self.seed)
            strangers = iter(team(400, seed=self.seed + 1)[POOL:])  # never in the pool
            sandbox.set_faults(scenario.spec, self.seed)
            for index in range(scenario.runs(self.profile)):
                plan = make_plan(scenario, index, self.rng, pool, strangers)
                self._play_run(plan, runners)
                if receiver is not None:
                    self._forge(receiver)
                for step in range(1, scenario.edits + 1):
                    plan, _ = edit_plan(plan, step, self.rng, pool, self.intended)
                    self._play_run(plan, runners)
            sandbox.set_faults("", self.seed)
            audit = sandbox.settle()
            self.tally.faults = sandbox.faults_injected()
            judge(self.tally, self.intended, self.final, audit, FUND)
            if receiver is not None:
                self._check_receiver(receiver, audit)
        self.tally.wall = time.monotonic() - started
        return self.tally

    def _fund(self) -> None:
        from flows.fund_account import fund_account

        result = asyncio.run(
            fund_account(
                amount=FUND, recharge_time="2026-11-01 09:00:00", tax_base_code=TAX, reference=f"chaos-{self.seed}"
            )
        )
        assert result.status == "SUCCESS", result

    # -- one payroll --

    def _play_run(self, plan: Plan, runners: Runners | None) -> None:
        sandbox = self.sandbox
        for script in plan.scripts:
            sandbox.script(**script)
        self.intended.update(plan.intended)
        self.tally.runs += 1
        self.tally.payees += len(plan.lines)
        before = sandbox.faults_injected()
        interrupted = False
        if self.scenario.mode == "twins":
            assert runners is not None
            self._twins(plan, runners)
        elif self.scenario.mode == "kill":
            assert runners is not None
            interrupted = self._killed(plan, runners)
        elif self.scenario.mode == "restart":
            interrupted = self._restarted(plan)
        report = self._to_completion(plan)
        self.final.update(reported_lines(report))
        if interrupted or sandbox.faults_injected() > before:
            self.tally.faulted += 1

    async def _payroll(self, plan: Plan) -> PayrollReport:
        from flows.payroll_run import payroll_run

        report: PayrollReport = await payroll_run(
            plan.period,
            payees=plan.rows(),
            project_no=plan.project_no,
            skip_invalid=plan.skip_invalid,
            additional_ref=plan.additional_ref or None,
            batch_ref=plan.batch_ref,
            max_batch=plan.max_batch,
            wait_timeout_seconds=WAIT_SECONDS,
        )
        return report

    def _error(self, plan: Plan, exc: BaseException) -> None:
        self.tally.errors += 1
        if len(self.tally.error_samples) < 5:
            self.tally.error_samples.append(f"{plan.label}: {type(exc).__name__}: {str(exc)[:300]}")

    def _to_completion(self, plan: Plan) -> PayrollReport:
        """Run (again) with the same inputs until the report is complete; the last attempt without faults."""
        for attempt in range(ATTEMPTS_UNDER_FAULTS + 1):
            calm = attempt == ATTEMPTS_UNDER_FAULTS
            if calm:
                self.sandbox.set_faults("", self.seed)
            try:
                report = asyncio.run(self._payroll(plan))
            except Exception as exc:
                self._error(plan, exc)
                continue
            finally:
                if calm:
                    self.sandbox.set_faults(self.scenario.spec, self.seed + 7919 * self.tally.runs)
            check_claims(self.tally, report, self.sandbox.audit())
            if report.complete:
                if calm:
                    self.tally.errors += 1  # the faults had to stop for it to finish
                return report
        raise AssertionError(f"{plan.label}: no complete report even with the faults off: {self.tally.error_samples}")

    def _job(self, plan: Plan, max_batch: int) -> dict[str, Any]:
        return {
            "env": self.env | {"LINGONG_TIMEOUT": os.environ.get("LINGONG_TIMEOUT", "30")},
            "period": plan.period,
            "payees": [row.model_dump() for row in plan.rows()],
            "project_no": plan.project_no,
            "skip_invalid": plan.skip_invalid,
            "additional_ref": plan.additional_ref or None,
            "batch_ref": plan.batch_ref,
            "max_batch": max_batch,
            "wait": WAIT_SECONDS,
        }

    def _twins(self, plan: Plan, runners: Runners) -> None:
        """The same payroll in a subprocess and here at once (Prefect runs one process's flows one at a time),
        half the time cut into batches differently, as another worker with another setting would."""
        twin = runners.take()
        other = plan.max_batch if self.rng.random() < 0.5 else self.rng.choice((1, 2, 3, 1000))
        twin.send(self._job(plan, other))
        time.sleep(self.rng.uniform(0.0, 1.2))  # the subprocess's flow starts ~1 s later than one here
        try:
            check_claims(self.tally, asyncio.run(self._payroll(plan)), self.sandbox.audit())
        except Exception as exc:
            self._error(plan, exc)
        try:
            twin.proc.wait(180)
        except subprocess.TimeoutExpired:
            twin.kill()
        report = twin.report()
        if report is None:
            self._error(plan, RuntimeError(f"the twin ended without a report: {twin.text()[-1500:]}"))
        else:
            check_claims(self.tally, report, self.sandbox.audit())

    def _wait_for(self, trigger: str, mark: int, alive: Any, deadline: float) -> None:
        """Until the platform has logged ``trigger`` (an apiCode) since request ``mark``, or ``alive()`` is false."""
        while alive() and time.monotonic() < deadline:
            try:
                if self.sandbox.requests_since(mark, trigger):
                    return
            except httpx.HTTPError:
                pass  # the platform is restarting
            time.sleep(0.02)

    def _killed(self, plan: Plan, runners: Runners) -> bool:
        runner = runners.take()
        mark = self.sandbox.last_request_id()
        runner.send(self._job(plan, plan.max_batch))
        trigger = self.rng.choice(("SFT0501", "SFT0502", "SFT0502", "delay"))
        if trigger == "delay":
            pause = self.rng.uniform(0.5, 3.0)
            end = time.monotonic() + pause
            while runner.proc.poll() is None and time.monotonic() < end:
                time.sleep(0.02)
        else:
            self._wait_for(trigger, mark, lambda: runner.proc.poll() is None, time.monotonic() + 60)
            time.sleep(self.rng.uniform(0.0, 0.4))
        killed = runner.proc.poll() is None
        runner.kill()
        if killed:
            self.tally.kills += 1
        else:
            report = runner.report()
            if report is None:
                self._error(plan, RuntimeError(f"the runner ended without a report: {runner.text()[-1500:]}"))
            else:
                check_claims(self.tally, report, self.sandbox.audit())
        return killed

    def _restarted(self, plan: Plan) -> bool:
        done = threading.Event()
        restarted = threading.Event()
        mark = self.sandbox.last_request_id()
        trigger = self.rng.choice(("SFT0501", "SFT0502", "delay"))
        pause = self.rng.uniform(0.0, 0.15) if trigger != "delay" else self.rng.uniform(0.1, 1.0)
        down = self.rng.uniform(0.05, 1.0)

        def restarter() -> None:
            if trigger == "delay":
                done.wait(pause)
            else:
                self._wait_for(trigger, mark, lambda: not done.is_set(), time.monotonic() + 60)
                done.wait(pause)
            if not done.is_set():
                self.sandbox.restart(down)
                restarted.set()

        thread = threading.Thread(target=restarter, name="chaos-restarter", daemon=True)
        thread.start()
        report: PayrollReport | None = None
        try:
            report = asyncio.run(self._payroll(plan))
        except Exception as exc:
            self._error(plan, exc)
        finally:
            done.set()
            thread.join(60)
        if report is not None:
            check_claims(self.tally, report, self.sandbox.audit())
        if restarted.is_set():
            self.tally.restarts += 1
        return restarted.is_set()

    # -- notifications --

    def _forge(self, receiver: Any) -> None:
        """Post forged notifications straight at the receiver: each must be refused, none recorded."""
        paid = [k for k, v in self.final.items() if v.order_no]
        if not paid:
            return
        key = self.rng.choice(paid)
        line = self.final[key]
        biz = {
            "batchNo": line.batch_no,
            "outBatchNo": line.out_batch_no,
            "orderNo": line.order_no,
            "outOrderNo": key,
            "amount": line.amount,
            "serviceAmount": line.service_amount,
            "status": "FAILED",
            "failMsg": "forged",
            "completeTime": "2026-11-02 10:00:00",
        }
        forger = _forger_key()
        number = f"FORGED{self.seed}{self.tally.forged:06d}"

        def envelope(merchant: str, signer: Any, **over: Any) -> dict[str, str]:
            env = {
                "notifyType": "3001",
                "notifyNo": number,
                "merchantNo": merchant,
                "version": "2.0",
                "timestamp": format_timestamp(now()),
                "bizModel": jsoncodec.dumps(biz),
            }
            env["sign"] = sign_envelope(env, signer)
            env.update(over)
            return env

        genuine = envelope(MERCHANT_NO, self.keys.platform_private)
        tampered = dict(genuine, bizModel=genuine["bizModel"].replace('"FAILED"', '"SUCCESS"'))
        forgeries = [
            (envelope(MERCHANT_NO, forger), 401),  # signed by someone who is not the platform
            (tampered, 401),  # a genuine signature over other content
            (envelope("1088000000000001", forger), 403),  # addressed to another merchant
            (dict(genuine, notifyNo=number + "X"), 401),  # a genuine signature, another notifyNo
        ]
        with httpx.Client(trust_env=False, timeout=10) as http:
            for body, status in forgeries:
                answer = http.post(self.receiver_url, content=jsoncodec.dumps(body).encode())
                self.tally.forged += 1
                if answer.status_code != status:
                    self.tally.problems.append(f"forged notification answered {answer.status_code}, not {status}")

    def _check_receiver(self, receiver: Any, audit: dict[str, Any]) -> None:
        sent = self.sandbox.admin("GET", "notifications")["list"]
        store = receiver.store
        recorded = {r.notify_no: r for r in store.list(limit=None)}
        problems = self.tally.problems
        unacked = [n["notifyNo"] for n in sent if n["status"] != "ACKED"]
        if unacked:
            problems.append(f"notifications never acknowledged: {unacked[:5]}")
        if set(recorded) != {n["notifyNo"] for n in sent}:
            extra = sorted(set(recorded) - {n["notifyNo"] for n in sent})[:5]
            missing = sorted({n["notifyNo"] for n in sent} - set(recorded))[:5]
            problems.append(f"receiver store differs from what the platform sent: extra {extra}, missing {missing}")
        for n in sent:
            reached = sum(1 for d in n["deliveries"] if d["httpStatus"] == 200)
            record = recorded.get(n["notifyNo"])
            if record is not None and record.deliveries != reached:
                problems.append(f"{n['notifyNo']}: {reached} deliveries answered, {record.deliveries} counted")
        for key, entry in audit["orders"].items():
            state = store.get_state(f"lingong.order.{key}")
            platform = entry["statuses"][-1]
            if state is None or state.state != platform:
                problems.append(f"{key}: receiver says {state.state if state else None}, platform {platform}")
        for line in self.final.values():
            if line.batch_no:
                state = store.get_state(f"lingong.settlement.{line.batch_no}")
                if state is None or state.state != "COMPLETED":
                    problems.append(f"batch {line.batch_no}: receiver says {state.state if state else None}")


_FORGER: list[Any] = []


def _forger_key() -> Any:
    if not _FORGER:
        _FORGER.append(generate_key_pair(1024)[0])
    return _FORGER[0]
