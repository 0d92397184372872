"""The by-person guard, as a pure function: what the platform holds for each person in this run against
what the payroll asks."""

from __future__ import annotations

from decimal import Decimal

from lingong_payroll.guard import Action, decide
from lingong_payroll.keys import RunKey
from lingong_payroll.orders import PlannedOrder, PlatformOrder
from lingong_payroll.payees import Payee
from lingong_payroll.plan import plan_orders
from lingong_sandbox.people import Person, team

RUN = RunKey("M1", "2000064001", "2026-11")
ANN, BOB = team(2, seed=7)


def payroll(*lines: tuple[Person, str]) -> list[PlannedOrder]:
    payees = [
        Payee(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no, amount=a)
        for p, a in lines
    ]
    return plan_orders(RUN, payees)


def on_platform(order: PlannedOrder, status: str = "SUCCESS", amount: str | None = None) -> PlatformOrder:
    return PlatformOrder(
        order_no="O" + order.out_order_no,
        out_order_no=order.out_order_no,
        batch_no="B1",
        out_batch_no="PB1",
        amount=Decimal(amount) if amount else order.amount,
        status=status,
    )


def test_nothing_on_the_platform_pays_every_line() -> None:
    lines = payroll((ANN, "100.00"), (ANN, "100.00"), (BOB, "5.00"))
    verdict = decide(lines, [])
    assert verdict.to_pay == {o.out_order_no for o in lines}
    assert len({o.out_order_no for o in lines}) == 3  # two identical lines stay two orders
    assert verdict.decisions == {}  # nobody has an order in this run: nobody to weigh, every line paid
    assert verdict.fresh == [o.out_order_no for o in lines]


def test_lines_already_paid_are_not_paid_again_and_the_rest_are() -> None:
    lines = payroll((ANN, "100.00"), (ANN, "30.00"), (BOB, "5.00"))
    verdict = decide(lines, [on_platform(lines[0]), on_platform(lines[2], "PROCESSING")])
    assert verdict.to_pay == {lines[1].out_order_no}
    assert verdict.decisions[lines[0].person].action == Action.PAY
    assert verdict.decisions[lines[2].person].action == Action.NOTHING


def test_an_amount_edited_after_payment_holds_the_person() -> None:
    before = payroll((ANN, "100.00"), (BOB, "5.00"))
    after = payroll((ANN, "120.00"), (BOB, "5.00"))
    verdict = decide(after, [on_platform(o) for o in before])
    ann = verdict.decisions[after[0].person]
    assert ann.action == Action.HELD
    assert ann.to_pay == ()
    assert ann.paid == Decimal("100.00")
    assert ann.asked == Decimal("120.00")
    reason = ann.reason("use --additional")
    assert "100.00" in reason
    assert "120.00" in reason
    assert "use --additional" in reason
    assert ANN.id_card_no not in reason
    assert verdict.to_pay == set()  # Bob's line was paid already; nothing for Ann


def test_a_removed_line_holds_the_person_and_a_person_not_in_the_payroll_is_set_aside() -> None:
    before = payroll((ANN, "100.00"), (ANN, "30.00"), (BOB, "5.00"))
    after = payroll((ANN, "100.00"))
    verdict = decide(after, [on_platform(o) for o in before])
    assert verdict.decisions[after[0].person].action == Action.HELD
    bob = verdict.decisions[before[2].person]
    assert bob.action == Action.NOTHING
    assert bob.lines == ()
    assert bob.paid == Decimal("5.00")
    assert verdict.absent == [bob]
    assert verdict.held == [verdict.decisions[after[0].person]]


def test_failed_and_bounced_orders_hold_no_money_and_nobody_back() -> None:
    before = payroll((ANN, "100.00"), (BOB, "5.00"))
    after = payroll((ANN, "120.00"), (BOB, "6.00"))
    verdict = decide(after, [on_platform(before[0], "FAILED"), on_platform(before[1], "BOUNCED")])
    assert verdict.to_pay == {o.out_order_no for o in after}


def test_in_flight_money_counts_like_paid_money() -> None:
    before = payroll((ANN, "100.00"))
    after = payroll((ANN, "99.00"))
    verdict = decide(after, [on_platform(before[0], "ACCEPTED")])
    ann = verdict.decisions[after[0].person]
    assert ann.action == Action.HELD
    assert ann.in_flight == Decimal("100.00")


def test_reordering_and_re_exporting_change_nothing() -> None:
    first = payroll((ANN, "100.00"), (BOB, "5.00"), (ANN, "100.00"))
    again = payroll((BOB, "5.00"), (ANN, "100.00"), (ANN, "100.00"))
    verdict = decide(again, [on_platform(o) for o in first])
    assert verdict.to_pay == set()
    assert all(d.action == Action.NOTHING for d in verdict.decisions.values())


def test_orders_with_keys_of_another_scheme_are_set_aside() -> None:
    lines = payroll((ANN, "1.00"))
    stranger = PlatformOrder(
        order_no="X", out_order_no="E2E00001", batch_no="B", out_batch_no="PB", amount=Decimal(1), status="SUCCESS"
    )
    verdict = decide(lines, [stranger])
    assert verdict.unattributed == [stranger]
    assert verdict.to_pay == {lines[0].out_order_no}
