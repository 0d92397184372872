"""Withdrawing unused funds, as pure logic: the withdrawal's business key and what the operator is told.

``outWithdrawNo`` derives from the merchant, the service provider, the receiving account, the amount and
the operator's reference — never from a clock or a run — so a task retry, a re-run or a run on another
machine asks for the same withdrawal, and the platform refuses a key twice (contract §4). Withdrawing the
same amount to the same account again, on purpose, takes a new reference.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

from pydantic import BaseModel

from lingong_core.money import fmt_yuan

REFERENCE_RE = re.compile(r"^[\w.\- ]{1,40}$")
FINAL = frozenset({"SUCCESS", "FAILED"})


class WithdrawalRefusedError(ValueError):
    """The withdrawal cannot be made as asked (the message says which field and why). Nothing was sent."""


def check_reference(reference: str) -> str:
    text = (reference or "").strip()
    if not REFERENCE_RE.match(text):
        raise WithdrawalRefusedError(
            "reference: 1 to 40 letters, digits, spaces, '.', '_' or '-' naming this withdrawal (e.g. 2026-11 surplus)"
        )
    return text


def check_amount(amount: Decimal | str) -> Decimal:
    try:
        value = Decimal(str(amount).strip())
    except ArithmeticError:
        raise WithdrawalRefusedError(f"amount: must be yuan with at most 2 decimals, got {amount!r}") from None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise WithdrawalRefusedError(f"amount: must be more than 0 with at most 2 decimals, got {amount!r}")
    return value.quantize(Decimal("0.01"))


def withdraw_key(merchant_no: str, tax_base_code: str, bind_no: str, amount: Decimal, reference: str) -> str:
    """The withdrawal's ``outWithdrawNo`` (28 characters)."""
    parts = (merchant_no, tax_base_code, bind_no, f"{amount:.2f}", reference)
    return "WD" + hashlib.blake2b("\x1f".join(parts).encode(), digest_size=20).hexdigest()[:26].upper()


class WithdrawalReport(BaseModel):
    out_withdraw_no: str
    withdraw_no: str = ""
    tax_base_code: str
    amount: Decimal
    status: str = ""
    bank_acct_no: str = ""  # masked
    bank_name: str = ""
    fail_msg: str = ""
    earlier: bool = False  # an earlier run (or attempt) applied for it
    available_before: Decimal | None = None
    available_after: Decimal | None = None
    frozen_after: Decimal | None = None
    approval: str = ""  # the four-eyes decision, when one was asked (tasks/approval.py)

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def markdown(self) -> str:
        icon = {"SUCCESS": "✅", "FAILED": "❌"}.get(self.status, "⏳")
        out = [
            f"# Withdrawal {icon} {self.status or 'not applied'} · {fmt_yuan(self.amount)}",
            "",
            "| | |",
            "|---|---|",
            f"| from | service provider {self.tax_base_code} |",
            f"| to | {self.bank_name} {self.bank_acct_no} |",
            f"| withdrawal | {self.withdraw_no} (ours: {self.out_withdraw_no}) |",
        ]
        if self.available_before is not None:
            out.append(f"| available before | {fmt_yuan(self.available_before)} |")
        if self.available_after is not None:
            out.append(f"| available now | {fmt_yuan(self.available_after)} |")
        if self.frozen_after:
            out.append(f"| frozen until the bank answers | {fmt_yuan(self.frozen_after)} |")
        if self.fail_msg:
            out.append(f"| why it failed | {self.fail_msg} (the money stayed in the account) |")
        if self.earlier:
            out += ["", "Applied for by an earlier run with the same inputs: not withdrawn again."]
        if self.approval:
            out += ["", self.approval]
        if not self.final and self.status:
            out += ["", "The bank has not answered yet: notification 2001 starts withdrawal-result, or run again."]
        return "\n".join(out)
