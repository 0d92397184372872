"""The Prefect event of a notification: name, resource, related order, masked payload, stable id."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from lingong_core import jsoncodec
from lingong_receiver import Store, build_event, verify_notification
from lingong_receiver.events import EmitUnavailableError, PrefectEmitter, event_id, event_name, payload_of
from tests.receiver.receiver_helpers import (
    BIZ_BY_TYPE,
    CARD,
    ID_CARD,
    MERCHANT_NO,
    MOBILE,
    NOW,
    RESOURCE_BY_TYPE,
    body,
    settlement_biz,
)

Keys = tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey]

#: What happened, for the helpers' notifications (every one reports success).
EVENT_BY_TYPE = {
    "1001": "lingong.recharge.confirmed",
    "2001": "lingong.withdrawal.completed",
    "3001": "lingong.order.paid",
    "5001": "lingong.order.bounced",
    "8001": "lingong.contract.signed",
    "9001": "lingong.invoice.issued",
}


def recorded(store: Store, keys: Keys, **kwargs: Any) -> Any:
    n = verify_notification(body(keys[0], **kwargs), merchant_no=MERCHANT_NO, public_key=keys[1], now=NOW)
    return store.record(n, received_at=NOW).record


@pytest.mark.parametrize("notify_type", sorted(BIZ_BY_TYPE))
def test_each_type_names_its_event_and_resource(db_path: Any, platform_keys: Keys, notify_type: str) -> None:
    with Store(db_path) as store:
        spec = build_event(recorded(store, platform_keys, notify_type=notify_type))
    assert spec.event == EVENT_BY_TYPE[notify_type]
    assert spec.resource["prefect.resource.id"] == RESOURCE_BY_TYPE[notify_type]
    assert spec.resource["lingong.notify-type"] == notify_type
    assert spec.resource["lingong.merchant-no"] == MERCHANT_NO
    assert all(isinstance(v, str) for v in spec.resource.values())
    if notify_type in ("3001", "5001"):
        assert spec.related == [
            {"prefect.resource.id": "lingong.order.PAY-2024-03-A-0001", "prefect.resource.role": "order"}
        ]
    else:
        assert spec.related == []
    assert spec.occurred == NOW
    json.dumps(spec.payload)  # plain JSON: no Decimal, no datetime


def test_the_payload_has_amounts_as_strings_and_times_normalised() -> None:
    payload = payload_of(BIZ_BY_TYPE["1001"])
    assert payload["amount"] == "200021.00"
    assert payload["completeTime"] == "2024-03-04 16:20:29"  # epoch milliseconds in, the string form out
    assert payload["outOrderNo"] == "T202403040000001"
    settlement = payload_of(settlement_biz(successAmount=jsoncodec.loads("10.5"), failAmount="0", successCount=3))
    assert (settlement["amount"], settlement["serviceAmount"], settlement["successAmount"]) == (
        "1234.00",
        "74.04",
        "10.50",
    )
    assert settlement["failAmount"] == "0.00"
    assert settlement["successCount"] == 3
    assert settlement["batchNo"] == "B202403040001"


def test_personal_data_never_reaches_the_payload_unmasked(db_path: Any, platform_keys: Keys) -> None:
    contract = {**BIZ_BY_TYPE["8001"], "name": "张三丰", "mobile": MOBILE}
    settlement = settlement_biz(
        status="FAILED",
        failMsg=f"收款卡 {CARD} 已冻结，联系人 {MOBILE}，身份证 {ID_CARD}",
        bankCardNo=CARD,
        idCardNo=ID_CARD,
        name="李四",
        extra={"payeeName": "王五", "mobileNo": MOBILE},
    )
    with Store(db_path) as store:
        specs = [
            build_event(recorded(store, platform_keys, notify_type="8001", notify_no="N1", biz=contract)),
            build_event(recorded(store, platform_keys, notify_no="N2", biz=settlement)),
        ]
    for spec in specs:
        text = json.dumps(spec.payload, ensure_ascii=False)
        for secret in (ID_CARD, MOBILE, CARD, "张三丰", "李四", "王五"):
            assert secret not in text, (secret, text)
    assert specs[0].payload["idCardNo"] == "110101********1234"
    assert specs[0].payload["contractNo"] == "C202403040001"
    assert specs[1].payload["bankCardNo"] == "6222 **** **** 0123"
    assert "138****5678" in specs[1].payload["failMsg"]
    assert specs[1].payload["outOrderNo"] == "PAY-2024-03-A-0001"  # identifiers are kept for triggers


def test_identifiers_that_look_like_card_numbers_are_not_scrubbed() -> None:
    payload = payload_of(settlement_biz(batchNo="9088202403040000001", outOrderNo="6222021234567890123"))
    assert payload["batchNo"] == "9088202403040000001"
    assert payload["outOrderNo"] == "6222021234567890123"


def test_the_event_id_is_stable_per_notification() -> None:
    assert event_id(MERCHANT_NO, "N1") == event_id(MERCHANT_NO, "N1")
    assert event_id(MERCHANT_NO, "N1") != event_id(MERCHANT_NO, "N2")
    assert event_id(MERCHANT_NO, "N1") != event_id("1088000000000009", "N1")


def _prefect_home() -> None:
    # tests/conftest.py points PREFECT_HOME into .state/, which only `make install` creates; Prefect makes
    # the home folder but not its parent, and warns (an error here) if it cannot.
    Path(os.environ.get("PREFECT_HOME", ".state/prefect-tests")).mkdir(parents=True, exist_ok=True)


def test_the_prefect_emitter_refuses_without_an_api_url(db_path: Any, platform_keys: Keys) -> None:
    """Without PREFECT_API_URL, Prefect would start a throwaway server that swallows the event."""
    _prefect_home()
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with Store(db_path) as store:
        spec = build_event(recorded(store, platform_keys))
    emitter = PrefectEmitter()
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert emitter.available() is None
        with pytest.raises(EmitUnavailableError, match="PREFECT_API_URL"):
            emitter(spec)


def test_the_prefect_emitter_hands_prefect_the_event_as_built(db_path: Any, platform_keys: Keys) -> None:
    """Through prefect.events.emit_event into Prefect's own test client (no server: nothing is sent)."""
    _prefect_home()
    from prefect.events.clients import AssertingEventsClient
    from prefect.events.worker import EventsWorker
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with Store(db_path) as store:
        spec = build_event(recorded(store, platform_keys, notify_type="3001"))
    EventsWorker.set_client_override(AssertingEventsClient)
    try:
        with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
            PrefectEmitter()(spec)
            worker = EventsWorker.instance()
            worker.drain()
    finally:
        EventsWorker.set_client_override(None)
    assert AssertingEventsClient.last is not None
    (event,) = AssertingEventsClient.last.events
    assert event.id == spec.id
    assert event.event == "lingong.order.paid"
    assert event.resource.id == "lingong.settlement.B202403040001"
    assert event.resource["lingong.notify-no"] == "N2024030416203000000001"
    assert [(r.id, r.role) for r in event.related] == [("lingong.order.PAY-2024-03-A-0001", "order")]
    assert event.payload == spec.payload
    assert event.payload["amount"] == "1234.00"


