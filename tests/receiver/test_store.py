"""The store: one row per notifyNo, redeliveries counted, states only forward, and it survives a restart —
on SQLite, and on PostgreSQL when one can be had (the ``db_url`` fixture, tests/conftest.py)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from lingong_receiver import Receiver, Store, VerifiedNotification, verify_notification
from lingong_receiver.states import Kind, Move
from tests.receiver.receiver_helpers import MERCHANT_NO, NOW, RecordingEmitter, body, settlement_biz

Keys = tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey]


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store(db_url) as s:
        yield s


@pytest.fixture
def make(platform_keys: Keys) -> Any:
    def make(**kwargs: Any) -> VerifiedNotification:
        raw = body(platform_keys[0], **kwargs)
        return verify_notification(raw, merchant_no=MERCHANT_NO, public_key=platform_keys[1], now=NOW)

    return make


def order_state(store: Store, number: str = "PAY-2024-03-A-0001") -> str | None:
    found = store.get_state(f"lingong.order.{number}")
    return found.state if found else None


def test_a_new_notification_is_recorded_with_its_state(store: Store, make: Any) -> None:
    result = store.record(make(), received_at=NOW)
    assert result.new
    assert [c.move for c in result.changes] == [Move.SET]
    record = store.get("N2024030416203000000001")
    assert record is not None
    assert (record.notify_type, record.merchant_no, record.deliveries) == ("3001", MERCHANT_NO, 1)
    assert record.resource_id == "lingong.settlement.B202403040001"
    assert record.biz["status"] == "SUCCESS"
    assert record.received_at == NOW
    assert not record.emitted
    assert order_state(store) == "SUCCESS"


def test_a_redelivery_is_counted_and_changes_nothing_else(store: Store, make: Any) -> None:
    store.record(make(biz=settlement_biz(status="PROCESSING")), received_at=NOW)
    # same notifyNo, even with other content: the first one stands
    again = store.record(make(biz=settlement_biz(status="SUCCESS")), received_at=NOW + timedelta(seconds=30))
    assert not again.new
    assert again.changes == ()
    assert again.record.deliveries == 2
    assert again.record.last_received_at == NOW + timedelta(seconds=30)
    assert again.record.received_at == NOW
    assert order_state(store) == "PROCESSING"
    assert len(store.list()) == 1


def test_an_older_state_arriving_late_does_not_move_the_state_back(store: Store, make: Any) -> None:
    store.record(make(notify_no="N2", biz=settlement_biz(status="SUCCESS")), received_at=NOW)
    late = store.record(make(notify_no="N1", biz=settlement_biz(status="PROCESSING")), received_at=NOW)
    assert late.new  # recorded all the same
    assert [c.move for c in late.changes] == [Move.BACKWARD]
    assert order_state(store) == "SUCCESS"
    found = store.get_state("lingong.order.PAY-2024-03-A-0001")
    assert found is not None
    assert found.notify_no == "N2"
    note = store.get("N1")
    assert note is not None
    assert "kept SUCCESS" in note.state_note


def test_a_bounce_before_its_success_ends_bounced(store: Store, make: Any) -> None:
    store.record(make(notify_no="N-bounce", notify_type="5001"), received_at=NOW)
    assert order_state(store) == "BOUNCED"
    store.record(make(notify_no="N-success"), received_at=NOW)
    assert order_state(store) == "BOUNCED"


def test_a_failed_order_never_becomes_bounced_or_successful(store: Store, make: Any) -> None:
    store.record(make(notify_no="N1", biz=settlement_biz(status="FAILED", failMsg="卡已冻结")), received_at=NOW)
    store.record(make(notify_no="N2", notify_type="5001"), received_at=NOW)
    store.record(make(notify_no="N3", biz=settlement_biz(status="SUCCESS")), received_at=NOW)
    assert order_state(store) == "FAILED"


def test_the_batch_state_is_recorded_when_the_batch_completes(store: Store, make: Any) -> None:
    store.record(make(notify_no="N1"), received_at=NOW)
    assert store.get_state("lingong.settlement.B202403040001") is None
    biz = settlement_biz(
        orderNo="O2", outOrderNo="PAY-2024-03-A-0002", batchStatus="COMPLETED", successCount=2, failCount=0
    )
    store.record(make(notify_no="N2", biz=biz), received_at=NOW)
    batch = store.get_state("lingong.settlement.B202403040001")
    assert batch is not None
    assert (batch.kind, batch.state, batch.out_no) == (Kind.SETTLEMENT, "COMPLETED", "PAY-2024-03-A")
    assert batch.biz["successCount"] == 2


def test_a_state_is_found_by_either_number(store: Store, make: Any) -> None:
    store.record(make(), received_at=NOW)
    by_ours = store.get_state("lingong.order.PAY-2024-03-A-0001")
    by_platform = store.get_state("lingong.order.O202403040000001")
    by_batch_key = store.get_state("lingong.settlement.PAY-2024-03-A")
    assert by_ours == by_platform
    assert by_ours is not None
    assert by_ours.resource_id == "lingong.order.PAY-2024-03-A-0001"
    assert by_batch_key is None  # no batch state reported yet
    assert store.get_state("lingong.recharge.PAY-2024-03-A-0001") is None  # another namespace


@pytest.mark.parametrize("bad", ["order.T1", "lingong.payment.T1", "lingong.order.", "T1"])
def test_a_malformed_resource_id_is_a_value_error(store: Store, bad: str) -> None:
    with pytest.raises(ValueError, match=r"resource id|kind"):
        store.get_state(bad)


def test_list_filters_newest_first(store: Store, make: Any) -> None:
    store.record(make(notify_no="N1", notify_type="1001"), received_at=NOW)
    store.record(make(notify_no="N2"), received_at=NOW + timedelta(minutes=1))
    store.record(make(notify_no="N3", notify_type="8001"), received_at=NOW + timedelta(minutes=2))
    assert [r.notify_no for r in store.list()] == ["N3", "N2", "N1"]
    assert [r.notify_no for r in store.list(notify_type="3001")] == ["N2"]
    assert [r.notify_no for r in store.list(since=NOW + timedelta(minutes=1))] == ["N3", "N2"]
    assert [r.notify_no for r in store.list(resource="lingong.recharge.T202403040000001")] == ["N1"]
    assert [r.notify_no for r in store.list(limit=1)] == ["N3"]
    assert store.counts() == {"notifications": 3, "pending_events": 3}


def test_everything_survives_closing_and_reopening_the_database(db_url: str, make: Any) -> None:
    with Store(db_url) as first:
        first.record(make(), received_at=NOW)
    with Store(db_url) as second:
        assert order_state(second) == "SUCCESS"
        again = second.record(make(), received_at=NOW)
        assert not again.new
        assert again.record.deliveries == 2


def test_a_path_is_a_sqlite_file_created_with_its_folder(db_path: Path, make: Any) -> None:
    with Store(db_path) as store:
        store.record(make(), received_at=NOW)
    assert db_path.exists()
    with Store(str(db_path)) as again:
        assert order_state(again) == "SUCCESS"


def test_concurrent_deliveries_of_one_notification_record_it_once(
    db_url: str, platform_keys: Keys, emitter: RecordingEmitter
) -> None:
    store = Store(db_url)
    receiver = Receiver(store, merchant_no=MERCHANT_NO, platform_public_key=platform_keys[1], emitter=emitter)
    raw = body(platform_keys[0], at=receiver.clock())
    start = threading.Barrier(6)
    outcomes: list[bool] = []

    def deliver() -> None:
        start.wait()
        outcomes.append(receiver.handle(raw).new)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()
    assert sorted(outcomes) == [False] * 5 + [True]
    assert len(emitter.events) == 1


def test_two_stores_on_one_database_share_the_dedupe(db_url: str, make: Any) -> None:
    """Two receiver processes on one database (simulated with two engines) still record once."""
    with Store(db_url) as a, Store(db_url) as b:
        assert a.record(make(), received_at=NOW).new
        assert not b.record(make(), received_at=NOW).new
        record = a.get("N2024030416203000000001")
        assert record is not None
        assert record.deliveries == 2


def test_concurrent_notifications_of_one_order_never_move_it_back(db_url: str, make: Any) -> None:
    """PROCESSING, SUCCESS and a bounce of one order arrive at once at two stores (two receivers): the state
    ends BOUNCED whatever the order, and each notification is recorded once."""
    notes = [
        make(notify_no=f"N{i}-{kind}", **spec)
        for i in range(8)
        for kind, spec in (
            ("processing", {"biz": settlement_biz(status="PROCESSING")}),
            ("success", {}),
            ("bounce", {"notify_type": "5001"}),
        )
    ]
    with Store(db_url) as a, Store(db_url) as b:
        start = threading.Barrier(6)
        errors: list[BaseException] = []

        def deliver(store: Store, part: list[VerifiedNotification]) -> None:
            try:
                start.wait()
                for note in part:
                    store.record(note, received_at=NOW)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [
            threading.Thread(target=deliver, args=((a, b)[n % 2], notes[n::6] + notes[: n * 2])) for n in range(6)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert order_state(a) == "BOUNCED"
        recorded = a.list(limit=None)
        assert sorted(r.notify_no for r in recorded) == sorted(n.notify_no for n in notes)
        assert a.counts()["notifications"] == len(notes)


def test_a_receiver_file_written_before_sqlalchemy_is_used_as_it_is(db_path: Path, make: Any) -> None:
    """The schema the sqlite3 store created: same tables and columns, so such a file needs no migration."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db_path)
    conn.executescript(OLD_SCHEMA)
    conn.close()
    with Store(db_path) as store:
        assert store.record(make(), received_at=NOW).new
        assert order_state(store) == "SUCCESS"
        assert store.counts() == {"notifications": 1, "pending_events": 1}


OLD_SCHEMA = """
CREATE TABLE notifications (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, notify_no TEXT NOT NULL UNIQUE, notify_type TEXT NOT NULL,
    merchant_no TEXT NOT NULL, resource_id TEXT NOT NULL, biz_model TEXT NOT NULL, version TEXT NOT NULL,
    timestamp TEXT NOT NULL, sign TEXT NOT NULL, received_at TEXT NOT NULL, last_received_at TEXT NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 1, state_note TEXT NOT NULL DEFAULT '', emitted_at TEXT,
    emit_attempts INTEGER NOT NULL DEFAULT 0, emit_error TEXT
);
CREATE INDEX notifications_pending ON notifications (seq) WHERE emitted_at IS NULL;
CREATE INDEX notifications_received ON notifications (received_at);
CREATE INDEX notifications_resource ON notifications (resource_id);
CREATE TABLE states (
    kind TEXT NOT NULL, key TEXT NOT NULL, platform_no TEXT, out_no TEXT, state TEXT NOT NULL,
    notify_no TEXT NOT NULL, notify_type TEXT NOT NULL, biz_model TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX states_platform_no ON states (kind, platform_no);
CREATE INDEX states_out_no ON states (kind, out_no);
PRAGMA user_version=1;
"""
