"""The payroll's order types, one set shared by the flow, the tasks and the follow-ups.

- :class:`PlannedOrder` — a payroll line with its business key and person token, as the run plans it
  (the :class:`~lingong_payroll.payees.Payee` inside carries full personal data: passed in memory to the
  platform's writes, never logged; its repr is masked);
- :class:`Check` — the platform's pre-calculation (SFT0501) or refusal (SFT0502) of one order;
- :class:`PlatformOrder` — one settlement order as the platform answers it (SFT0504/SFT0505; name, ID and
  card masked by the platform).

They are slotted dataclasses, not pydantic models: a run holds one of each per payee, and at 100,000 payees
a pydantic model's per-instance dict and field set cost ~1 KB each (measured: a ``PlannedOrder`` 690 B as a
model, 150 B as a slotted dataclass). They are built from values already validated (the payroll's
:class:`~lingong_payroll.payees.Payee`, the platform's parsed answers); pydantic still validates and
serialises them where they sit inside a model (a task's result, a report).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .keys import person_of
from .payees import Payee

#: The final order states on the platform and the report's outcome for each.
FINAL_STATUS = {"SUCCESS": "PAID", "FAILED": "FAILED", "BOUNCED": "BOUNCED"}
#: The platform answers SFT0501/SFT0502 with this code for an ``outOrderNo`` already used.
KEY_USED = 409


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedOrder:
    out_order_no: str
    person: str  # the person token (lingong_payroll.keys.RunKey.person)
    row: int  # where the line came from (sheet row, or position in the parameter list)
    payee: Payee

    @property
    def amount(self) -> Decimal:
        return self.payee.amount


@dataclass(slots=True, kw_only=True)
class Check:
    out_order_no: str
    passed: bool
    service_amount: Decimal = Decimal("0.00")
    code: int | None = None
    reason: str = ""

    @property
    def key_used(self) -> bool:
        return not self.passed and self.code == KEY_USED


@dataclass(slots=True, kw_only=True)
class PlatformOrder:
    order_no: str
    out_order_no: str
    batch_no: str
    out_batch_no: str
    name: str = ""  # masked
    id_card_no: str = ""  # masked
    bank_card_no: str = ""  # masked
    amount: Decimal
    service_amount: Decimal = Decimal("0.00")
    status: str
    fail_msg: str = ""
    create_time: str = ""
    complete_time: str = ""

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUS

    @property
    def holds_money(self) -> bool:
        """Paid or in flight (not failed, not bounced): money this order took and kept."""
        return self.status not in ("FAILED", "BOUNCED")

    @property
    def person(self) -> str:
        return person_of(self.out_order_no)
