"""What the core repeats, and how long it waits: one predicate, tested against every outcome.

Repeated here, with the same requestNo, only where repeating is provably safe:

- a connection that was never made (nothing was sent) — reads and writes alike;
- 408, the timestamp window: the next attempt is stamped and signed afresh;
- 429, rate limited: after ``Retry-After`` or an exponential pause with jitter;
- for *reads* only: 5xx, timeouts and resets.

A write whose answer was lost (timeout, reset, 5xx) is never repeated here: the client raises
:class:`~lingong_core.errors.OutcomeUnknownError` and the caller reconciles (contract §5).
"""

from __future__ import annotations

from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from .errors import RateLimitedError, ServerError, TimestampError, TransportError


def should_retry(exc: BaseException) -> bool:
    """True when repeating the same request (same requestNo) cannot do harm.

    The client raises :class:`TransportError` for a write only when nothing was sent, and
    :class:`ServerError` only for reads; a write's lost answer is an ``OutcomeUnknownError``.
    """
    return isinstance(exc, TransportError | TimestampError | RateLimitedError | ServerError)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many attempts and how long between them. ``RetryPolicy(max_attempts=1)`` turns retries off."""

    max_attempts: int = 5
    initial_wait: float = 0.2
    max_wait: float = 10.0

    def wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TimestampError):
            return 0.0
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_wait)
        return float(wait_random_exponential(multiplier=self.initial_wait, max=self.max_wait)(state))

    def _kwargs(self) -> dict[str, object]:
        return {
            "stop": stop_after_attempt(max(1, self.max_attempts)),
            "wait": self.wait,
            "retry": retry_if_exception(should_retry),
            "reraise": True,
        }

    def retrying(self) -> Retrying:
        return Retrying(**self._kwargs())  # type: ignore[arg-type]

    def async_retrying(self) -> AsyncRetrying:
        return AsyncRetrying(**self._kwargs())  # type: ignore[arg-type]


NO_RETRY = RetryPolicy(max_attempts=1)
