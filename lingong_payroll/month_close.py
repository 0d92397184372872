"""The month-end close, as pure logic: which orders a month holds, what the books say of it, every
difference between the platform's ledger, its orders, its refunds and what the runs recorded, and the
summary a finance colleague reads. No Prefect, no HTTP: the flow gathers the facts, this decides.

*The month* is when money moved, as the books count it: a payout belongs to the month its ledger row
(SFT0305 ``PAYOUT``) falls in, Asia/Shanghai — whatever pay period the run named. The ledger is read
from the first day of the month to now, so an order paid this month and refunded later is seen whole.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from lingong_core.money import fmt_yuan
from lingong_core.timeutil import SHANGHAI, now, to_shanghai

from .journal import JournalOrder
from .orders import PlatformOrder
from .outcomes import recorded_vs_platform

ZERO = Decimal("0.00")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
#: Order states whose amount and fee stay out of the account; FAILED and BOUNCED ones come back.
OWING = frozenset({"ACCEPTED", "PROCESSING", "SUCCESS"})
REFUNDED = frozenset({"FAILED", "BOUNCED"})


class MonthError(ValueError):
    """A month that cannot be closed as given (the message names the field and the rule)."""


def check_month(month: str, *, today: date | None = None) -> str:
    """``yyyy-MM``, not in the future."""
    text = (month or "").strip()
    if not _MONTH.match(text):
        raise MonthError(f"month: must be yyyy-MM (e.g. 2026-11), got {month!r}")
    current = f"{today or now().date():%Y-%m}"
    if text > current:
        raise MonthError(f"month: {text} has not begun (today is in {current})")
    return text


def previous_month(today: date | None = None) -> str:
    """The month before ``today`` (Asia/Shanghai): what a close run on the 2nd closes."""
    day = today or now().date()
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return f"{year}-{month:02d}"


def month_start(month: str) -> datetime:
    return datetime(int(month[:4]), int(month[5:7]), 1, tzinfo=SHANGHAI)


def next_month_start(month: str) -> datetime:
    year, mon = int(month[:4]), int(month[5:7])
    return datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=SHANGHAI)


def in_month(moment: datetime, month: str) -> bool:
    return month_start(month) <= to_shanghai(moment) < next_month_start(month)


# -- the facts the flow gathers --------------------------------------------------------------------------------


class LedgerRow(BaseModel):
    change_no: str
    change_type: str
    amount: Decimal
    balance_after: Decimal
    change_time: datetime
    ref_no: str = ""
    out_ref_no: str = ""


class RefundFact(BaseModel):
    refund_no: str
    out_order_no: str
    order_no: str
    amount: Decimal
    service_amount: Decimal
    refund_type: str
    status: str
    refund_time: datetime


class InvoiceFact(BaseModel):
    apply_no: str
    amount: Decimal
    status: str


# -- what the close reports ---------------------------------------------------------------------------------------


class Difference(BaseModel):
    kind: str
    key: str = Field(description="the order (outOrderNo), refund or ledger row it is about")
    detail: str


class DocumentLine(BaseModel):
    kind: str  # "receipt" or "tax certificate"
    number: str  # the receipt or certificate number
    key: str = ""  # the order (outOrderNo) of a receipt; the period of a certificate
    state: str  # fetched | already stored | void | pending | unavailable
    detail: str = ""
    file: str = ""  # relative to the month folder


class MonthTotals(BaseModel):
    opening_balance: Decimal = ZERO
    closing_balance: Decimal = ZERO
    recharged: Decimal = ZERO
    paid: Decimal = ZERO
    fees: Decimal = ZERO
    refunded: Decimal = ZERO
    withdrawn: Decimal = ZERO
    invoiced: Decimal = ZERO
    invoice_pending: Decimal = ZERO


class MonthCloseReport(BaseModel):
    month: str
    tax_base_code: str
    folder: str
    totals: MonthTotals
    orders: dict[str, int] = Field(default_factory=dict, description="order state → how many this month")
    documents: list[DocumentLine] = Field(default_factory=list)
    differences: list[Difference] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.differences

    def count(self, kind: str, state: str) -> int:
        return sum(1 for d in self.documents if d.kind == kind and d.state == state)

    def markdown(self) -> str:
        t = self.totals
        verdict = "✅ the books agree" if self.clean else f"⚠️ **{len(self.differences)} difference(s)**"
        out = [
            f"# Month-end close · {self.month} · {self.tax_base_code}",
            "",
            f"{verdict} · documents in `{self.folder}`",
            "",
            "| | amount |",
            "|---|---:|",
            f"| opening balance | {fmt_yuan(t.opening_balance)} |",
            f"| recharged | {fmt_yuan(t.recharged)} |",
            f"| paid to freelancers | {fmt_yuan(t.paid)} |",
            f"| service fees | {fmt_yuan(t.fees)} |",
            f"| refunded (failed and bounced) | {fmt_yuan(t.refunded)} |",
            f"| withdrawn | {fmt_yuan(t.withdrawn)} |",
            f"| closing balance | {fmt_yuan(t.closing_balance)} |",
            f"| invoiced (issued) | {fmt_yuan(t.invoiced)} |",
            f"| invoice applied, not yet issued | {fmt_yuan(t.invoice_pending)} |",
            "",
            "| orders | " + " | ".join(sorted(self.orders)) + " |" if self.orders else "orders: none this month",
        ]
        if self.orders:
            out += [
                "|---" * (len(self.orders) + 1) + "|",
                "| count | " + " | ".join(str(self.orders[k]) for k in sorted(self.orders)) + " |",
            ]
        out += [
            "",
            "| documents | fetched now | already stored | pending | void | unavailable |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for kind in ("receipt", "tax certificate"):
            cells = [str(self.count(kind, s)) for s in ("fetched", "already stored", "pending", "void", "unavailable")]
            out.append(f"| {kind}s | " + " | ".join(cells) + " |")
        odd = [d for d in self.documents if d.state in ("void", "unavailable", "pending")]
        if odd:
            out += ["", "| document | for | state | why |", "|---|---|---|---|"]
            out += [f"| {d.kind} {d.number} | {d.key} | {d.state} | {d.detail} |" for d in odd[:200]]
            if len(odd) > 200:
                out.append(f"| … | | | {len(odd) - 200} more in manifest.json |")
        if self.differences:
            out += ["", "## Differences", "", "| kind | order / record | detail |", "|---|---|---|"]
            out += [f"| {d.kind} | {d.key} | {d.detail} |" for d in self.differences]
        if self.notes:
            out += ["", *[f"- {n}" for n in self.notes]]
        return "\n".join(out)


# -- deciding ---------------------------------------------------------------------------------------------------


def month_rows(rows: Iterable[LedgerRow], month: str) -> list[LedgerRow]:
    return [r for r in rows if in_month(r.change_time, month)]


def month_order_keys(rows: Iterable[LedgerRow], month: str) -> list[str]:
    """The orders (outOrderNo) whose payout left the account in ``month``, in ledger order."""
    seen: dict[str, None] = {}
    for r in month_rows(rows, month):
        if r.change_type == "PAYOUT" and r.out_ref_no:
            seen.setdefault(r.out_ref_no)
    return list(seen)


def totals(rows: Sequence[LedgerRow], month: str, invoices: Iterable[InvoiceFact], balance: Decimal) -> MonthTotals:
    """The month's sums from its ledger rows; ``balance`` (now) opens and closes a month without rows."""
    inside = month_rows(rows, month)
    sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for r in inside:
        sums[r.change_type] += r.amount
    later = [r for r in rows if to_shanghai(r.change_time) >= next_month_start(month)]
    if inside:
        opening, closing = inside[0].balance_after - inside[0].amount, inside[-1].balance_after
    else:  # nothing moved: the balance before the first later row, or the balance now
        opening = closing = (later[0].balance_after - later[0].amount) if later else balance
    bills = list(invoices)
    return MonthTotals(
        opening_balance=opening,
        closing_balance=closing,
        recharged=sums["RECHARGE"],
        paid=-sums["PAYOUT"],
        fees=-sums["SERVICE_FEE"],
        refunded=sums["REFUND"],
        withdrawn=-sums["WITHDRAWAL"],
        invoiced=sum((i.amount for i in bills if i.status == "ISSUED"), ZERO),
        invoice_pending=sum((i.amount for i in bills if i.status == "APPLIED"), ZERO),
    )


