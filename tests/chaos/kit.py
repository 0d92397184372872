"""What the chaos suite stands on: the sandbox for one scenario (memory or a file it can be restarted on),
its admin endpoints, the ``LINGONG_*`` environment pointing the flows at it, and the notification receiver.

Everything here speaks HTTP to servers on loopback; nothing reaches into the sandbox's or the flows'
internals. Keys are generated once per session and never written to the repository.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from lingong_core import jsoncodec
from lingong_core.signing import generate_key_pair, private_key_to_pem, public_key_to_pem, sign_envelope
from lingong_core.timeutil import format_timestamp, now
from lingong_receiver import Receiver, Store
from lingong_receiver.app import create_app
from lingong_receiver.events import EventSpec
from lingong_sandbox.server import SandboxServer
from lingong_sandbox.settings import DEFAULT_MERCHANT_NO, SandboxSettings

TAX = "2000064001"
MERCHANT_NO = DEFAULT_MERCHANT_NO

#: The sockets Prefect's client leaves to the garbage collector are closed at their source now (the session's
#: sync client, tests/conftest.py): ``make test``'s chaos tests — the small profile, the regressions, hostile
#: input — carry no filter and pass with every warning an error. The full profile (``make chaos`` only) kills and
#: restarts servers under running flows hundreds of times and has not yet been run without these two filters,
#: so its cases still carry them.
FULL_PROFILE_LEFTOVERS = [
    pytest.mark.filterwarnings("ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <function _SelectorTransport.__del__:pytest.PytestUnraisableExceptionWarning"
    ),
]

#: Fault counters that name a kind of fault rather than count one (a 429 burst's start is also a 429).
NOT_A_FAULT = frozenset({"rate_limit_burst"})


@dataclass(frozen=True)
class Keys:
    merchant_private: rsa.RSAPrivateKey
    platform_private: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> Keys:
        return cls(generate_key_pair(2048)[0], generate_key_pair(2048)[0])

    @property
    def merchant_private_pem(self) -> str:
        return private_key_to_pem(self.merchant_private)

    @property
    def merchant_public_pem(self) -> str:
        return public_key_to_pem(self.merchant_private.public_key())

    @property
    def platform_public_pem(self) -> str:
        return public_key_to_pem(self.platform_private.public_key())


class ChaosSandbox:
    """One sandbox platform for one scenario. With ``file_db`` it can be stopped and started again on the same
    database file and port while clients are talking to it (:meth:`restart`)."""

    def __init__(self, keys: Keys, workdir: Path, *, time_scale: float = 1000.0, file_db: bool = False) -> None:
        self.keys = keys
        self.settings = SandboxSettings(time_scale=time_scale)
        self.db_path: str | Path = workdir / "sandbox.db" if file_db else ":memory:"
        self.server = SandboxServer(
            self.settings,
            platform_private_key=keys.platform_private,
            merchant_public_key_pem=keys.merchant_public_pem,
            db_path=self.db_path,
        )
        self.http = httpx.Client(trust_env=False, timeout=30)
        self.restarts = 0
        self._spec, self._seed = "", 0
        self._carried: Counter[str] = Counter()  # fault counts of the sandbox's earlier lives

    def __enter__(self) -> ChaosSandbox:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
        self.http.close()

    @property
    def base_url(self) -> str:
        return self.server.base_url

    # --- admin endpoints ------------------------------------------------------------------------------

    def admin(self, method: str, path: str, payload: dict[str, Any] | None = None, **params: Any) -> Any:
        response = self.http.request(
            method,
            f"{self.server.admin_url}/{path}",
            content=jsoncodec.dumps(payload).encode() if payload is not None else None,
            params=params or None,
        )
        response.raise_for_status()
        return jsoncodec.loads(response.content)

    def audit(self) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("GET", "audit")
        return result

    def call_signed(self, api_code: str, biz_text: str, **tamper: Any) -> httpx.Response:
        """POST one envelope to the gateway, signed with the merchant's key over exactly ``biz_text``
        (which may be any text), then ``tamper``ed; the body is ASCII JSON, so even a lone surrogate travels."""
        env: dict[str, Any] = {
            "apiCode": api_code,
            "merchantNo": MERCHANT_NO,
            "requestNo": uuid.uuid4().hex,
            "timestamp": format_timestamp(now()),
            "version": "2.0",
            "bizModel": biz_text,
        }
        env["sign"] = sign_envelope(env, self.keys.merchant_private)
        env.update(tamper)
        return self.http.post(
            self.server.gateway_url,
            content=json.dumps(env, ensure_ascii=True, default=str).encode("ascii"),
            headers={"content-type": "application/json"},
        )

    def set_faults(self, spec: str, seed: int) -> None:
        self._spec, self._seed = spec, seed
        self.admin("PUT", "faults", {"spec": spec, "seed": seed})

    def fault_counts(self) -> Counter[str]:
        """Every fault injected so far, over restarts."""
        now = Counter({k: int(v) for k, v in self.admin("GET", "faults")["counts"].items()})
        return self._carried + now

    def faults_injected(self) -> int:
        return sum(v for k, v in self.fault_counts().items() if k not in NOT_A_FAULT)

    def set_notify_url(self, url: str | None) -> None:
        self.admin("PUT", "settings", {"notifyUrl": url})

    def script(self, **fields: Any) -> None:
        self.admin("POST", "script-outcome", fields)

    def requests_since(self, since_id: int, api_code: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"sinceId": since_id, "limit": 1000}
        if api_code:
            params["apiCode"] = api_code
        items: list[dict[str, Any]] = self.admin("GET", "requests", **params)["list"]
        return items

    def last_request_id(self) -> int:
        items = self.requests_since(0)
        seen = 0
        while items:  # the log is paged by id
            seen = max(int(i["id"]) for i in items)
            items = self.requests_since(seen)
        return seen

    def settle(self, timeout: float = 30.0) -> dict[str, Any]:
        """The audit once the platform has nothing left to do (no job pending, no notification undelivered)."""
        deadline = time.monotonic() + timeout
        while True:
            audit = self.audit()
            waiting = (
                not self.settings.merchant.notify_url
                or not self.admin("GET", "notifications", status="PENDING")["total"]
            )
            if (not audit["jobs_pending"] and waiting) or time.monotonic() > deadline:
                return audit
            time.sleep(0.05)

    # --- restart --------------------------------------------------------------------------------------

    def restart(self, down_seconds: float) -> None:
        """Stop the platform (in-flight requests finish or are cut), stay down, start it on the same file and
        port. The fault spec is set again with a new seed so that the draws go on rather than repeat."""
        if self.db_path == ":memory:":
            raise RuntimeError("a sandbox in memory cannot be restarted: nothing would survive")
        self._carried += self.fault_counts() - self._carried
        self.server.stop()
        time.sleep(down_seconds)
        self.server.start()
        self.restarts += 1
        self.admin("PUT", "faults", {"spec": self._spec, "seed": self._seed + self.restarts})


@contextmanager
def lingong_env(sandbox: ChaosSandbox, journal: Path, **extra: str) -> Iterator[dict[str, str]]:
    """The ``LINGONG_*`` variables an operator sets for this merchant, pointed at ``sandbox``; restored after."""
    env = {
        "LINGONG_BASE_URL": sandbox.base_url,
        "LINGONG_MERCHANT_NO": MERCHANT_NO,
        "LINGONG_PRIVATE_KEY": sandbox.keys.merchant_private_pem,
        "LINGONG_PLATFORM_PUBLIC_KEY": sandbox.keys.platform_public_pem,
        "LINGONG_JOURNAL_DB": str(journal),
        **extra,
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield env
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def env_var(name: str, value: str | None) -> Iterator[None]:
    saved = os.environ.get(name)
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved


@dataclass
class KeptEvents:
    """The receiver's emitter in the suite: keeps the events (Prefect's event stream is not under test here)."""

    events: list[EventSpec] = field(default_factory=list)

    def __call__(self, spec: EventSpec) -> None:
        self.events.append(spec)


@contextmanager
def running_receiver(keys: Keys, workdir: Path) -> Iterator[tuple[Receiver, str]]:
    """The merchant's notification receiver on a loopback port: (receiver, its ``/notify`` URL)."""
    from tests.receiver.receiver_helpers import serve_in_thread

    store = Store(workdir / "notifications.db")
    receiver = Receiver(
        store, merchant_no=MERCHANT_NO, platform_public_key=keys.platform_private.public_key(), emitter=KeptEvents()
    )
    try:
        with serve_in_thread(create_app(receiver)) as url:
            yield receiver, url + "/notify"
    finally:
        store.close()
