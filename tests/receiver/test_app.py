"""POST /notify through the ASGI app, in process (httpx.ASGITransport); tests/receiver/test_server.py goes
through a real loopback server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from lingong_receiver import Receiver, Store
from lingong_receiver.app import create_app
from tests.receiver.receiver_helpers import (
    ID_CARD,
    MERCHANT_NO,
    OMIT,
    AsgiClient,
    Clock,
    RecordingEmitter,
    body,
    settlement_biz,
)

Keys = tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey]
JSON = {"Content-Type": "application/json; charset=utf-8"}


@pytest.fixture
def client(receiver: Receiver) -> Iterator[AsgiClient]:
    c = AsgiClient(create_app(receiver))
    yield c
    c.close()


def post(client: AsgiClient, raw: bytes) -> Any:
    return client.post("/notify", content=raw, headers=JSON)


def test_a_valid_notification_is_recorded_then_acknowledged_and_emits_one_event(
    client: AsgiClient, receiver: Receiver, emitter: RecordingEmitter, platform_key: rsa.RSAPrivateKey
) -> None:
    biz = settlement_biz(status="FAILED", failMsg=f"身份证 {ID_CARD} 与卡主不符", idCardNo=ID_CARD)
    response = post(client, body(platform_key, biz=biz))
    assert response.status_code == 200
    assert response.text == "success"
    assert response.headers["content-type"].startswith("text/plain")
    record = receiver.store.get("N2024030416203000000001")
    assert record is not None
    assert record.emitted
    assert emitter.names == ["lingong.order.failed"]
    payload = emitter.events[0].payload
    assert ID_CARD not in str(payload)
    assert payload["idCardNo"] == "110101********1234"
    assert payload["status"] == "FAILED"
    state = receiver.store.get_state("lingong.order.PAY-2024-03-A-0001")
    assert state is not None
    assert state.state == "FAILED"


def test_a_forged_notification_is_401_and_leaves_no_trace(
    client: AsgiClient, receiver: Receiver, emitter: RecordingEmitter, forger_key: rsa.RSAPrivateKey
) -> None:
    response = post(client, body(forger_key))
    assert response.status_code == 401
    assert response.json()["code"] == 401
    assert "signature" in response.json()["msg"]
    assert receiver.store.list() == []
    assert receiver.store.get_state("lingong.order.PAY-2024-03-A-0001") is None
    assert emitter.attempts == 0


def test_a_stale_notification_is_408(
    client: AsgiClient, clock: Clock, receiver: Receiver, platform_key: rsa.RSAPrivateKey
) -> None:
    raw = body(platform_key, at=clock())
    clock.advance(301)
    response = post(client, raw)
    assert response.status_code == 408
    assert "timestamp" in response.json()["msg"]
    assert receiver.store.list() == []


def test_another_merchants_notification_is_403(
    client: AsgiClient, receiver: Receiver, platform_key: rsa.RSAPrivateKey
) -> None:
    assert post(client, body(platform_key, merchant_no="1088000000000009")).status_code == 403
    assert receiver.store.list() == []


def test_a_redelivery_is_acknowledged_again_and_emits_nothing_more(
    client: AsgiClient, clock: Clock, receiver: Receiver, emitter: RecordingEmitter, platform_key: rsa.RSAPrivateKey
) -> None:
    assert post(client, body(platform_key, at=clock())).text == "success"
    clock.advance(30)  # the platform re-stamps and re-signs each redelivery
    second = post(client, body(platform_key, at=clock()))
    assert (second.status_code, second.text) == (200, "success")
    assert len(emitter.events) == 1
    record = receiver.store.get("N2024030416203000000001")
    assert record is not None
    assert record.deliveries == 2


def test_an_older_state_delivered_late_does_not_move_the_state_back(
    client: AsgiClient, receiver: Receiver, emitter: RecordingEmitter, platform_key: rsa.RSAPrivateKey
) -> None:
    assert post(client, body(platform_key, notify_no="N-final", biz=settlement_biz(status="SUCCESS"))).text == (
        "success"
    )
    late = post(client, body(platform_key, notify_no="N-early", biz=settlement_biz(status="PROCESSING")))
    assert late.text == "success"  # acknowledged: it is authentic, just old news
    state = receiver.store.get_state("lingong.order.O202403040000001")
    assert state is not None
    assert (state.state, state.notify_no) == ("SUCCESS", "N-final")
    assert [e.payload["status"] for e in emitter.events] == ["SUCCESS", "PROCESSING"]  # each is still an event


def _signed(key: rsa.RSAPrivateKey, **kwargs: Any) -> bytes:
    return body(key, **kwargs)


MALFORMED: dict[str, Callable[[rsa.RSAPrivateKey], bytes]] = {
    "not json": lambda k: b"<xml>success</xml>",
    "empty": lambda k: b"",
    "array": lambda k: b'[{"notifyType": "3001"}]',
    "not utf-8": lambda k: "通知".encode("gbk"),
    "missing notifyNo": lambda k: _signed(k, notifyNo=OMIT),
    "missing sign": lambda k: _signed(k, sign=False),
    "bizModel not json": lambda k: _signed(k, biz="not json"),
    "bizModel an object": lambda k: _signed(k, bizModel={"batchNo": "B1"}),
    "bad amount type": lambda k: _signed(k, biz=settlement_biz(amount="lots")),
    "missing batchNo": lambda k: _signed(k, biz=settlement_biz(batchNo=OMIT)),
    "bad notifyType": lambda k: _signed(k, notifyType=["3001"]),
    "deep nesting": lambda k: b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "huge integer": lambda k: b'{"notifyType": ' + b"9" * 5000 + b"}",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_bodies_are_400_never_500(
    client: AsgiClient, receiver: Receiver, emitter: RecordingEmitter, platform_key: rsa.RSAPrivateKey, name: str
) -> None:
    response = post(client, MALFORMED[name](platform_key))
    assert response.status_code == 400, response.text
    assert response.json()["msg"]
    assert receiver.store.list() == []
    assert emitter.attempts == 0


def test_an_oversized_body_is_413(client: AsgiClient) -> None:
    assert post(client, b"{" + b" " * 1_100_000 + b"}").status_code == 413


def test_only_post_is_answered_on_notify(client: AsgiClient) -> None:
    assert client.get("/notify").status_code == 405


def test_healthz_counts_notifications_and_pending_events(
    client: AsgiClient, emitter: RecordingEmitter, platform_key: rsa.RSAPrivateKey
) -> None:
    emitter.fail_next = 1
    post(client, body(platform_key))
    answer = client.get("/healthz").json()
    assert answer == {"status": "ok", "merchantNo": MERCHANT_NO, "notifications": 1, "pending_events": 1}


def test_an_emit_failure_loses_nothing_and_is_retried_on_the_next_request(
    client: AsgiClient, clock: Clock, receiver: Receiver, emitter: RecordingEmitter, platform_key: rsa.RSAPrivateKey
) -> None:
    emitter.fail_next = 1
    first = post(client, body(platform_key, notify_no="N1", at=clock()))
    assert first.text == "success"  # recorded: the platform must not redeliver because Prefect was down
    record = receiver.store.get("N1")
    assert record is not None
    assert not record.emitted
    assert record.emit_error is not None
    assert "unreachable" in record.emit_error
    assert emitter.events == []

    clock.advance(5)
    post(client, body(platform_key, notify_no="N2", notify_type="8001", at=clock()))
    assert [e.resource["lingong.notify-no"] for e in emitter.events] == ["N2", "N1"]
    assert all(r.emitted for r in receiver.store.list())
    # a redelivery of N1 now changes nothing: its event went out once
    post(client, body(platform_key, notify_no="N1", at=clock()))
    assert len(emitter.events) == 2


def test_the_emit_retry_gives_up_for_now_at_the_first_failure(
    db_path: Any, platform_keys: Keys, clock: Clock, platform_key: rsa.RSAPrivateKey
) -> None:
    emitter = RecordingEmitter(fail_next=100)
    with Store(db_path) as store:
        receiver = Receiver(
            store, merchant_no=MERCHANT_NO, platform_public_key=platform_keys[1], emitter=emitter, clock=clock
        )
        for n in range(5):
            receiver.handle(body(platform_key, notify_no=f"N{n}", at=clock()))
        receiver.handle(body(platform_key, notify_no="N0", at=clock() + timedelta(seconds=1)))  # a redelivery
    assert emitter.attempts == 6  # one per new notification, one retry for the redelivery: no storm
