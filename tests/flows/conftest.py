"""Flow tests: one session-wide Prefect test harness, one sandbox on a loopback port, and the
``LINGONG_*`` environment pointing the flows at it — exactly as an operator configures a real merchant."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from lingong_core.signing import generate_key_pair, private_key_to_pem, public_key_to_pem
from lingong_sandbox.server import SandboxServer
from lingong_sandbox.settings import SandboxSettings


@dataclass
class Platform:
    """The sandbox as the tests see it: its server and its admin endpoints."""

    server: SandboxServer

    def admin(self, method: str, path: str, **json: Any) -> dict[str, Any]:
        response = httpx.request(method, f"{self.server.admin_url}/{path}", json=json or None, timeout=30)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def audit(self) -> dict[str, Any]:
        return self.admin("GET", "audit")

    def script(self, **fields: Any) -> None:
        self.admin("POST", "script-outcome", **fields)


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The sandbox: a file database, platform processing compressed 500-fold."""
    state = tmp_path_factory.mktemp("platform")
    merchant_private, merchant_public = generate_key_pair(2048)
    settings = SandboxSettings(time_scale=500.0)
    with SandboxServer(
        settings, merchant_public_key_pem=public_key_to_pem(merchant_public), db_path=state / "sandbox.db"
    ) as server:
        env = {
            "LINGONG_BASE_URL": server.base_url,
            "LINGONG_MERCHANT_NO": settings.merchant.merchant_no,
            "LINGONG_PRIVATE_KEY": private_key_to_pem(merchant_private),
            "LINGONG_PLATFORM_PUBLIC_KEY": server.platform_public_key_pem,
            "LINGONG_JOURNAL_DB": str(state / "journal.db"),
        }
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            yield Platform(server)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture(scope="session")
def prefect(platform: Platform, prefect_harness: str) -> None:
    """The session's one Prefect test harness (tests/conftest.py), with the sandbox's environment set."""


@pytest.fixture(autouse=True)
def _collect_prefect_leftovers() -> Iterator[None]:
    """Collect each flow test's garbage before it ends, so that a socket or transport a flow leaves unclosed fails
    the flow test that left it, not whichever test's code the garbage collector happens to run in next (Prefect's
    leftover sockets were seen so in a journal test and a hypothesis test, before the harness's sync client)."""
    yield
    gc.collect()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
