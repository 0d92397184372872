"""Run identity and business keys: the same payroll meaning gives the same keys, whatever the file looks like."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lingong_core.errors import InputError
from lingong_payroll.keys import RunKey, check_batch_ref, check_period, check_ref, occurrences, person_of

ID = "11010519491231002X"
D = Decimal


def test_the_run_identity_is_merchant_provider_period_and_additional_ref_only() -> None:
    run = RunKey("M1", "2000064001", "2026-11")
    assert run.order_no(ID, D("10.00"), 1) == RunKey("M1", "2000064001", "2026-11", "").order_no(ID, D("10"), 1)
    others = [
        RunKey("M1", "2000064001", "2026-12"),
        RunKey("M1", "2000064002", "2026-11"),
        RunKey("M2", "2000064001", "2026-11"),
        RunKey("M1", "2000064001", "2026-11", "BONUS1"),
    ]
    keys = {k.order_no(ID, D("10.00"), 1) for k in [run, *others]}
    assert len(keys) == 5


def test_a_line_key_depends_on_person_amount_and_occurrence_with_that_amount() -> None:
    run = RunKey("M1", "T", "2026-11")
    key = run.order_no(ID, D("10.00"), 1)
    assert key == run.order_no(ID.lower(), D("10.00"), 1) == run.order_no(" " + ID, D("10"), 1)
    assert key != run.order_no(ID, D("10.01"), 1)
    assert key != run.order_no(ID, D("10.00"), 2)
    assert len(key) == 30
    assert key.startswith("PO202611")


def test_the_person_token_sits_at_a_fixed_place_in_every_order_key() -> None:
    run = RunKey("M1", "T", "2026-11")
    person = run.person(ID)
    assert person_of(run.order_no(ID, D("1.00"), 1)) == person == person_of(run.order_no(ID, D("99.99"), 3))
    assert person_of(run.order_no("110105194912310037", D("1.00"), 1)) != person
    assert person_of("E2E00001") == ""


def test_occurrences_count_each_persons_lines_with_the_same_amount() -> None:
    a, b = "A", "B"
    lines = [(a, D("1")), (b, D("1")), (a.lower(), D("1.00")), (a, D("2")), (a, D("1"))]
    assert occurrences(lines) == [1, 1, 2, 1, 3]


def test_keys_survive_reordering_and_inserted_rows() -> None:
    run = RunKey("M1", "T", "2026-11")
    lines = [(ID, D("5.00")), ("110105194912310037", D("7.00")), (ID, D("5.00")), (ID, D("8.00"))]

    def keys(ls: list[tuple[str, D]]) -> list[str]:
        return sorted(run.order_no(i, a, n) for (i, a), n in zip(ls, occurrences(ls), strict=True))

    assert keys(lines) == keys(list(reversed(lines)))
    more = keys([("11010519491231005X", D("3.00")), *lines])
    assert set(keys(lines)) < set(more)


@pytest.mark.parametrize("bad", ["2026-13", "202611", "26-11", ""])
def test_period_must_be_a_month(bad: str) -> None:
    with pytest.raises(InputError, match="period"):
        check_period(bad)


def test_references_are_checked() -> None:
    assert check_batch_ref(None) is None
    assert check_batch_ref("rerun-2") == "rerun-2"
    assert check_ref(None) == ""
    with pytest.raises(InputError, match="batchRef"):
        check_batch_ref("has space")
    with pytest.raises(InputError, match="additional"):
        check_ref("has space")


def test_a_marketing_payout_is_a_run_of_its_own_and_a_payrolls_keys_do_not_move() -> None:
    import hashlib

    payroll = RunKey("M1", "2000064001", "2026-11")
    old = hashlib.blake2b("\x1f".join(["run", "M1", "2000064001", "2026-11", ""]).encode(), digest_size=20)
    assert payroll.token == old.hexdigest()[:10].upper()  # the token every earlier payroll's keys came from
    campaign = RunKey("M1", "2000064001", "2026-11", campaign_no="MC0001")
    other = RunKey("M1", "2000064001", "2026-11", campaign_no="MC0002")
    assert len({payroll.token, campaign.token, other.token}) == 3
    key = campaign.order_no(ID, D("10.00"), 1)
    assert key.startswith("MO202611")
    assert len(key) == 30
    assert person_of(key) == campaign.person(ID) != payroll.person(ID)
    assert campaign.batch_no([key]).startswith("MB202611")
    assert "campaign MC0001" in campaign.label
