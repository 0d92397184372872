"""Scan files byte by byte for full ID, card and mobile numbers (House rule: none where it does not belong).

Two layers, both over the raw bytes of every file (a SQLite database's free pages and its WAL included):

- **known people**: the exact ID, card and mobile numbers of the people a scenario used, anywhere;
- **anyone**: every digit run that *is* such a number — an 18-character ID with a valid GB 11643 check
  character and a real birth date; a 12–19 digit card whose prefix and length are in the platform's BIN
  table, or a Luhn-valid UnionPay (62…) card; an 11-digit mainland mobile ``^1[3-9]\\d{9}$`` — so that
  order and batch numbers, timestamps and hashes do not count. A run must stand alone (no letter or digit
  either side, so a hex hash's digits are not a match).

Prefect's own block schemas carry three example phone numbers (its Twilio block: ``18001234567``,
``18004242424``, ``18004242425``, US toll-free numbers that happen to fit the mainland pattern): they are
Prefect's text, not anyone's number, and are not counted.

The sandbox's own database is the platform's, not ours, and is left out by the caller.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from stdnum import luhn
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

ROOT = Path(__file__).resolve().parents[1]
# A run neither preceded nor followed by a letter or digit, and not the all-digit last group of a UUID: a SQLite
# record stores columns side by side, so such a group (…-626007943002) and the date column after it (2026-12-03)
# read as one 16-digit run, Luhn-valid one time in ten (seen in Prefect's database).
_UUID_HEAD = rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
_RUN = re.compile(rb"(?<![0-9A-Za-z])(?<!" + _UUID_HEAD + rb")([0-9]{11,19}[0-9Xx]?)(?![0-9A-Za-z])")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
PREFECT_EXAMPLES = frozenset({"18001234567", "18004242424", "18004242425"})


@dataclass(frozen=True, slots=True)
class Finding:
    path: Path
    offset: int
    kind: str  # "id", "card", "mobile"
    masked: str  # never the number itself: a failing test's message must not leak it either

    def __str__(self) -> str:
        return f"{self.path} @{self.offset}: a full {self.kind} number ({self.masked})"


@cache
def _bins() -> tuple[tuple[str, int], ...]:
    with (ROOT / "lingong_sandbox" / "data" / "bins.csv").open(encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return tuple((r["bin"], int(r["card_length"])) for r in rows)


def is_id_number(text: str) -> bool:
    if len(text) != 18 or not text[:17].isdigit():
        return False
    text = text.upper()
    try:
        ric.get_birth_date(text)
    except ValidationError:
        return False
    return bool(ric.calc_check_digit(text) == text[17])


def is_card_number(text: str) -> bool:
    if not (text.isdigit() and 12 <= len(text) <= 19):
        return False
    if any(text.startswith(prefix) and len(text) == length for prefix, length in _bins()):
        return True
    return text.startswith("62") and len(text) >= 16 and bool(luhn.is_valid(text))


def is_mobile(text: str) -> bool:
    return bool(_MOBILE.match(text))


def classify(text: str) -> str | None:
    if is_id_number(text):
        return "id"
    if is_card_number(text):
        return "card"
    if is_mobile(text):
        return "mobile"
    return None


def _mask(text: str) -> str:
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


def files(roots: Iterable[Path], *, exclude: Iterable[str] = ()) -> Iterator[Path]:
    """Every file under ``roots``, but those whose path contains one of ``exclude``."""
    skip = tuple(exclude)
    for root in roots:
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            if not any(s in str(path) for s in skip):
                yield path


def scan_bytes(path: Path, data: bytes, known: Iterable[str] = ()) -> list[Finding]:
    found: list[Finding] = []
    for match in _RUN.finditer(data):
        text = match.group(1).decode()
        kind = classify(text)
        if kind is not None and text not in PREFECT_EXAMPLES:
            found.append(Finding(path, match.start(1), kind, _mask(text)))
    for number in known:
        at = data.find(number.encode())
        if at >= 0:
            found.append(Finding(path, at, "known person's", _mask(number)))
    return sorted(set(found), key=lambda f: (str(f.path), f.offset))


def scan(roots: Iterable[Path], *, exclude: Iterable[str] = (), known: Iterable[str] = ()) -> list[Finding]:
    """Every full ID, card or mobile number in the files under ``roots`` (see the module's docstring)."""
    numbers = sorted({n for n in known if n})
    found: list[Finding] = []
    for path in files(roots, exclude=exclude):
        try:
            data = path.read_bytes()
        except OSError:
            continue  # a file removed while scanning (a WAL checkpointed away)
        found += scan_bytes(path, data, numbers)
    return found
