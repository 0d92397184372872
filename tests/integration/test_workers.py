"""Several payroll runs on two process workers, one Prefect server, one shared platform rate limit.

The slow test (``make integration``) starts, all on loopback: a Prefect server, the sandbox platform
throttling at its cap, the notification receiver (``lingong notify serve``, the platform's notify URL),
a process work pool with the payroll-run deployment, and two ``prefect worker start`` processes — each as
another host would be: its own ``PREFECT_HOME``, no keys in its environment (they are in the credentials
Block on the server), the rate-limit variables and lingong's database URL set. Twice: on SQLite (the
server's file; lingong's one file on local disk), and on one PostgreSQL cluster with a database for
Prefect and one for lingong (a private cluster, tests/pg_cluster.py; skipped, saying why, without the
binaries). It then starts several payroll runs at once and judges, from the sandbox's request log and
audit and from lingong's database, that:

- the limit held across both workers together. The limits have ``limit=1`` and
  ``slot_decay_per_second=N`` (tasks/ratelimit.py), so the Prefect server grants their slots at least
  ``1/N`` s apart: any ``N + 1`` consecutive grants span at least one second. The platform receives
  each call a little after its grant, and that delay varies; allowing it ``JITTER`` (0.2 s; measured
  at most 71 ms here), "held" means: any ``RATE + 1`` consecutive requests of the runs, timed as the
  sandbox began handling them, span at least ``1 - JITTER`` s, and any ``WRITE_RATE + 1`` consecutive
  writes too; and the platform's own throttle, at ``PLATFORM_CAP`` calls per second (the limit is set
  a notch under it, as docs/operations.md advises), never had to answer 429;
- the limit did the holding: some window of one second holds ``RATE`` requests;
- both workers ran payroll runs;
- every payee was paid exactly once, and the ledger balances;
- lingong's database, which both workers and the receiver wrote at once, lost and doubled nothing: the
  run journal has one row per paid order, PAID; the payee store each run's rows once; the receiver's
  store every notification the platform sent, once, and every order's state SUCCESS.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from lingong_core.client import LingongClient
from lingong_core.masking import mask_id
from lingong_core.operations import is_write
from lingong_core.signing import generate_key_pair, private_key_to_pem, public_key_to_pem
from lingong_payroll.journal import Journal
from lingong_receiver.store import Store
from lingong_sandbox.people import Person, team
from lingong_sandbox.server import SandboxServer
from lingong_sandbox.settings import SandboxSettings
from lingong_store.db import Database, sqlite_url
from lingong_store.payees import PAYROLL, PayeeStore, payee_sets
from tasks.ratelimit import ENV_ALL, ENV_READS, ENV_WRITES, CallClass, RateLimits, limit_name
from tests.pg_cluster import Cluster

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TAX = "2000064001"
POOL = "lingong-it"
BLOCK = "sandbox-merchant"
PLATFORM_CAP = 5  # the sandbox's throttle: more calls than this within one second are answered 429
RATE = 4  # the shared limit on all calls per second, a notch under the platform's cap
WRITE_RATE = 2  # the shared limit on writes per second
# The allowed variation of the delay between a slot's grant and the platform starting on the call: measured
# at most 71 ms here with a load average of 5-8 on 2 cores (others' test runs), allowed 0.2 s.
JITTER = 0.2
RUNS = 4
PAYEES_PER_RUN = 3
WORKERS = ("worker-a", "worker-b")
RUNS_TIMEOUT = 420.0


# --- configuration (fast: no server) ------------------------------------------------------------------


def test_rate_limits_are_off_unless_configured() -> None:
    assert not RateLimits.from_env({}).enabled
    limits = RateLimits.from_env({ENV_ALL: "10", ENV_WRITES: "2.5", "LINGONG_RATE_LIMIT_TIMEOUT_SECONDS": "30"})
    assert limits.limits("M1") == {"lingong:M1:all": 10.0, "lingong:M1:write": 2.5}
    assert limits.names_for("M1", writes=True) == ["lingong:M1:all", "lingong:M1:write"]
    assert limits.names_for("M1", writes=False) == ["lingong:M1:all"]
    assert limits.timeout_seconds == 30.0
    reads_only = RateLimits.from_env({ENV_READS: "1"})
    assert reads_only.names_for("M1", writes=True) == []
    assert reads_only.names_for("M1", writes=False) == [limit_name("M1", CallClass.READ)]


@pytest.mark.parametrize("bad", ["0", "-1", "ten", "nan", "inf"])
def test_a_bad_rate_is_refused_naming_the_variable(bad: str) -> None:
    from lingong_core.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=ENV_WRITES):
        RateLimits.from_env({ENV_WRITES: bad})


# --- processes --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def base_env(home: Path) -> dict[str, str]:
    """A clean Prefect environment for a child process: its own home, no analytics, nothing inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LINGONG_"))}
    env.update(
        {
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_UI_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "INFO",
        }
    )
    home.mkdir(parents=True, exist_ok=True)
    return env


