"""The platform's call rate, shared by every worker: Prefect global concurrency limits used as rate limits.

The platform caps how many calls per second a merchant may make. Workers on many machines run many
flows at once, so a limit kept inside one process cannot hold it; the Prefect server can, because every
process asks it for a slot before each call (``prefect.concurrency.asyncio.rate_limit``). The core
client asks its limiter before every attempt, retries included (``lingong_core.client.AsyncLimiter``),
and :func:`platform_limiter` is the limiter ``tasks.common.open_client`` gives it.

Limits, one per merchant and per class of call (writes are ``lingong_core.operations.is_write``):

=================================  ====================================  ===========================
limit name                         every call of the merchant that …     configured by
=================================  ====================================  ===========================
``lingong:<merchantNo>:all``       … is any call                         ``LINGONG_RATE_LIMIT_PER_SECOND``
``lingong:<merchantNo>:write``     … changes state on the platform       ``LINGONG_RATE_LIMIT_WRITES_PER_SECOND``
``lingong:<merchantNo>:read``      … only reads                          ``LINGONG_RATE_LIMIT_READS_PER_SECOND``
=================================  ====================================  ===========================

A call takes a slot of each configured limit that applies to it, atomically. A limit whose variable is
unset is not used; with none set, nothing is limited and nothing talks to the server for it (the demo
and the tests). ``LINGONG_RATE_LIMIT_TIMEOUT_SECONDS`` (default 300) bounds the wait for one slot; a
call that waited longer fails as :class:`~lingong_core.errors.RateLimitedError`, which the tasks retry
like the platform's own 429.

What "N per second" means. Each limit is created with ``limit=1`` and ``slot_decay_per_second=N``: at
most one slot is ever taken, and the server frees it only once ``floor(N × seconds since the limit last
changed) ≥ 1``. So the server grants slots at least ``1/N`` seconds apart, across every process that
asks it: any window of one second holds at most N grants — no burst above N, ever. (A larger ``limit``
would allow bursts of that size on top of the decay: ``limit + N − 1`` grants in a second.) Calls reach
the platform a few milliseconds after their grant, and that delay varies, so set N a notch under the
platform's cap (docs/operations.md). The server grants less than N when processes contend — a refused
request also restarts the decay clock — about 65–80 % of N measured with four processes competing.

The limits are created when missing, with the configured values, by the first call of any process that
needs them (so every deployment creates them), and by ``lingong limits ensure``, which also updates a
limit whose values differ from the configuration.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate
from prefect.concurrency.asyncio import (
    AcquireConcurrencySlotTimeoutError,
    ConcurrencySlotAcquisitionError,
    rate_limit,
)
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

from lingong_core.errors import ConfigurationError, RateLimitedError
from lingong_core.operations import is_write

ENV_ALL = "LINGONG_RATE_LIMIT_PER_SECOND"
ENV_WRITES = "LINGONG_RATE_LIMIT_WRITES_PER_SECOND"
ENV_READS = "LINGONG_RATE_LIMIT_READS_PER_SECOND"
ENV_TIMEOUT = "LINGONG_RATE_LIMIT_TIMEOUT_SECONDS"
DEFAULT_TIMEOUT = 300.0


class CallClass(StrEnum):
    ALL = "all"
    WRITE = "write"
    READ = "read"


_ENV = {CallClass.ALL: ENV_ALL, CallClass.WRITE: ENV_WRITES, CallClass.READ: ENV_READS}


def limit_name(merchant_no: str, call_class: CallClass | str) -> str:
    """``lingong:<merchantNo>:<class>``, the global concurrency limit's name."""
    return f"lingong:{merchant_no}:{CallClass(call_class).value}"


