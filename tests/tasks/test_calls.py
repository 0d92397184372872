"""tasks.calls: the shapes of platform calls every task shares (the HTTP behind them is covered by the flow
tests against the sandbox; these pin the helpers' own rules)."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from lingong_core.errors import ConflictError, NotFoundError, OutcomeUnknownError
from tasks.calls import fan_out, found_or_none, poll_until, write_once


async def _missing() -> str:
    raise NotFoundError("no such order", api_code="SFT0505")


async def _value() -> str:
    return "found"


def test_found_or_none_turns_only_not_found_into_none() -> None:
    assert asyncio.run(found_or_none(_missing())) is None
    assert asyncio.run(found_or_none(_value())) == "found"

    async def busy() -> str:
        raise OutcomeUnknownError("lost", api_code="SFT0505", request_no="R1")

    with pytest.raises(OutcomeUnknownError):
        asyncio.run(found_or_none(busy()))


def test_write_once_answers_with_the_record_and_never_resends_a_conflict() -> None:
    sent: list[str] = []
    records: dict[str, str] = {}

    async def write() -> None:
        sent.append("SFT0412")
        if "W1" in records:
            raise ConflictError("outWithdrawNo already used", api_code="SFT0412")
        records["W1"] = "FROZEN"

    async def lookup() -> str | None:
        return records.get("W1")

    assert asyncio.run(write_once(write, lookup, what="withdrawal W1", api_code="SFT0413")) == "FROZEN"
    assert asyncio.run(write_once(write, lookup, what="withdrawal W1", api_code="SFT0413")) == "FROZEN"
    assert sent == ["SFT0412", "SFT0412"]  # the second send met the key taken and read the record instead


def test_write_once_after_a_lost_answer_looks_up_before_sending_again() -> None:
    sent: list[int] = []
    records: dict[str, str] = {}

    async def write() -> None:
        sent.append(1)
        records["R1"] = "SUCCESS"  # the platform committed it …
        raise OutcomeUnknownError("connection reset", api_code="SFT0404", request_no="R2")  # … and the answer was lost

    async def lookup() -> str | None:
        return records.get("R1")

    assert asyncio.run(write_once(write, lookup, what="recharge R1", api_code="SFT0403")) == "SUCCESS"
    assert sent == [1]


def test_write_once_refuses_an_accepted_write_it_cannot_see() -> None:
    async def write() -> None:
        return None

    async def lookup() -> str | None:
        return None

    with pytest.raises(NotFoundError, match="recharge R2 accepted but not found"):
        asyncio.run(write_once(write, lookup, what="recharge R2", api_code="SFT0403"))


def test_fan_out_keeps_order_and_the_concurrency_cap() -> None:
    running = 0
    peak = 0

    async def call(n: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01 * (5 - n % 5))
        running -= 1
        return n * 10

    assert asyncio.run(fan_out(call, range(12), concurrency=3)) == [n * 10 for n in range(12)]
    assert peak == 3


def test_poll_until_stops_when_done_and_backs_off_between_reads() -> None:
    answers = iter(["PROCESSING", "PROCESSING", "PROCESSING", "SUCCESS", "never read"])
    reads: list[float] = []

    async def read() -> str:
        reads.append(time.monotonic())
        return next(answers)

    found = asyncio.run(
        poll_until(read, lambda s: s == "SUCCESS", timeout_seconds=30, watch=lambda _: [], final={"SUCCESS"})
    )
    assert found == "SUCCESS"
    assert len(reads) == 4
    gaps = [b - a for a, b in itertools.pairwise(reads)]
    assert gaps[-1] > gaps[0]  # 50 ms, then 1.6× longer each time


def test_poll_until_returns_the_last_answer_when_time_is_up() -> None:
    async def read() -> str:
        return "PROCESSING"

    start = time.monotonic()
    found = asyncio.run(
        poll_until(read, lambda s: s == "SUCCESS", timeout_seconds=0.2, watch=lambda _: [], final={"SUCCESS"})
    )
    assert found == "PROCESSING"
    assert time.monotonic() - start < 2