class Child:
    """A child process in its own process group, its output in a log file; stopped by its own id only."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path, cwd: Path = REPO) -> None:
        self.name, self.log = name, log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def wait_until(what: str, ready: Any, timeout: float, child: Child | None = None, step: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = ready()
        if value:
            return value
        if child is not None and not child.alive():
            pytest.fail(f"{child.name} exited while waiting for {what}:\n{child.tail()}")
        time.sleep(step)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}" + (f":\n{child.tail()}" if child else ""))


# --- the databases ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Databases:
    """Where the Prefect server keeps its state (None: SQLite in its home) and where lingong keeps its own —
    the run journal, the receiver's store and the payee store, shared by both workers and the receiver."""

    prefect: str | None
    lingong: str

    @property
    def name(self) -> str:
        return "postgresql" if self.prefect else "sqlite"


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Databases:
    """SQLite: the server's default file, and one lingong file on this host's disk that the workers and the
    receiver share (one machine). PostgreSQL: one cluster (tests/pg_cluster.py), a database for Prefect and
    one for lingong, as docs/operations.md lays out production."""
    if request.param == "sqlite":
        return Databases(None, sqlite_url(tmp_path / "lingong.db"))
    cluster: Cluster = request.getfixturevalue("postgres")
    return Databases(
        cluster.url(cluster.create_database("prefect"), "asyncpg"), cluster.url(cluster.create_database("lingong"))
    )


# --- the stack under test ---------------------------------------------------------------------------------


@dataclass
class Stack:
    api: str
    sandbox: SandboxServer
    merchant_no: str
    merchant_pem: str
    workers: list[Child]
    receiver: Child
    payee_key: str

    def admin(self, method: str, path: str, **params: Any) -> Any:
        response = httpx.request(method, f"{self.sandbox.admin_url}/{path}", params=params or None, timeout=30)
        response.raise_for_status()
        return response.json()

    def prefect(self, method: str, path: str, body: Any = None) -> Any:
        """One call to the Prefect API; a 503 (SQLite's "database is locked" under load) is retried, as
        Prefect's own client does — creations carry an idempotency key, so a retry creates nothing twice."""
        for attempt in range(6):
            response = httpx.request(method, f"{self.api}{path}", json=body, timeout=30)
            if response.status_code != 503:
                break
            time.sleep(1.0 + attempt)
        response.raise_for_status()
        return response.json() if response.content else None


SETUP = """
import json, sys
from prefect import flow, get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists
from lingong_core.config import LingongSettings
from tasks.credentials import LingongCredentials

repo, pool, block = sys.argv[1:4]
s = LingongSettings()
LingongCredentials(base_url=s.base_url, merchant_no=s.merchant_no, private_key=s.private_key_pem(),
                   platform_public_key=s.platform_public_key_pem()).save(block, overwrite=True)
with get_client(sync_client=True) as client:
    try:
        client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
    except ObjectAlreadyExists:
        pass
source = flow.from_source(source=repo, entrypoint="flows/payroll_run.py:payroll_run")
deployment_id = source.deploy(name="payroll-run", work_pool_name=pool, build=False, push=False,
                              print_next_steps=False)
print("DEPLOYMENT", deployment_id)
"""


