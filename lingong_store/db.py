"""The project's own database: one SQLAlchemy 2 engine per URL, owned by a :class:`Database` object.

The run journal, the receiver's store and the payee store keep their state here. The URL comes from
``LINGONG_DATABASE_URL``; without it, a SQLite file inside the project (``.state/lingong.db``), which is
today's single-machine behaviour. Production points every host at one PostgreSQL database
(``postgresql+psycopg://…``), never at a SQLite file on shared storage: SQLite's locking is not safe on
network file systems.

On SQLite every connection runs in WAL mode with ``synchronous=FULL`` (a committed transaction is on
disk before the caller acknowledges anything) and a busy timeout, and every transaction begins with
``BEGIN IMMEDIATE`` so two writers queue instead of failing on a lock upgrade half-way through.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.engine import URL, make_url

DATABASE_URL_ENV = "LINGONG_DATABASE_URL"
DEFAULT_SQLITE_PATH = Path(".state") / "lingong.db"
BUSY_TIMEOUT_SECONDS = 30.0


def sqlite_url(path: str | Path) -> str:
    """The SQLAlchemy URL of a SQLite file (made absolute, so a worker's working directory does not matter)."""
    return f"sqlite:///{Path(path).expanduser().resolve()}"


def database_url(url: str | None = None, *, env: str = DATABASE_URL_ENV) -> str:
    """The URL to use: the one given, else the environment's ``env`` variable, else the project's SQLite file."""
    return url or os.environ.get(env) or sqlite_url(DEFAULT_SQLITE_PATH)


def is_sqlite(url: str | URL) -> bool:
    return make_url(str(url)).get_backend_name() == "sqlite"


class Database:
    """One database: its engine, its connection pool, and transactions that behave alike on SQLite and
    PostgreSQL. Each store creates the tables of its own ``MetaData`` with :meth:`create_all`."""

    def __init__(self, url: str | None = None, *, echo: bool = False) -> None:
        self.url = make_url(database_url(url))
        self.engine: Engine = self._create_engine(echo)

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    def _create_engine(self, echo: bool) -> Engine:
        if not self.is_sqlite:
            return create_engine(self.url, echo=echo, pool_pre_ping=True, future=True)
        database = self.url.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            self.url, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False}
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see "begin" below).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine

    def create_all(self, metadata: MetaData) -> None:
        """Create the tables of ``metadata`` that do not exist yet (idempotent, safe from several processes)."""
        metadata.create_all(self.engine, checkfirst=True)

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
