"""Business keys: the same inputs give the same keys; a different period, project or batch_ref gives others."""

from __future__ import annotations

import pytest

from lingong_core.errors import InputError
from lingong_payroll.keys import RunKey, check_batch_ref, check_period, occurrences

ID = "11010519491231002X"


def test_keys_are_stable_and_distinct() -> None:
    run = RunKey("M1", "2000064001", "2026-11", "PRJ1")
    again = RunKey("M1", "2000064001", "2026-11", "PRJ1")
    assert run.order_no(ID, 1) == again.order_no(ID, 1)
    assert run.order_no(ID, 1) != run.order_no(ID, 2)
    assert run.order_no(ID, 1) == run.order_no(ID.lower(), 1)
    others = [
        RunKey("M1", "2000064001", "2026-12", "PRJ1"),
        RunKey("M1", "2000064002", "2026-11", "PRJ1"),
        RunKey("M1", "2000064001", "2026-11", "PRJ2"),
        RunKey("M1", "2000064001", "2026-11", "PRJ1", batch_ref="again"),
    ]
    assert len({k.order_no(ID, 1) for k in [run, *others]}) == 5
    assert len(run.order_no(ID, 1)) <= 32


def test_batch_key_depends_on_the_set_of_orders_not_their_order() -> None:
    run = RunKey("M1", "T", "2026-11")
    assert run.batch_no(["a", "b"]) == run.batch_no(["b", "a"])
    assert run.batch_no(["a", "b"]) != run.batch_no(["a"])


def test_occurrences_count_repeat_lines_per_person() -> None:
    assert occurrences(["A", "B", "a", "C", "A"]) == [1, 1, 2, 1, 3]


@pytest.mark.parametrize("bad", ["2026-13", "202611", "26-11", ""])
def test_period_must_be_a_month(bad: str) -> None:
    with pytest.raises(InputError, match="period"):
        check_period(bad)


def test_batch_ref_is_checked() -> None:
    assert check_batch_ref(None) is None
    assert check_batch_ref("rerun-2") == "rerun-2"
    with pytest.raises(InputError, match="batchRef"):
        check_batch_ref("has space")
