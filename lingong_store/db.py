"""The project's own database: one SQLAlchemy 2 engine per URL, owned by a :class:`Database` object.

The run journal, the receiver's store and the payee store keep their state here. The URL comes from
``LINGONG_DATABASE_URL``; without it, a SQLite file inside the project (``.state/lingong.db``), which is
today's single-machine behaviour. A store may also have a setting of its own (``LINGONG_JOURNAL_DB``,
``LINGONG_RECEIVER_DB``): a URL, or a path, taken as a SQLite file (:func:`resolve_url`). Production
points every host at one PostgreSQL database (``postgresql://…``, driven by psycopg 3), never at a SQLite
file on shared storage: SQLite's locking is not safe on network file systems.

On SQLite every connection runs in WAL mode with ``synchronous=FULL`` (a committed transaction is on
disk before the caller acknowledges anything) and a busy timeout, and every transaction begins with
``BEGIN IMMEDIATE`` so two writers queue instead of failing on a lock upgrade half-way through. On
PostgreSQL transactions are READ COMMITTED; a store that reads, decides and writes takes :meth:`Database.lock`
on what it decides about, so concurrent writers of the same key queue there as they do on SQLite.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

DATABASE_URL_ENV = "LINGONG_DATABASE_URL"
DEFAULT_SQLITE_PATH = Path(".state") / "lingong.db"
BUSY_TIMEOUT_SECONDS = 30.0


def sqlite_url(path: str | Path) -> str:
    """The SQLAlchemy URL of a SQLite file (made absolute, so a worker's working directory does not matter)."""
    return f"sqlite:///{Path(path).expanduser().resolve()}"


def database_url(url: str | None = None, *, env: str = DATABASE_URL_ENV) -> str:
    """The URL to use: the one given, else the environment's ``env`` variable, else the project's SQLite file."""
    return url or os.environ.get(env) or sqlite_url(DEFAULT_SQLITE_PATH)


def as_url(target: str | Path) -> str:
    """A database URL from a setting that is either a URL (``scheme://…``) or a path to a SQLite file."""
    if isinstance(target, Path) or "://" not in target:
        return "sqlite:///:memory:" if str(target) == ":memory:" else sqlite_url(target)
    return target


def resolve_url(target: str | Path | None = None, *, own_env: str | None = None) -> str:
    """The URL of a store: ``target`` if given, else its own variable ``own_env`` (a URL or a SQLite path,
    kept for compatibility), else ``LINGONG_DATABASE_URL``, else the project's SQLite file."""
    if target is not None and str(target):
        return as_url(target)
    own = os.environ.get(own_env, "").strip() if own_env else ""
    return as_url(own) if own else database_url()


def is_sqlite(url: str | URL) -> bool:
    return make_url(str(url)).get_backend_name() == "sqlite"


def _driver(url: URL) -> URL:
    """PostgreSQL URLs run on psycopg 3 (synchronous, like every caller here): ``postgresql://`` would mean
    psycopg2, and ``+asyncpg`` (the form Prefect's own setting takes) needs an async engine."""
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("psycopg2", "asyncpg"):
        return url.set(drivername="postgresql+psycopg")
    return url


def _use_wal(cursor: Any) -> None:
    """Put the database file in WAL mode (it stays so: a later connection finds it there and changes nothing).

    Switching needs the file to itself, and SQLite answers "database is locked" at once, without waiting out
    the busy timeout, when another connection is opening the same new file: two processes, or threads, that
    open a new database together (a worker and the receiver starting at once; a test's four writers) would
    have one of them fail. So the switch is tried again, briefly, for as long as the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            mode = str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower()
            if mode == "memory" or mode == "wal":  # an in-memory database has no WAL to switch to
                return
            mode = str(cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0]).lower()
            if mode == "wal":
                return
            problem = f"the journal mode stayed {mode!r}"
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            problem = str(exc)
        if time.monotonic() >= deadline:
            raise sqlite3.OperationalError(f"could not switch the database to WAL mode: {problem}")
        time.sleep(0.01)


class Database:
    """One database: its engine, its connection pool, and transactions that behave alike on SQLite and
    PostgreSQL. Each store creates the tables of its own ``MetaData`` with :meth:`create_all`."""

    def __init__(self, url: str | None = None, *, echo: bool = False) -> None:
        self.url = _driver(make_url(database_url(url)))
        self.engine: Engine = self._create_engine(echo)
        self._created: set[int] = set()

    def __repr__(self) -> str:
        return f"Database({self.where!r})"

    @property
    def where(self) -> str:
        """The URL with its password hidden: for logs and messages."""
        return self.url.render_as_string(hide_password=True)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    def _create_engine(self, echo: bool) -> Engine:
        if not self.is_sqlite:
            return create_engine(self.url, echo=echo, pool_pre_ping=True)
        database = self.url.database or ""
        memory = database in ("", ":memory:")
        if not memory:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            self.url,
            echo=echo,
            connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            # one in-memory database is one connection; a pool of them would be several empty databases
            **({"poolclass": StaticPool} if memory else {}),
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see "begin" below).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
            _use_wal(cursor)
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine

    def create_all(self, metadata: MetaData) -> None:
        """Create the tables of ``metadata`` that do not exist yet (idempotent, safe from several processes:
        on PostgreSQL the DDL runs in one transaction under an advisory lock, so two processes starting at
        once do not both try to create a table)."""
        if id(metadata) in self._created:
            return
        with self.begin() as connection:
            self.lock(connection, "lingong.schema")
            metadata.create_all(connection, checkfirst=True)
            for table in metadata.sorted_tables:  # an index added since a table was created
                for index in table.indexes:
                    index.create(connection, checkfirst=True)
        self._created.add(id(metadata))

    def lock(self, connection: Connection, *names: str) -> None:
        """Hold ``names`` until the transaction of ``connection`` ends: another transaction locking one of
        them waits. On PostgreSQL, transaction-level advisory locks, taken in sorted order (so two
        transactions never deadlock on them); on SQLite nothing to do, BEGIN IMMEDIATE already serialises
        every writer."""
        if self.is_sqlite:
            return
        for name in sorted(set(names)):
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": name})

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for reads (each statement sees committed data)."""
        with self.engine.connect() as connection:
            yield connection

    def dispose(self) -> None:
        """Close every pooled connection (call when the owner is done with the database)."""
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()
