"""What every task shares: the client it talks through, and which failures Prefect may retry.

Transport-level retries (a connection never made, 408, 429 bursts, reads on 5xx) happen inside the
core, with tenacity. Prefect retries a task only for what is retryable at the business level — the
platform still rate-limiting or busy after the core gave up, or a write still unknown after
reconciling — never a validation error or a business refusal: those fail fast with the platform's
code in the message. The two layers never handle the same failure.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Collection
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from lingong_core.client import AsyncLingongClient
from lingong_core.errors import OutcomeUnknownError, RateLimitedError, ServerError, TransportError
from lingong_core.reconcile import StillUnknownError
from lingong_store.db import DATABASE_URL_ENV

from .credentials import load_settings
from .ratelimit import platform_limiter

log = logging.getLogger(__name__)

#: The receiver's own setting (lingong_receiver.store.RECEIVER_DB_ENV), named here so that a task that
#: never waits does not import the receiver.
RECEIVER_DB_ENV = "LINGONG_RECEIVER_DB"

#: Failures worth another task attempt after a pause. An OutcomeUnknownError only escapes a task from a
#: naturally idempotent step (verification, card bind, contract): writes keyed by outOrderNo/outBatchNo
#: reconcile first (lingong_core.reconcile) and escape as StillUnknownError.
RETRYABLE = (RateLimitedError, ServerError, TransportError, OutcomeUnknownError, StillUnknownError)

#: Keyword arguments for every task that calls the platform: no Prefect result cache (the business keys
#: are the guarantee; hashing thousands of payees per task would only cost time), business retries only.
PLATFORM_TASK: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": [2, 10, 30],
    "retry_jitter_factor": 0.5,
    "cache_policy": None,
    "persist_result": False,
}


def retry_if_busy(task: Any, task_run: Any, state: Any) -> bool:
    """``retry_condition_fn``: retry only the platform being busy or unreachable, never a refusal."""
    return isinstance(getattr(state, "data", None), RETRYABLE)


def open_client(credentials_block: str | None = None) -> AsyncLingongClient:
    """An async client for the named credentials Block, or for the ``LINGONG_*`` environment.

    Every call it makes takes a slot of the merchant's shared rate limits first, where
    ``LINGONG_RATE_LIMIT_*`` configures them (tasks.ratelimit); none otherwise.
    """
    settings = load_settings(credentials_block)
    return settings.async_client(limiter=platform_limiter(settings.merchant_no))


class Nudge:
    """Notifications speed a wait up; they are never required for it to end correctly.

    Where the notification receiver records into a database this host is configured for too
    (``LINGONG_RECEIVER_DB`` or ``LINGONG_DATABASE_URL``: the same PostgreSQL on every host in production), a
    waiting task sleeps between platform polls in short steps and stops sleeping as soon as the receiver's
    store (:meth:`lingong_receiver.store.Store.get_state`) has a final state for what it waits on; it then
    confirms with the platform, which stays the authority. Without that configuration, or while the
    database cannot be reached, it simply sleeps: polling with backoff still finishes the wait.
    """

    STEP = 0.25  # seconds between looks at the store: one indexed read each, per waiting task

    def __init__(self, store: Any = None) -> None:
        self._store: Any = store
        if store is None and (
            os.environ.get(RECEIVER_DB_ENV, "").strip() or os.environ.get(DATABASE_URL_ENV, "").strip()
        ):
            from lingong_receiver.store import Store

            try:
                self._store = Store()
            except SQLAlchemyError as exc:
                log.warning("notifications will not shorten waits: the receiver's store is unreachable (%s)", exc)

    def reported(self, resource: str, final: Collection[str]) -> bool:
        if self._store is None:
            return False
        try:
            record = self._store.get_state(resource)
        except (ValueError, SQLAlchemyError):
            return False
        return record is not None and record.state in final

    async def pause(self, seconds: float, resources: Collection[str], final: Collection[str]) -> None:
        """Sleep up to ``seconds``; return early once any of ``resources`` is reported in a ``final`` state."""
        if self._store is None or not resources:
            await asyncio.sleep(seconds)
            return
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if any(self.reported(r, final) for r in resources):
                return
            await asyncio.sleep(min(self.STEP, left))

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
