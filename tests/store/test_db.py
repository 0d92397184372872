"""The database layer: SQLite by default with durable, queued writers; the URL from the environment."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from lingong_store.db import Database, database_url, sqlite_url


def _table(metadata: MetaData) -> Table:
    return Table("t", metadata, Column("id", Integer, primary_key=True), Column("v", String(10), nullable=False))


def test_url_from_argument_then_environment_then_project_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LINGONG_DATABASE_URL", raising=False)
    assert database_url().endswith(".state/lingong.db")
    monkeypatch.setenv("LINGONG_DATABASE_URL", "sqlite:////tmp/x.db")
    assert database_url() == "sqlite:////tmp/x.db"
    assert database_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_sqlite_runs_in_wal_with_full_sync(tmp_path: Path) -> None:
    with Database(sqlite_url(tmp_path / "sub" / "a.db")) as db, db.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_concurrent_writers_queue_and_nothing_is_lost(tmp_path: Path) -> None:
    metadata = MetaData()
    table = _table(metadata)
    with Database(sqlite_url(tmp_path / "a.db")) as db:
        db.create_all(metadata)
        db.create_all(metadata)  # idempotent

        def write(start: int) -> None:
            for i in range(start, start + 50):
                with db.begin() as conn:
                    count = conn.execute(select(func.count()).select_from(table)).scalar_one()
                    conn.execute(insert(table).values(id=i, v=str(count)))

        threads = [threading.Thread(target=write, args=(k * 100,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with db.connect() as conn:
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 200


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    metadata = MetaData()
    table = _table(metadata)
    with Database(sqlite_url(tmp_path / "a.db")) as db:
        db.create_all(metadata)

        def write_then_fail() -> None:
            with db.begin() as conn:
                conn.execute(insert(table).values(id=1, v="x"))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            write_then_fail()
        with db.connect() as conn:
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
