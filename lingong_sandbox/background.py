"""The sandbox's background: one thread moves the engine's records along, one delivers notifications.

The engine thread calls :meth:`Engine.run_due` in a transaction every tick (a few milliseconds at a
high ``time_scale``, a quarter second at 1) and forgets expired requestNos now and then. The
notification thread runs the dispatcher whenever something was queued, and every tick. Both survive
errors in what they call (logged) and stop with :meth:`Background.stop`.
"""

from __future__ import annotations

import logging
import threading
import time

from lingong_core.timeutil import now

from . import replay
from .db import Database
from .interface import Engine
from .notifier import Notifier
from .settings import SandboxSettings

log = logging.getLogger(__name__)

MIN_TICK = 0.005
MAX_TICK = 0.25
PURGE_EVERY = 60.0  # real seconds between sweeps of expired requestNos


def tick_seconds(settings: SandboxSettings) -> float:
    """Real seconds between background passes: half a simulated second, within 5 ms … 250 ms."""
    return min(MAX_TICK, max(MIN_TICK, settings.scaled(0.5)))


class Background:
    def __init__(self, db: Database, engine: Engine, notifier: Notifier, settings: SandboxSettings) -> None:
        self.db = db
        self.engine = engine
        self.notifier = notifier
        self.settings = settings
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.errors = 0

    def start(self) -> None:
        if self._threads:
            return
        self._stop.clear()
        for name, target in (("sandbox-engine", self._engine_loop), ("sandbox-notifier", self._notify_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.notifier.wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def run_due_once(self) -> int:
        with self.db.transaction() as conn:
            made = self.engine.run_due(conn, now())
        if made:
            self.notifier.wake.set()
        return made

    def _engine_loop(self) -> None:
        last_purge = time.monotonic()
        while not self._stop.is_set():
            try:
                self.run_due_once()
                if time.monotonic() - last_purge > PURGE_EVERY:
                    last_purge = time.monotonic()
                    with self.db.transaction() as conn:
                        replay.purge(conn, self.settings.request_no_ttl_seconds)
            except Exception:
                self.errors += 1
                log.exception("sandbox background tick failed")
            self._stop.wait(tick_seconds(self.settings))

    def _notify_loop(self) -> None:
        while not self._stop.is_set():
            self.notifier.wake.wait(tick_seconds(self.settings))
            self.notifier.wake.clear()
            if self._stop.is_set():
                break
            try:
                self.notifier.dispatch_once()
            except Exception:
                self.errors += 1
                log.exception("sandbox notification dispatch failed")
