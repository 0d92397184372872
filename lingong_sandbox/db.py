"""The sandbox's state: one SQLite database (a file, or memory for tests), one lock, explicit transactions.

Every module that keeps state registers its tables with :func:`schema`; :meth:`Database.open` creates
them. The gateway runs each request's business handling, its requestNo record and any notification
it queues in **one** transaction, so a crash or restart never leaves half of a write behind.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_SCHEMAS: list[str] = []


def schema(ddl: str) -> str:
    """Register DDL (``CREATE TABLE IF NOT EXISTS …``) to run when a database opens. Returns it."""
    _SCHEMAS.append(ddl)
    return ddl


class Database:
    """A single connection guarded by a re-entrant lock; ``transaction()`` is the only way to write."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")

    @classmethod
    def open(cls, path: str | Path = ":memory:") -> Database:
        db = cls(path)
        with db.transaction() as conn:
            for ddl in _SCHEMAS:
                _run_script(conn, ddl)
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and a transaction; nested use joins the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock for a consistent read."""
        with self._lock:
            yield self._conn

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _run_script(conn: sqlite3.Connection, ddl: str) -> None:
    # executescript() would COMMIT the surrounding transaction; run the statements one by one.
    for statement in ddl.split(";"):
        if statement.strip():
            conn.execute(statement)
