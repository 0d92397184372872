"""The limit sets a process made sure of are recorded by an EnsuredLimits object (the process's one by default):
checked on the harness's Prefect server once, and again only after it was forgotten."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from prefect.client.orchestration import get_client

from tasks.ratelimit import ENSURED_LIMITS, EnsuredLimits, PrefectRateLimiter, RateLimits

pytestmark = pytest.mark.usefixtures("prefect")


async def _delete(names: list[str]) -> None:
    async with get_client() as client:
        for name in names:
            await client.delete_global_concurrency_limit_by_name(name)


async def _exists(name: str) -> bool:
    async with get_client() as client:
        return any(limit.name == name for limit in await client.read_global_concurrency_limits(limit=200))


def test_a_limit_set_is_ensured_once_per_record_and_again_once_forgotten() -> None:
    merchant = f"T{uuid.uuid4().hex[:12]}"
    limits = RateLimits.from_env({"LINGONG_RATE_LIMIT_PER_SECOND": "50"})
    (name,) = limits.limits(merchant)
    ensured = EnsuredLimits()
    asyncio.run(ensured.ensure(merchant, limits))
    assert limits.key(merchant) in ensured
    assert asyncio.run(_exists(name))
    asyncio.run(_delete([name]))
    asyncio.run(ensured.ensure(merchant, limits))
    assert not asyncio.run(_exists(name))  # recorded as made sure of: not checked again
    ensured.forget(merchant, limits)
    asyncio.run(ensured.ensure(merchant, limits))
    assert asyncio.run(_exists(name))
    asyncio.run(_delete([name]))

    assert PrefectRateLimiter(merchant, limits).ensured is ENSURED_LIMITS
    assert PrefectRateLimiter(merchant, limits, ensured).ensured is ensured
