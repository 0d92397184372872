"""Helpers for the receiver's tests: signed notification bodies with overrides, a settable clock, a
recording emitter, and a uvicorn server on a loopback port in a thread. Keys are generated per session."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from lingong_core import jsoncodec
from lingong_core.signing import SignAlgorithm, sign_envelope
from lingong_core.timeutil import SHANGHAI, format_timestamp
from lingong_receiver.events import EmitError, EventSpec

MERCHANT_NO = "1088202103120003"
NOW = datetime(2024, 3, 4, 16, 20, 30, tzinfo=SHANGHAI)

# Personal data that must never reach an event payload unmasked.
ID_CARD = "110101199003071234"
MOBILE = "13812345678"
CARD = "6222021234567890123"

_OMIT = object()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, moment: datetime = NOW) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


@dataclass
class RecordingEmitter:
    """Records every event it is given; ``fail_next`` makes the next n calls raise :class:`EmitError`."""

    events: list[EventSpec] = field(default_factory=list)
    attempts: int = 0
    fail_next: int = 0

    def __call__(self, spec: EventSpec) -> None:
        self.attempts += 1
        if self.fail_next > 0:
            self.fail_next -= 1
            raise EmitError("Prefect is unreachable (test)")
        self.events.append(spec)

    @property
    def names(self) -> list[str]:
        return [e.event for e in self.events]


def settlement_biz(**overrides: Any) -> dict[str, Any]:
    biz: dict[str, Any] = {
        "batchNo": "B202403040001",
        "outBatchNo": "PAY-2024-03-A",
        "orderNo": "O202403040000001",
        "outOrderNo": "PAY-2024-03-A-0001",
        "amount": 1234,
        "serviceAmount": jsoncodec.loads("74.04"),
        "status": "SUCCESS",
        "failMsg": "",
        "completeTime": "2024-03-04 16:20:00",
    }
    biz.update(overrides)
    return {k: v for k, v in biz.items() if v is not _OMIT}


BIZ_BY_TYPE: dict[str, dict[str, Any]] = {
    "1001": {
        "orderNo": "R202403040001",
        "outOrderNo": "T202403040000001",
        "taxBaseCode": "2000064001",
        "amount": 200021,
        "status": "SUCCESS",
        "completeTime": 1709540429621,
    },
    "2001": {
        "withdrawNo": "W202403040001",
        "outWithdrawNo": "WD-1",
        "amount": jsoncodec.loads("500.5"),
        "status": "SUCCESS",
        "completeTime": "2024-03-04 16:00:00",
    },
    "3001": settlement_biz(),
    "5001": {
        "batchNo": "B202403040001",
        "outBatchNo": "PAY-2024-03-A",
        "orderNo": "O202403040000001",
        "outOrderNo": "PAY-2024-03-A-0001",
        "amount": 1234,
        "serviceAmount": jsoncodec.loads("74.04"),
        "refundNo": "RF0001",
        "bounceReason": "账户已销户",
        "bounceTime": "2024-03-04 18:00:00",
    },
    "8001": {
        "contractNo": "C202403040001",
        "freelancerNo": "F0001",
        "idCardNo": ID_CARD,
        "taxBaseCode": "2000064001",
        "status": "SIGNED",
        "signTime": "2024-03-04 15:00:00",
    },
    "9001": {
        "applyNo": "I202403040001",
        "outApplyNo": "INV-1",
        "status": "ISSUED",
        "invoiceNos": ["04400001", "04400002"],
        "amount": jsoncodec.loads("13080.04"),
        "issueTime": "2024-03-05 10:00:00",
    },
}

RESOURCE_BY_TYPE = {
    "1001": "lingong.recharge.T202403040000001",
    "2001": "lingong.withdrawal.W202403040001",
    "3001": "lingong.settlement.B202403040001",
    "5001": "lingong.settlement.B202403040001",
    "8001": "lingong.contract.C202403040001",
    "9001": "lingong.invoice.I202403040001",
}


def envelope(
    key: rsa.RSAPrivateKey,
    *,
    notify_type: Any = "3001",
    notify_no: str = "N2024030416203000000001",
    biz: Mapping[str, Any] | str | None = None,
    at: datetime = NOW,
    merchant_no: str = MERCHANT_NO,
    algorithm: SignAlgorithm = SignAlgorithm.SHA256_WITH_RSA,
    sign: bool = True,
    **overrides: Any,
) -> dict[str, Any]:
    """A notification envelope signed with ``key``; ``overrides`` replace fields (``_OMIT`` drops one) before
    signing, so a malformed field still carries a valid signature."""
    if biz is None:
        biz = BIZ_BY_TYPE[str(notify_type)]
    env: dict[str, Any] = {
        "notifyType": notify_type,
        "notifyNo": notify_no,
        "merchantNo": merchant_no,
        "version": "2.0",
        "timestamp": format_timestamp(at),
        "bizModel": biz if isinstance(biz, str) else jsoncodec.dumps(biz),
    }
    env.update(overrides)
    env = {k: v for k, v in env.items() if v is not _OMIT}
    if sign:
        env["sign"] = sign_envelope(env, key, algorithm)
    return env


def body(key: rsa.RSAPrivateKey, **kwargs: Any) -> bytes:
    """The HTTP body of a signed notification (see :func:`envelope`)."""
    return jsoncodec.dumps(envelope(key, **kwargs)).encode("utf-8")


OMIT = _OMIT


@contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """Run ``app`` with uvicorn on a free 127.0.0.1 port in a thread; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", ws="none", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


class AsgiClient:
    """Synchronous HTTP calls into an ASGI app through :class:`httpx.ASGITransport` (no socket, no lifespan).

    Starlette's own TestClient is deprecated with httpx in this Starlette release, so this small wrapper
    drives httpx's async client on one event loop per test instead.
    """

    def __init__(self, app: FastAPI) -> None:
        self._runner = asyncio.Runner()
        self._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://receiver.test")

    def post(self, path: str, content: bytes, headers: Mapping[str, str] | None = None) -> httpx.Response:
        return self._runner.run(self._client.post(path, content=content, headers=dict(headers or {})))

    def get(self, path: str) -> httpx.Response:
        return self._runner.run(self._client.get(path))

    def close(self) -> None:
        self._runner.run(self._client.aclose())
        self._runner.close()
