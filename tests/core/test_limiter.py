"""The client's optional limiter: asked before every attempt (retries included), never after, never skipped."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from lingong_core.client import AsyncLingongClient, LingongClient
from lingong_core.errors import OutcomeUnknownError, RateLimitedError
from lingong_core.retry import RetryPolicy

BASE = "http://platform.test"
MERCHANT = "1088202103120003"
FAST = RetryPolicy(max_attempts=4, initial_wait=0.001, max_wait=0.01)
OK = {"code": 200, "msg": "成功", "balance": 1}
BUSY_429 = httpx.Response(200, json={"code": 429, "msg": "too many requests"})
BUSY_503 = httpx.Response(503, json={"code": 503, "msg": "busy"})


class Timeline:
    """One ordered record of what the limiter and the platform saw, to check which came first."""

    def __init__(self, *answers: httpx.Response | Exception | dict[str, Any]) -> None:
        self.answers = list(answers)
        self.events: list[tuple[str, str]] = []

    def platform(self, request: httpx.Request) -> httpx.Response:
        self.events.append(("sent", json.loads(request.content)["apiCode"]))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, dict):
            return httpx.Response(200, json=answer)
        return answer


class SyncRecorder:
    def __init__(self, timeline: Timeline, refuse: Exception | None = None) -> None:
        self.timeline, self.refuse = timeline, refuse

    def acquire(self, api_code: str) -> None:
        self.timeline.events.append(("acquire", api_code))
        if self.refuse is not None:
            raise self.refuse


class AsyncRecorder:
    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline

    async def acquire(self, api_code: str) -> None:
        await asyncio.sleep(0)
        self.timeline.events.append(("acquire", api_code))


def sync_client(timeline: Timeline, keys: Any, limiter: SyncRecorder | None) -> LingongClient:
    return LingongClient(
        BASE, MERCHANT, keys[0], transport=httpx.MockTransport(timeline.platform), retry=FAST, limiter=limiter
    )


def test_every_attempt_is_paced_retries_included(small_keys) -> None:
    timeline = Timeline(BUSY_429, BUSY_429, OK)
    with sync_client(timeline, small_keys, SyncRecorder(timeline)) as client:
        assert client.call("SFT0303", {"taxBaseCode": "2000064001"}) == OK
    assert timeline.events == [("acquire", "SFT0303"), ("sent", "SFT0303")] * 3


def test_a_write_whose_answer_is_lost_is_paced_once_and_sent_once(small_keys) -> None:
    timeline = Timeline(httpx.ReadTimeout("slow"))
    with (
        sync_client(timeline, small_keys, SyncRecorder(timeline)) as client,
        pytest.raises(OutcomeUnknownError),
    ):
        client.call("SFT0502", {"outBatchNo": "B1"})
    assert timeline.events == [("acquire", "SFT0502"), ("sent", "SFT0502")]


def test_a_limiter_refusal_escapes_before_anything_is_sent(small_keys) -> None:
    timeline = Timeline(OK)
    refusal = RateLimitedError("no slot within 1 s (shared limit)")
    client = sync_client(timeline, small_keys, SyncRecorder(timeline, refuse=refusal))
    with client, pytest.raises(RateLimitedError) as caught:
        client.call("SFT0303", {"taxBaseCode": "2000064001"})
    assert caught.value is refusal
    assert timeline.events == [("acquire", "SFT0303")]


def test_no_limiter_sends_unpaced(small_keys) -> None:
    timeline = Timeline(OK)
    with sync_client(timeline, small_keys, None) as client:
        client.call("SFT0303", {"taxBaseCode": "2000064001"})
    assert timeline.events == [("sent", "SFT0303")]


def test_async_client_awaits_the_limiter_before_every_attempt(small_keys) -> None:
    timeline = Timeline(BUSY_503, OK)

    async def run() -> dict[str, Any]:
        async with AsyncLingongClient(
            BASE,
            MERCHANT,
            small_keys[0],
            transport=httpx.MockTransport(timeline.platform),
            retry=FAST,
            limiter=AsyncRecorder(timeline),
        ) as client:
            return await client.call("SFT0503", {"outBatchNo": "B1"})

    assert asyncio.run(run()) == OK
    assert timeline.events == [("acquire", "SFT0503"), ("sent", "SFT0503")] * 2
