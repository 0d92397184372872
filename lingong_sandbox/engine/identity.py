"""Personal-data rules: the resident ID number (GB 11643-1999), the age the platform accepts, the mobile.

The check character is python-stdnum's (``stdnum.cn.ric``); the number must start with a
province-level code; the birth date must be a real day not in the future; the age on the day of the
call must lie within ``settings.min_age`` … ``settings.max_age`` (18–65 by default). The full region
code is not checked against the county list: a county's code says where the number was first issued,
which may postdate the birth (stdnum's year check would refuse real people).
"""

from __future__ import annotations

import re
from datetime import date

from stdnum.cn import ric

from lingong_core.text import normalise_name as normalise_name  # re-exported: the name comparisons use it

from ..interface import PlatformError
from . import codes

#: The first two digits of the region code: the province-level divisions (GB/T 2260).
PROVINCES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42"}
    | {"43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82"}
)
MOBILE_RE = re.compile(r"1[3-9]\d{9}")
_NAME_RE = re.compile(r"[^\d@#$%^&*<>{}\[\]|\\/:;\"'=+~`!?]{2,30}")


def normalise_id(value: str) -> str:
    return "".join(value.split()).upper()


def check_id(id_card_no: str, today: date, min_age: int, max_age: int, *, field: str = "idCardNo") -> str:
    """The normalised ID number, or a 41xx :class:`PlatformError` saying which rule it breaks."""
    number = normalise_id(id_card_no)
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        raise codes.ID_CARD_INVALID.error(f"{field} must be 18 characters: 17 digits and a digit or X")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise codes.ID_CARD_BIRTH_DATE_INVALID.error(f"{field} holds no real birth date") from None
    if birth > today:
        raise codes.ID_CARD_BIRTH_DATE_INVALID.error(f"{field} holds a birth date in the future")
    if number[:2] not in PROVINCES:
        raise codes.ID_CARD_INVALID.error(f"{field} does not start with a province code")
    if ric.calc_check_digit(number) != number[17]:
        raise codes.ID_CARD_INVALID.error(f"{field} check character is wrong (GB 11643)")
    age = age_on(birth, today)
    if not min_age <= age <= max_age:
        raise codes.AGE_OUT_OF_RANGE.error(f"age {age} is outside {min_age}–{max_age}")
    return number


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def check_mobile(mobile: str, *, field: str = "mobile") -> str:
    text = mobile.strip()
    if not MOBILE_RE.fullmatch(text):
        raise codes.MOBILE_INVALID.error(f"{field} must be 11 digits starting 13–19")
    return text


def check_name(name: str, *, field: str = "name") -> str:
    text = normalise_name(name)  # names are compared as lingong_core.text normalises them, on both sides
    if not _NAME_RE.fullmatch(text):
        raise codes.NAME_INVALID.error(f"{field} must be 2–30 characters without digits or symbols")
    return text


def id_problem(id_card_no: str, today: date, min_age: int, max_age: int) -> PlatformError | None:
    """The refusal :func:`check_id` would raise, or None."""
    try:
        check_id(id_card_no, today, min_age, max_age)
    except PlatformError as exc:
        return exc
    return None
