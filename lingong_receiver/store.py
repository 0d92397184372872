"""The receiver's durable record: every notification once, and the latest state of each record.

It lives in the project's database (:mod:`lingong_store.db`): ``LINGONG_RECEIVER_DB`` if set (a database
URL, or a path taken as a SQLite file, as before), else ``LINGONG_DATABASE_URL``, else the SQLite file
``.state/lingong.db``. A notification is committed — on SQLite in WAL mode with ``synchronous=FULL``, on
PostgreSQL with its default ``synchronous_commit=on`` — when :meth:`Store.record` returns, which is
before the receiver answers ``success``.

``notifications``
    one row per ``notifyNo``: type, merchant, the resource it is about, the exact bizModel text and
    the first delivery's ``timestamp`` and ``sign`` (so it can be verified again), when it was first and
    last received, how many deliveries, what it did to the recorded states, and whether its Prefect
    event was emitted.
``states``
    the latest state per record (a recharge, withdrawal, settlement order, settlement batch, contract
    or invoice application), keyed by its resource id ``lingong.<kind>.<number>``; it only moves
    forward (:mod:`lingong_receiver.states`).

Query API for flows, the waiting tasks on any host (``tasks.common.Nudge``) and the CLI:
:meth:`Store.get_state`, :meth:`Store.list`, :meth:`Store.get`. Any number of threads, processes and hosts
may use one database: :meth:`Store.record` serialises the writers of one ``notifyNo`` and of one record's
state (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: advisory locks on both), so a notification is recorded once
and a state never moves backward, however many receivers write at once.
"""

from __future__ import annotations

import builtins
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    Text,
    case,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from lingong_core import jsoncodec
from lingong_core.timeutil import to_shanghai
from lingong_store.db import Database, resolve_url

from .kinds import StateUpdate, parse_resource_id, resource_id
from .states import Kind, Move, decide
from .verify import VerifiedNotification

__all__ = ["NotificationRecord", "Recorded", "StateChange", "StateRecord", "Store"]

log = logging.getLogger(__name__)

RECEIVER_DB_ENV = "LINGONG_RECEIVER_DB"

metadata = MetaData()

# The tables and columns are the ones the receiver's SQLite files written before this module used
# SQLAlchemy have, so such a file is used as it is. Times are ISO 8601 text in Shanghai time with
# milliseconds (text order is time order on both databases).
notifications = Table(
    "notifications",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("notify_no", String, nullable=False, unique=True),
    Column("notify_type", String, nullable=False),
    Column("merchant_no", String, nullable=False),
    Column("resource_id", String, nullable=False),
    Column("biz_model", Text, nullable=False),
    Column("version", String, nullable=False),
    Column("timestamp", String, nullable=False),
    Column("sign", Text, nullable=False),
    Column("received_at", String, nullable=False),
    Column("last_received_at", String, nullable=False),
    Column("deliveries", Integer, nullable=False, server_default="1"),
    Column("state_note", Text, nullable=False, server_default=""),
    Column("emitted_at", String),
    Column("emit_attempts", Integer, nullable=False, server_default="0"),
    Column("emit_error", Text),
    sqlite_autoincrement=True,
)
Index(
    "notifications_pending",
    notifications.c.seq,
    sqlite_where=notifications.c.emitted_at.is_(None),
    postgresql_where=notifications.c.emitted_at.is_(None),
)
Index("notifications_received", notifications.c.received_at)
Index("notifications_resource", notifications.c.resource_id)

states = Table(
    "states",
    metadata,
    Column("kind", String, primary_key=True),
    Column("key", String, primary_key=True),
    Column("platform_no", String),
    Column("out_no", String),
    Column("state", String, nullable=False),
    Column("notify_no", String, nullable=False),
    Column("notify_type", String, nullable=False),
    Column("biz_model", Text, nullable=False),
    Column("updated_at", String, nullable=False),
)
Index("states_platform_no", states.c.kind, states.c.platform_no)
Index("states_out_no", states.c.kind, states.c.out_no)


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


