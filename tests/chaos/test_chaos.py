"""Exactly-once payouts under faults: every scenario of tests/chaos/scenarios.py, audited from the sandbox's
own ledger. The small profile (marker ``chaos``) runs in ``make test``; ``make chaos`` adds the full one
(marker ``chaos_full``: hundreds of runs). A failure prints its seed and how to replay it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.judge import Tally
from tests.chaos.kit import FULL_PROFILE_LEFTOVERS, Keys
from tests.chaos.scenarios import SCENARIOS, Driver, Scenario

FAULTED_RUNS_REQUIRED = 300


def _cases() -> list[object]:
    cases: list[object] = []
    for scenario in SCENARIOS:
        if scenario.small:
            cases.append(pytest.param(scenario, "small", id=f"{scenario.name}-small", marks=pytest.mark.chaos))
        cases.append(
            pytest.param(
                scenario, "full", id=f"{scenario.name}-full", marks=[pytest.mark.chaos_full, *FULL_PROFILE_LEFTOVERS]
            )
        )
    return cases


@pytest.mark.timeout(1800)  # a full scenario takes one to three minutes; a loaded machine more
@pytest.mark.parametrize(("scenario", "profile"), _cases())
def test_every_payee_is_paid_exactly_once(
    scenario: Scenario,
    profile: str,
    prefect_api: str,
    chaos_keys: Keys,
    chaos_seed: int,
    chaos_summary: list[Tally],
    tmp_path: Path,
) -> None:
    tally = Driver(scenario, profile, chaos_seed, chaos_keys, tmp_path, prefect_api).play()
    chaos_summary.append(tally)
    print("\n" + "\n    ".join([tally.line(), *tally.error_samples]))
    replay = f"replay: CHAOS_SEED={chaos_seed} make chaos PYTEST_ARGS=\"-k '{scenario.name}-{profile}'\""
    assert tally.ok, "\n".join([tally.line(), *tally.problems[:30], *tally.error_samples, replay])


@pytest.mark.chaos_full
def test_the_full_profile_reaches_enough_faulted_runs(chaos_summary: list[Tally]) -> None:
    full = [t for t in chaos_summary if t.profile == "full"]
    if {t.scenario for t in full} != {s.name for s in SCENARIOS}:
        pytest.skip("only part of the full profile ran")
    faulted = sum(t.faulted for t in full)
    assert faulted >= FAULTED_RUNS_REQUIRED, f"{faulted} faulted runs; the full profile needs {FAULTED_RUNS_REQUIRED}"
