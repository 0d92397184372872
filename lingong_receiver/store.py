"""The receiver's durable record: every notification once, and the latest state of each record.

SQLite (stdlib ``sqlite3``) in WAL mode with ``synchronous=FULL``: a notification is on disk when
:meth:`Store.record` returns, which is before the receiver answers ``success``.

``notifications``
    one row per ``notifyNo``: type, merchant, the resource it is about, the exact bizModel text and
    the first delivery's ``timestamp`` and ``sign`` (so it can be verified again), when it was first and
    last received, how many deliveries, what it did to the recorded states, and whether its Prefect
    event was emitted.
``states``
    the latest state per record (a recharge, withdrawal, settlement order, settlement batch, contract
    or invoice application), keyed by its resource id ``lingong.<kind>.<number>``; it only moves
    forward (:mod:`lingong_receiver.states`).

Query API for flows and the CLI: :meth:`Store.get_state`, :meth:`Store.list`, :meth:`Store.get`.
The connection is shared between threads behind a lock; other processes may open the same file.
"""

from __future__ import annotations

import builtins
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from lingong_core import jsoncodec
from lingong_core.timeutil import to_shanghai

from .kinds import StateUpdate, parse_resource_id, resource_id
from .states import Kind, Move, decide
from .verify import VerifiedNotification

