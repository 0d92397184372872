"""Through a real uvicorn server on a loopback port: acknowledgement, restart with the same file, and the
events left pending by one run emitted when the next one starts."""

from __future__ import annotations

from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from lingong_receiver import Receiver, Store
from lingong_receiver.app import create_app
from tests.receiver.receiver_helpers import MERCHANT_NO, Clock, RecordingEmitter, body, serve_in_thread, settlement_biz

Keys = tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey]
JSON = {"Content-Type": "application/json; charset=utf-8"}


def receiver_on(db_path: Path, keys: Keys, emitter: RecordingEmitter, clock: Clock) -> Receiver:
    return Receiver(Store(db_path), merchant_no=MERCHANT_NO, platform_public_key=keys[1], emitter=emitter, clock=clock)


def test_a_record_survives_a_restart_and_pending_events_go_out_at_start_up(
    db_path: Path, platform_keys: Keys, clock: Clock, forger_key: rsa.RSAPrivateKey
) -> None:
    key = platform_keys[0]
    prefect_down = RecordingEmitter(fail_next=1)
    first = receiver_on(db_path, platform_keys, prefect_down, clock)
    with serve_in_thread(create_app(first)) as url, httpx.Client(base_url=url, trust_env=False) as http:
        assert http.get("/healthz").json()["notifications"] == 0
        answer = http.post("/notify", content=body(key, notify_no="N1", at=clock()), headers=JSON)
        assert (answer.status_code, answer.text) == (200, "success")
        assert (
            http.post("/notify", content=body(forger_key, notify_no="N9", at=clock()), headers=JSON).status_code == 401
        )
        stale = body(key, notify_no="N8", at=clock().replace(year=2023))
        assert http.post("/notify", content=stale, headers=JSON).status_code == 408
    first.store.close()
    assert prefect_down.events == []  # Prefect was down: the event is pending, the notification is safe

    prefect_up = RecordingEmitter()
    clock.advance(120)
    second = receiver_on(db_path, platform_keys, prefect_up, clock)
    with serve_in_thread(create_app(second)) as url, httpx.Client(base_url=url, trust_env=False) as http:
        # start-up emitted what the first run could not
        assert [e.resource["lingong.notify-no"] for e in prefect_up.events] == ["N1"]
        # the platform redelivers N1 (say our first answer was lost): acknowledged, nothing more
        again = http.post("/notify", content=body(key, notify_no="N1", at=clock()), headers=JSON)
        assert (again.status_code, again.text) == (200, "success")
        late = body(key, notify_no="N0", biz=settlement_biz(status="PROCESSING"), at=clock())
        assert http.post("/notify", content=late, headers=JSON).text == "success"
        health = http.get("/healthz").json()
    assert health["notifications"] == 2
    assert health["pending_events"] == 0
    assert len(prefect_up.events) == 2  # N1 once, N0 once
    record = second.store.get("N1")
    assert record is not None
    assert record.deliveries == 2
    state = second.store.get_state("lingong.order.PAY-2024-03-A-0001")
    assert state is not None
    assert state.state == "SUCCESS"
    assert second.store.get("N9") is None
    second.store.close()
