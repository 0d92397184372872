"""What every task shares: the client it talks through, and which failures Prefect may retry.

Transport-level retries (a connection never made, 408, 429 bursts, reads on 5xx) happen inside the
core, with tenacity. Prefect retries a task only for what is retryable at the business level — the
platform still rate-limiting or busy after the core gave up, or a write still unknown after
reconciling — never a validation error or a business refusal: those fail fast with the platform's
code in the message. The two layers never handle the same failure.
"""

from __future__ import annotations

from typing import Any

from lingong_core.client import AsyncLingongClient
from lingong_core.errors import OutcomeUnknownError, RateLimitedError, ServerError, TransportError
from lingong_core.reconcile import StillUnknownError

from .credentials import load_settings

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
    """An async client for the named credentials Block, or for the ``LINGONG_*`` environment."""
    return load_settings(credentials_block).async_client()
