"""Helpers for the sandbox's HTTP-level tests: a minimal client that builds and signs the envelope by hand
(deliberately not the project's client, so the sandbox is checked against the contract rather than against
our own client's habits), a stand-in for the merchant's notification receiver, and small utilities.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from lingong_core import jsoncodec
from lingong_core.signing import public_key_to_pem, sign_string
from lingong_core.timeutil import SHANGHAI
from lingong_sandbox.server import SandboxServer
from lingong_sandbox.settings import SandboxSettings

MERCHANT_NO = "1088202103120003"
TAX_BASE = "2000064001"
TIME_SCALE = 1000.0


def stamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(SHANGHAI)).astimezone(SHANGHAI).strftime("%Y%m%d%H%M%S")


def recharge_biz(out_order_no: str | None = None, amount: str = "200021.00") -> dict[str, Any]:
    """An SFT0404 recharge sync in the seed's shape."""
    return {
        "amount": Decimal(amount),
        "outOrderNo": out_order_no or "T" + uuid.uuid4().hex[:16],
        "payChannelCode": "3000003",
        "rechargeTime": int(time.time() * 1000),
        "serviceAmount": Decimal("0"),
        "taxBaseCode": TAX_BASE,
    }


class RawClient:
    """The smallest honest client: JSON envelope, sign string, RSA PKCS#1 v1.5 signature, POST."""

    def __init__(self, base_url: str, private_key: rsa.RSAPrivateKey, merchant_no: str = MERCHANT_NO) -> None:
        self.base_url = base_url
        self.private_key = private_key
        self.merchant_no = merchant_no
        self.http = httpx.Client(base_url=base_url, trust_env=False, timeout=15.0)

    def envelope(
        self,
        api_code: str,
        biz: dict[str, Any] | str,
        *,
        request_no: str | None = None,
        timestamp: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        sha1: bool = False,
        **overrides: Any,
    ) -> dict[str, Any]:
        env: dict[str, Any] = {
            "apiCode": api_code,
            "merchantNo": self.merchant_no,
            "requestNo": request_no or str(uuid.uuid4()),
            "timestamp": timestamp or stamp(),
            "version": "2.0",
            "bizModel": biz if isinstance(biz, str) else jsoncodec.dumps(biz),
            **overrides,
        }
        digest = hashes.SHA1() if sha1 else hashes.SHA256()  # noqa: S303 (the contract's legacy option)
        signature = (key or self.private_key).sign(sign_string(env).encode("utf-8"), padding.PKCS1v15(), digest)
        env["sign"] = base64.b64encode(signature).decode("ascii")
        return env

    def post(self, content: bytes | str) -> httpx.Response:
        data = content.encode("utf-8") if isinstance(content, str) else content
        return self.http.post(
            "/open/api/gateway.do", content=data, headers={"Content-Type": "application/json; charset=utf-8"}
        )

    def send(self, env: dict[str, Any]) -> httpx.Response:
        return self.post(jsoncodec.dumps(env))

    def call(self, api_code: str, biz: dict[str, Any] | str, **kwargs: Any) -> dict[str, Any]:
        response = self.send(self.envelope(api_code, biz, **kwargs))
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = jsoncodec.loads(response.content)
        return answer

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        content = None if body is None else jsoncodec.dumps(body)
        response = self.http.request(method, "/sandbox/admin/" + path, content=content)
        assert response.status_code == 200, response.text
        return jsoncodec.loads(response.content)

    def close(self) -> None:
        self.http.close()


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.01) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


def make_settings(merchant_key: rsa.RSAPrivateKey, **changes: Any) -> SandboxSettings:
    settings = SandboxSettings(time_scale=TIME_SCALE, seed=7)
    settings.merchant.public_key_pem = public_key_to_pem(merchant_key.public_key())
    for name, value in changes.items():
        setattr(settings, name, value)
    return settings


@dataclass
class Running:
    server: SandboxServer
    client: RawClient

    @property
    def base_url(self) -> str:
        return self.server.base_url


@dataclass
class Receiver:
    """A plain HTTP server standing in for the merchant: records every POST, answers per a script."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    answers: list[tuple[int, str]] = field(default_factory=list)  # consumed first; then (200, "success")
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.received)


def shanghai_now() -> datetime:
    return datetime.now(SHANGHAI)


def minutes_ago(minutes: float) -> str:
    return stamp(shanghai_now() - timedelta(minutes=minutes))
