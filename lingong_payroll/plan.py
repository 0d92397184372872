"""From validated payees to the orders and batches a payroll run submits, with their business keys.

Orders are sorted by ``outOrderNo`` and cut into batches of at most ``max_batch`` (the platform's
batch size), so the same payroll always yields the same batches and the same ``outBatchNo``s.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .keys import RunKey, occurrences
from .orders import PlannedOrder
from .payees import Payee

MAX_BATCH = 1000


@dataclass(frozen=True, slots=True)
class PlannedBatch:
    out_batch_no: str
    orders: tuple[PlannedOrder, ...]

    @property
    def total(self) -> Decimal:
        return sum((o.amount for o in self.orders), Decimal("0.00"))


def plan_orders(run: RunKey, payees: Sequence[Payee], rows: Sequence[int] | None = None) -> list[PlannedOrder]:
    """One order per payee line, keyed by the run, the person, the amount and the line's occurrence among
    that person's lines with the same amount (lingong_payroll.keys)."""
    rows = list(rows) if rows is not None else list(range(1, len(payees) + 1))
    return Planner(run).plan(payees, rows)


class Planner:
    """:func:`plan_orders` a part of the payroll at a time, the parts given in sheet order: the same orders
    and keys as planning the whole at once (an occurrence counts the lines of every part before)."""

    def __init__(self, run: RunKey) -> None:
        self.run = run
        self._seen: Counter[tuple[str, Decimal]] = Counter()

    def plan(self, payees: Sequence[Payee], rows: Sequence[int]) -> list[PlannedOrder]:
        run = self.run
        occ = occurrences([(p.id_card_no, p.amount) for p in payees], self._seen)
        persons = [run.person(p.id_card_no) for p in payees]
        return [
            PlannedOrder(out_order_no=run.order_no(p.id_card_no, p.amount, n, who), person=who, row=r, payee=p)
            for p, n, r, who in zip(payees, occ, rows, persons, strict=True)
        ]


def plan_batches(run: RunKey, orders: Sequence[PlannedOrder], max_batch: int = MAX_BATCH) -> list[PlannedBatch]:
    """Cut the orders, sorted by key, into batches of at most ``max_batch``; each batch keyed by its orders."""
    ordered = sorted(orders, key=lambda o: o.out_order_no)
    batches = []
    for start in range(0, len(ordered), max_batch):
        chunk = tuple(ordered[start : start + max_batch])
        batches.append(PlannedBatch(run.batch_no(o.out_order_no for o in chunk), chunk))
    return batches
