"""The by-person guard: before anything is submitted, compare what the platform already holds for each
person in this run (paid or in flight) with what the payroll now asks for that person.

A pure function of two inputs, both read by the flow before its first SFT0502:

- the payroll's lines (:class:`~lingong_payroll.orders.PlannedOrder`, each with its person token);
- the platform's orders of this run identity (merchant, provider, period, additional reference), read
  from the platform — SFT0503/SFT0504 over the batches the run journal lists for this run, and SFT0505 for
  the lines' own keys that SFT0501 reports used. The journal is an index only, never the truth.

Per person (the token inside each ``outOrderNo``, lingong_payroll.keys):

- every order holding money (paid or in flight) is one of this payroll's lines → **PAY** the lines with
  no order yet (or **NOTHING** to do when every line has one);
- an order holding money that no line of this payroll accounts for (its amount was edited after payment,
  one of the person's lines removed) → **HELD**: pay nothing more to that person, and say what was paid,
  what is asked, and how to pay on purpose (an additional payment, ``--additional REF``);
- a person the run already paid who has no line in this payroll at all (another file of the same period,
  or a person dropped after payment) is not this payroll's to decide: nothing is paid to them, and the
  flow reports how many there are (:attr:`GuardResult.absent`).

Failed and bounced orders hold no money (the platform refunded them): they never hold a person back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from lingong_core.money import fmt_yuan

from .orders import PlannedOrder, PlatformOrder


class Action(StrEnum):
    PAY = "PAY"  # pay the lines listed in to_pay
    NOTHING = "NOTHING"  # every line already has its order on the platform
    HELD = "HELD"  # money this payroll does not account for: pay this person nothing more


@dataclass(frozen=True, slots=True)  # one per person: 100,000 in a large payroll
class PersonDecision:
    person: str
    action: Action
    lines: tuple[PlannedOrder, ...] = ()
    to_pay: tuple[str, ...] = ()
    found: tuple[PlatformOrder, ...] = ()
    unaccounted: tuple[PlatformOrder, ...] = ()

    @property
    def asked(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def paid(self) -> Decimal:
        return sum((o.amount for o in self.found if o.status == "SUCCESS"), Decimal("0.00"))

    @property
    def in_flight(self) -> Decimal:
        return sum((o.amount for o in self.found if o.holds_money and o.status != "SUCCESS"), Decimal("0.00"))

    def reason(self, how_to_pay: str) -> str:
        """Why the person is held, with the amounts (no personal data), and how to pay on purpose."""
        if self.action != Action.HELD:
            return ""
        held = ", ".join(f"{o.out_order_no} {fmt_yuan(o.amount)} {o.status}" for o in self.unaccounted)
        money = f"{fmt_yuan(self.paid)} paid" + (f" and {fmt_yuan(self.in_flight)} in flight" if self.in_flight else "")
        asked = (
            f"this payroll asks {fmt_yuan(self.asked)} in {len(self.lines)} line(s)"
            if self.lines
            else "this payroll has no line for them"
        )
        return (
            f"HELD: {money} to this person in this run already; not accounted for by this payroll: {held}; "
            f"{asked}; nothing more paid to them — {how_to_pay}"
        )


@dataclass
class GuardResult:
    """The guard's verdict. Only the people the platform already holds orders of in this run are weighed
    (:attr:`decisions`); the lines of everyone else are all paid (:attr:`fresh`) — a first payroll of 100,000
    people builds no decision at all (a decision, its tuples and the grouping cost ~300 B a person)."""

    decisions: dict[str, PersonDecision] = field(default_factory=dict)  # person → decision, for those with orders
    fresh: list[str] = field(default_factory=list)  # the keys of the lines of people with no order: all to pay
    unattributed: list[PlatformOrder] = field(default_factory=list)  # orders whose key is not ours

    @property
    def to_pay(self) -> set[str]:
        return {*self.fresh, *(k for d in self.decisions.values() for k in d.to_pay)}

    @property
    def held(self) -> list[PersonDecision]:
        return [d for d in self.decisions.values() if d.action == Action.HELD]

    @property
    def absent(self) -> list[PersonDecision]:
        """People this run already paid (or is paying) who have no line in this payroll: nothing to do for
        them here (another file of the same period, or a person dropped after payment); reported."""
        return [d for d in self.decisions.values() if not d.lines and d.unaccounted]


def decide(lines: Sequence[PlannedOrder], found: Iterable[PlatformOrder]) -> GuardResult:
    """Per person: pay these lines, nothing to do, or HELD (see the module's docstring)."""
    result = GuardResult()
    orders: dict[str, dict[str, PlatformOrder]] = {}
    for order in found:
        if not order.person:
            result.unattributed.append(order)
            continue
        orders.setdefault(order.person, {})[order.out_order_no] = order  # one order per key
    by_person: dict[str, list[PlannedOrder]] = {person: [] for person in orders}
    for line in lines:
        grouped = by_person.get(line.person)
        if grouped is None:
            result.fresh.append(line.out_order_no)  # nothing of theirs on the platform: paid as asked
        else:
            grouped.append(line)
    for person in sorted(orders):
        mine = tuple(by_person[person])
        theirs = orders[person]
        keys = {line.out_order_no for line in mine}
        unaccounted = tuple(o for k, o in sorted(theirs.items()) if k not in keys and o.holds_money)
        to_pay: tuple[str, ...] = ()
        if unaccounted and mine:
            action = Action.HELD
        elif unaccounted:
            action = Action.NOTHING  # not in this payroll: reported (GuardResult.absent), not held
        else:
            to_pay = tuple(line.out_order_no for line in mine if line.out_order_no not in theirs)
            action = Action.PAY if to_pay else Action.NOTHING
        result.decisions[person] = PersonDecision(
            person=person,
            action=action,
            lines=mine,
            to_pay=to_pay,
            found=tuple(theirs[k] for k in sorted(theirs)),
            unaccounted=unaccounted,
        )
    return result
