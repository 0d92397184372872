"""Notifications as a merchant's receiver sees them: signed with the platform key, stamped afresh at each
attempt, redelivered on the schedule until acknowledged with ``success``, every attempt recorded; and
the duplicate and reorder faults."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from lingong_core import jsoncodec
from lingong_core.errors import SignatureError
from lingong_core.signing import generate_key_pair, load_public_key, verify_envelope
from lingong_core.timeutil import SHANGHAI, parse_timestamp
from tests.sandbox.sandbox_http import MERCHANT_NO, Receiver, Running, make_settings, recharge_biz, wait_for

pytestmark = pytest.mark.timeout(60)


def _recharge_notifications(receiver: Receiver, out_order_no: str) -> list[dict[str, Any]]:
    return [
        body
        for body in receiver.bodies()
        if body["notifyType"] == "1001" and jsoncodec.loads(body["bizModel"])["outOrderNo"] == out_order_no
    ]


def _outbox(sandbox: Running, notify_no: str) -> dict[str, Any]:
    items = sandbox.client.admin("GET", "notifications")["list"]
    found: dict[str, Any] = next(i for i in items if i["notifyNo"] == notify_no)
    return found


def test_a_notification_is_signed_redelivered_until_acknowledged_and_recorded(
    sandbox: Running, receiver: Receiver
) -> None:
    receiver.answers = [(500, "error"), (200, "fail"), (200, "  success \n")]
    sandbox.client.admin("PUT", "settings", {"notifyUrl": receiver.url})
    biz = recharge_biz()
    assert sandbox.client.call("SFT0404", biz)["code"] == 200

    deliveries = wait_for(lambda: len(got := _recharge_notifications(receiver, biz["outOrderNo"])) >= 3 and got)
    platform_key = load_public_key(sandbox.server.platform_public_key_pem)
    for body in deliveries:
        verify_envelope(body, platform_key)  # raises if the signature does not hold
        assert set(body) == {"notifyType", "notifyNo", "merchantNo", "version", "timestamp", "bizModel", "sign"}
        assert body["merchantNo"] == MERCHANT_NO
        assert body["version"] == "2.0"
        skew = abs((datetime.now(SHANGHAI) - parse_timestamp(body["timestamp"])).total_seconds())
        assert skew < 300
    assert len({b["notifyNo"] for b in deliveries}) == 1  # a redelivery keeps its notifyNo
    assert {b["sign"] for b in deliveries}  # each attempt signed afresh
    assert jsoncodec.loads(deliveries[0]["bizModel"])["status"] == "SUCCESS"

    # a tampered notification does not verify with the platform key, nor does one made with another key
    tampered = {**deliveries[0], "bizModel": deliveries[0]["bizModel"].replace("SUCCESS", "FAILED")}
    with pytest.raises(SignatureError):
        verify_envelope(tampered, platform_key)
    with pytest.raises(SignatureError):
        verify_envelope(deliveries[0], generate_key_pair(1024)[1])

    record = wait_for(lambda: (r := _outbox(sandbox, deliveries[0]["notifyNo"]))["status"] == "ACKED" and r)
    assert record["attempts"] == 3
    assert [(d["attempt"], d["httpStatus"], d["acked"]) for d in record["deliveries"]] == [
        (1, 500, False),
        (2, 200, False),
        (3, 200, True),
    ]
    assert record["deliveries"][0]["body"] == "error"
    assert all(d["time"] and d["url"] == receiver.url for d in record["deliveries"])
    assert len(_recharge_notifications(receiver, biz["outOrderNo"])) == 3  # nothing after the ack


def test_an_unacknowledged_notification_gives_up_after_eight_attempts(
    start_sandbox: Callable[..., Running], merchant_key: Any, receiver: Receiver
) -> None:
    receiver.answers = [(503, "busy")] * 20
    sandbox = start_sandbox(settings=make_settings(merchant_key, time_scale=40_000.0))
    sandbox.client.admin("PUT", "settings", {"notifyUrl": receiver.url})
    biz = recharge_biz()
    sandbox.client.call("SFT0404", biz)
    first = wait_for(lambda: _recharge_notifications(receiver, biz["outOrderNo"]))[0]
    record = wait_for(lambda: (r := _outbox(sandbox, first["notifyNo"]))["status"] == "GAVE_UP" and r)
    assert record["attempts"] == 8
    assert [d["attempt"] for d in record["deliveries"]] == list(range(1, 9))
    times = [datetime.fromisoformat(d["time"]) for d in record["deliveries"]]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    # 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 1 h divided by 40,000: the later gaps are the longer ones
    assert gaps[-1] > gaps[0]
    assert sum(gaps) >= (5 + 30 + 120 + 600 + 1800 + 3600 + 3600) / 40_000 * 0.9


def test_notifications_wait_for_a_notify_url(sandbox: Running, receiver: Receiver) -> None:
    biz = recharge_biz()
    sandbox.client.call("SFT0404", biz)
    pending = wait_for(lambda: sandbox.client.admin("GET", "notifications?notifyType=1001")["list"])
    assert pending[0]["status"] == "PENDING"
    assert pending[0]["attempts"] == 0
    sandbox.client.admin("PUT", "settings", {"notifyUrl": receiver.url})
    wait_for(lambda: _recharge_notifications(receiver, biz["outOrderNo"]))


def test_duplicate_fault_delivers_a_notification_twice(sandbox: Running, receiver: Receiver) -> None:
    sandbox.client.admin("PUT", "faults", {"spec": "notify_duplicate=1"})
    sandbox.client.admin("PUT", "settings", {"notifyUrl": receiver.url})
    biz = recharge_biz()
    sandbox.client.call("SFT0404", biz)
    got = wait_for(lambda: len(g := _recharge_notifications(receiver, biz["outOrderNo"])) >= 2 and g)
    assert got[0]["notifyNo"] == got[1]["notifyNo"]
    record = wait_for(lambda: (r := _outbox(sandbox, got[0]["notifyNo"]))["status"] == "ACKED" and r)
    assert [d["duplicate"] for d in record["deliveries"]] == [False, True]
    assert sandbox.client.admin("GET", "faults")["counts"]["notify_duplicate"] >= 1


def test_reorder_fault_lets_later_notifications_overtake(sandbox: Running, receiver: Receiver) -> None:
    sandbox.client.admin("PUT", "faults", {"spec": "notify_reorder=0.5", "seed": 3})
    sandbox.client.admin("PUT", "settings", {"notifyUrl": receiver.url})
    outs = [f"ORD{i:03d}" for i in range(12)]
    for out in outs:
        sandbox.client.call("SFT0404", recharge_biz(out))
    wait_for(lambda: all(_recharge_notifications(receiver, out) for out in outs))
    queued = [
        jsoncodec.loads(i["bizModel"])["outOrderNo"] for i in sandbox.client.admin("GET", "notifications")["list"]
    ]
    arrived = [jsoncodec.loads(b["bizModel"])["outOrderNo"] for b in receiver.bodies()]
    assert sorted(arrived) == sorted(queued)
    assert arrived != queued
    assert sandbox.client.admin("GET", "faults")["counts"]["notify_reorder"] >= 1
