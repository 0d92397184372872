"""tests/flows/people.py: a seed belongs to the first test that draws it."""

from __future__ import annotations

import pytest

from tests.flows.people import team


def test_a_seed_drawn_again_by_the_same_test_gives_the_same_people() -> None:
    assert team(3, seed=990001)[:2] == team(2, seed=990001)


def test_a_seed_another_test_drew_is_refused_naming_both(monkeypatch: pytest.MonkeyPatch) -> None:
    team(1, seed=990002)
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "tests/flows/test_elsewhere.py::test_other (call)")
    with pytest.raises(AssertionError, match=r"seed 990002 .*test_elsewhere.py::test_other.*test_people.py"):
        team(1, seed=990002)