def _rate(environ: Mapping[str, str], name: str, *, default: float | None = None) -> float | None:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigurationError(f"{name}: a number of calls per second, such as 10 or 0.5 (got {text!r})") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigurationError(f"{name}: must be more than 0 (got {text!r}); unset it to turn the limit off")
    return value


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Calls per second per class (None: that class is not limited) and how long a call may wait."""

    per_second: float | None = None
    writes_per_second: float | None = None
    reads_per_second: float | None = None
    timeout_seconds: float = DEFAULT_TIMEOUT

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RateLimits:
        env = os.environ if environ is None else environ
        return cls(
            per_second=_rate(env, ENV_ALL),
            writes_per_second=_rate(env, ENV_WRITES),
            reads_per_second=_rate(env, ENV_READS),
            timeout_seconds=_rate(env, ENV_TIMEOUT, default=DEFAULT_TIMEOUT) or DEFAULT_TIMEOUT,
        )

    def rates(self) -> dict[CallClass, float]:
        """The configured classes and their calls per second."""
        configured = {
            CallClass.ALL: self.per_second,
            CallClass.WRITE: self.writes_per_second,
            CallClass.READ: self.reads_per_second,
        }
        return {k: v for k, v in configured.items() if v is not None}

    @property
    def enabled(self) -> bool:
        return bool(self.rates())

    def limits(self, merchant_no: str) -> dict[str, float]:
        """Limit name → calls per second, for every configured class."""
        return {limit_name(merchant_no, k): v for k, v in self.rates().items()}

    def names_for(self, merchant_no: str, *, writes: bool) -> list[str]:
        """The limits a call takes a slot of: ``all`` and its own class, where configured."""
        own = CallClass.WRITE if writes else CallClass.READ
        return [limit_name(merchant_no, k) for k in self.rates() if k in (CallClass.ALL, own)]

    def key(self, merchant_no: str) -> tuple[tuple[str, float], ...]:
        """What identifies this set of limits for ``merchant_no``: its names and rates."""
        return tuple(sorted(self.limits(merchant_no).items()))


@dataclass(frozen=True, slots=True)
class LimitChange:
    name: str
    per_second: float
    action: str  # created, unchanged, updated, differs (left as it is), exists


async def ensure_limits(merchant_no: str, limits: RateLimits, *, update: bool = False) -> list[LimitChange]:
    """Create each configured limit that is missing; with ``update``, also correct one whose values differ.

    Safe to run from many processes at once: a limit another process created meanwhile counts as there.
    """
    changes: list[LimitChange] = []
    async with get_client() as client:
        for name, per_second in limits.limits(merchant_no).items():
            try:
                existing = await client.read_global_concurrency_limit_by_name(name)
            except ObjectNotFound:
                try:
                    await client.create_global_concurrency_limit(
                        GlobalConcurrencyLimitCreate(name=name, limit=1, slot_decay_per_second=per_second, active=True)
                    )
                except ObjectAlreadyExists:
                    changes.append(LimitChange(name, per_second, "exists"))
                else:
                    changes.append(LimitChange(name, per_second, "created"))
                continue
            same = existing.limit == 1 and existing.slot_decay_per_second == per_second and existing.active
            if same:
                changes.append(LimitChange(name, per_second, "unchanged"))
            elif update:
                await client.update_global_concurrency_limit(
                    name, GlobalConcurrencyLimitUpdate(limit=1, slot_decay_per_second=per_second, active=True)
                )
                changes.append(LimitChange(name, per_second, "updated"))
            else:
                changes.append(LimitChange(name, per_second, "differs"))
    return changes


class EnsuredLimits:
    """The limit sets already made sure to exist on the server: one check per process, not per call or task.

    Every task opens its own client and limiter, so the record outlives them: the process's one is
    :data:`ENSURED_LIMITS`, shared by every :class:`PrefectRateLimiter` that is not given another.
    """

    def __init__(self) -> None:
        self._ensured: set[tuple[tuple[str, float], ...]] = set()

    def __contains__(self, key: object) -> bool:
        return key in self._ensured

    async def ensure(self, merchant_no: str, limits: RateLimits) -> None:
        """Create ``limits`` for ``merchant_no`` where missing, unless this record says it was done already."""
        key = limits.key(merchant_no)
        if key not in self._ensured:
            await ensure_limits(merchant_no, limits)
            self._ensured.add(key)

    def forget(self, merchant_no: str, limits: RateLimits) -> None:
        """The limits were deleted on the server meanwhile: the next :meth:`ensure` creates them again."""
        self._ensured.discard(limits.key(merchant_no))


#: The process's record of limit sets made sure of.
ENSURED_LIMITS = EnsuredLimits()


class PrefectRateLimiter:
    """An :class:`~lingong_core.client.AsyncLimiter` over Prefect's global concurrency limits."""

    def __init__(self, merchant_no: str, limits: RateLimits, ensured: EnsuredLimits | None = None) -> None:
        self.merchant_no = merchant_no
        self.limits = limits
        self.ensured = ENSURED_LIMITS if ensured is None else ensured
        self._names = {w: limits.names_for(merchant_no, writes=w) for w in (False, True)}

    def __repr__(self) -> str:
        return f"PrefectRateLimiter({self.merchant_no!r}, {self.limits!r})"

    async def _ensure(self) -> None:
        await self.ensured.ensure(self.merchant_no, self.limits)

    async def acquire(self, api_code: str) -> None:
        names = self._names[is_write(api_code)]
        if not names:
            return
        await self._ensure()
        for last in (False, True):
            try:
                await rate_limit(names, timeout_seconds=self.limits.timeout_seconds, strict=True)
            except AcquireConcurrencySlotTimeoutError as exc:
                raise RateLimitedError(
                    f"no slot of {', '.join(names)} within {self.limits.timeout_seconds:g} s", api_code=api_code
                ) from exc
            except ConcurrencySlotAcquisitionError:
                if last:
                    raise
                self.ensured.forget(self.merchant_no, self.limits)  # deleted on the server meanwhile: once again
                await self._ensure()
            else:
                return


def platform_limiter(merchant_no: str, environ: Mapping[str, str] | None = None) -> PrefectRateLimiter | None:
    """The limiter for ``merchant_no`` as the environment configures it, or None when no rate is set."""
    limits = RateLimits.from_env(environ)
    return PrefectRateLimiter(merchant_no, limits) if limits.enabled else None
