"""Reconcile: compare the platform's ledger (SFT0305) and orders (SFT0505) with what the runs recorded
(the run journal), and report every difference.

Differences it finds:

- an order a run recorded that the platform does not know, or knows with another amount or state;
- a payout in the ledger for an order no run recorded;
- an order whose ledger rows disagree with its state (a SUCCESS order not debited exactly once, a
  FAILED or BOUNCED order not refunded);
- a ledger that does not chain (a row's balance is not the previous balance plus its change), or whose
  last balance is not the account's balance.

``python -m flows.reconcile [TAX_BASE_CODE]`` runs it.
"""

from __future__ import annotations

import asyncio
import sys
from collections import defaultdict
from decimal import Decimal

from prefect import flow
from prefect.artifacts import acreate_markdown_artifact
from pydantic import BaseModel, Field

from flows import DEFAULT_TAX_BASE_CODE
from lingong_core.money import fmt_yuan
from lingong_payroll.journal import Journal, JournalOrder
from lingong_payroll.orders import PlatformOrder
from lingong_payroll.outcomes import bounced_since, bounced_since_note, recorded_vs_platform
from tasks.credentials import CredentialsParameter, credentials_name
from tasks.reconciling import LedgerSnapshot, read_ledger
from tasks.settlement import lookup_orders


class Difference(BaseModel):
    kind: str
    key: str
    detail: str


class ReconcileReport(BaseModel):
    tax_base_code: str
    journal_orders: int
    platform_orders: int
    ledger_rows: int
    balance: Decimal
    differences: list[Difference] = Field(default_factory=list)
    bounced_since: list[str] = Field(
        default_factory=list, description="orders a run saw paid that the bank returned since (now recorded BOUNCED)"
    )

    @property
    def clean(self) -> bool:
        return not self.differences

    def markdown(self) -> str:
        head = [
            f"# Reconciliation · {self.tax_base_code}",
            "",
            f"- orders recorded by runs: {self.journal_orders}; found on the platform: {self.platform_orders}",
            f"- ledger rows: {self.ledger_rows}; balance {fmt_yuan(self.balance)}",
            f"- differences: **{len(self.differences)}**",
        ]
        if self.bounced_since:
            head += [f"- {bounced_since_note(self.bounced_since)}"]
        if self.differences:
            head += ["", "| kind | key | detail |", "|---|---|---|"]
            head += [f"| {d.kind} | {d.key} | {d.detail} |" for d in self.differences]
        return "\n".join(head)


def compare(journal: list[JournalOrder], states: dict[str, PlatformOrder], ledger: LedgerSnapshot) -> list[Difference]:
    """Every difference between the runs' records, the platform's orders and its ledger."""
    diffs: list[Difference] = []
    recorded = {o.out_order_no: o for o in journal}
    diffs += [
        Difference(kind=kind, key=key, detail=detail) for kind, key, detail in recorded_vs_platform(journal, states)
    ]

    moves: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    previous: Decimal | None = None
    for line in ledger.lines:
        if previous is not None and previous + line.amount != line.balance_after:
            diffs.append(
                Difference(
                    kind="ledger chain", key=line.change_no, detail=f"{previous} {line.amount:+} ≠ {line.balance_after}"
                )
            )
        previous = line.balance_after
        if line.out_ref_no:
            moves[line.out_ref_no][line.change_type] += line.amount
    if previous is not None and previous != ledger.balance:
        diffs.append(
            Difference(
                kind="ledger balance", key=ledger.tax_base_code, detail=f"last row {previous}, account {ledger.balance}"
            )
        )
    for key, changes in moves.items():
        if "PAYOUT" in changes and key not in recorded:
            diffs.append(Difference(kind="unrecorded payout", key=key, detail=f"{changes['PAYOUT']} left the account"))
    for key, state in states.items():
        changes = moves.get(key, {})
        net = (
            changes.get("PAYOUT", Decimal(0))
            + changes.get("REFUND", Decimal(0))
            + changes.get("SERVICE_FEE", Decimal(0))
        )
        owed = -(state.amount + state.service_amount)
        want = owed if state.status in ("SUCCESS", "ACCEPTED", "PROCESSING") else Decimal(0)
        if net != want:
            diffs.append(
                Difference(
                    kind="ledger vs order", key=key, detail=f"{state.status}: ledger moved {net}, expected {want}"
                )
            )
    return diffs


@flow(name="reconcile", description="Compare the platform's ledger and orders with what the runs recorded.")
async def reconcile(
    tax_base_code: str = DEFAULT_TAX_BASE_CODE, credentials_block: CredentialsParameter = None
) -> ReconcileReport:
    """Compare the run journal with the platform's orders and ledger; report every difference.

    Args:
        tax_base_code: The service provider's account to reconcile.
        credentials_block: A saved LingongCredentials Block, picked in the form (or its name); empty: LINGONG_*.
    """
    credentials_block = credentials_name(credentials_block)  # tasks take the Block's name
    with Journal() as journal:
        recorded = journal.orders(tax_base_code)
        ledger = await read_ledger(tax_base_code, credentials_block)
        keys = sorted(
            {o.out_order_no for o in recorded}
            | {line.out_ref_no for line in ledger.lines if line.change_type == "PAYOUT" and line.out_ref_no}
        )
        states = {s.out_order_no: s for s in await lookup_orders(keys, credentials_block=credentials_block)}
        caught_up = bounced_since(recorded, states)
        journal.record(caught_up)  # a bounce whose notification is late or lost: the journal learns it here
    report = ReconcileReport(
        tax_base_code=tax_base_code,
        journal_orders=len(recorded),
        platform_orders=len(states),
        ledger_rows=len(ledger.lines),
        balance=ledger.balance,
        differences=compare(recorded, states, ledger),
        bounced_since=[r.out_order_no for r in caught_up],
    )
    await acreate_markdown_artifact(report.markdown(), key=f"reconcile-{tax_base_code}", description="Reconciliation")
    return report


if __name__ == "__main__":  # pragma: no cover - a thin command-line entry
    print(asyncio.run(reconcile(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_TAX_BASE_CODE)).markdown())
