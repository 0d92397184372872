"""Fixtures for the sandbox's HTTP-level tests: a started sandbox on a loopback port with fresh keys and time
compressed 1000-fold, and a merchant's notification receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from lingong_core.signing import generate_key_pair
from lingong_sandbox.server import SandboxServer
from lingong_sandbox.settings import SandboxSettings
from tests.sandbox.sandbox_http import RawClient, Receiver, Running, make_settings

# --- keys and servers ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def platform_key() -> rsa.RSAPrivateKey:
    return generate_key_pair(1024)[0]


@pytest.fixture(scope="session")
def merchant_key() -> rsa.RSAPrivateKey:
    return generate_key_pair(2048)[0]


@pytest.fixture
def start_sandbox(platform_key: rsa.RSAPrivateKey, merchant_key: rsa.RSAPrivateKey) -> Iterator[Callable[..., Running]]:
    """Start a sandbox (more than one if asked); every one is stopped at the end of the test."""
    started: list[Running] = []

    def start(
        *, db_path: str | Path = ":memory:", faults: str | None = None, settings: SandboxSettings | None = None
    ) -> Running:
        server = SandboxServer(
            settings or make_settings(merchant_key),
            platform_private_key=platform_key,
            db_path=db_path,
            faults=faults,
        ).start()
        running = Running(server, RawClient(server.base_url, merchant_key))
        started.append(running)
        return running

    yield start
    for running in started:
        running.client.close()
        running.server.stop()


@pytest.fixture
def sandbox(start_sandbox: Callable[..., Running]) -> Running:
    """A started sandbox with the real engine, in memory, time compressed 1000-fold, no faults."""
    return start_sandbox()


# --- a merchant's notification receiver -----------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            with state.lock:
                state.received.append(body)
                status, text = state.answers.pop(0) if state.answers else (200, "success")
            payload = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/notify"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)
