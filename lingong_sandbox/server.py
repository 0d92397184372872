"""Run the sandbox in process: uvicorn in a background thread, on loopback and a free port.

::

    with SandboxServer(settings, platform_private_key=key, db_path="sandbox.db") as server:
        client = LingongClient(server.base_url, settings.merchant.merchant_no, merchant_private_pem)
        ...

``port=0`` (the default) binds a free port, read back as :attr:`SandboxServer.port`. Stopping runs the
app's lifespan shutdown (background threads stop, the database closes); starting again on the same
database file picks up where it stopped.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from types import TracebackType

import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa

from lingong_core.signing import generate_key_pair, public_key_to_pem

from .app import SandboxApp, create_app
from .faults import FaultSpec
from .sandbox import EngineFactory
from .settings import SandboxSettings

STARTUP_TIMEOUT = 20.0


class SandboxServer:
    def __init__(
        self,
        settings: SandboxSettings | None = None,
        *,
        platform_private_key: rsa.RSAPrivateKey | None = None,
        merchant_public_key_pem: str | None = None,
        db_path: str | Path = ":memory:",
        faults: FaultSpec | str | None = None,
        engine_factory: EngineFactory | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
    ) -> None:
        self.settings = settings or SandboxSettings()
        if merchant_public_key_pem is not None:
            self.settings.merchant.public_key_pem = merchant_public_key_pem
        self.platform_private_key = platform_private_key or generate_key_pair(2048)[0]
        self.db_path = db_path
        self.host = host
        self._requested_port = port
        self._faults = faults
        self._engine_factory = engine_factory
        self._log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.app: SandboxApp | None = None
        self.port = 0
        self._files_url_auto = False

    # --- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        if self._thread is not None:
            return self
        self.app = create_app(
            self.settings,
            self.platform_private_key,
            db_path=self.db_path,
            faults=self._faults,
            engine_factory=self._engine_factory,
        )
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
        # without it every answer waits ~40 ms for a delayed ACK (headers and body are written apart).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port or self.port))
        self.port = sock.getsockname()[1]
        self._socket = sock
        if not self.settings.files_url or self._files_url_auto:  # receipts and certificates are served here
            self.settings.files_url, self._files_url_auto = self.base_url, True
        config = uvicorn.Config(
            self.app,
            log_level=self._log_level,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=5,
        )
        self._server = server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="sandbox-uvicorn", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the sandbox did not start on {self.host}:{self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(15)
        if self.app is not None:
            self.app.sandbox.close()  # if the lifespan did not run to its end
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- what clients need ---------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def gateway_url(self) -> str:
        return self.base_url + "/open/api/gateway.do"

    @property
    def admin_url(self) -> str:
        return self.base_url + "/sandbox/admin"

    @property
    def platform_public_key_pem(self) -> str:
        return public_key_to_pem(self.platform_private_key.public_key())
