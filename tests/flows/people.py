"""People for flow tests, one seed per test.

The flow tests share one sandbox for the session (conftest.py), and ``team(n, seed=s)`` is deterministic:
``team(2, seed=s)`` is the first two people of ``team(3, seed=s)``. Two tests drawing the same seed meet the
same people, and whichever runs second finds them onboarded, paid or signed already, so it passes or fails
by the order pytest-randomly chose (test_contract_batch met test_approval's people so in a fresh clone).
``team`` here refuses a seed another test of the session drew, so a reused seed fails at once, in any order.
"""

from __future__ import annotations

import os

from lingong_sandbox.people import Person
from lingong_sandbox.people import team as _team

__all__ = ["team"]

_owners: dict[int, str] = {}


def team(n: int, *, seed: int) -> list[Person]:
    test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]
    owner = _owners.setdefault(seed, test)
    if owner != test:
        raise AssertionError(
            f"team seed {seed} is drawn by {test} and by {owner}: the session's sandbox would give both tests "
            "the same people, so each test must draw its own seed"
        )
    return _team(n, seed=seed)
