"""Bank card BIN lookup (SFT0202) from the table the project ships: ``lingong_sandbox/data/bins.csv``.

A card matches the row with the longest BIN prefix whose card length equals the card's; the row says
the bank and whether it is a DEBIT, CREDIT or PREPAID card. No matching row: ``UNKNOWN``. The Luhn
check (python-stdnum) is reported beside it as ``luhnValid`` — some real Chinese debit cards fail it,
so the platform only refuses such a card where the merchant's ``luhn_strict`` setting says so.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from stdnum import luhn

from . import codes

CARD_RE = re.compile(r"\d{12,19}")
DEBIT, CREDIT, PREPAID, UNKNOWN = "DEBIT", "CREDIT", "PREPAID", "UNKNOWN"


@dataclass(frozen=True, slots=True)
class BinRow:
    bank_code: str
    bank_name: str
    bin: str
    card_length: int
    card_type: str


@dataclass(frozen=True, slots=True)
class CardInfo:
    card_no: str
    bank_code: str | None
    bank_name: str | None
    card_type: str
    luhn_valid: bool

    @property
    def known(self) -> bool:
        return self.card_type != UNKNOWN


@lru_cache(maxsize=1)
def table() -> tuple[BinRow, ...]:
    """Every row of ``bins.csv`` (comment lines start with ``#``)."""
    text = resources.files("lingong_sandbox").joinpath("data/bins.csv").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    rows = []
    for rec in csv.DictReader(lines):
        rows.append(
            BinRow(rec["bank_code"], rec["bank_name"], rec["bin"], int(rec["card_length"]), rec["card_type"].upper())
        )
    return tuple(rows)


@lru_cache(maxsize=1)
def _index() -> dict[tuple[str, int], BinRow]:
    return {(row.bin, row.card_length): row for row in table()}


def normalise_card(value: str) -> str:
    return re.sub(r"[\s-]", "", value)


def lookup(card_no: str) -> CardInfo:
    """What the BIN table says about ``card_no`` (digits only, 12–19 of them)."""
    number = normalise_card(card_no)
    index = _index()
    for size in range(min(len(number), 10), 2, -1):
        row = index.get((number[:size], len(number)))
        if row is not None:
            return CardInfo(number, row.bank_code, row.bank_name, row.card_type, luhn.is_valid(number))
    return CardInfo(number, None, None, UNKNOWN, luhn.is_valid(number) if number.isdigit() else False)


def check_format(card_no: str, *, field: str = "bankCardNo") -> str:
    number = normalise_card(card_no)
    if not CARD_RE.fullmatch(number):
        raise codes.CARD_NUMBER_INVALID.error(f"{field} must be 12–19 digits")
    return number


def check_payable(card_no: str, *, luhn_strict: bool, field: str = "bankCardNo") -> CardInfo:
    """The card's info, or the 42xx refusal for a card payouts cannot go to."""
    info = lookup(check_format(card_no, field=field))
    if not info.known:
        raise codes.CARD_BIN_UNKNOWN.error(f"{field}: no issuer for this BIN and length")
    if info.card_type != DEBIT:
        raise codes.CARD_NOT_DEBIT.error(f"{field} is a {info.card_type.lower()} card of {info.bank_name}")
    if luhn_strict and not info.luhn_valid:
        raise codes.CARD_LUHN_FAILED.error(f"{field} fails the Luhn check")
    return info