def _notification(row: Row[Any]) -> NotificationRecord:
    return NotificationRecord(
        seq=row.seq,
        notify_no=row.notify_no,
        notify_type=row.notify_type,
        merchant_no=row.merchant_no,
        resource_id=row.resource_id,
        biz_text=row.biz_model,
        version=row.version,
        timestamp=row.timestamp,
        sign=row.sign,
        received_at=datetime.fromisoformat(row.received_at),
        last_received_at=datetime.fromisoformat(row.last_received_at),
        deliveries=row.deliveries,
        state_note=row.state_note,
        emitted_at=datetime.fromisoformat(row.emitted_at) if row.emitted_at else None,
        emit_attempts=row.emit_attempts,
        emit_error=row.emit_error,
    )


def _state(row: Row[Any]) -> StateRecord:
    return StateRecord(
        kind=Kind(row.kind),
        key=row.key,
        state=row.state,
        platform_no=row.platform_no,
        out_no=row.out_no,
        notify_no=row.notify_no,
        notify_type=row.notify_type,
        biz_text=row.biz_model,
        updated_at=datetime.fromisoformat(row.updated_at),
    )


class Store:
    """The notifications database: ``target`` (a URL, or a path taken as a SQLite file, created with its
    folder if missing), else the configured one (module docstring); or ``db``, which the caller owns
    (:meth:`close` then leaves it open). Safe to share between threads."""

    def __init__(self, target: str | Path | None = None, *, db: Database | None = None) -> None:
        self._owned = db is None
        self.db = db if db is not None else Database(resolve_url(target, own_env=RECEIVER_DB_ENV))
        self.db.create_all(metadata)

    def __repr__(self) -> str:
        return f"Store({self.db.where!r})"

    @property
    def where(self) -> str:
        """Where the notifications are recorded (the database URL, password hidden)."""
        return self.db.where

    def close(self) -> None:
        if self._owned:
            self.db.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing --------------------------------------------------------------------------------------

    def record(self, notification: VerifiedNotification, *, received_at: datetime) -> Recorded:
        """Record a verified notification and apply its states, in one transaction.

        A ``notifyNo`` seen before only has its delivery count and last-received time updated: it changes
        no state and is not new (so no second event is emitted).
        """
        now = _iso(received_at)
        by_notify_no = notifications.c.notify_no == notification.notify_no
        with self.db.begin() as conn:
            self.db.lock(
                conn,
                f"lingong.notification.{notification.notify_no}",
                *(f"lingong.state.{u.kind.value}.{u.key}" for u in notification.subject.updates),
            )
            if conn.execute(select(notifications.c.seq).where(by_notify_no)).first() is not None:
                conn.execute(
                    update(notifications)
                    .where(by_notify_no)
                    .values(deliveries=notifications.c.deliveries + 1, last_received_at=now)
                )
                again = conn.execute(select(notifications).where(by_notify_no)).one()
                return Recorded(_notification(again), new=False)
            changes = tuple(self._apply(conn, u, notification, now) for u in notification.subject.updates)
            conn.execute(
                insert(notifications).values(
                    notify_no=notification.notify_no,
                    notify_type=notification.notify_type,
                    merchant_no=notification.merchant_no,
                    resource_id=notification.resource_id,
                    biz_model=notification.biz_text,
                    version=notification.version,
                    timestamp=notification.timestamp,
                    sign=notification.sign,
                    received_at=now,
                    last_received_at=now,
                    state_note="; ".join(change.describe() for change in changes),
                )
            )
            inserted = conn.execute(select(notifications).where(by_notify_no)).one()
            return Recorded(_notification(inserted), new=True, changes=changes)

    def _apply(
        self, conn: Connection, change: StateUpdate, notification: VerifiedNotification, now: str
    ) -> StateChange:
        previous: str | None = conn.execute(
            select(states.c.state).where(states.c.kind == change.kind.value, states.c.key == change.key)
        ).scalar()
        move = decide(change.kind, previous, change.state)
        if move in (Move.SET, Move.FORWARD):
            dialect = sqlite if self.db.is_sqlite else postgresql
            statement = dialect.insert(states).values(
                kind=change.kind.value,
                key=change.key,
                platform_no=change.platform_no,
                out_no=change.out_no,
                state=change.state,
                notify_no=notification.notify_no,
                notify_type=notification.notify_type,
                biz_model=notification.biz_text,
                updated_at=now,
            )
            new = statement.excluded
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[states.c.kind, states.c.key],
                    set_={
                        "platform_no": func.coalesce(new.platform_no, states.c.platform_no),
                        "out_no": func.coalesce(new.out_no, states.c.out_no),
                        "state": new.state,
                        "notify_no": new.notify_no,
                        "notify_type": new.notify_type,
                        "biz_model": new.biz_model,
                        "updated_at": new.updated_at,
                    },
                )
            )
        elif move in (Move.BACKWARD, Move.UNKNOWN):
            log.warning("notification %s: %s", notification.notify_no, StateChange(change, move, previous).describe())
        return StateChange(change, move, previous)

    def mark_emitted(self, notify_no: str, *, at: datetime) -> None:
        with self.db.begin() as conn:
            conn.execute(
                update(notifications)
                .where(notifications.c.notify_no == notify_no)
                .values(emitted_at=_iso(at), emit_attempts=notifications.c.emit_attempts + 1, emit_error=None)
            )

    def mark_emit_failed(self, notify_no: str, error: str) -> None:
        with self.db.begin() as conn:
            conn.execute(
                update(notifications)
                .where(notifications.c.notify_no == notify_no)
                .values(emit_attempts=notifications.c.emit_attempts + 1, emit_error=error[:500])
            )

    # --- reading --------------------------------------------------------------------------------------

    def get(self, notify_no: str) -> NotificationRecord | None:
        """The notification with this ``notifyNo``, or None."""
        with self.db.connect() as conn:
            row = conn.execute(select(notifications).where(notifications.c.notify_no == notify_no)).first()
        return _notification(row) if row is not None else None

    def get_state(self, resource: str) -> StateRecord | None:
        """The latest recorded state of ``lingong.<kind>.<number>``, or None if no notification reported one.

        ``number`` may be the merchant's number or the platform's: ``lingong.order.<outOrderNo>`` and
        ``lingong.order.<orderNo>`` find the same settlement order; ``lingong.settlement.<outBatchNo>``
        finds the batch ``lingong.settlement.<batchNo>``. Raises :class:`ValueError` for a malformed id.
        """
        kind, number = parse_resource_id(resource)
        query = (
            select(states)
            .where(
                states.c.kind == kind.value,
                or_(states.c.key == number, states.c.platform_no == number, states.c.out_no == number),
            )
            # the record keyed by this number first, then the one whose platform number it is
            .order_by(case((states.c.key == number, 0), else_=1), case((states.c.platform_no == number, 0), else_=1))
            .limit(1)
        )
        with self.db.connect() as conn:
            row = conn.execute(query).first()
        return _state(row) if row is not None else None

    def list(
        self,
        *,
        notify_type: str | None = None,
        since: datetime | None = None,
        resource: str | None = None,
        limit: int | None = 100,
    ) -> builtins.list[NotificationRecord]:
        """Notifications, newest first: of one type, first received at or after ``since``, about one resource."""
        query = select(notifications).order_by(notifications.c.seq.desc())
        if notify_type is not None:
            query = query.where(notifications.c.notify_type == notify_type)
        if since is not None:
            query = query.where(notifications.c.received_at >= _iso(since))
        if resource is not None:
            query = query.where(notifications.c.resource_id == resource)
        if limit is not None:
            query = query.limit(int(limit))
        with self.db.connect() as conn:
            return [_notification(row) for row in conn.execute(query)]

    def pending_events(self, limit: int | None = None) -> builtins.list[NotificationRecord]:
        """Notifications whose Prefect event has not been emitted yet, oldest first."""
        query = select(notifications).where(notifications.c.emitted_at.is_(None)).order_by(notifications.c.seq)
        if limit is not None:
            query = query.limit(int(limit))
        with self.db.connect() as conn:
            return [_notification(row) for row in conn.execute(query)]

    def counts(self) -> dict[str, int]:
        """``notifications`` recorded and ``pending_events`` not yet emitted."""
        query = select(func.count(), func.count() - func.count(notifications.c.emitted_at)).select_from(notifications)
        with self.db.connect() as conn:
            total, pending = conn.execute(query).one()
        return {"notifications": int(total), "pending_events": int(pending or 0)}
