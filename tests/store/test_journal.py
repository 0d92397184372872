"""The run journal on the project's database (SQLite, and PostgreSQL when one can be had): one row per key,
written by the first run, outcomes only forward, nothing lost or doubled by concurrent writers."""

from __future__ import annotations

import sqlite3
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from lingong_payroll.journal import Journal, JournalOrder
from lingong_store.db import Database

TAX = "2000064001"


def order(key: str, outcome: str, *, run: str = "R1", amount: str = "100.00", **numbers: str) -> JournalOrder:
    return JournalOrder(
        key,
        run,
        "2026-11",
        TAX,
        numbers.get("out_batch_no", ""),
        numbers.get("batch_no", ""),
        numbers.get("order_no", ""),
        Decimal(amount),
        Decimal(numbers.get("service_amount", "6.00")),
        outcome,
    )


def test_an_order_is_recorded_once_and_only_gains_information(db_url: str) -> None:
    with Journal(db_url) as journal:
        journal.record([order("K1", "SUBMITTED", out_batch_no="OB1", batch_no="B1")])
        journal.record([order("K1", "PAID", order_no="O1")])  # a later write without the batch numbers
        [held] = journal.orders()
        assert (held.out_batch_no, held.batch_no, held.order_no, held.outcome) == ("OB1", "B1", "O1", "PAID")
        assert held.amount == Decimal("100.00")
        assert isinstance(held.amount, Decimal)


def test_an_accepted_batch_moves_only_its_own_rows_forward(db_url: str) -> None:
    with Journal(db_url) as journal:
        journal.record(
            [
                order("K1", "SUBMITTING", out_batch_no="OB1"),
                order("K2", "SUBMITTING", out_batch_no="OB1"),
                order("K3", "PAID", out_batch_no="OB1", batch_no="B0", order_no="O3"),  # further along already
                order("K4", "SUBMITTING", out_batch_no="OB2"),
            ]
        )
        journal.accepted("OB1", "B1")
        journal.accepted("OB1", "")  # an answer without the platform's number blanks nothing
        held = {o.out_order_no: o for o in journal.orders()}
        assert {k: (o.batch_no, o.outcome) for k, o in held.items()} == {
            "K1": ("B1", "SUBMITTED"),
            "K2": ("B1", "SUBMITTED"),
            "K3": ("B1", "PAID"),
            "K4": ("", "SUBMITTING"),
        }
        assert (held["K3"].order_no, held["K1"].amount) == ("O3", Decimal("100.00"))


def test_outcomes_only_move_forward(db_url: str) -> None:
    with Journal(db_url) as journal:
        journal.record([order("K1", "PAID", service_amount="6.00")])
        journal.record([order("K1", "PENDING", service_amount="9.99")])  # an older view: ignored
        journal.record([order("K1", "SUBMITTED")])
        assert journal.orders()[0].outcome == "PAID"
        assert journal.orders()[0].service_amount == Decimal("6.00")
        journal.record([order("K1", "BOUNCED")])
        journal.record([order("K1", "PAID")])
        assert journal.orders()[0].outcome == "BOUNCED"


def test_a_second_run_with_the_same_key_cannot_rewrite_the_first(db_url: str) -> None:
    with Journal(db_url) as journal:
        journal.record([order("K1", "PAID", run="R1", amount="100.00")])
        journal.record([order("K1", "CONFLICT", run="R2", amount="120.00")])
        [held] = journal.orders()
        assert (held.run, held.amount, held.outcome) == ("R1", Decimal("100.00"), "PAID")


def test_the_platform_s_final_state_outranks_a_conflict(db_url: str) -> None:
    with Journal(db_url) as journal:
        journal.record([order("K1", "CONFLICT")])
        journal.record([order("K1", "PAID", order_no="O1")])
        assert journal.orders()[0].outcome == "PAID"


def test_duplicate_keys_in_one_write_keep_the_most_advanced(db_url: str) -> None:
    with Journal(db_url) as journal:
        journal.record([order("K1", "PAID"), order("K1", "SUBMITTED"), order("K2", "PENDING")])
        assert [(o.out_order_no, o.outcome) for o in journal.orders()] == [("K1", "PAID"), ("K2", "PENDING")]
        journal.record([])  # nothing to write is not an error


def test_orders_by_tax_base(db_url: str) -> None:
    other = JournalOrder("K9", "R1", "2026-11", "OTHER", "", "", "", Decimal("1.00"), Decimal("0.06"), "PAID")
    with Journal(db_url) as journal:
        journal.record([order("K1", "PAID"), other])
        assert [o.out_order_no for o in journal.orders(TAX)] == ["K1"]
        assert [o.out_order_no for o in journal.orders()] == ["K1", "K9"]


