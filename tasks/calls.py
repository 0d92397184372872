"""The four shapes every task's platform calls take, written once: a lookup by business key, a write
sent exactly once per key, a bounded fan-out over many keys, and a wait with backoff.

- :func:`found_or_none` — the platform's record for a key, or None when it has none (a ``NotFoundError``).
- :func:`write_once` — a keyed write through :func:`lingong_core.reconcile.submit_once`, answered by the
  record the platform then holds (a lost answer or a 409 is looked up by the same key, never re-sent blind).
- :func:`fan_out` — one call per item, ``concurrency`` at a time, results in the order given.
- :func:`poll_until` — read until done, pausing with backoff; a notification the receiver recorded ends a
  pause early (:class:`tasks.common.Nudge`), the platform's answer stays the authority.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from typing import TypeVar

from lingong_core.errors import NotFoundError
from lingong_core.reconcile import submit_once

from .common import Nudge

T = TypeVar("T")
R = TypeVar("R")


async def found_or_none(read: Awaitable[T]) -> T | None:
    """What ``read`` returns, or None when the platform has no such record."""
    try:
        return await read
    except NotFoundError:
        return None


async def write_once(
    write: Callable[[], Awaitable[object]],
    lookup: Callable[[], Awaitable[T | None]],
    *,
    what: str,
    api_code: str,
    answered: Callable[[object], T | None] | None = None,
) -> T:
    """Send ``write`` once per business key and return the record ``lookup`` then finds.

    ``lookup`` reads the platform by the write's own key (``api_code`` names that query). A write the
    platform accepted but cannot show is an error, never a reason to send it again. ``answered``: the record
    the write's own answer already is, when it is one (SFT0502 answers the batch it created): no lookup then.
    An answer that is not (None), or a write whose outcome is unknown, is looked up as before.
    """

    async def send() -> T | None:
        answer = await write()
        record = answered(answer) if answered is not None else None
        return record if record is not None else await lookup()

    found = await submit_once(send, lookup)
    if found is None:
        raise NotFoundError(f"{what} accepted but not found", api_code=api_code)
    return found


async def fan_out(call: Callable[[T], Awaitable[R]], items: Iterable[T], concurrency: int) -> list[R]:
    """``call`` for every item, at most ``concurrency`` at once; the results in the order of ``items``."""
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(item: T) -> R:
        async with gate:
            return await call(item)

    return list(await asyncio.gather(*(one(i) for i in items)))


async def poll_until(
    read: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    timeout_seconds: float,
    watch: Callable[[T], Sequence[str]],
    final: Collection[str],
    max_delay: float = 10.0,
    factor: float = 1.6,
    overshoot: float | None = None,
) -> T:
    """``read()`` until ``done`` says so or ``timeout_seconds`` pass; the last answer either way.

    Between reads it pauses 50 ms, then ``factor`` times longer each time up to ``max_delay``; a pause
    ends early once the receiver's store shows any of ``watch(answer)`` in a ``final`` state. With
    ``overshoot`` (e.g. 0.1) a pause is also at most that share of the time waited so far (and at least
    a quarter of a second), so the wait ends at most that much later than what it waits for: for a
    ``read`` of one call, where polling often costs little.
    """
    started = time.monotonic()
    delay, deadline = 0.05, started + timeout_seconds
    nudge = Nudge()
    try:
        while True:
            answer = await read()
            if done(answer) or time.monotonic() > deadline:
                return answer
            await nudge.pause(delay, watch(answer), final)
            delay = min(delay * factor, max_delay)
            if overshoot is not None:
                delay = min(delay, max(0.25, (time.monotonic() - started) * overshoot))
    finally:
        nudge.close()
