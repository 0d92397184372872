"""Reconcile before resubmitting (contract §5): the one way this project repeats a write.

A write whose answer was lost raises :class:`~lingong_core.errors.OutcomeUnknownError`. Before
sending it again, ask the platform by the write's business key; only if it has no record is the write
sent again: the same business key, and a new requestNo, since it is a new send (the core keeps one
requestNo only across its own transport retries; docs/design.md, "the requestNo rule"). A ``409`` on
the business key means an earlier attempt (this run's or another's) got through: the existing record
is looked up and used.

>>> order = await submit_once(lambda: svc.sync(req),                       # doctest: +SKIP
...                           lambda: find_recharge(svc, req.out_order_no))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from .errors import ConflictError, LingongError, NotFoundError, OutcomeUnknownError

T = TypeVar("T")
R = TypeVar("R")


class StillUnknownError(LingongError):
    """After every attempt the platform neither answered the write nor showed a record of it.

    Nothing was duplicated (each attempt carried the same business key); running again later
    reconciles and finishes the work.
    """


async def submit_once(
    write: Callable[[], Awaitable[T]],
    lookup: Callable[[], Awaitable[R | None]],
    *,
    attempts: int = 3,
) -> T | R:
    """Send ``write``; if its outcome is unknown or its key already used, return what ``lookup`` finds.

    ``lookup`` answers None (or raises :class:`NotFoundError`) when the platform has no record.
    """
    last: OutcomeUnknownError | None = None
    for _ in range(max(1, attempts)):
        try:
            return await write()
        except ConflictError:
            found = await _find(lookup)
            if found is None:
                raise  # the key is taken by something the lookup cannot see: the caller must decide
            return found
        except OutcomeUnknownError as unknown:
            last = unknown
            found = await _find(lookup)
            if found is not None:
                return found
            # The platform has no record: the write did not happen. Send it again: same key, new requestNo.
    assert last is not None
    raise StillUnknownError(f"{last}; the platform shows no record after {attempts} attempts") from last


async def _find(lookup: Callable[[], Awaitable[R | None]]) -> R | None:
    try:
        return await lookup()
    except NotFoundError:
        return None