def compare_month(
    month: str,
    rows: Sequence[LedgerRow],
    balance: Decimal,
    journal: Iterable[JournalOrder],
    orders: Iterable[PlatformOrder],
    refunds: Iterable[RefundFact],
) -> list[Difference]:
    """Every difference the close finds; ``rows`` is the ledger from the month's first day to now."""
    diffs: list[Difference] = []
    keys = month_order_keys(rows, month)
    states = {o.out_order_no: o for o in orders}
    recorded = {j.out_order_no: j for j in journal}

    # The runs' records against the platform's orders.
    diffs += [
        Difference(kind=kind, key=key, detail=detail)
        for kind, key, detail in recorded_vs_platform(recorded.values(), states)
    ]
    for key in keys:
        if key not in recorded:
            diffs.append(Difference(kind="unrecorded payout", key=key, detail="paid this month; no run recorded it"))

    # The ledger: it chains, it ends at the balance, and each order's rows net to what its state owes.
    previous: Decimal | None = None
    for r in rows:
        if previous is not None and previous + r.amount != r.balance_after:
            diffs.append(
                Difference(kind="ledger chain", key=r.change_no, detail=f"{previous} {r.amount:+} ≠ {r.balance_after}")
            )
        previous = r.balance_after
    if previous is not None and previous != balance:
        diffs.append(Difference(kind="ledger balance", key="account", detail=f"last row {previous}, account {balance}"))
    moves: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for r in rows:
        if r.out_ref_no:
            moves[r.out_ref_no][r.change_type] += r.amount
    for key in keys:
        state = states.get(key)
        if state is None:
            diffs.append(
                Difference(kind="order unknown", key=key, detail="the ledger pays it; SFT0505 does not know it")
            )
            continue
        net = moves[key]["PAYOUT"] + moves[key]["SERVICE_FEE"] + moves[key]["REFUND"]
        want = -(state.amount + state.service_amount) if state.status in OWING else ZERO
        if net != want:
            diffs.append(
                Difference(
                    kind="ledger vs order", key=key, detail=f"{state.status}: ledger moved {net}, expected {want}"
                )
            )

    # Refunds: one per failed or bounced order, returning its amount and fee, matching a ledger REFUND row.
    by_order: dict[str, list[RefundFact]] = defaultdict(list)
    for f in refunds:
        by_order[f.out_order_no].append(f)
    for key in keys:
        state = states.get(key)
        if state is None:
            continue
        found = by_order.get(key, [])
        if state.status in REFUNDED:
            if len(found) != 1:
                diffs.append(
                    Difference(
                        kind="refund", key=key, detail=f"{state.status} order has {len(found)} refunds, expected 1"
                    )
                )
                continue
            f = found[0]
            if (f.amount, f.service_amount) != (state.amount, state.service_amount):
                diffs.append(
                    Difference(
                        kind="refund amount",
                        key=key,
                        detail=f"refund {f.refund_no} returned {f.amount} + {f.service_amount}, "
                        f"order was {state.amount} + {state.service_amount}",
                    )
                )
            if f.refund_type != state.status or f.status != "SUCCESS":
                diffs.append(
                    Difference(
                        kind="refund state",
                        key=key,
                        detail=f"refund {f.refund_no} is {f.refund_type}/{f.status} for a {state.status} order",
                    )
                )
        elif found:
            diffs.append(
                Difference(kind="refund", key=key, detail=f"{state.status} order has refund {found[0].refund_no}")
            )
    for key, found in by_order.items():
        back = sum((f.amount + f.service_amount for f in found), ZERO)
        if moves[key]["REFUND"] != back:
            diffs.append(
                Difference(
                    kind="refund vs ledger", key=key, detail=f"refunds {back}, ledger REFUND {moves[key]['REFUND']}"
                )
            )
    for key, changes in moves.items():
        if changes["REFUND"] and key not in by_order:
            diffs.append(
                Difference(
                    kind="refund vs ledger", key=key, detail=f"ledger REFUND {changes['REFUND']}, no refund record"
                )
            )
    return diffs


def order_counts(orders: Iterable[PlatformOrder], keys: Iterable[str]) -> dict[str, int]:
    wanted = set(keys)
    counts: dict[str, int] = defaultdict(int)
    for o in orders:
        if o.out_order_no in wanted:
            counts[o.status] += 1
    return dict(counts)
