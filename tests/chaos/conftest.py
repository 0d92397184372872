"""The chaos suite's fixtures: one Prefect test harness for the session (its server also serves the runner
subprocesses that get killed), the session's keys, the base seed, and the summary every scenario adds a line
to — printed at the end of the session and written to ``.state/chaos/summary.txt``."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.judge import Tally
from tests.chaos.kit import Keys
from tests.chaos.scenarios import base_seed

ROOT = Path(__file__).resolve().parents[2]

SUMMARY = ROOT / ".state" / "chaos" / "summary.txt"
_TALLIES: list[Tally] = []
_SEED: list[int] = []


#: Tests that judge the whole session's tallies: they run after every scenario, whatever the random order.
LAST = frozenset({"test_the_full_profile_reaches_enough_faulted_runs"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move the session-wide judgement to the end (pytest-randomly shuffles before this hook): drawn before
    the scenarios it skipped as "only part of the full profile ran", so ``make chaos`` never checked it."""
    items.sort(key=lambda item: getattr(item, "originalname", item.name) in LAST)


@pytest.fixture(scope="session")
def chaos_seed() -> int:
    """The suite's base seed: ``CHAOS_SEED`` to replay one, else fresh (and printed)."""
    if not _SEED:
        _SEED.append(base_seed())
    return _SEED[0]


@pytest.fixture(scope="session")
def chaos_keys() -> Keys:
    return Keys.generate()


@pytest.fixture(scope="session")
def prefect_api(prefect_harness: str) -> str:
    """The session's one Prefect test harness (tests/conftest.py); its API URL, for the runner subprocesses."""
    return prefect_harness


@pytest.fixture(autouse=True)
def _collect_garbage_in_the_test() -> Iterator[None]:
    """Collect each test's garbage before it ends, so that anything left unclosed is reported against the test
    that left it (as a warning, an error in pytest), not against whichever test runs next."""
    yield
    gc.collect()


@pytest.fixture(scope="session")
def chaos_summary(chaos_seed: int) -> Iterator[list[Tally]]:
    yield _TALLIES
    if _TALLIES:
        SUMMARY.parent.mkdir(parents=True, exist_ok=True)
        SUMMARY.write_text("\n".join(summary_lines()) + "\n", encoding="utf-8")


def summary_lines() -> list[str]:
    lines = [t.line() for t in _TALLIES]
    full = [t for t in _TALLIES if t.profile == "full"]
    if full:
        lines.append(
            f"{'total':<22} full  base={_SEED[0] if _SEED else '?':<10} runs={sum(t.runs for t in full)} "
            f"faulted={sum(t.faulted for t in full)} payees={sum(t.payees for t in full)} "
            f"faults={sum(t.faults for t in full)} paid_once={sum(t.paid_once for t in full)} "
            f"paid_twice={sum(t.paid_twice for t in full)} lost={sum(t.lost for t in full)} "
            f"{sum(t.wall for t in full):.0f}s"
        )
    if _SEED:
        lines.append(f"replay: CHAOS_SEED={_SEED[0]} make chaos   (one scenario: PYTEST_ARGS=\"-k 'NAME-full'\")")
    return lines


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _TALLIES:
        terminalreporter.section("chaos: one line per scenario")
        for line in summary_lines():
            terminalreporter.write_line(line)