def test_concurrent_writers_lose_and_double_nothing(db_url: str) -> None:
    """Four writers (as four runs on two workers would) record overlapping keys at once, each through its
    own Journal: every key is there once, with the first amount and the most advanced outcome."""
    keys = [f"K{i:03d}" for i in range(60)]
    start = threading.Barrier(4, timeout=60)  # a writer that fails before it breaks the barrier, not the suite
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            with Journal(db_url) as journal:
                start.wait()
                for i in range(0, len(keys), 5):
                    chunk = keys[i : i + 5] if n % 2 == 0 else list(reversed(keys[i : i + 5]))
                    journal.record(order(k, "SUBMITTED", run=f"R{n}") for k in chunk)
                    journal.record(order(k, "PAID" if n == 3 else "PENDING", run=f"R{n}") for k in chunk)
        except BaseException as exc:  # reported below, with the thread's exception
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer is still writing after 2 minutes"
    assert errors == []
    with Journal(db_url) as journal:
        held = journal.orders()
    assert [o.out_order_no for o in held] == keys
    assert {o.outcome for o in held} == {"PAID"}
    assert all(o.amount == Decimal("100.00") for o in held)


def test_a_shared_database_is_left_open_for_its_owner(db_url: str) -> None:
    db = Database(db_url)
    try:
        with Journal(db=db) as journal:
            journal.record([order("K1", "PAID")])
        assert [o.out_order_no for o in Journal(db=db).orders()] == ["K1"]
    finally:
        db.dispose()


def test_journal_db_is_still_a_sqlite_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "journal.db"
    monkeypatch.setenv("LINGONG_JOURNAL_DB", str(path))
    monkeypatch.setenv("LINGONG_DATABASE_URL", "sqlite:///" + str(tmp_path / "not-this.db"))
    with Journal() as journal:
        journal.record([order("K1", "PAID")])
    assert path.exists()
    assert not (tmp_path / "not-this.db").exists()


def test_a_journal_file_written_before_sqlalchemy_is_used_as_it_is(tmp_path: Path) -> None:
    """The schema the sqlite3 journal created: same table and columns, so such a file needs no migration."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE journal_order (out_order_no TEXT PRIMARY KEY, run TEXT NOT NULL, period TEXT NOT NULL,"
        " tax_base_code TEXT NOT NULL, out_batch_no TEXT NOT NULL DEFAULT '', batch_no TEXT NOT NULL DEFAULT '',"
        " order_no TEXT NOT NULL DEFAULT '', amount TEXT NOT NULL, service_amount TEXT NOT NULL DEFAULT '0.00',"
        " outcome TEXT NOT NULL, updated TEXT NOT NULL);"
        "CREATE INDEX journal_order_batch ON journal_order (out_batch_no);"
        "CREATE INDEX journal_order_tax ON journal_order (tax_base_code);"
        "INSERT INTO journal_order VALUES ('K0','R0','2026-10','2000064001','OB','B','O','5.00','0.30','PAID',"
        " '2026-10-31 10:00:00');"
    )
    conn.close()
    with Journal(path) as journal:
        journal.record([order("K1", "PENDING")])
        assert [(o.out_order_no, o.amount, o.outcome) for o in journal.orders()] == [
            ("K0", Decimal("5.00"), "PAID"),
            ("K1", Decimal("100.00"), "PENDING"),
        ]


def test_a_run_reads_its_own_rows_and_a_notification_its_own_keys(db_url: str) -> None:
    """The queries are scoped in the database, in chunks under the parameter limits: what a run or a
    notification reads does not grow with the months of other runs the journal holds."""
    with Journal(db_url) as journal:
        journal.record([order(f"A{i:04d}", "PAID", run="R1") for i in range(1200)])
        journal.record([order(f"B{i:04d}", "PAID", run="R2") for i in range(30)])
        assert {o.run for o in journal.orders(TAX, runs={"R2"})} == {"R2"}
        assert len(journal.orders(TAX, runs={"R1", "R2"})) == 1230
        wanted = {f"A{i:04d}" for i in range(0, 1200, 2)} | {"B0001", "NOT-RECORDED"}
        found = journal.orders(TAX, keys=wanted)
        assert [o.out_order_no for o in found] == sorted(wanted - {"NOT-RECORDED"})
        assert journal.orders(TAX, keys=set()) == []
        assert journal.orders(TAX, runs=()) == []
        assert journal.orders("another tax base", keys=wanted) == []


def test_an_index_added_since_the_table_was_made_is_created(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    with Journal(path) as journal:
        journal.record([order("K1", "PAID")])
    with sqlite3.connect(path) as conn:  # a journal made before the run index existed
        conn.execute("DROP INDEX journal_order_run")
    with Journal(path) as journal:
        assert [o.out_order_no for o in journal.orders(runs={"R1"})] == ["K1"]
    with sqlite3.connect(path) as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "journal_order_run" in names
