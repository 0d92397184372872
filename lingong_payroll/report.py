"""What a payroll run reports: one line per payee (masked), totals, failures with reasons.

The same report feeds the Prefect artifacts (a table and a markdown summary), the CLI's summary
table, and the flow's return value. Personal data is masked before it enters a report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, MutableSequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from itertools import islice
from typing import Any, TypeVar, get_args, overload

from pydantic import BaseModel, Field, GetCoreSchemaHandler
from pydantic_core import core_schema

from lingong_core.money import fmt_yuan


class Outcome(StrEnum):
    PAID = "PAID"  # the platform reports the order SUCCESS
    FAILED = "FAILED"  # the platform tried and failed (the amount and fee were refunded)
    BOUNCED = "BOUNCED"  # paid, then returned by the bank (退票); refunded; pay again once the card is fixed
    REFUSED = "REFUSED"  # refused before payment (not onboarded, over a limit, …); nothing was debited
    INVALID = "INVALID"  # the payroll row itself is invalid; skipped at the operator's request
    PENDING = "PENDING"  # submitted; not final when the run stopped waiting
    CONFLICT = "CONFLICT"  # this period's key was already used for a different amount; not paid again
    HELD = "HELD"  # the person holds money this payroll does not account for: nothing more paid to them


FINAL = frozenset(
    {Outcome.PAID, Outcome.FAILED, Outcome.BOUNCED, Outcome.REFUSED, Outcome.INVALID, Outcome.CONFLICT, Outcome.HELD}
)
#: Outcomes the operator must act on (fix a row, a card, a limit, or decide on a held person).
NEEDS_OPERATOR = frozenset(
    {Outcome.FAILED, Outcome.BOUNCED, Outcome.REFUSED, Outcome.INVALID, Outcome.CONFLICT, Outcome.HELD}
)


T = TypeVar("T")


class Lines(MutableSequence[T]):
    """A list in all but its type, for the payroll's large collections (a report's lines, a task's 10,000
    checks or orders): Prefect walks a flow's return value and each task's result element by element —
    every list, dict, dataclass and pydantic model, to the last field of the last line — looking for
    futures to resolve and results to link, and asyncio's repr of a finished task prints its whole result.
    A ``Lines`` is one opaque value to all of them. Measured: walking a 10,000-line report took 1.5 s of
    CPU, as much as the bare script's whole payroll; with ``Lines``, under a millisecond.

    It validates from any iterable (pydantic), serialises as a plain list (``model_dump``, JSON), compares
    equal to a list with the same items, and its repr says how many items it holds, not what they are.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[T] = ()) -> None:
        self._items: list[T] = list(items)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        return self._items[index]

    def __setitem__(self, index: Any, value: Any) -> None:
        self._items[index] = value

    def __delitem__(self, index: int | slice) -> None:
        del self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    def insert(self, index: int, value: T) -> None:
        self._items.insert(index, value)

    def append(self, value: T) -> None:
        self._items.append(value)

    def extend(self, values: Iterable[T]) -> None:
        self._items.extend(values)

    def sort(self, *, key: Callable[[T], Any] | None = None, reverse: bool = False) -> None:
        self._items.sort(key=key, reverse=reverse)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Lines):
            return self._items == other._items
        return isinstance(other, list) and self._items == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        kinds = sorted({type(item).__name__ for item in self._items[:1]})
        return f"<Lines of {len(self._items)} {''.join(kinds) or 'items'}>"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        args = get_args(source)
        as_list = handler.generate_schema(list[args[0]] if args else list[Any])  # type: ignore[valid-type]
        return core_schema.no_info_after_validator_function(
            cls,
            as_list,
            serialization=core_schema.plain_serializer_function_ser_schema(list, return_schema=as_list),
        )


@dataclass(slots=True, kw_only=True)
class PayeeLine:
    """One payee's line of the report, masked. A slotted dataclass, not a pydantic model: a run holds one per
    payee (487 B each against a model's 1,631 B, measured); the report (a model) validates and serialises it."""

    row: int
    name: str  # masked
    id_card_no: str  # masked
    bank_card_no: str  # masked
    amount: Decimal
    service_amount: Decimal = Decimal("0.00")
    out_order_no: str = ""
    order_no: str = ""
    out_batch_no: str = ""
    batch_no: str = ""
    outcome: Outcome = Outcome.PENDING
    reason: str = ""


