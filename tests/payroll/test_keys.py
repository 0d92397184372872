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


def test_a_payroll_planned_part_by_part_has_the_keys_of_the_whole() -> None:
    """The run prices a file while it reads it, planning 1,000 lines at a time: a person's second line with the
    same amount in a later part is still their second occurrence, and every key is the whole plan's."""
    from lingong_payroll.payees import Payee
    from lingong_payroll.plan import Planner, plan_orders
    from lingong_sandbox.people import team

    people = team(3, seed=5)
    amounts = ["10.00", "20.00", "10.00", "10.00", "30.00", "10.00", "20.00"]
    who = [0, 1, 0, 2, 0, 0, 1]
    payees = [
        Payee.validate(
            {
                "name": people[i].name,
                "id_card_no": people[i].id_card_no,
                "mobile": people[i].mobile,
                "bank_card_no": people[i].bank_card_no,
                "amount": a,
            },
            None,
        )
        for i, a in zip(who, amounts, strict=True)
    ]
    run = RunKey("M1", "2000064001", "2026-11")
    whole = plan_orders(run, payees, list(range(2, 9)))
    planner = Planner(run)
    parts = [planner.plan(payees[i : i + 2], list(range(2 + i, 4 + i))[: len(payees[i : i + 2])]) for i in (0, 2, 4, 6)]
    assert [o for part in parts for o in part] == whole
    assert len({o.out_order_no for o in whole}) == 7
