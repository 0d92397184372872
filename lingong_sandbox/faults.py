"""Fault injection: what can go wrong between a merchant and the platform, on purpose and reproducibly.

A fault spec is text, set per run (``lingong sandbox serve --faults SPEC``) or at run time
(``PUT /sandbox/admin/faults``). Grammar::

    spec   := "" | "none" | item ("," item)*
    item   := key "=" value
    key    := latency | latency_jitter              duration: "20ms", "0.5s", "20" (ms)
            | error_before | error_after            probability 0..1: answer 500 or 503 (half each)
                                                    before the write (nothing happened) or after it
                                                    committed (the write happened, the caller can't know)
            | reset_after                           probability: commit, then drop the connection
                                                    without any HTTP response
            | rate_limit                            probability that a request starts a 429 burst
            | rate_limit_burst                      integer >= 1: requests answered 429 per burst (default 1)
            | max_rps                               integer >= 1: the platform's own throttle, more
                                                    matching requests than this within one real
                                                    second are answered 429 (not random)
            | notify_duplicate                      probability: a notification is delivered twice
            | notify_reorder                        probability: a notification is held back until a
                                                    later one has been delivered (or 30 simulated s passed)
            | only                                  apiCodes joined by "+", e.g. SFT0502+SFT0404: the
                                                    request faults (all but notify_*) hit only these

Unknown keys and bad values are refused with a message naming the key. Every decision is drawn from
a ``random.Random`` per fault kind seeded from ``(seed, kind)``: the same seed and the same sequence
of requests inject the same faults. Every injected fault is counted (``counts()``).
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field, fields
from typing import Literal

__all__ = ["AfterFault", "FaultInjector", "FaultSpec", "FaultSpecError", "parse_faults"]

_PROBABILITIES = ("error_before", "error_after", "reset_after", "rate_limit", "notify_duplicate", "notify_reorder")
_DURATIONS = ("latency", "latency_jitter")
_KEYS = (*_DURATIONS, *_PROBABILITIES, "rate_limit_burst", "max_rps", "only")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)?$")
_API_CODE = re.compile(r"^[A-Za-z0-9_]{1,32}$")

AfterFault = Literal["error_after_500", "error_after_503", "reset_after"]


class FaultSpecError(ValueError):
    """A fault spec that cannot be read; the message names the key."""


@dataclass(frozen=True)
class FaultSpec:
    latency: float = 0.0  # real seconds added to every matching request
    latency_jitter: float = 0.0  # plus uniform 0..jitter seconds
    error_before: float = 0.0
    error_after: float = 0.0
    reset_after: float = 0.0
    rate_limit: float = 0.0
    rate_limit_burst: int = 1
    max_rps: int = 0  # 0: no throttle
    notify_duplicate: float = 0.0
    notify_reorder: float = 0.0
    only: frozenset[str] = field(default_factory=frozenset)

    def applies_to(self, api_code: str | None) -> bool:
        """Whether the request faults hit this apiCode (``only`` empty: every request)."""
        if not self.only:
            return True
        return api_code is not None and api_code.upper() in self.only

    def text(self) -> str:
        """The canonical spec text (parses back to an equal spec)."""
        parts: list[str] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value == f.default or (f.name == "only" and not value):
                continue
            if f.name in _DURATIONS:
                parts.append(f"{f.name}={_fmt_ms(value)}")
            elif f.name == "only":
                parts.append("only=" + "+".join(sorted(value)))
            else:
                parts.append(f"{f.name}={value:g}" if isinstance(value, float) else f"{f.name}={value}")
        return ",".join(parts)

    @property
    def active(self) -> bool:
        return self != FaultSpec(only=self.only)


def _fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:g}ms"


def parse_faults(text: str | None) -> FaultSpec:
    """Read a fault spec (see the module docstring for the grammar); raise :class:`FaultSpecError`."""
    if text is None or not text.strip() or text.strip().lower() == "none":
        return FaultSpec()
    values: dict[str, object] = {}
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if key not in _KEYS:
            raise FaultSpecError(f"unknown fault key {key!r} (known: {', '.join(_KEYS)})")
        if not sep or not value:
            raise FaultSpecError(f"fault key {key!r} needs a value: {key}=…")
        if key in values:
            raise FaultSpecError(f"fault key {key!r} given twice")
        values[key] = _value(key, value)
    return FaultSpec(**values)  # type: ignore[arg-type]


def _value(key: str, value: str) -> object:
    if key in _DURATIONS:
        m = _DURATION.match(value.lower())
        if not m:
            raise FaultSpecError(f"{key}: must be a duration like 20ms or 0.5s (got {value!r})")
        number = float(m.group(1))
        seconds = number if m.group(2) == "s" else number / 1000
        if seconds > 60:
            raise FaultSpecError(f"{key}: at most 60s (got {value!r})")
        return seconds
    if key in _PROBABILITIES:
        try:
            p = float(value)
        except ValueError:
            raise FaultSpecError(f"{key}: must be a probability between 0 and 1 (got {value!r})") from None
        if not 0.0 <= p <= 1.0:
            raise FaultSpecError(f"{key}: must be a probability between 0 and 1 (got {value!r})")
        return p
    if key in ("rate_limit_burst", "max_rps"):
        if not value.isdigit() or int(value) < 1 or int(value) > 100_000:
            raise FaultSpecError(f"{key}: must be an integer from 1 to 100000 (got {value!r})")
        return int(value)
    codes = [c.strip().upper() for c in value.split("+") if c.strip()]
    if not codes or not all(_API_CODE.match(c) for c in codes):
        raise FaultSpecError(f"only: must be apiCodes joined by '+', e.g. SFT0502+SFT0404 (got {value!r})")
    return frozenset(codes)


class FaultInjector:
    """Draws the faults of a spec deterministically under a seed and counts what it injected. Thread-safe."""

    def __init__(self, spec: FaultSpec | str | None = None, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self.configure(spec, seed)

    def configure(self, spec: FaultSpec | str | None, seed: int | None = None) -> None:
        """Set a new spec (and seed); the random streams restart, the counts are kept."""
        parsed = spec if isinstance(spec, FaultSpec) else parse_faults(spec)
        with self._lock:
            self.spec = parsed
            if seed is not None:
                self.seed = seed
            self._rngs: dict[str, random.Random] = {}
            self._burst_left = 0
            self._window: deque[float] = deque()

    def _rng(self, kind: str) -> random.Random:
        rng = self._rngs.get(kind)
        if rng is None:
            rng = self._rngs[kind] = random.Random(f"{self.seed}:{kind}")
        return rng

    def _hit(self, kind: str, p: float) -> bool:
        return p > 0 and self._rng(kind).random() < p

    def _count(self, name: str) -> None:
        self._counts[name] = self._counts.get(name, 0) + 1

    def latency(self, api_code: str | None) -> float:
        """Seconds to delay this request (0 when none)."""
        with self._lock:
            spec = self.spec
            if (not spec.latency and not spec.latency_jitter) or not spec.applies_to(api_code):
                return 0.0
            delay = spec.latency + (self._rng("latency").uniform(0, spec.latency_jitter) if spec.latency_jitter else 0)
            self._count("latency")
            return delay

    def before(self, api_code: str | None) -> int | None:
        """429, 500 or 503 to answer instead of handling the request, or None."""
        with self._lock:
            spec = self.spec
            if not spec.applies_to(api_code):
                return None
            if spec.max_rps:
                moment = time.monotonic()
                while self._window and self._window[0] <= moment - 1.0:
                    self._window.popleft()
                if len(self._window) >= spec.max_rps:
                    self._count("max_rps")
                    return 429
                self._window.append(moment)
            if self._burst_left > 0:
                self._burst_left -= 1
                self._count("rate_limit")
                return 429
            if self._hit("rate_limit", spec.rate_limit):
                self._burst_left = spec.rate_limit_burst - 1
                self._count("rate_limit")
                self._count("rate_limit_burst")
                return 429
            if self._hit("error_before", spec.error_before):
                status = 500 if self._rng("error_before_status").random() < 0.5 else 503
                self._count(f"error_before_{status}")
                return status
            return None

    def after(self, api_code: str | None) -> AfterFault | None:
        """What goes wrong once the write committed: an error answer, a dropped connection, or None."""
        with self._lock:
            spec = self.spec
            if not spec.applies_to(api_code):
                return None
            if self._hit("reset_after", spec.reset_after):
                self._count("reset_after")
                return "reset_after"
            if self._hit("error_after", spec.error_after):
                fault: AfterFault = (
                    "error_after_500" if self._rng("error_after_status").random() < 0.5 else "error_after_503"
                )
                self._count(fault)
                return fault
            return None

    def notify_duplicate(self) -> bool:
        with self._lock:
            hit = self._hit("notify_duplicate", self.spec.notify_duplicate)
            if hit:
                self._count("notify_duplicate")
            return hit

    def notify_reorder(self) -> bool:
        with self._lock:
            hit = self._hit("notify_reorder", self.spec.notify_reorder)
            if hit:
                self._count("notify_reorder")
            return hit

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()

    def state(self) -> dict[str, object]:
        """What the admin endpoint shows: the spec text, the seed and the counts."""
        with self._lock:
            return {"spec": self.spec.text(), "seed": self.seed, "counts": dict(sorted(self._counts.items()))}
