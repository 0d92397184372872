"""The verdict after a scenario, from the sandbox's own ledger (its audit view) and the runs' reports.

For every payout the scenario intended (its ``outOrderNo`` derived from the inputs, lingong_payroll.keys)
and what it expected of it (paid; refused before payment; failed by the bank; paid and then bounced):

- **paid once**: the platform holds one order for the key, in the expected final state, debited once
  (or refunded, for a failure or a bounce);
- **paid twice**: more than one order or debit for a key, a payee paid the same amount twice for the same
  period under different keys (the audit's ``suspected_duplicates``), or anything paid that no run intended;
- **lost**: an intended payout with no order in a final state, which the run did not report either;
- **misreported**: the run's final report disagrees with the platform (says paid when it was not, …);
- **unexplained**: a payee the run did not pay, reported without a reason;
- **held**: a line the operator changed after its person was paid (scenarios that edit and re-run): no
  order for its key, reported HELD with a reason;
- **by person**: each person's total per period in the audit (SUCCESS orders, grouped by the audit's digest
  of the full ID number — not by our keys) equals what the scenario's final payrolls owe them: the sum of
  the intended lines expected to be paid, where a held person is owed what they were paid before the edit.
  A total above that is counted **paid_twice**, below it **lost**.

The account must balance to the fen: ``balance = recharges − payouts − fees + refunds`` in the ledger, and
also ``recharged − Σ (amount + fee)`` over the orders still debited, with the fees the runs reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from lingong_payroll.report import FINAL, Outcome, PayeeLine, PayrollReport

from .kit import TAX


class Expect(StrEnum):
    PAY = "pay"
    REFUSE = "refuse"  # the platform refuses it before payment (over a limit, a credit card …)
    FAIL = "fail"  # the bank fails it (scripted): refunded
    BOUNCE = "bounce"  # paid, then bounced (scripted): refunded
    HOLD = "hold"  # the operator changed it after the person was paid: never submitted, reported HELD


#: The platform's final order status each expectation must end in (REFUSE: no order at all).
_FINAL_STATUS = {Expect.PAY: "SUCCESS", Expect.FAIL: "FAILED", Expect.BOUNCE: "BOUNCED"}
#: What the final report may say for each platform status (a bounce may come after the run collected).
_REPORTED = {
    "SUCCESS": {Outcome.PAID},
    "FAILED": {Outcome.FAILED},
    "BOUNCED": {Outcome.BOUNCED, Outcome.PAID},
}


@dataclass(frozen=True)
class Intended:
    key: str
    amount: Decimal
    expect: Expect
    run: str
    person: str = ""  # the audit's digest of the ID number (lingong_sandbox.engine.audit.person_digest)
    period: str = ""
    ident: str = ""  # the run identity's token (lingong_payroll.keys.RunKey.token) the key derives from


@dataclass
class Tally:
    scenario: str
    profile: str
    seed: int
    runs: int = 0
    faulted: int = 0
    payees: int = 0
    faults: int = 0
    kills: int = 0
    restarts: int = 0
    forged: int = 0
    errors: int = 0  # run attempts that ended in an exception, then re-run
    paid_once: int = 0
    paid_twice: int = 0
    lost: int = 0
    refused: int = 0
    failed: int = 0
    bounced: int = 0
    held: int = 0
    people: int = 0  # (person, period) totals checked against the final payrolls
    misreported: int = 0
    unexplained: int = 0
    balanced: bool = False
    wall: float = 0.0
    problems: list[str] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.paid_twice == 0
            and self.lost == 0
            and self.misreported == 0
            and self.unexplained == 0
            and self.balanced
            and not self.problems
        )

    def line(self) -> str:
        extra = [f"kills={self.kills}"] if self.kills else []
        extra += [f"restarts={self.restarts}"] if self.restarts else []
        extra += [f"forged={self.forged}"] if self.forged else []
        return (
            f"{self.scenario:<22} {self.profile:<5} seed={self.seed:<10} runs={self.runs:<3} faulted={self.faulted:<3} "
            f"payees={self.payees:<4} faults={self.faults:<4} paid_once={self.paid_once:<4} "
            f"paid_twice={self.paid_twice} lost={self.lost} refused={self.refused} failed={self.failed} "
            f"bounced={self.bounced} held={self.held} people={self.people} errors={self.errors} "
            f"misreported={self.misreported} "
            f"balanced={'yes' if self.balanced else 'NO'} {' '.join(extra)}{' ' if extra else ''}{self.wall:.0f}s"
        ).rstrip()


def reported_lines(report: PayrollReport) -> dict[str, PayeeLine]:
    return {line.out_order_no: line for line in report.lines if line.out_order_no}


def check_claims(tally: Tally, report: PayrollReport, audit: dict[str, Any]) -> None:
    """Any report, final or not: a payee it calls paid must be paid on the platform."""
    for line in report.lines:
        if line.outcome != Outcome.PAID:
            continue
        statuses = (audit["orders"].get(line.out_order_no) or {}).get("statuses", [])
        if not {"SUCCESS", "BOUNCED"} & set(statuses):
            tally.misreported += 1
            tally.problems.append(f"{line.out_order_no}: reported PAID, the platform has {statuses or 'no order'}")


def judge(
    tally: Tally,
    intended: dict[str, Intended],
    final: dict[str, PayeeLine],
    audit: dict[str, Any],
    recharged: Decimal,
) -> None:
    """Fill ``tally``'s verdict for the scenario's sandbox (which only this scenario used)."""
    orders: dict[str, dict[str, Any]] = audit["orders"]
    for key in sorted(set(orders) - set(intended)):
        tally.paid_twice += 1
        tally.problems.append(f"{key}: on the platform ({orders[key]['statuses']}) but no run intended it")
    for group in audit["suspected_duplicates"]:
        if set(group["outOrderNos"]) <= set(intended):
            continue  # identical lines of one payroll, each intended: the per-person totals judge them
        tally.paid_twice += 1
        tally.problems.append(f"suspected duplicate payout: {group}")
    for entry in audit["inconsistent"]:
        tally.problems.append(f"ledger rows disagree with the order's state: {entry}")

    debited_total = Decimal("0.00")
    for key, want in sorted(intended.items()):
        entry = orders.get(key)
        statuses: list[str] = list(entry["statuses"]) if entry else []
        line = final.get(key)
        if entry is not None:
            debited_total += (want.amount + (line.service_amount if line else Decimal(0))) * int(entry["debited"])
        if line is not None and line.outcome in FINAL and line.outcome != Outcome.PAID and not line.reason.strip():
            tally.unexplained += 1
            tally.problems.append(f"{key}: reported {line.outcome} without a reason")
        if entry is not None and (len(statuses) > 1 or entry["paid"] > 1 or entry["debited"] > 1):
            tally.paid_twice += 1
            tally.problems.append(f"{key}: {len(statuses)} orders {statuses}, debited {entry['debited']}")
            continue

        if want.expect == Expect.HOLD:
            if statuses:
                tally.paid_twice += 1
                tally.problems.append(f"{key}: should have been held, the platform has {statuses}")
            elif line is None or line.outcome != Outcome.HELD or not line.reason.strip():
                tally.misreported += 1
                tally.problems.append(f"{key}: held, reported {line.outcome if line else 'nothing'}")
            else:
                tally.held += 1
            continue
        if want.expect == Expect.REFUSE:
            if statuses:
                tally.problems.append(f"{key}: should have been refused, the platform has {statuses}")
            elif line is None or line.outcome != Outcome.REFUSED:
                tally.misreported += 1
                tally.problems.append(f"{key}: refused by the platform, reported {line.outcome if line else 'nothing'}")
            else:
                tally.refused += 1
            continue

        status = statuses[0] if statuses else None
        if status not in ("SUCCESS", "FAILED", "BOUNCED"):
            if line is None or line.outcome not in FINAL or not line.reason.strip():
                tally.lost += 1
                tally.problems.append(
                    f"{key}: LOST — platform {status or 'no order'}, reported {line.outcome if line else 'nothing'}"
                )
            else:
                tally.problems.append(f"{key}: not paid, reported {line.outcome}: {line.reason}")
            continue
        if status != _FINAL_STATUS[want.expect]:
            tally.problems.append(f"{key}: expected {_FINAL_STATUS[want.expect]}, the platform says {status}")
        if line is None or line.outcome not in _REPORTED[status]:
            tally.misreported += 1
            tally.problems.append(f"{key}: platform {status}, reported {line.outcome if line else 'nothing'}")
        if status == "SUCCESS":
            tally.paid_once += 1
        elif status == "FAILED":
            tally.failed += 1
        else:
            tally.bounced += 1

    by_person(tally, intended, orders)

    ledger = audit["ledger"].get(TAX)
    if ledger is None:
        tally.balanced = bool(audit["balanced"]) and recharged == 0
        return
    equation = ledger["recharges"] - ledger["payouts"] - ledger["fees"] + ledger["refunds"] - ledger["withdrawals"]
    expected = recharged - debited_total
    tally.balanced = bool(audit["balanced"]) and ledger["balance"] == equation == expected
    if ledger["recharges"] != recharged:
        tally.balanced = False
        tally.problems.append(f"recharges {ledger['recharges']} on the platform, {recharged} reported once")
    if not tally.balanced:
        tally.problems.append(
            f"ledger: balance {ledger['balance']}, recharges − payouts − fees + refunds = {equation}, "
            f"recharged − what the intended orders hold = {expected}"
        )


def by_person(tally: Tally, intended: dict[str, Intended], orders: dict[str, dict[str, Any]]) -> None:
    """Each person's SUCCESS total per period in the audit against what the final payrolls owe them."""
    owed: dict[tuple[str, str], Decimal] = {}
    for want in intended.values():
        cell = (want.person, want.period)
        owed[cell] = owed.get(cell, Decimal("0.00")) + (want.amount if want.expect == Expect.PAY else Decimal(0))
    paid: dict[tuple[str, str], Decimal] = {}
    for entry in orders.values():
        cell = (str(entry["person"]), str(entry["period"]))
        paid.setdefault(cell, Decimal("0.00"))
        paid[cell] += Decimal(str(entry["amount"])) * entry["statuses"].count("SUCCESS")
    for cell in sorted(set(owed) | set(paid)):
        want, got = owed.get(cell, Decimal("0.00")), paid.get(cell, Decimal("0.00"))
        tally.people += 1
        if got > want:
            tally.paid_twice += 1
            tally.problems.append(f"person {cell[0]} in {cell[1]}: paid {got}, the final payroll owes {want}")
        elif got < want:
            tally.lost += 1
            tally.problems.append(f"person {cell[0]} in {cell[1]}: paid {got}, the final payroll owes {want}")
