"""The payee store: people in and out under a reference, encrypted at rest, under the configured key."""

from __future__ import annotations

import base64
import os
import stat
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from lingong_payroll.payees import PayeeRow
from lingong_sandbox.people import team
from lingong_store.db import Database, sqlite_url
from lingong_store.payees import (
    PAYEE_KEY_ENV,
    PAYEE_KEY_FILE_ENV,
    RETENTION_ENV,
    PayeeStore,
    PayeeStoreError,
    PayrollRow,
    Person,
    UnknownReferenceError,
    generate_key,
    payee_sets,
)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(sqlite_url(tmp_path / "lingong.db"))
    yield database  # type: ignore[misc]
    database.dispose()


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    value = generate_key()
    monkeypatch.setenv(PAYEE_KEY_ENV, value)
    monkeypatch.delenv(PAYEE_KEY_FILE_ENV, raising=False)
    monkeypatch.delenv(RETENTION_ENV, raising=False)
    return value


def _rows(n: int = 3) -> list[PayeeRow]:
    return [
        PayeeRow(
            name=p.name,
            id_card_no=p.id_card_no,
            mobile=p.mobile,
            bank_card_no=p.bank_card_no,
            amount=f"{100 + i}.50",
            remark="佣金",
        )
        for i, p in enumerate(team(n, seed=4242))
    ]


def test_a_payroll_comes_back_as_stored_under_its_reference(db: Database) -> None:
    rows = _rows()
    store = PayeeStore(db)
    ref = store.put_payroll(rows, source="upload: nov.xlsx")
    assert ref.startswith("PR")
    assert len(ref) == 26
    back = store.payroll(ref)
    assert [r.fields() for r in back] == [r.model_dump() for r in rows]
    assert [r.row for r in back] == [1, 2, 3]  # numbered by position when no row is given
    info = store.info(ref)
    assert info is not None
    assert (info.kind, info.rows, info.source) == ("payroll", 3, "upload: nov.xlsx")
    # sheet rows, when given, are kept (the run's report names the sheet's rows)
    ref2 = store.put_payroll([{**r.model_dump(), "row": 7 + i} for i, r in enumerate(rows)], source="file")
    assert [r.row for r in store.payroll(ref2)] == [7, 8, 9]
    assert ref2 != ref


def test_people_come_back_as_stored(db: Database) -> None:
    people = team(2, seed=5)
    store = PayeeStore(db)
    ref = store.put_people(people)
    assert ref.startswith("PP")
    assert store.people(ref) == [Person(p.name, p.id_card_no, p.mobile, p.bank_card_no) for p in people]
    with pytest.raises(UnknownReferenceError, match="no payroll stored"):
        store.payroll(ref)  # a people set is not a payroll


def test_nothing_personal_is_readable_in_the_database_file(db: Database, tmp_path: Path) -> None:
    rows = _rows(5)
    store = PayeeStore(db)
    store.put_payroll(rows, source="a 110101199003071234 file")  # a source holding an ID is masked
    db.dispose()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("lingong.db*"))
    for r in rows:
        for value in (r.id_card_no, r.mobile, r.bank_card_no, r.name):
            assert value.encode() not in raw
    assert b"110101199003071234" not in raw
    assert repr(store.payroll(store.put_payroll(rows[:1], source="x"))[0]).count("*") >= 4  # repr is masked


def test_an_unknown_reference_a_wrong_key_and_an_altered_set_are_clear_errors(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = PayeeStore(db)
    ref = store.put_payroll(_rows(1), source="x")
    with pytest.raises(UnknownReferenceError, match="PRNOPE"):
        store.payroll("PRNOPE")
    other = PayeeStore(db, key=generate_key())
    with pytest.raises(PayeeStoreError, match=r"encrypted under key .* give every worker the same"):
        other.payroll(ref)
    with db.begin() as conn:
        conn.execute(update(payee_sets).where(payee_sets.c.ref == ref).values(payload=b"\0" * 64))
    with pytest.raises(PayeeStoreError, match="does not decrypt"):
        store.payroll(ref)


def test_a_ciphertext_cannot_be_moved_to_another_reference(db: Database) -> None:
    store = PayeeStore(db)
    a = store.put_payroll(_rows(1), source="a")
    b = store.put_payroll(_rows(2), source="b")
    with db.begin() as conn:
        moved = conn.execute(payee_sets.select().where(payee_sets.c.ref == a)).one()
        conn.execute(update(payee_sets).where(payee_sets.c.ref == b).values(nonce=moved.nonce, payload=moved.payload))
    with pytest.raises(PayeeStoreError, match="does not decrypt"):
        store.payroll(b)


@pytest.mark.parametrize("bad", ["not base64!!", base64.b64encode(b"short").decode()])
def test_a_malformed_key_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, db: Database, bad: str
) -> None:
    monkeypatch.setenv(PAYEE_KEY_ENV, bad)
    with pytest.raises(PayeeStoreError, match=PAYEE_KEY_ENV):
        PayeeStore(db)


def test_without_a_key_a_local_one_is_generated_0600_and_reused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db: Database
) -> None:
    monkeypatch.delenv(PAYEE_KEY_ENV)
    monkeypatch.chdir(tmp_path)
    ref = PayeeStore(db).put_people(team(1, seed=1))
    key_file = tmp_path / ".state" / "payee.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert PayeeStore(db).people(ref)  # the next store (another process) reads the same key
    monkeypatch.setenv(PAYEE_KEY_FILE_ENV, str(tmp_path / "elsewhere" / "k"))
    PayeeStore(db)
    assert stat.S_IMODE((tmp_path / "elsewhere" / "k").stat().st_mode) == 0o600


def test_on_a_shared_database_a_key_must_be_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    from lingong_store import payees

    monkeypatch.delenv(PAYEE_KEY_ENV)
    with pytest.raises(PayeeStoreError, match="no payee key: set LINGONG_PAYEE_KEY"):
        payees.load_key(local=False)


def test_purge_deletes_sets_older_than_the_retention(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    store = PayeeStore(db)
    old = store.put_payroll(_rows(1), source="old")
    new = store.put_payroll(_rows(1), source="new")
    with db.begin() as conn:
        conn.execute(update(payee_sets).where(payee_sets.c.ref == old).values(created_at=int(time.time()) - 91 * 86400))
    assert store.purge() == 1  # default retention: 90 days
    assert store.info(old) is None
    assert store.info(new) is not None
    with pytest.raises(UnknownReferenceError, match="purged after 90 days"):
        store.payroll(old)
    monkeypatch.setenv(RETENTION_ENV, "zero")
    with pytest.raises(PayeeStoreError, match=RETENTION_ENV):
        store.purge()
    assert store.purge(timedelta(0)) == 1
    assert list(store.list()) == []


def test_rows_round_trip_through_the_dataclass(db: Database) -> None:
    store = PayeeStore(db)
    row = PayrollRow(5, "张三", "11010119900307123X", "13800000000", "6222020000000000", "1.00")
    (back,) = store.payroll(store.put_payroll([row], source="x"))
    assert back == row
    assert os.fspath(db.url.database or "").endswith("lingong.db")
