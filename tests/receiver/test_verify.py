"""verify_notification is pure: body, merchant number, public key and the time in; a verified
notification or a refusal with its HTTP status out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from lingong_core import jsoncodec
from lingong_core.signing import SignAlgorithm
from lingong_core.verify import NotificationRejected
from lingong_receiver.verify import verify_notification
from tests.receiver.receiver_helpers import (
    BIZ_BY_TYPE,
    MERCHANT_NO,
    NOW,
    OMIT,
    RESOURCE_BY_TYPE,
    body,
    envelope,
    settlement_biz,
)

Keys = tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey]


def check(keys: Keys, raw: bytes | str, **kwargs: Any) -> Any:
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("merchant_no", MERCHANT_NO)
    return verify_notification(raw, public_key=keys[1], **kwargs)


def refused(keys: Keys, raw: bytes | str, **kwargs: Any) -> NotificationRejected:
    with pytest.raises(NotificationRejected) as info:
        check(keys, raw, **kwargs)
    return info.value


@pytest.mark.parametrize("notify_type", sorted(BIZ_BY_TYPE))
def test_every_type_verifies_and_names_its_resource(platform_keys: Keys, notify_type: str) -> None:
    n = check(platform_keys, body(platform_keys[0], notify_type=notify_type))
    assert n.notify_type == notify_type
    assert n.resource_id == RESOURCE_BY_TYPE[notify_type]
    assert n.biz_text == jsoncodec.dumps(BIZ_BY_TYPE[notify_type])
    assert n.merchant_no == MERCHANT_NO


def test_settlement_relates_the_order_and_reports_order_and_batch_states(platform_keys: Keys) -> None:
    biz = settlement_biz(batchStatus="COMPLETED", successCount=1, failCount=0)
    n = check(platform_keys, body(platform_keys[0], biz=biz))
    assert n.subject.related == (("lingong.order.PAY-2024-03-A-0001", "order"),)
    assert [(u.resource_id, u.state) for u in n.subject.updates] == [
        ("lingong.order.PAY-2024-03-A-0001", "SUCCESS"),
        ("lingong.settlement.B202403040001", "COMPLETED"),
    ]


def test_a_bounce_reports_the_order_bounced(platform_keys: Keys) -> None:
    n = check(platform_keys, body(platform_keys[0], notify_type="5001"))
    assert [(u.resource_id, u.state) for u in n.subject.updates] == [("lingong.order.PAY-2024-03-A-0001", "BOUNCED")]


def test_a_numeric_notify_type_is_accepted_as_its_text(platform_keys: Keys) -> None:
    n = check(platform_keys, body(platform_keys[0], notify_type=3001))
    assert n.notify_type == "3001"


def test_signed_with_another_key_is_401(platform_keys: Keys, forger_key: rsa.RSAPrivateKey) -> None:
    exc = refused(platform_keys, body(forger_key))
    assert exc.status == 401
    assert "signature" in exc.message


def test_a_field_changed_after_signing_is_401(platform_keys: Keys) -> None:
    env = envelope(platform_keys[0])
    env["bizModel"] = env["bizModel"].replace("SUCCESS", "FAILED")
    assert refused(platform_keys, jsoncodec.dumps(env)).status == 401


def test_a_signature_that_is_not_base64_is_401(platform_keys: Keys) -> None:
    env = envelope(platform_keys[0])
    env["sign"] = "not base64 at all!"
    assert refused(platform_keys, jsoncodec.dumps(env)).status == 401


def test_the_configured_algorithm_is_used(platform_keys: Keys) -> None:
    sha1 = body(platform_keys[0], algorithm=SignAlgorithm.SHA1_WITH_RSA)
    assert check(platform_keys, sha1, algorithm=SignAlgorithm.SHA1_WITH_RSA).notify_no
    assert refused(platform_keys, sha1).status == 401  # SHA256withRSA expected by default


def test_another_merchant_is_403(platform_keys: Keys) -> None:
    exc = refused(platform_keys, body(platform_keys[0], merchant_no="1088000000000009"))
    assert exc.status == 403
    assert "1088000000000009" in exc.message


@pytest.mark.parametrize("seconds", [300, -300, 0, 120])
def test_within_five_minutes_either_way_is_fresh(platform_keys: Keys, seconds: int) -> None:
    assert check(platform_keys, body(platform_keys[0], at=NOW - timedelta(seconds=seconds)))


@pytest.mark.parametrize(("seconds", "word"), [(301, "old"), (3600, "old"), (-301, "ahead")])
def test_a_stale_or_future_timestamp_is_408(platform_keys: Keys, seconds: int, word: str) -> None:
    exc = refused(platform_keys, body(platform_keys[0], at=NOW - timedelta(seconds=seconds)))
    assert exc.status == 408
    assert word in exc.message


def test_the_tolerance_is_configurable(platform_keys: Keys) -> None:
    late = body(platform_keys[0], at=NOW - timedelta(seconds=90))
    assert refused(platform_keys, late, tolerance=timedelta(seconds=60)).status == 408


def test_a_naive_clock_is_taken_as_shanghai_time(platform_keys: Keys) -> None:
    assert check(platform_keys, body(platform_keys[0]), now=NOW.replace(tzinfo=None))


def _signed(key: rsa.RSAPrivateKey, **kwargs: Any) -> bytes:
    return body(key, **kwargs)


# (id, how to build the body from the platform key, a word the message must contain)
MALFORMED: list[tuple[str, Any, str]] = [
    ("empty", lambda k: b"", "empty"),
    ("whitespace", lambda k: b"  \n", "empty"),
    ("not json", lambda k: b"notifyType=3001&sign=x", "not JSON"),
    ("truncated json", lambda k: _signed(k)[:-5], "not JSON"),
    ("not utf-8", lambda k: b'{"notifyNo":"\xff\xfe"}', "UTF-8"),
    ("array", lambda k: b"[]", "array"),
    ("string", lambda k: b'"success"', "string"),
    ("number", lambda k: b"3001", "number"),
    ("null", lambda k: b"null", "object"),
    ("NaN", lambda k: b'{"notifyType": NaN}', "not JSON"),
    ("deeply nested", lambda k: b"[" * 100_000, "not JSON"),
    ("no notifyType", lambda k: _signed(k, notifyType=OMIT), "notifyType"),
    ("no notifyNo", lambda k: _signed(k, notifyNo=OMIT), "notifyNo"),
    ("no merchantNo", lambda k: _signed(k, merchantNo=OMIT), "merchantNo"),
    ("no version", lambda k: _signed(k, version=OMIT), "version"),
    ("no timestamp", lambda k: _signed(k, timestamp=OMIT), "timestamp"),
    ("no bizModel", lambda k: _signed(k, bizModel=OMIT), "bizModel"),
    ("no sign", lambda k: _signed(k, sign=False), "sign"),
    ("empty notifyNo", lambda k: _signed(k, notifyNo=""), "notifyNo"),
    ("notifyType object", lambda k: _signed(k, notifyType={"a": 1}), "notifyType"),
    ("notifyType bool", lambda k: _signed(k, notifyType=True), "notifyType"),
    ("notifyNo number", lambda k: _signed(k, notifyNo=12345), "notifyNo"),
    ("notifyNo too long", lambda k: _signed(k, notifyNo="N" * 65), "notifyNo"),
    ("sign number", lambda k: jsoncodec.dumps({**envelope(k), "sign": 5}).encode(), "sign"),
    ("bizModel object", lambda k: _signed(k, bizModel={"batchNo": "B1"}), "not an object"),
    ("version 1.0", lambda k: _signed(k, version="1.0"), "version"),
    ("timestamp format", lambda k: _signed(k, timestamp="2024-03-04 16:20:30"), "timestamp"),
    ("timestamp not a date", lambda k: _signed(k, timestamp="20241304162030"), "timestamp"),
    ("unknown notifyType", lambda k: _signed(k, notifyType="7001", biz=settlement_biz()), "notifyType"),
    ("bizModel not json", lambda k: _signed(k, biz="{batchNo: B1"), "bizModel"),
    ("bizModel array", lambda k: _signed(k, biz="[1, 2]"), "bizModel"),
    ("bizModel empty object", lambda k: _signed(k, biz="{}"), "batchNo"),
    ("bizModel NaN", lambda k: _signed(k, biz='{"amount": NaN}'), "bizModel"),
    ("missing orderNo", lambda k: _signed(k, biz=settlement_biz(orderNo=OMIT)), "orderNo"),
    ("missing status", lambda k: _signed(k, biz=settlement_biz(status=OMIT)), "status"),
    ("null outOrderNo", lambda k: _signed(k, biz=settlement_biz(outOrderNo=None)), "outOrderNo"),
    ("batchNo number", lambda k: _signed(k, biz=settlement_biz(batchNo=42)), "batchNo"),
    ("batchNo with space", lambda k: _signed(k, biz=settlement_biz(batchNo="B 1")), "batchNo"),
    ("serviceAmount object", lambda k: _signed(k, biz=settlement_biz(serviceAmount={"v": 1})), "serviceAmount"),
    (
        "contract idCardNo number",
        lambda k: _signed(k, notify_type="8001", biz={**_biz("8001"), "idCardNo": 1}),
        "idCardNo",
    ),
    ("recharge status object", lambda k: _signed(k, notify_type="1001", biz={**_biz("1001"), "status": {}}), "status"),
    ("status list", lambda k: _signed(k, biz=settlement_biz(status=["SUCCESS"])), "status"),
    ("amount not a number", lambda k: _signed(k, biz=settlement_biz(amount="lots")), "amount"),
    ("amount sub-fen", lambda k: _signed(k, biz=settlement_biz(amount=jsoncodec.loads("1.234"))), "amount"),
    ("amount negative", lambda k: _signed(k, biz=settlement_biz(amount=-1)), "amount"),
    ("amount bool", lambda k: _signed(k, biz=settlement_biz(amount=True)), "amount"),
    ("count text", lambda k: _signed(k, biz=settlement_biz(successCount="three")), "successCount"),
    ("count decimal", lambda k: _signed(k, biz=settlement_biz(failCount=jsoncodec.loads("1.5"))), "failCount"),
    ("time garbage", lambda k: _signed(k, biz=settlement_biz(completeTime="yesterday")), "completeTime"),
    ("time decimal", lambda k: _signed(k, biz=settlement_biz(completeTime=jsoncodec.loads("1.5"))), "completeTime"),
    ("failMsg object", lambda k: _signed(k, biz=settlement_biz(failMsg={"x": 1})), "failMsg"),
    (
        "invoiceNos text",
        lambda k: _signed(k, notify_type="9001", biz={**_biz("9001"), "invoiceNos": "04400001"}),
        "invoiceNos",
    ),
]


def _biz(notify_type: str) -> dict[str, Any]:
    return dict(BIZ_BY_TYPE[notify_type])


@pytest.mark.parametrize(("make", "word"), [(m, w) for _, m, w in MALFORMED], ids=[i for i, _, _ in MALFORMED])
def test_malformed_bodies_are_400_and_say_what_is_wrong(platform_keys: Keys, make: Any, word: str) -> None:
    exc = refused(platform_keys, make(platform_keys[0]))
    assert exc.status == 400, exc
    assert word in exc.message


def test_an_oversized_body_is_413(platform_keys: Keys) -> None:
    assert refused(platform_keys, b" " * 1_048_577).status == 413


def test_fields_the_receiver_does_not_need_may_be_absent_or_null(platform_keys: Keys) -> None:
    """A refused notification is redelivered 8 times and then lost: only what routing needs is required."""
    biz = settlement_biz(amount=OMIT, serviceAmount=None, completeTime=OMIT, outBatchNo=OMIT)
    n = check(platform_keys, body(platform_keys[0], biz=biz))
    assert n.resource_id == "lingong.settlement.B202403040001"


def test_amounts_as_decimal_text_are_accepted_as_the_shared_model_does(platform_keys: Keys) -> None:
    n = check(platform_keys, body(platform_keys[0], biz=settlement_biz(amount="12.50")))
    assert n.biz["amount"] == "12.50"


def test_unknown_business_fields_are_kept_as_sent(platform_keys: Keys) -> None:
    biz = settlement_biz(newPlatformField={"nested": [1, "x"]}, remark=None)
    n = check(platform_keys, body(platform_keys[0], biz=biz))
    assert n.biz["newPlatformField"] == {"nested": [1, "x"]}
