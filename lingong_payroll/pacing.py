"""The interpreter's pace while a run works: the garbage collector's while it holds a large payroll, and
the GIL's while a file is validated in a thread beside the event loop. Only the pace changes, never what
is done: each setting is put back when the last run holding it lets go (runs overlapping in one process, a
worker, share one setting), and a process paced slower or finer already keeps its own.

**The collector** (:func:`slower_collector`). CPython's cyclic collector walks every live container
object in a full collection, and starts one each time the objects that survived two young collections grow
by a quarter. A payroll run builds its payees, keys, checks and report lines once and keeps them to its end
(several objects per payee, none of them garbage), while each 1,000-order call's request and answer live
just long enough to be promoted. At 100,000 payees that made 13–17 full collections of ~0.2 s each: 3–4 s
of a ~20 s run's CPU spent proving that nothing it holds is garbage (bench/results.md, "Issue 20, fourth
pass"). While held, young collections wait for 5,000 new objects instead of 700 (a call's temporaries die
young instead of being promoted), a middle one comes every 20 young ones instead of 10, and a full one is
considered every 100 middle ones instead of 10 (and still runs only once the long-lived objects have grown
by a quarter). Garbage is still freed: reference counting frees everything acyclic at once, as always, and
young collections still run.

**The switch interval** (:func:`finer_switches`). A thread validating a file holds the GIL for the
interpreter's whole switch interval (5 ms) each time the event loop, waiting on a socket, wants it back; an
HTTP call is tens of such waits, so the first pre-calculations went out ~0.3 s late while 10,000 rows were
read. While held, the interval is 0.5 ms.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

#: (young, middle, full): 5,000 allocations between young collections; a middle one every 20 young; a full
#: one considered every 100 middle (the defaults: 700, 10, 10).
RUN_THRESHOLDS = (5_000, 20, 100)
#: Seconds a thread may hold the GIL while another waits for it, while a file is read (the default: 0.005).
READING_SWITCH_INTERVAL = 0.0005


class _Shared(Generic[T]):
    """One process-wide setting, changed by the first holder and put back by the last."""

    def __init__(self, read: Callable[[], T], write: Callable[[T], None], ours: Callable[[T], T]) -> None:
        self._read, self._write, self._ours = read, write, ours
        self._lock = threading.Lock()
        self._holders = 0
        self._before: T | None = None

    def hold(self) -> Pace:
        with self._lock:
            if self._holders == 0:
                self._before = self._read()
                self._write(self._ours(self._before))
            self._holders += 1
        return Pace(self.release)

    def release(self) -> None:
        with self._lock:
            self._holders -= 1
            if self._holders == 0 and self._before is not None:
                self._write(self._before)
                self._before = None


class Pace:
    """One holder's hold on a setting; :meth:`restore` once (again is harmless)."""

    __slots__ = ("_lock", "_release")

    def __init__(self, release: Callable[[], None]) -> None:
        self._lock = threading.Lock()  # restored from the thread that read the file or from the loop, once
        self._release: Callable[[], None] | None = release

    def restore(self) -> None:
        with self._lock:
            release, self._release = self._release, None
        if release is not None:
            release()


_COLLECTOR: _Shared[tuple[int, int, int]] = _Shared(
    gc.get_threshold,
    lambda values: gc.set_threshold(*values),
    lambda before: (
        max(RUN_THRESHOLDS[0], before[0]),
        max(RUN_THRESHOLDS[1], before[1]),
        max(RUN_THRESHOLDS[2], before[2]),
    ),
)
_SWITCHES: _Shared[float] = _Shared(
    sys.getswitchinterval, sys.setswitchinterval, lambda before: min(READING_SWITCH_INTERVAL, before)
)


def slower_collector() -> Pace:
    """The collector at :data:`RUN_THRESHOLDS` (or slower, generation by generation, if it already was) until
    the answer's ``restore()``."""
    return _COLLECTOR.hold()


def finer_switches() -> Pace:
    """The GIL's switch interval at :data:`READING_SWITCH_INTERVAL` (or finer, if it already was) until the
    answer's ``restore()``."""
    return _SWITCHES.hold()