def start_prefect_server(tmp: Path, database_url: str | None) -> tuple[Child, str]:
    env = base_env(tmp / "server-home")
    env["PREFECT_LOGGING_LEVEL"] = "WARNING"
    if database_url:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = database_url
    port = free_port()
    server = Child(
        "prefect server",
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env,
        tmp / "server.log",
    )
    api = f"http://127.0.0.1:{port}/api"

    def healthy() -> bool:
        try:
            return httpx.get(f"{api}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:  # a loaded 2-core machine has taken more than 180 s
        wait_until("the Prefect server to be healthy", healthy, 300, server, step=1.0)
    except BaseException:
        server.stop()  # not yet among the stack's children: stop it here, or it outlives the test
        raise
    return server, api


def fund(base_url: str, merchant_no: str, merchant_pem: str, sandbox: SandboxServer, amount: str) -> None:
    """One recharge straight through the core client (before the runs, outside the limit), until SUCCESS."""
    with LingongClient(base_url, merchant_no, merchant_pem) as client:
        biz = {
            "amount": Decimal(amount),
            "outOrderNo": "IT-FUND-1",
            "payChannelCode": "3000003",
            "rechargeTime": "2026-11-01 09:00:00",
            "serviceAmount": Decimal("0"),
            "taxBaseCode": TAX,
        }
        client.call("SFT0404", biz)

        def confirmed() -> bool:
            httpx.post(f"{sandbox.admin_url}/run-due", timeout=30).raise_for_status()
            return bool(client.call("SFT0403", {"outOrderNo": "IT-FUND-1"})["status"] == "SUCCESS")

        wait_until("the recharge to succeed", confirmed, 30)


def start_receiver(tmp: Path, env: dict[str, str]) -> tuple[Child, str]:
    """``lingong notify serve`` on a free port, recording into lingong's database; returns it and its URL."""
    port = free_port()
    receiver = Child(
        "receiver",
        [str(BIN / "lingong"), "notify", "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env,
        tmp / "receiver.log",
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until("the receiver to be healthy", healthy, 180, receiver, step=0.5)
    except BaseException:
        receiver.stop()
        raise
    return receiver, url


@contextlib.contextmanager
def worker_stack(tmp: Path, dbs: Databases) -> Iterator[Stack]:
    merchant_private, merchant_public = generate_key_pair(2048)
    merchant_pem = private_key_to_pem(merchant_private)
    settings = SandboxSettings(time_scale=200.0)
    children: list[Child] = []
    # lingong's database, as every host sees it: the same URL and payee key on the workers and the receiver
    lingong = {"LINGONG_DATABASE_URL": dbs.lingong, "LINGONG_PAYEE_KEY": base64.b64encode(os.urandom(32)).decode()}
    with SandboxServer(
        settings,
        merchant_public_key_pem=public_key_to_pem(merchant_public),
        db_path=tmp / "sandbox.db",
        faults=f"max_rps={PLATFORM_CAP}",
    ) as sandbox:
        try:
            server, api = start_prefect_server(tmp, dbs.prefect)
            children.append(server)
            merchant_no = settings.merchant.merchant_no
            receiver_env = base_env(tmp / "receiver-home")
            receiver_env.update(
                {
                    "PREFECT_API_URL": api,
                    "LINGONG_MERCHANT_NO": merchant_no,
                    "LINGONG_PLATFORM_PUBLIC_KEY": sandbox.platform_public_key_pem,
                    **lingong,
                }
            )
            receiver, receiver_url = start_receiver(tmp, receiver_env)
            children.append(receiver)
            response = httpx.put(f"{sandbox.admin_url}/settings", json={"notifyUrl": f"{receiver_url}/notify"})
            response.raise_for_status()
            setup_env = base_env(tmp / "setup-home")
            setup_env.update(
                {
                    "PREFECT_API_URL": api,
                    "LINGONG_BASE_URL": sandbox.base_url,
                    "LINGONG_MERCHANT_NO": merchant_no,
                    "LINGONG_PRIVATE_KEY": merchant_pem,
                    "LINGONG_PLATFORM_PUBLIC_KEY": sandbox.platform_public_key_pem,
                }
            )
            setup = subprocess.run(
                [sys.executable, "-c", SETUP, str(REPO), POOL, BLOCK],
                cwd=REPO, env=setup_env, capture_output=True, text=True, timeout=180, check=False,
            )  # fmt: skip
            assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
            workers: list[Child] = []
            for name in WORKERS:
                env = base_env(tmp / f"{name}-home")  # as on another host: no keys here, only the limits
                env.update(
                    {
                        "PREFECT_API_URL": api,
                        "PREFECT_WORKER_QUERY_SECONDS": "1",
                        "PREFECT_WORKER_PREFETCH_SECONDS": "2",
                        ENV_ALL: str(RATE),
                        ENV_WRITES: str(WRITE_RATE),
                        **lingong,
                    }
                )
                workers.append(
                    Child(
                        name,
                        [str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--type", "process",
                         "--name", name, "--limit", str(RUNS // len(WORKERS))],
                        env,
                        tmp / f"{name}.log",
                    )
                )  # fmt: skip
                children.append(workers[-1])
            yield Stack(api, sandbox, merchant_no, merchant_pem, workers, receiver, lingong["LINGONG_PAYEE_KEY"])
        finally:
            for child in reversed(children):
                child.stop()


def payroll(people: list[Person], first: int) -> list[dict[str, str]]:
    """Rows with amounts unique across the test, so that the audit tells every payee apart."""
    return [
        {
            "name": p.name,
            "id_card_no": p.id_card_no,
            "mobile": p.mobile,
            "bank_card_no": p.bank_card_no,
            "amount": f"{100 + first + i}.{first + i:02d}",
        }
        for i, p in enumerate(people)
    ]


def busiest_second(times: list[float]) -> int:
    """The most requests in any window [t, t + 1) of the sorted ``times``."""
    return max((bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)), default=0)


def tightest(times: list[float], n: int) -> float:
    """The shortest time any ``n + 1`` consecutive requests took: more than 1 s means at most n per second."""
    return min((b - a for a, b in zip(times, times[n:], strict=False)), default=float("inf"))


# --- the test ---------------------------------------------------------------------------------------------


@pytest.mark.integration_slow
@pytest.mark.timeout(900)  # server start, setup and four runs with onboarding: 7-12 min on a loaded 2-core machine
def test_two_workers_share_one_platform_rate_limit_and_pay_everyone_once(tmp_path: Path, databases: Databases) -> None:
    started = time.monotonic()
    people = team(RUNS * PAYEES_PER_RUN, seed=909)
    with worker_stack(tmp_path, databases) as s:
        fund(s.sandbox.base_url, s.merchant_no, s.merchant_pem, s.sandbox, "100000.00")
        since = s.admin("GET", "requests", limit=1000)["list"][-1]["id"]
        deployment = s.prefect("GET", "/deployments/name/payroll-run/payroll-run")
        runs = []
        for r in range(RUNS):
            rows = payroll(people[r * PAYEES_PER_RUN : (r + 1) * PAYEES_PER_RUN], r * PAYEES_PER_RUN)
            # the people go into the shared payee store (the database both workers use), never in as parameters
            with Database(databases.lingong) as db:
                ref = PayeeStore(db, key=s.payee_key).put_payroll(rows, source=f"it-{r}")
            params = {
                "period": "2026-11",
                "payroll_ref": ref,
                "batch_ref": f"IT{r}",
                "credentials_block": BLOCK,
            }
            body = {"parameters": params, "name": f"it-payroll-{r}", "idempotency_key": f"{tmp_path.name}-{r}"}
            runs.append(s.prefect("POST", f"/deployments/{deployment['id']}/create_flow_run", body)["id"])

        def finished() -> list[dict[str, Any]] | None:
            for worker in s.workers:
                if not worker.alive():
                    pytest.fail(f"{worker.name} exited:\n{worker.tail()}")
            found = s.prefect("POST", "/flow_runs/filter", {"flow_runs": {"id": {"any_": runs}}})
            done = [r for r in found if r["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")]
            return found if len(done) == len(runs) else None

        flow_runs = wait_until(f"{RUNS} payroll runs to finish", finished, RUNS_TIMEOUT, step=2.0)
        logs = "\n".join(f"--- {w.name}\n{w.tail(4000)}" for w in s.workers)
        states = {r["name"]: r["state"]["type"] for r in flow_runs}
        assert set(states.values()) == {"COMPLETED"}, f"{states}\n{logs}"

        # Both workers ran payroll runs: each says which flow runs it submitted.
        ran = {w.name: {r for r in runs if r in w.log.read_text(errors="replace")} for w in s.workers}
        assert all(ran.values()), f"a worker ran nothing: {ran}\n{logs}"
        assert set().union(*ran.values()) == set(runs)

        # Every payee paid exactly once; the ledger balances.
        audit = s.admin("GET", "audit")
        assert audit["paid_twice"] == []
        assert audit["balanced"] is True
        paid = sorted((o["idCardNo"], o["amount"]) for o in audit["orders"].values() if o["paid"] == 1)
        expected = sorted(
            (mask_id(row["id_card_no"]), Decimal(row["amount"]))
            for r in range(RUNS)
            for row in payroll(people[r * PAYEES_PER_RUN : (r + 1) * PAYEES_PER_RUN], r * PAYEES_PER_RUN)
        )
        assert [(i, Decimal(str(a))) for i, a in paid] == expected
        assert all(o["paid"] == 1 and o["debited"] == 1 for o in audit["orders"].values())

        # lingong's own state, which both workers and the receiver wrote into one database at once: nothing
        # lost, nothing doubled.
        def acknowledged() -> list[dict[str, Any]] | None:
            sent = s.admin("GET", "notifications")["list"]
            return sent if sent and all(n["status"] == "ACKED" for n in sent) else None

        sent = wait_until("the platform's notifications to be acknowledged", acknowledged, 60, s.receiver)
        keys = sorted(audit["orders"])
        with Database(databases.lingong) as db:
            # the run journal: one row per order the platform paid, as paid, with its amount
            journal = Journal(db=db).orders(TAX)
            assert [o.out_order_no for o in journal] == keys
            assert {o.outcome for o in journal} == {"PAID"}
            assert sorted(o.amount for o in journal) == sorted(a for _, a in expected)
            assert all(o.batch_no and o.order_no for o in journal)
            # the payee store: each run's typed rows stored once, readable with the key every host shares
            with db.connect() as conn:
                sets = conn.execute(select(payee_sets.c.ref, payee_sets.c.rows).where(payee_sets.c.kind == PAYROLL))
                stored = {row.ref: row.rows for row in sets}
            assert sorted(stored.values()) == [PAYEES_PER_RUN] * RUNS
            payees = PayeeStore(db, key=s.payee_key)
            held = sorted(row.id_card_no for ref in stored for row in payees.payroll(ref))
            assert held == sorted(p.id_card_no for p in people)
            # the receiver's store: every notification the platform sent recorded once, every order's state
            store = Store(db=db)
            recorded = store.list(limit=None)
            assert sorted(r.notify_no for r in recorded) == sorted(n["notifyNo"] for n in sent)
            assert sum(r.notify_type == "3001" for r in recorded) == len(keys)
            for key in keys:
                state = store.get_state(f"lingong.order.{key}")
                assert state is not None, key
                assert state.state == "SUCCESS", key
        print(f"lingong database: {len(journal)} journal rows, {len(stored)} payee sets, {len(recorded)} notifications")

        # The limit held, as the platform saw it.
        entries = s.admin("GET", "requests", sinceId=since, limit=5000)["list"]
        log = [e for e in entries if e["merchantNo"] == s.merchant_no]
        arrived = sorted(float(e["epoch"]) - float(e["durationMs"]) / 1000 for e in log)
        writes = sorted(
            float(e["epoch"]) - float(e["durationMs"]) / 1000 for e in log if e["apiCode"] and is_write(e["apiCode"])
        )
        throttled = [e for e in log if e["code"] == 429]
        span = arrived[-1] - arrived[0]
        summary = (
            f"{len(log)} requests ({len(writes)} writes) over {span:.1f} s = {len(log) / span:.2f}/s; "
            f"busiest second {busiest_second(arrived)} (writes {busiest_second(writes)}); "
            f"{RATE + 1} requests took at least {tightest(arrived, RATE):.3f} s, "
            f"{WRITE_RATE + 1} writes {tightest(writes, WRITE_RATE):.3f} s; 429s {len(throttled)}"
        )
        print(summary)
        assert tightest(arrived, RATE) >= 1 - JITTER, summary
        assert tightest(writes, WRITE_RATE) >= 1 - JITTER, summary
        assert throttled == [], summary
        assert busiest_second(arrived) >= RATE, f"the limit never bound, so this shows nothing: {summary}"

        # The limits were created by the runs themselves (nothing created them beforehand).
        for call_class, rate in ((CallClass.ALL, RATE), (CallClass.WRITE, WRITE_RATE)):
            limit = s.prefect("GET", f"/v2/concurrency_limits/{limit_name(s.merchant_no, call_class)}")
            assert (limit["limit"], limit["slot_decay_per_second"], limit["active"]) == (1, rate, True)
    # The server kept its state where it was told to: SQLite in its home only without a PostgreSQL URL.
    assert (tmp_path / "server-home" / "prefect.db").exists() == (databases.prefect is None)
    print(f"wall time {time.monotonic() - started:.0f} s ({databases.name})")
