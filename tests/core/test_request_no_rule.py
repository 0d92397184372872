"""The requestNo rule (docs/design.md, "Business keys and idempotency"): a fresh requestNo per logical send,
kept across the core's own transport retries; the business key, not the requestNo, makes a second send
harmless. Over httpx.MockTransport: the platform here only records what it was sent."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from lingong_core.client import LingongClient
from lingong_core.reconcile import submit_once
from lingong_core.retry import RetryPolicy

BASE = "http://platform.test"
MERCHANT = "1088202103120003"
FAST = RetryPolicy(max_attempts=4, initial_wait=0.001, max_wait=0.01)
OK = {"code": 200, "msg": "成功", "orderNo": "2026112600000001", "outOrderNo": "T1"}
LIMITED = {"code": 429, "msg": "slow down"}


class Platform:
    """Answers in order (the last one again and again) and records every envelope."""

    def __init__(self, *answers: dict[str, Any] | Exception) -> None:
        self.answers = list(answers)
        self.seen: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(json.loads(request.content))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(200, json=answer)

    def request_nos(self) -> list[str]:
        return [s["requestNo"] for s in self.seen]


def client(platform: Platform, keys: Any) -> LingongClient:
    return LingongClient(BASE, MERCHANT, keys[0], transport=httpx.MockTransport(platform), retry=FAST)


def test_the_core_keeps_one_request_no_across_its_transport_retries(small_keys: Any) -> None:
    platform = Platform(LIMITED, httpx.ConnectError("refused"), OK)
    with client(platform, small_keys) as c:
        assert c.call("SFT0502", {"outBatchNo": "B1"}) == OK
    assert len(platform.seen) == 3
    assert len(set(platform.request_nos())) == 1


def test_each_logical_send_gets_a_fresh_request_no(small_keys: Any) -> None:
    platform = Platform(OK)
    with client(platform, small_keys) as c:
        c.call("SFT0502", {"outBatchNo": "B1"})
        c.call("SFT0502", {"outBatchNo": "B1"})
    first, second = platform.request_nos()
    assert first != second
    assert platform.seen[0]["bizModel"] == platform.seen[1]["bizModel"]


def test_a_resend_after_reconciling_is_a_new_send_with_the_same_business_key(small_keys: Any) -> None:
    """The answer is lost (outcome unknown), the platform shows no record: submit_once sends again, with a new
    requestNo, and the same outOrderNo is what would make the platform answer 409 had the first one landed."""
    platform = Platform(httpx.ReadTimeout("lost"), OK)

    async def scenario() -> Any:
        with client(platform, small_keys) as c:

            async def write() -> Any:
                return c.call("SFT0404", {"outOrderNo": "T1", "amount": "1.00"})

            async def lookup() -> None:
                return None

            return await submit_once(write, lookup)

    assert asyncio.run(scenario()) == OK
    first, second = platform.seen
    assert first["requestNo"] != second["requestNo"]
    assert json.loads(first["bizModel"])["outOrderNo"] == json.loads(second["bizModel"])["outOrderNo"] == "T1"
