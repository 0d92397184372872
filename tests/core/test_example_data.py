"""The documented examples are valid data: every ID number, card number and mobile in ``docs/api.md``
and in :mod:`lingong_core.models.examples` would pass the platform's checks, so a documented request
is not refused with 4101/4201/4203/4104.

The checks are computed here from the rules directly (GB 11643-1999 check character, Luhn), and the
card's BIN must be a debit BIN of the platform's table (``lingong_sandbox/data/bins.csv``).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from lingong_core.models.catalogue import CATALOGUE, MARKETING_CATALOGUE, NOTIFICATIONS
from lingong_core.models.examples import EXAMPLE_PERSON, EXAMPLE_PERSON_MASKED, example
from lingong_sandbox.engine import bins

API_MD = Path(__file__).resolve().parents[2] / "docs" / "api.md"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
ID_FIELDS = {"idCardNo"}
CARD_FIELDS = {"bankCardNo", "payeeBankCardNo"}
MOBILE_FIELDS = {"mobile", "contactMobile", "reservedMobile"}


def id_problem(value: str) -> str | None:
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return "not 17 digits and a digit or X"
    if CHECK[sum(int(d) * w for d, w in zip(value[:17], WEIGHTS, strict=True)) % 11] != value[17]:
        return "wrong GB 11643 check character"
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "birth date is not a date"
    if not 18 <= (date(2026, 11, 26) - birth).days // 365 <= 60:
        return "age outside 18–60 on the examples' date"
    return None


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def card_problem(value: str) -> str | None:
    if not re.fullmatch(r"\d{12,19}", value):
        return "not 12–19 digits"
    if not luhn_ok(value):
        return "fails the Luhn check"
    info = bins.lookup(value)
    if info.card_type != "DEBIT":
        return f"BIN is not a debit card of the platform's table ({info.card_type})"
    return None


def mobile_problem(value: str) -> str | None:
    return None if re.fullmatch(r"1[3-9]\d{9}", value) else "not a mainland mobile number"


def problems(pairs: list[tuple[str, str]]) -> list[str]:
    out = []
    for field, value in pairs:
        if "*" in value:  # masked, as the platform answers: only its visible shape matters
            continue
        check = id_problem if field in ID_FIELDS else card_problem if field in CARD_FIELDS else mobile_problem
        problem = check(value)
        if problem:
            out.append(f"{field} {value}: {problem}")
    return out


def walk(data: Any) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ID_FIELDS | CARD_FIELDS | MOBILE_FIELDS and isinstance(value, str):
                found.append((key, value))
            else:
                found += walk(value)
    elif isinstance(data, list):
        for item in data:
            found += walk(item)
    return found


def test_the_example_person_is_valid_data() -> None:
    assert id_problem(EXAMPLE_PERSON["idCardNo"]) is None
    assert card_problem(EXAMPLE_PERSON["bankCardNo"]) is None
    assert mobile_problem(EXAMPLE_PERSON["mobile"]) is None
    masked = EXAMPLE_PERSON_MASKED
    assert masked["idCardNo"][:6] == EXAMPLE_PERSON["idCardNo"][:6]
    assert masked["idCardNo"][-4:] == EXAMPLE_PERSON["idCardNo"][-4:]
    assert masked["bankCardNo"][-4:] == EXAMPLE_PERSON["bankCardNo"][-4:]


def test_every_example_of_every_model_is_valid_data() -> None:
    models = [s.request for s in (*CATALOGUE.values(), *MARKETING_CATALOGUE.values())]
    models += [s.response for s in (*CATALOGUE.values(), *MARKETING_CATALOGUE.values())]
    models += list(NOTIFICATIONS.values())
    pairs = [pair for model in models for pair in walk(example(model))]
    assert any(field == "idCardNo" and "*" not in value for field, value in pairs)
    assert problems(pairs) == []


def test_every_id_card_and_mobile_in_docs_api_md_is_valid_data() -> None:
    text = API_MD.read_text(encoding="utf-8")
    keys = "|".join(sorted(ID_FIELDS | CARD_FIELDS | MOBILE_FIELDS))
    pairs = [(m[1], m[2]) for m in re.finditer(rf'"({keys})"\s*:\s*"([^"]*)"', text)]
    # and any bare 18-character ID-shaped token, wherever it stands in the text
    pairs += [("idCardNo", m[0]) for m in re.finditer(r"(?<![\d*])\d{17}[\dX](?![\d*])", text)]
    assert len([p for p in pairs if "*" not in p[1]]) >= 19
    assert problems(pairs) == []


@pytest.mark.parametrize(
    ("value", "problem"),
    [("110101199003071235", "check character"), ("6222021234567890127", "Luhn"), ("12812345678", "mobile")],
)
def test_the_checks_catch_a_bad_example(value: str, problem: str) -> None:
    field = "idCardNo" if len(value) == 18 else "mobile" if len(value) == 11 else "bankCardNo"
    assert any(problem in p for p in problems([(field, value)]))