__all__ = ["NotificationRecord", "Recorded", "StateChange", "StateRecord", "Store"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    notify_no TEXT NOT NULL UNIQUE,
    notify_type TEXT NOT NULL,
    merchant_no TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    biz_model TEXT NOT NULL,
    version TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    sign TEXT NOT NULL,
    received_at TEXT NOT NULL,
    last_received_at TEXT NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 1,
    state_note TEXT NOT NULL DEFAULT '',
    emitted_at TEXT,
    emit_attempts INTEGER NOT NULL DEFAULT 0,
    emit_error TEXT
);
CREATE INDEX IF NOT EXISTS notifications_pending ON notifications (seq) WHERE emitted_at IS NULL;
CREATE INDEX IF NOT EXISTS notifications_received ON notifications (received_at);
CREATE INDEX IF NOT EXISTS notifications_resource ON notifications (resource_id);
CREATE TABLE IF NOT EXISTS states (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    platform_no TEXT,
    out_no TEXT,
    state TEXT NOT NULL,
    notify_no TEXT NOT NULL,
    notify_type TEXT NOT NULL,
    biz_model TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS states_platform_no ON states (kind, platform_no);
CREATE INDEX IF NOT EXISTS states_out_no ON states (kind, out_no);
"""


def _iso(moment: datetime) -> str:
    """Stored times: ISO 8601 in Shanghai time with milliseconds, so that text order is time order."""
    return to_shanghai(moment).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    seq: int
    notify_no: str
    notify_type: str
    merchant_no: str
    resource_id: str
    biz_text: str = field(repr=False)  # raw personal data: never in a repr or a log
    version: str
    timestamp: str
    sign: str
    received_at: datetime
    last_received_at: datetime
    deliveries: int
    state_note: str
    emitted_at: datetime | None
    emit_attempts: int
    emit_error: str | None

    @property
    def biz(self) -> dict[str, Any]:
        value = jsoncodec.loads(self.biz_text)
        return value if isinstance(value, dict) else {}

    @property
    def emitted(self) -> bool:
        return self.emitted_at is not None


@dataclass(frozen=True, slots=True)
class StateRecord:
    """The latest state of one record, and the notification that set it."""

    kind: Kind
    key: str
    state: str
    platform_no: str | None
    out_no: str | None
    notify_no: str
    notify_type: str
    biz_text: str = field(repr=False)  # raw personal data: never in a repr or a log
    updated_at: datetime

    @property
    def resource_id(self) -> str:
        return resource_id(self.kind, self.key)

    @property
    def biz(self) -> dict[str, Any]:
        value = jsoncodec.loads(self.biz_text)
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class StateChange:
    """What one reported state did: ``previous`` is the state recorded before (None: nothing)."""

    update: StateUpdate
    move: Move
    previous: str | None

    def describe(self) -> str:
        where = self.update.resource_id
        if self.move in (Move.SET, Move.FORWARD):
            return f"{where}: {self.previous or '∅'}→{self.update.state}"
        if self.move is Move.SAME:
            return f"{where}: {self.update.state} again"
        if self.move is Move.BACKWARD:
            return f"{where}: kept {self.previous}, ignored older {self.update.state}"
        return f"{where}: ignored unknown state {self.update.state}"


@dataclass(frozen=True, slots=True)
class Recorded:
    """The outcome of :meth:`Store.record`: ``new`` is False for a redelivery of a known ``notifyNo``."""

    record: NotificationRecord
    new: bool
    changes: tuple[StateChange, ...] = ()


_NOTIFICATION_COLUMNS = (
    "seq, notify_no, notify_type, merchant_no, resource_id, biz_model, version, timestamp, sign, received_at, "
    "last_received_at, deliveries, state_note, emitted_at, emit_attempts, emit_error"
)
_STATE_COLUMNS = "kind, key, state, platform_no, out_no, notify_no, notify_type, biz_model, updated_at"


def _notification(row: tuple[Any, ...]) -> NotificationRecord:
    return NotificationRecord(
        seq=row[0],
        notify_no=row[1],
        notify_type=row[2],
        merchant_no=row[3],
        resource_id=row[4],
        biz_text=row[5],
        version=row[6],
        timestamp=row[7],
        sign=row[8],
        received_at=datetime.fromisoformat(row[9]),
        last_received_at=datetime.fromisoformat(row[10]),
        deliveries=row[11],
        state_note=row[12],
        emitted_at=datetime.fromisoformat(row[13]) if row[13] else None,
        emit_attempts=row[14],
        emit_error=row[15],
    )


def _state(row: tuple[Any, ...]) -> StateRecord:
    return StateRecord(
        kind=Kind(row[0]),
        key=row[1],
        state=row[2],
        platform_no=row[3],
        out_no=row[4],
        notify_no=row[5],
        notify_type=row[6],
        biz_text=row[7],
        updated_at=datetime.fromisoformat(row[8]),
    )


class Store:
    """The notifications database at ``path`` (created with its folder if missing)."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(str(path), timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        with self._lock:
            self._conn.executescript(_SCHEMA + f"PRAGMA user_version={SCHEMA_VERSION};")

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; BEGIN IMMEDIATE takes the write lock up front (safe across processes)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:  # a failed COMMIT leaves it open; the next BEGIN would fail
                    self._conn.execute("ROLLBACK")
                raise

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> builtins.list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # --- writing --------------------------------------------------------------------------------------

    def record(self, notification: VerifiedNotification, *, received_at: datetime) -> Recorded:
        """Record a verified notification and apply its states, in one transaction.

        A ``notifyNo`` seen before only has its delivery count and last-received time updated: it changes
        no state and is not new (so no second event is emitted).
        """
        now = _iso(received_at)
        with self._transaction() as conn:
            row = conn.execute(
                f"SELECT {_NOTIFICATION_COLUMNS} FROM notifications WHERE notify_no = ?", (notification.notify_no,)
            ).fetchone()
            if row is not None:
                conn.execute(
                    "UPDATE notifications SET deliveries = deliveries + 1, last_received_at = ? WHERE notify_no = ?",
                    (now, notification.notify_no),
                )
                updated = conn.execute(
                    f"SELECT {_NOTIFICATION_COLUMNS} FROM notifications WHERE notify_no = ?", (notification.notify_no,)
                ).fetchone()
                return Recorded(_notification(updated), new=False)
            changes = tuple(self._apply(conn, update, notification, now) for update in notification.subject.updates)
            note = "; ".join(change.describe() for change in changes)
            conn.execute(
                "INSERT INTO notifications (notify_no, notify_type, merchant_no, resource_id, biz_model, version, "
                "timestamp, sign, received_at, last_received_at, state_note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    notification.notify_no,
                    notification.notify_type,
                    notification.merchant_no,
                    notification.resource_id,
                    notification.biz_text,
                    notification.version,
                    notification.timestamp,
                    notification.sign,
                    now,
                    now,
                    note,
                ),
            )
            inserted = conn.execute(
                f"SELECT {_NOTIFICATION_COLUMNS} FROM notifications WHERE notify_no = ?", (notification.notify_no,)
            ).fetchone()
            return Recorded(_notification(inserted), new=True, changes=changes)

    @staticmethod
    def _apply(
        conn: sqlite3.Connection, update: StateUpdate, notification: VerifiedNotification, now: str
    ) -> StateChange:
        row = conn.execute(
            "SELECT state FROM states WHERE kind = ? AND key = ?", (update.kind.value, update.key)
        ).fetchone()
        previous: str | None = row[0] if row else None
        move = decide(update.kind, previous, update.state)
        if move in (Move.SET, Move.FORWARD):
            conn.execute(
                "INSERT INTO states (kind, key, platform_no, out_no, state, notify_no, notify_type, biz_model, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET "
                "platform_no = COALESCE(excluded.platform_no, platform_no), out_no = COALESCE(excluded.out_no, "
                "out_no), state = excluded.state, notify_no = excluded.notify_no, notify_type = excluded.notify_type, "
                "biz_model = excluded.biz_model, updated_at = excluded.updated_at",
                (
                    update.kind.value,
                    update.key,
                    update.platform_no,
                    update.out_no,
                    update.state,
                    notification.notify_no,
                    notification.notify_type,
                    notification.biz_text,
                    now,
                ),
            )
        elif move in (Move.BACKWARD, Move.UNKNOWN):
            log.warning(
                "notification %s: %s",
                notification.notify_no,
                StateChange(update, move, previous).describe(),
            )
        return StateChange(update, move, previous)

    def mark_emitted(self, notify_no: str, *, at: datetime) -> None:
        with self._transaction() as conn:
            conn.execute(
                "UPDATE notifications SET emitted_at = ?, emit_attempts = emit_attempts + 1, emit_error = NULL "
                "WHERE notify_no = ?",
                (_iso(at), notify_no),
            )

    def mark_emit_failed(self, notify_no: str, error: str) -> None:
        with self._transaction() as conn:
            conn.execute(
                "UPDATE notifications SET emit_attempts = emit_attempts + 1, emit_error = ? WHERE notify_no = ?",
                (error[:500], notify_no),
            )

    # --- reading --------------------------------------------------------------------------------------

    def get(self, notify_no: str) -> NotificationRecord | None:
        """The notification with this ``notifyNo``, or None."""
        rows = self._query(f"SELECT {_NOTIFICATION_COLUMNS} FROM notifications WHERE notify_no = ?", (notify_no,))
        return _notification(rows[0]) if rows else None

    def get_state(self, resource: str) -> StateRecord | None:
        """The latest recorded state of ``lingong.<kind>.<number>``, or None if no notification reported one.

        ``number`` may be the merchant's number or the platform's: ``lingong.order.<outOrderNo>`` and
        ``lingong.order.<orderNo>`` find the same settlement order; ``lingong.settlement.<outBatchNo>``
        finds the batch ``lingong.settlement.<batchNo>``. Raises :class:`ValueError` for a malformed id.
        """
        kind, number = parse_resource_id(resource)
        rows = self._query(
            f"SELECT {_STATE_COLUMNS} FROM states WHERE kind = ? AND (key = ? OR platform_no = ? OR out_no = ?) "
            "ORDER BY key = ? DESC, platform_no = ? DESC LIMIT 1",
            (kind.value, number, number, number, number, number),
        )
        return _state(rows[0]) if rows else None

    def list(
        self,
        *,
        notify_type: str | None = None,
        since: datetime | None = None,
        resource: str | None = None,
        limit: int | None = 100,
    ) -> builtins.list[NotificationRecord]:
        """Notifications, newest first: of one type, first received at or after ``since``, about one resource."""
        where: builtins.list[str] = []
        params: builtins.list[Any] = []
        if notify_type is not None:
            where.append("notify_type = ?")
            params.append(notify_type)
        if since is not None:
            where.append("received_at >= ?")
            params.append(_iso(since))
        if resource is not None:
            where.append("resource_id = ?")
            params.append(resource)
        sql = f"SELECT {_NOTIFICATION_COLUMNS} FROM notifications"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [_notification(row) for row in self._query(sql, tuple(params))]

    def pending_events(self, limit: int | None = None) -> builtins.list[NotificationRecord]:
        """Notifications whose Prefect event has not been emitted yet, oldest first."""
        sql = f"SELECT {_NOTIFICATION_COLUMNS} FROM notifications WHERE emitted_at IS NULL ORDER BY seq"
        params: tuple[Any, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (int(limit),)
        return [_notification(row) for row in self._query(sql, params)]

    def counts(self) -> dict[str, int]:
        """``notifications`` recorded and ``pending_events`` not yet emitted."""
        rows = self._query("SELECT COUNT(*), COUNT(*) - COUNT(emitted_at) FROM notifications")
        total, pending = rows[0]
        return {"notifications": int(total), "pending_events": int(pending or 0)}