class PayrollReport(BaseModel):
    run: str = Field(description="The run identity's token: merchant, provider, period, additional reference")
    period: str
    tax_base_code: str
    additional_ref: str = Field(default="", description="empty: the period's regular payroll")
    batch_ref: str = Field(default="", description="the operator's label for the run (no part of any key)")
    project_no: str = ""
    dry_run: bool = False
    lines: Lines[PayeeLine] = Field(default_factory=Lines)
    batches: list[str] = Field(default_factory=list, description="platform batch numbers")
    invoice: str = Field(default="", description="invoice application number and state, if applied")
    notes: list[str] = Field(default_factory=list)

    def total(self, *outcomes: Outcome) -> Decimal:
        chosen = set(outcomes) or set(Outcome)
        return sum((line.amount for line in self.lines if line.outcome in chosen), Decimal("0.00"))

    def fees(self, *outcomes: Outcome) -> Decimal:
        chosen = set(outcomes) or set(Outcome)
        return sum((line.service_amount for line in self.lines if line.outcome in chosen), Decimal("0.00"))

    def counts(self) -> Counter[Outcome]:
        return Counter(line.outcome for line in self.lines)

    @property
    def complete(self) -> bool:
        return all(line.outcome in FINAL for line in self.lines)

    @property
    def needs_operator(self) -> list[PayeeLine]:
        """Lines not paid for a reason the operator must act on."""
        return [line for line in self.lines if line.outcome in NEEDS_OPERATOR]

    def table(self, limit: int | None = None) -> list[dict[str, str]]:
        """Rows for a Prefect table artifact (all personal data already masked): every line, or at most
        ``limit`` — then every line not paid comes first (what the operator must see), then the paid ones,
        each in sheet order."""
        lines: Iterable[PayeeLine] = self.lines
        if limit is not None and len(self.lines) > limit:
            unpaid = [line for line in self.lines if line.outcome != Outcome.PAID]
            paid = (line for line in self.lines if line.outcome == Outcome.PAID)
            lines = unpaid[:limit] + list(islice(paid, max(0, limit - len(unpaid))))
        return [
            {
                "row": str(line.row),
                "name": line.name,
                "idCardNo": line.id_card_no,
                "bankCardNo": line.bank_card_no,
                "amount": f"{line.amount:.2f}",
                "fee": f"{line.service_amount:.2f}",
                "outcome": line.outcome.value,
                "orderNo": line.order_no,
                "reason": line.reason,
            }
            for line in lines
        ]

    def markdown(self) -> str:
        counts = self.counts()
        head = "Dry run (nothing paid)" if self.dry_run else "Payroll"
        out = [
            f"# {head} {self.period} · {self.tax_base_code}"
            + (f" · additional payment {self.additional_ref}" if self.additional_ref else "")
            + (f" · project {self.project_no}" if self.project_no else "")
            + (f" · {self.batch_ref}" if self.batch_ref else ""),
            "",
            "| | payees | amount | service fee |",
            "|---|---:|---:|---:|",
        ]
        for outcome in Outcome:
            if counts.get(outcome):
                out.append(
                    f"| {outcome.value.lower()} | {counts[outcome]} | {fmt_yuan(self.total(outcome))} | "
                    f"{fmt_yuan(self.fees(outcome))} |"
                )
        asked = [line for line in self.lines if line.outcome != Outcome.INVALID]
        short = "" if all(line.outcome == Outcome.PAID for line in asked) else " (not all paid)"
        out.append(
            f"| **asked**{short} | {len(asked)} | {fmt_yuan(sum((x.amount for x in asked), Decimal('0.00')))} | |"
        )
        out.append(
            f"| **paid** | {counts.get(Outcome.PAID, 0)} | {fmt_yuan(self.total(Outcome.PAID))} | "
            f"{fmt_yuan(self.fees(Outcome.PAID))} |"
        )
        problems = [line for line in self.lines if line.outcome not in (Outcome.PAID, Outcome.PENDING)]
        if problems:
            out += [
                "",
                "## Not paid" + (" — the operator must act" if self.needs_operator else ""),
                "",
                "| row | name | ID | amount | outcome | reason |",
                "|---:|---|---|---:|---|---|",
            ]
            out += [
                f"| {p.row} | {p.name} | {p.id_card_no} | {fmt_yuan(p.amount)} | {p.outcome.value} | {p.reason} |"
                for p in problems
            ]
        if self.batches:
            out += ["", "Batches: " + ", ".join(self.batches)]
        if self.invoice:
            out += ["", f"Invoice: {self.invoice}"]
        out += [f"- {note}" for note in self.notes]
        return "\n".join(out)
