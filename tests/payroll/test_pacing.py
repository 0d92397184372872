"""The interpreter's pace while a run works (lingong_payroll.pacing)."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator

import pytest

from lingong_payroll import pacing


@pytest.fixture(autouse=True)
def _settings() -> Iterator[None]:
    thresholds, interval = gc.get_threshold(), sys.getswitchinterval()
    yield
    gc.set_threshold(*thresholds)
    sys.setswitchinterval(interval)


def test_a_run_slows_the_collector_and_its_end_restores_it() -> None:
    gc.set_threshold(700, 10, 10)
    pace = pacing.slower_collector()
    assert gc.get_threshold() == pacing.RUN_THRESHOLDS
    pace.restore()
    assert gc.get_threshold() == (700, 10, 10)
    pace.restore()  # again: harmless, and restores nothing a second time
    assert gc.get_threshold() == (700, 10, 10)


def test_overlapping_runs_share_the_pace_and_the_last_to_end_restores_it() -> None:
    gc.set_threshold(700, 10, 10)
    first, second = pacing.slower_collector(), pacing.slower_collector()
    first.restore()
    first.restore()  # a second restore of the same hold does not end the other run's
    assert gc.get_threshold() == pacing.RUN_THRESHOLDS
    second.restore()
    assert gc.get_threshold() == (700, 10, 10)


def test_a_process_paced_slower_already_keeps_its_own_setting() -> None:
    gc.set_threshold(50_000, 5, 1_000)
    pace = pacing.slower_collector()
    assert gc.get_threshold() == (50_000, 20, 1_000)  # generation by generation, never faster than it was
    pace.restore()
    assert gc.get_threshold() == (50_000, 5, 1_000)


def test_garbage_is_still_collected_at_the_slower_pace() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self  # a cycle: only the collector frees it

    pace = pacing.slower_collector()
    try:
        gc.collect()
        before = sum(isinstance(o, Node) for o in gc.get_objects())
        for _ in range(20_000):
            Node()
        assert sum(isinstance(o, Node) for o in gc.get_objects()) < 20_000 + before  # young collections ran
    finally:
        pace.restore()


def test_reading_a_file_makes_switches_finer_until_it_ends() -> None:
    sys.setswitchinterval(0.005)
    pace = pacing.finer_switches()
    assert sys.getswitchinterval() == pytest.approx(pacing.READING_SWITCH_INTERVAL, rel=0.05)
    reader = threading.Thread(target=pace.restore)  # the reading thread lets go, the loop's restore is a no-op
    reader.start()
    reader.join()
    pace.restore()
    assert sys.getswitchinterval() == pytest.approx(0.005, rel=0.05)


def test_a_finer_interval_already_set_is_kept() -> None:
    sys.setswitchinterval(0.0001)
    pace = pacing.finer_switches()
    assert sys.getswitchinterval() == pytest.approx(0.0001, rel=0.05)
    pace.restore()
    assert sys.getswitchinterval() == pytest.approx(0.0001, rel=0.05)