def test_the_order_completing_its_batch_labels_the_event_so_one_run_starts_per_batch(
    db_path: Any, platform_keys: Keys
) -> None:
    with Store(db_path) as store:
        middle = build_event(
            recorded(store, platform_keys, notify_type="3001", notify_no="N-MID", biz=settlement_biz(outOrderNo="O1"))
        )
        last = build_event(
            recorded(
                store,
                platform_keys,
                notify_type="3001",
                notify_no="N-LAST",
                biz=settlement_biz(outOrderNo="O2", batchStatus="COMPLETED", successCount=2),
            )
        )
    assert "lingong.batch-status" not in middle.resource
    assert last.resource["lingong.batch-status"] == "COMPLETED"


@pytest.mark.parametrize(
    ("notify_type", "biz", "name"),
    [
        ("3001", {"status": "SUCCESS", "batchStatus": "COMPLETED"}, "lingong.settlement.completed"),
        ("3001", {"status": "FAILED", "batchStatus": "COMPLETED"}, "lingong.settlement.completed"),
        ("3001", {"status": "FAILED"}, "lingong.order.failed"),
        ("3001", {"status": "SUCCESS", "batchStatus": "PROCESSING"}, "lingong.order.paid"),
        ("1001", {"status": "FAILED"}, "lingong.recharge.failed"),
        ("8001", {"status": "EXPIRED"}, "lingong.contract.expired"),
        ("9001", {"status": "REJECTED"}, "lingong.invoice.rejected"),
        ("2001", {"status": "Some New State!"}, "lingong.withdrawal.some-new-state"),
        ("1001", {}, "lingong.recharge.unknown"),
    ],
)
def test_an_event_is_named_for_what_happened(notify_type: str, biz: dict[str, Any], name: str) -> None:
    assert event_name(notify_type, biz) == name
