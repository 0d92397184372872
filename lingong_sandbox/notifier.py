"""Notifications to the merchant (contract §6): an outbox in SQLite and the dispatcher that delivers it.

The engine queues a notification with :meth:`Notifier.__call__` inside the request's (or the
background tick's) transaction, so it exists exactly when the state change it reports committed.
The dispatcher posts each one to the merchant's notify URL, stamped and signed afresh with the
platform's private key at every attempt, until the merchant answers HTTP 200 with the body
``success``; otherwise it tries again after 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, then hourly, 8
attempts in all (simulated seconds, divided by ``time_scale``). Every attempt is recorded. The
``notify_duplicate`` and ``notify_reorder`` faults deliver a notification twice or hold it back until
a later one has gone out.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from lingong_core import jsoncodec
from lingong_core.signing import sign_envelope
from lingong_core.timeutil import format_datetime, format_timestamp, now

from .db import Database, schema
from .faults import FaultInjector
from .settings import SandboxSettings

log = logging.getLogger(__name__)

#: Simulated seconds to wait after attempt n (1-based) failed; attempt 8 is the last.
REDELIVERY_SCHEDULE: tuple[float, ...] = (5, 30, 120, 600, 1800, 3600, 3600)
MAX_ATTEMPTS = len(REDELIVERY_SCHEDULE) + 1
REORDER_MAX_HOLD = 30.0  # simulated seconds a reordered notification waits for a later one at most
DELIVERY_TIMEOUT = 5.0  # real seconds for one POST to the merchant
SNIPPET = 200

schema(
    """
    CREATE TABLE IF NOT EXISTS sandbox_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        notify_no TEXT NOT NULL UNIQUE,
        merchant_no TEXT NOT NULL,
        notify_type TEXT NOT NULL,
        biz_model TEXT NOT NULL,
        created_at TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'PENDING',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at REAL NOT NULL,
        acked_at TEXT
    );
    CREATE INDEX IF NOT EXISTS sandbox_outbox_due ON sandbox_outbox (status, next_at);
    CREATE TABLE IF NOT EXISTS sandbox_notify_attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        notify_no TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        at TEXT NOT NULL,
        url TEXT NOT NULL,
        http_status INTEGER,
        body TEXT,
        error TEXT,
        acked INTEGER NOT NULL,
        duplicate INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS sandbox_notify_attempts_no ON sandbox_notify_attempts (notify_no)
    """
)


@dataclass(frozen=True, slots=True)
class Pending:
    notify_no: str
    merchant_no: str
    notify_type: str
    biz_model: str
    attempts: int


@dataclass(frozen=True, slots=True)
class Delivery:
    status: int | None
    body: str
    error: str | None

    @property
    def acked(self) -> bool:
        return self.status == 200 and self.body.strip() == "success"


class Notifier:
    """The outbox (a :class:`~lingong_sandbox.interface.Notify` for the engine) and its dispatcher."""

    def __init__(
        self,
        db: Database | None,
        settings: SandboxSettings,
        platform_private_key: rsa.RSAPrivateKey,
        faults: FaultInjector,
    ) -> None:
        self.db = db
        self.settings = settings
        self.platform_private_key = platform_private_key
        self.faults = faults
        self.wake = threading.Event()
        self._held: dict[str, tuple[int, float]] = {}  # notifyNo -> (deliveries seen when held, release time)
        self._delivered = 0
        self._decided: set[str] = set()  # notifyNos whose reorder fault was drawn already
        self._http = httpx.Client(timeout=DELIVERY_TIMEOUT, trust_env=False, follow_redirects=False)

    # --- the outbox (called by the engine inside its transaction) -----------------------------------

    def __call__(self, conn: sqlite3.Connection, merchant_no: str, notify_type: str, biz: dict[str, Any]) -> None:
        moment = now()
        (next_id,) = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM sandbox_outbox").fetchone()
        notify_no = f"N{format_timestamp(moment)}{next_id:08d}"
        conn.execute(
            "INSERT INTO sandbox_outbox (notify_no, merchant_no, notify_type, biz_model, created_at, next_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (notify_no, merchant_no, str(notify_type), jsoncodec.dumps(biz), format_datetime(moment), time.time()),
        )
        self.wake.set()

    # --- the dispatcher --------------------------------------------------------------------------------

    def envelope(self, item: Pending, moment: datetime | None = None) -> dict[str, str]:
        """The signed notification envelope for one delivery attempt (a fresh timestamp and sign)."""
        env = {
            "notifyType": item.notify_type,
            "notifyNo": item.notify_no,
            "merchantNo": item.merchant_no,
            "version": "2.0",
            "timestamp": format_timestamp(moment or now()),
            "bizModel": item.biz_model,
        }
        env["sign"] = sign_envelope(env, self.platform_private_key)
        return env

    def _database(self) -> Database:
        if self.db is None:
            raise RuntimeError("the notifier has no database yet")
        return self.db

    def _due(self) -> list[Pending]:
        with self._database().read() as conn:
            rows = conn.execute(
                "SELECT notify_no, merchant_no, notify_type, biz_model, attempts FROM sandbox_outbox"
                " WHERE status = 'PENDING' AND next_at <= ? ORDER BY next_at, id LIMIT 100",
                (time.time(),),
            ).fetchall()
        return [Pending(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def dispatch_once(self) -> int:
        """Deliver every notification that is due; return how many deliveries were attempted."""
        url = self.settings.merchant.notify_url
        if not url:
            return 0
        due = self._due()
        ready: list[Pending] = []
        for item in due:
            if item.notify_no in self._held:
                seen, release = self._held[item.notify_no]
                if self._delivered <= seen and time.monotonic() < release:
                    continue
                del self._held[item.notify_no]
            elif item.attempts == 0 and item.notify_no not in self._decided:
                self._decided.add(item.notify_no)
                if self.faults.notify_reorder():
                    hold = max(self.settings.scaled(REORDER_MAX_HOLD), 0.05)
                    self._held[item.notify_no] = (self._delivered, time.monotonic() + hold)
                    continue
            ready.append(item)
        for item in ready:
            self._deliver(item, url)
        return len(ready)

    def _post(self, item: Pending, url: str) -> Delivery:
        body = jsoncodec.dumps(self.envelope(item)).encode("utf-8")
        try:
            response = self._http.post(url, content=body, headers={"Content-Type": "application/json; charset=utf-8"})
        except httpx.HTTPError as exc:
            return Delivery(None, "", f"{type(exc).__name__}: {exc}"[:SNIPPET])
        text = response.content[:SNIPPET].decode("utf-8", errors="replace")
        return Delivery(response.status_code, text, None)

    def _deliver(self, item: Pending, url: str) -> None:
        self._decided.discard(item.notify_no)  # from now on attempts > 0: the reorder draw is not asked again
        attempt = item.attempts + 1
        result = self._post(item, url)
        deliveries = [(result, False)]
        if self.faults.notify_duplicate():
            deliveries.append((self._post(item, url), True))
        self._delivered += 1
        acked = any(d.acked for d, _ in deliveries)
        stamp = format_datetime(now()) + f".{int(time.time() * 1000) % 1000:03d}"
        with self._database().transaction() as conn:
            for delivery, duplicate in deliveries:
                conn.execute(
                    "INSERT INTO sandbox_notify_attempts (notify_no, attempt, at, url, http_status, body, error,"
                    " acked, duplicate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        item.notify_no,
                        attempt,
                        stamp,
                        url,
                        delivery.status,
                        delivery.body,
                        delivery.error,
                        int(delivery.acked),
                        int(duplicate),
                    ),
                )
            if acked:
                conn.execute(
                    "UPDATE sandbox_outbox SET status = 'ACKED', attempts = ?, acked_at = ? WHERE notify_no = ?",
                    (attempt, stamp, item.notify_no),
                )
            elif attempt >= MAX_ATTEMPTS:
                conn.execute(
                    "UPDATE sandbox_outbox SET status = 'GAVE_UP', attempts = ? WHERE notify_no = ?",
                    (attempt, item.notify_no),
                )
            else:
                delay = self.settings.scaled(REDELIVERY_SCHEDULE[attempt - 1])
                conn.execute(
                    "UPDATE sandbox_outbox SET attempts = ?, next_at = ? WHERE notify_no = ?",
                    (attempt, time.time() + delay, item.notify_no),
                )
        if not acked:
            log.info(
                "notification %s attempt %d not acknowledged (%s)",
                item.notify_no,
                attempt,
                result.error or result.status,
            )

    def close(self) -> None:
        self._http.close()

    # --- the attempt log --------------------------------------------------------------------------------

    def report(self, *, notify_type: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """Every notification with its attempts, oldest first."""
        sql = "SELECT * FROM sandbox_outbox WHERE 1 = 1"
        params: list[Any] = []
        if notify_type:
            sql += " AND notify_type = ?"
            params.append(notify_type)
        if status:
            sql += " AND status = ?"
            params.append(status.upper())
        sql += " ORDER BY id"
        with self._database().read() as conn:
            rows = conn.execute(sql, params).fetchall()
            attempts: dict[str, list[dict[str, Any]]] = {}
            for a in conn.execute("SELECT * FROM sandbox_notify_attempts ORDER BY id"):
                attempts.setdefault(a["notify_no"], []).append(
                    {
                        "attempt": a["attempt"],
                        "time": a["at"],
                        "url": a["url"],
                        "httpStatus": a["http_status"],
                        "body": a["body"],
                        "error": a["error"],
                        "acked": bool(a["acked"]),
                        "duplicate": bool(a["duplicate"]),
                    }
                )
        return [
            {
                "notifyNo": r["notify_no"],
                "notifyType": r["notify_type"],
                "merchantNo": r["merchant_no"],
                "bizModel": r["biz_model"],
                "createTime": r["created_at"],
                "status": r["status"],
                "attempts": r["attempts"],
                "ackTime": r["acked_at"],
                "deliveries": attempts.get(r["notify_no"], []),
            }
            for r in rows
        ]
