"""One running platform: its database, engine, faults, notifier, gateway and background threads.

:class:`Sandbox` is what both the ASGI app (``app.py``) and its admin endpoints (``admin.py``) hold; it
knows nothing of HTTP, so either can import it without importing the other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import rsa

from lingong_core.signing import public_key_to_pem

from .background import Background
from .db import Database
from .engine import Platform  # importing the engine registers its tables before any database opens
from .faults import FaultInjector, FaultSpec
from .gateway import Gateway
from .interface import Engine, Notify
from .notifier import Notifier
from .settings import SandboxSettings


class EngineFactory(Protocol):
    def __call__(self, settings: SandboxSettings, *, notify: Notify) -> Engine: ...


def default_engine_factory(settings: SandboxSettings, *, notify: Notify) -> Engine:
    """The real business engine (``lingong_sandbox.engine.Platform``)."""
    engine: Engine = Platform(settings, notify=notify)
    return engine


class Sandbox:
    """One running platform: its state, its engine and everything around it."""

    def __init__(
        self,
        settings: SandboxSettings,
        platform_private_key: rsa.RSAPrivateKey,
        *,
        db_path: str | Path = ":memory:",
        faults: FaultSpec | str | None = None,
        engine_factory: EngineFactory | None = None,
    ) -> None:
        self.settings = settings
        self.platform_private_key = platform_private_key
        self.platform_public_key_pem = public_key_to_pem(platform_private_key.public_key())
        self.faults = FaultInjector(faults, settings.seed)
        # The engine is built first: its module registers its tables before the database opens.
        self.notifier = Notifier(None, settings, platform_private_key, self.faults)
        self.engine = (engine_factory or default_engine_factory)(settings, notify=self.notifier)
        self.db = Database.open(db_path)
        self.notifier.db = self.db
        self.gateway = Gateway(self.db, self.engine, settings, self.faults, on_commit=self.notifier.wake.set)
        self.background = Background(self.db, self.engine, self.notifier, settings)
        self._closed = False

    def start(self) -> None:
        self.background.start()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.background.stop()
        self.notifier.close()
        self.db.close()
