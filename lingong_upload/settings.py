"""What the upload page needs: the operator credential, where Prefect is, limits.

The credential (one of, checked in this order):

- ``LINGONG_UPLOAD_TRUSTED_USER_HEADER`` (e.g. ``X-Forwarded-User``): behind a company's single sign-on
  proxy (oauth2-proxy, an Nginx/Apache auth module, …), the proxy authenticates the operator and passes
  their name in this header; the page trusts it. Only with the page bound to loopback (or a network only
  the proxy reaches) and a proxy that strips the header from what clients send.
- ``LINGONG_UPLOAD_TOKEN``: a shared operator password/token. The browser asks for it (HTTP Basic: any
  user name, the token as password); scripts send ``Authorization: Bearer <token>``.
- ``LINGONG_UPLOAD_TOKEN_BLOCK``: the name of a Prefect Secret block holding that token.

With none configured the page does not start. ``LINGONG_UPLOAD_MAX_MB`` (default 10) caps an upload;
``LINGONG_UPLOAD_DEPLOYMENT`` names the deployment it starts (default ``payroll-run/payroll-run``).
The Prefect API is ``PREFECT_API_URL``; links go to ``PREFECT_UI_URL`` (default: the API URL without
``/api``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lingong_store.payees import PayeeStore

DEFAULT_MAX_MB = 10
DEFAULT_DEPLOYMENT = "payroll-run/payroll-run"
DEFAULT_TAX_BASE_CODE = "2000064001"


class UploadConfigError(RuntimeError):
    """The page cannot start as configured (no operator credential, a bad limit)."""


def _token_from_block(name: str) -> str:
    from prefect.blocks.system import Secret

    try:
        block = Secret.load(name, _sync=True)  # type: ignore[call-arg]
    except ValueError as exc:
        raise UploadConfigError(f"LINGONG_UPLOAD_TOKEN_BLOCK={name!r}: no such Secret block ({exc})") from None
    assert isinstance(block, Secret)
    value = block.get()
    if not isinstance(value, str) or not value:
        raise UploadConfigError(f"LINGONG_UPLOAD_TOKEN_BLOCK={name!r}: the Secret must hold the token as text")
    return value


def _default_store() -> PayeeStore:
    from tasks.payees import payee_store

    return payee_store()


async def _start_run(deployment: str, parameters: dict[str, Any]) -> tuple[str, str]:
    """Create a run of ``deployment`` with ``parameters`` on the Prefect server; (run id, run name)."""
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        found = await client.read_deployment_by_name(deployment)
        run = await client.create_flow_run_from_deployment(found.id, parameters=parameters, tags=["upload"])
    return str(run.id), run.name


@dataclass
class UploadSettings:
    token: str | None = None
    trusted_user_header: str | None = None
    max_bytes: int = DEFAULT_MAX_MB * 1024 * 1024
    deployment: str = DEFAULT_DEPLOYMENT
    tax_base_code: str = DEFAULT_TAX_BASE_CODE
    ui_url: str = "http://127.0.0.1:4200"
    store: Callable[[], PayeeStore] = _default_store
    starter: Callable[[str, dict[str, Any]], Any] = _start_run
    secret: bytes = field(default_factory=lambda: os.urandom(32))

    def __post_init__(self) -> None:
        if not self.token and not self.trusted_user_header:
            raise UploadConfigError(
                "no operator credential: set LINGONG_UPLOAD_TOKEN (or LINGONG_UPLOAD_TOKEN_BLOCK, a Prefect Secret "
                "block), or LINGONG_UPLOAD_TRUSTED_USER_HEADER behind a single sign-on proxy"
            )
        if self.token:  # the forms' CSRF tokens survive a restart and hold on every replica with the same token
            self.secret = hashlib.sha256(b"lingong-upload-csrf" + self.token.encode()).digest()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> UploadSettings:
        env = os.environ if env is None else env
        token = env.get("LINGONG_UPLOAD_TOKEN", "").strip() or None
        if token is None and (block := env.get("LINGONG_UPLOAD_TOKEN_BLOCK", "").strip()):
            token = _token_from_block(block)
        text = env.get("LINGONG_UPLOAD_MAX_MB", "").strip()
        try:
            max_mb = float(text) if text else DEFAULT_MAX_MB
        except ValueError:
            raise UploadConfigError(f"LINGONG_UPLOAD_MAX_MB: {text!r} is not a number") from None
        if not 0 < max_mb <= 50:
            raise UploadConfigError("LINGONG_UPLOAD_MAX_MB: must be more than 0 and at most 50")
        api = env.get("PREFECT_API_URL", "").rstrip("/")
        ui = env.get("PREFECT_UI_URL", "").rstrip("/") or (api.removesuffix("/api") if api else "http://127.0.0.1:4200")
        return cls(
            token=token,
            trusted_user_header=env.get("LINGONG_UPLOAD_TRUSTED_USER_HEADER", "").strip() or None,
            max_bytes=int(max_mb * 1024 * 1024),
            deployment=env.get("LINGONG_UPLOAD_DEPLOYMENT", "").strip() or DEFAULT_DEPLOYMENT,
            ui_url=ui,
        )

    def authenticate(self, headers: Mapping[str, str]) -> str | None:
        """Who the request is from, or None: the SSO proxy's header, else the token (Basic or Bearer)."""
        if self.trusted_user_header:
            user = headers.get(self.trusted_user_header.lower(), "").strip()
            if user:
                return user
        if not self.token:
            return None
        scheme, _, value = headers.get("authorization", "").partition(" ")
        given = ""
        if scheme.lower() == "bearer":
            given = value.strip()
        elif scheme.lower() == "basic":
            try:
                given = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[2]
            except (binascii.Error, UnicodeDecodeError):
                return None
        if given and hmac.compare_digest(given.encode(), self.token.encode()):
            return "operator"
        return None

    async def start_run(self, parameters: dict[str, Any]) -> tuple[str, str]:
        result: tuple[str, str] = await self.starter(self.deployment, parameters)
        return result
