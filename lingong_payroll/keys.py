"""Business keys derived from a payroll's inputs, so a task retry or a whole re-run reuses them.

The platform refuses a second ``outOrderNo`` or ``outBatchNo`` (contract §4), so deriving them from
the inputs — never from a clock, a random number or a flow-run id — is what makes a re-run unable to
pay anyone twice. The keys are:

- **run**: merchant, service provider, period, project, and the operator's ``batch_ref`` when given;
- **order** (``outOrderNo``): the run, the payee's ID number, and the payee's occurrence in the
  payroll (a second line for the same person in the same payroll is a second order). Re-running the
  same period — even from an edited file — reaches the same keys, so anyone already paid is found,
  not paid again. Paying the same people again on purpose takes a new ``batch_ref``;
- **batch** (``outBatchNo``): the run and the sorted set of order keys it carries.

The ``requestNo`` of a write is *not* derived: the platform replays the stored answer to a repeated
requestNo for 24 hours, so a batch refused for a short balance or an unbound card would be refused
again after the operator fixed it. Each logical send gets a fresh requestNo (the core keeps it across
its own transport retries); the business key is what makes a second send harmless — the platform
answers it with 409 and the existing number, and the task adopts that record.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lingong_core.errors import InputError

PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
REF_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


def _digest(*parts: str, size: int = 16) -> str:
    h = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=20)
    return h.hexdigest()[:size].upper()


def check_period(period: str) -> str:
    if not isinstance(period, str) or not PERIOD_RE.match(period.strip()):
        raise InputError("period", "must be a month as yyyy-MM, e.g. 2026-11", repr(period)[:20])
    return period.strip()


def check_batch_ref(ref: str | None) -> str | None:
    if ref is None or ref == "":
        return None
    if not REF_RE.match(ref):
        raise InputError("batchRef", "must be 1–32 letters, digits, '_', '.' or '-'", ref[:40])
    return ref


@dataclass(frozen=True, slots=True)
class RunKey:
    merchant_no: str
    tax_base_code: str
    period: str
    project_no: str = ""
    batch_ref: str | None = None

    @property
    def token(self) -> str:
        return _digest(
            "run", self.merchant_no, self.tax_base_code, self.period, self.project_no, self.batch_ref or "", size=10
        )

    @property
    def compact_period(self) -> str:
        return self.period.replace("-", "")

    def order_no(self, id_card_no: str, occurrence: int) -> str:
        """``outOrderNo`` for the ``occurrence``-th line (from 1) of this person in the payroll. 30 chars."""
        digest = _digest("order", self.token, id_card_no.upper(), str(occurrence))
        return f"PO{self.compact_period}{digest}{occurrence:02d}"

    def batch_no(self, order_nos: Iterable[str]) -> str:
        """``outBatchNo`` for a batch carrying exactly these orders."""
        return f"PB{self.compact_period}{_digest('batch', self.token, *sorted(order_nos))}"

    def invoice_apply_no(self, batch_nos: Iterable[str]) -> str:
        return f"PI{self.compact_period}{_digest('invoice', self.token, *sorted(batch_nos))}"


def occurrences(id_card_nos: Sequence[str]) -> list[int]:
    """For each line, which occurrence of that person it is (1 for the first line, 2 for the second, …)."""
    seen: Counter[str] = Counter()
    out = []
    for id_no in id_card_nos:
        seen[id_no.upper()] += 1
        out.append(seen[id_no.upper()])
    return out
