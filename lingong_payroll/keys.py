"""A payroll run's identity and the business keys derived from it, stable under what operators do to files.

The platform refuses a second ``outOrderNo`` or ``outBatchNo`` (contract §4), so deriving them from the
payroll's meaning — never from a clock, a random number, a flow-run id, a file name or a row number — is
what lets a task retry, a re-run or an edited file reach the same keys (docs/design.md, "Run identity").

- **run identity** (:class:`RunKey`): merchant, service provider (``taxBaseCode``), period, and the
  additional-payment reference (``additional_ref``; empty for the period's regular payroll). Not the
  project, not the file, not a batch label: adding, changing or dropping ``--project`` or naming the batch
  differently pays nobody again. ``--additional REF`` is the only way to pay the same people again on
  purpose (a bonus, 补发, the re-payment ``RP-<orderNo>`` of a bounced order).
- **person token** (:meth:`RunKey.person`): a digest of the run identity and the ID number (normalised),
  at a fixed place in every ``outOrderNo`` (characters 8–17), so orders read back from the platform — whose
  ID numbers come masked — can be grouped by person.
- **order** (``outOrderNo``, :meth:`RunKey.order_no`): the run, the person, the amount, and the line's
  occurrence among that person's lines *with the same amount* (1 for the first such line). Reordering,
  inserting or removing other rows (valid or not), re-exporting or changing the project leaves every
  line's key as it was; two identical lines stay two distinct keys, the same two on every run.
  Format: ``PO`` + yyyyMM + person (10) + line digest (12) = 30 characters.
- **batch** (``outBatchNo``): the run and the sorted set of order keys it carries.
- **marketing** (营销金, ``flows/marketing_payout.py``): the same identity plus the platform's ``campaignNo``
  (:attr:`RunKey.campaign_no`), so a campaign's payout for a period is a run of its own, exactly once per
  person like a payroll; its keys start ``MO`` (orders) and ``MB`` (batches) instead of ``PO`` and ``PB``.
  A run without a campaign keeps the token it always had.

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
from dataclasses import dataclass, field
from decimal import Decimal

from lingong_core.errors import InputError

PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
REF_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
ORDER_RE = re.compile(r"^[PM]O\d{6}[0-9A-F]{22}$")
PERSON = slice(8, 18)  # where the person token sits in an outOrderNo


def _digest(*parts: str, size: int = 16) -> str:
    h = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=20)
    return h.hexdigest()[:size].upper()


def check_period(period: str) -> str:
    if not isinstance(period, str) or not PERIOD_RE.match(period.strip()):
        raise InputError("period", "must be a month as yyyy-MM, e.g. 2026-11", repr(period)[:20])
    return period.strip()


def check_ref(ref: str | None, field: str = "additional") -> str:
    """An additional-payment reference (or a batch label): 1–32 letters, digits, '_', '.' or '-'; "" for none."""
    if ref is None or ref == "":
        return ""
    if not isinstance(ref, str) or not REF_RE.match(ref):
        raise InputError(field, "must be 1–32 letters, digits, '_', '.' or '-'", str(ref)[:40])
    return ref


def check_batch_ref(ref: str | None) -> str | None:
    """The old ``batch_ref``: a label shown in the report, no part of any key."""
    return check_ref(ref, "batchRef") or None


def normalise_id(id_card_no: str) -> str:
    return "".join(id_card_no.split()).upper()


@dataclass(frozen=True, slots=True)
class RunKey:
    merchant_no: str
    tax_base_code: str
    period: str
    additional_ref: str = ""
    campaign_no: str = ""  # a marketing campaign's payout (SFT1101's campaignNo); "" for a payroll
    _token: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:  # every key digests the token: computed once, not per order
        parts = [self.merchant_no, self.tax_base_code, self.period, self.additional_ref]
        if self.campaign_no:  # a payroll's token is unchanged: its keys must stay what they always were
            parts += ["campaign", self.campaign_no]
        object.__setattr__(self, "_token", _digest("run", *parts, size=10))

    @property
    def token(self) -> str:
        return self._token

    @property
    def prefix(self) -> str:
        """The keys' first letter: ``P`` for a payroll, ``M`` for a marketing campaign's payout."""
        return "M" if self.campaign_no else "P"

    @property
    def compact_period(self) -> str:
        return self.period.replace("-", "")

    @property
    def label(self) -> str:
        extra = f" · additional {self.additional_ref}" if self.additional_ref else ""
        if self.campaign_no:
            return f"{self.period} · {self.tax_base_code} · campaign {self.campaign_no}{extra}"
        return f"{self.period} · {self.tax_base_code}{extra or ' · regular payroll'}"

    def person(self, id_card_no: str) -> str:
        """The person's token in this run (10 hex characters): who an order read back from the platform paid."""
        return _digest("person", self.token, normalise_id(id_card_no), size=10)

    def order_no(self, id_card_no: str, amount: Decimal, occurrence: int, person: str | None = None) -> str:
        """``outOrderNo`` of the ``occurrence``-th line (from 1) of this person with this amount. 30 chars.
        ``person``: :meth:`person` of the same ID number, when the caller has it already (one digest less)."""
        line = _digest("order", self.token, normalise_id(id_card_no), f"{amount:.2f}", str(occurrence), size=12)
        return f"{self.prefix}O{self.compact_period}{person or self.person(id_card_no)}{line}"

    def batch_no(self, order_nos: Iterable[str]) -> str:
        """``outBatchNo`` for a batch carrying exactly these orders."""
        return f"{self.prefix}B{self.compact_period}{_digest('batch', self.token, *sorted(order_nos))}"

    def invoice_apply_no(self, batch_nos: Iterable[str]) -> str:
        return f"PI{self.compact_period}{_digest('invoice', self.token, *sorted(batch_nos))}"


def person_of(out_order_no: str) -> str:
    """The person token inside an ``outOrderNo`` this module made; "" for any other key."""
    return out_order_no[PERSON] if ORDER_RE.match(out_order_no) else ""


def occurrences(lines: Sequence[tuple[str, Decimal]], seen: Counter[tuple[str, Decimal]] | None = None) -> list[int]:
    """For each (ID number, amount) line, which occurrence of that person *with that amount* it is (from 1).
    ``seen``: the counts of the lines before these (a payroll read a part at a time), updated."""
    seen = Counter() if seen is None else seen
    out = []
    for id_no, amount in lines:
        key = (normalise_id(id_no), amount)
        seen[key] += 1
        out.append(seen[key])
    return out
