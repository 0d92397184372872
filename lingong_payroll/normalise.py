"""One normalisation step for every payroll cell before validation, and the amount rules.

Every text cell goes through :func:`lingong_core.text.normalise_text` (NFKC, invisible characters
removed, whitespace trimmed); names through :func:`lingong_core.text.normalise_name`, the same function
the platform's name comparison uses. Amounts (:func:`parse_amount`) are judged strictly, because a
misread amount is money paid:

- a numeric cell is taken to the fen only when it lies within 1e-6 of a fen value (a formula's
  binary-float noise, ``1234.4999999999``); anything else (``12.3456``) is refused;
- text may carry ``¥``/``￥``, ``元``, ``RMB``/``CNY`` and spaces, and thousands separators only where
  they belong (``12,345.67``); ``1,2,3`` is refused;
- a value whose digits look like a mobile (11 digits from 1[3-9]), an ID number (15 or 18 characters)
  or a bank card (16–19 digits) is refused: a pasted column, not an amount;
- a line above the per-line ceiling (``max_amount``, default :data:`DEFAULT_MAX_AMOUNT`) is refused.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from lingong_core.errors import InputError
from lingong_core.masking import mask_card, mask_id, mask_mobile, scrub
from lingong_core.money import CENT
from lingong_core.text import normalise_name, normalise_text

__all__ = [
    "DEFAULT_MAX_AMOUNT",
    "FEN_TOLERANCE",
    "cell",
    "header_key",
    "is_blank",
    "normalise_name",
    "normalise_text",
    "optional_text",
    "parse_amount",
]

#: The default per-line ceiling: the largest single payout the platform's providers accept (¥50,000 per
#: order for the default provider). An operator paying more on purpose raises it with --max-amount.
DEFAULT_MAX_AMOUNT = Decimal("50000.00")
#: How far a numeric cell may lie from a fen value and still be that value (binary-float noise).
FEN_TOLERANCE = Decimal("0.000001")

_TEXT_AMOUNT = re.compile(r"^(?P<sign>[-+]?)(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?$")
_CURRENCY_PREFIX = ("¥", "RMB", "CNY")
_CURRENCY_SUFFIX = ("元", "RMB", "CNY", "人民币")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_ID = re.compile(r"^(\d{15}|\d{17}[\dX])$")
_CARD = re.compile(r"^\d{16,19}$")
#: Bracketed units or notes in a header: 金额(元), 金额【元】, 姓名（必填）.
_BRACKETS = re.compile(r"[(\[【〔<《][^)\]】〕>》]*[)\]】〕>》]")


def cell(value: Any) -> Any:
    """A cell as validation sees it: text normalised (:func:`normalise_text`), anything else unchanged."""
    if isinstance(value, str):
        return normalise_text(value)
    return value


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    return not value or (value.isascii() and not value.strip()) or (not value.isascii() and not normalise_text(value))


def header_key(value: Any) -> str:
    """A header as it is matched against the aliases: normalised, lower case, bracketed units, spaces,
    ``_``, ``-``, ``*`` and a trailing colon removed.

    ``金额（元）`` → ``金额``, ``*Bank card no:`` → ``bankcardno``."""
    text = normalise_text(str(value)) if value is not None else ""
    text = _BRACKETS.sub("", text).lower().rstrip(":")
    return "".join(ch for ch in text if ch not in " _-*/")


def optional_text(value: Any) -> str:
    """An optional column's cell (备注) as text: blank → "", numbers and dates as they read."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if value.time() != time(0) else value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return normalise_text(str(value))


#: More digits than any amount has (9 before the point, 2 after): what is shown of such a cell is masked.
_MOST_AMOUNT_DIGITS = 11


def _shown(text: str) -> str:
    """A refused amount cell as its error shows it: at most 40 characters, never a person's number. An ID,
    card or mobile in it is masked (:func:`~lingong_core.masking.scrub`), and a cell with more digits than
    any amount (two numbers pasted together, digits grouped like an amount) keeps only its first 3 and last
    4 digits: the error goes into the operator's report, the run's artifacts and Prefect's state message."""
    text = scrub(text.strip())
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    if len(digits) > _MOST_AMOUNT_DIGITS:
        hidden = set(digits[3:-4])
        text = "".join("*" if i in hidden else ch for i, ch in enumerate(text))
    return text[:40]


def _looks_like_identifier(digits: str, shown: str) -> None:
    if _MOBILE.match(digits):
        raise InputError("amount", "looks like a mobile number, not an amount", mask_mobile(digits))
    if _ID.match(digits):
        raise InputError("amount", "looks like an ID number, not an amount", mask_id(digits))
    if _CARD.match(digits):
        raise InputError("amount", "looks like a bank card number, not an amount", mask_card(digits))


#: Beyond any amount and any identifier (a card has at most 19 digits): refused before Decimal arithmetic,
#: whose 28 digits a quantize to the fen of such a value would exceed (InvalidOperation, not a message).
TOO_LARGE = Decimal(10) ** 20


def _refuse_too_large(amount: Decimal, shown: str) -> None:
    if abs(amount) >= TOO_LARGE:
        raise InputError("amount", "is far too large to be an amount of yuan", _shown(shown))


def _from_number(value: float | int | Decimal) -> Decimal:
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        raise InputError("amount", "must be a finite number", repr(value))
    exact = Decimal(value)  # a float's exact binary value: no rounding hides here
    if not exact.is_finite():
        raise InputError("amount", "must be a finite number", _shown(str(value)))
    _refuse_too_large(exact, str(value))
    fen = exact.quantize(CENT, rounding=ROUND_HALF_EVEN)
    if abs(exact - fen) > FEN_TOLERANCE:
        shown = repr(value) if isinstance(value, float) else str(value)
        raise InputError("amount", "is not a whole number of fen (0.01 yuan): round it in the sheet", _shown(shown))
    if fen == fen.to_integral_value():
        _looks_like_identifier(str(abs(int(fen))), str(value))
    return fen


#: An amount as most sheets hold it (1234.50): too short to be an ID, mobile or card, two places at most.
_PLAIN_AMOUNT = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,2})?")  # ASCII digits only: others take the general path


def _from_text(raw: str) -> Decimal:
    if _PLAIN_AMOUNT.fullmatch(raw):  # the rules below all pass: the value as it is, to the fen
        return Decimal(raw).quantize(CENT)
    text = normalise_text(raw).upper()
    for prefix in _CURRENCY_PREFIX:
        text = text.removeprefix(prefix).strip()
    for suffix in _CURRENCY_SUFFIX:
        text = text.removesuffix(suffix).strip()
    text = text.replace(" ", "")
    if not text:
        raise InputError("amount", "is required")
    if _ID.match(text) or _MOBILE.match(text) or _CARD.match(text):
        _looks_like_identifier(text, raw)
    match = _TEXT_AMOUNT.match(text)
    if not match:
        if "," in text:
            raise InputError(
                "amount", "thousands separators must group three digits (12,345.67)", _shown(normalise_text(raw))
            )
        raise InputError("amount", "must be a number of yuan such as 1234.50 (¥ and 元 allowed)", _shown(raw))
    try:
        amount = Decimal(match["sign"] + match["int"].replace(",", "") + (match["frac"] or ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimal digits
        raise InputError("amount", "must be a number of yuan such as 1234.50", _shown(raw)) from None
    _refuse_too_large(amount, raw)
    if amount != amount.quantize(CENT):
        raise InputError("amount", "must have at most 2 decimal places (fen)", _shown(text))
    return amount.quantize(CENT)


def parse_amount(value: Any, *, max_amount: Decimal | None = DEFAULT_MAX_AMOUNT) -> Decimal:
    """An amount cell or form field as a two-place Decimal > 0, or an :class:`InputError` naming the rule."""
    if value is None or (isinstance(value, str) and not normalise_text(value)):
        raise InputError("amount", "is required")
    if isinstance(value, bool):
        raise InputError("amount", "must be an amount in yuan, not TRUE/FALSE", str(value))
    if isinstance(value, datetime | date | time):
        raise InputError("amount", "must be an amount in yuan, not a date or time", str(value))
    if isinstance(value, float | int | Decimal):
        amount = _from_number(value)
    elif isinstance(value, str):
        amount = _from_text(value)
    else:
        raise InputError("amount", "must be an amount in yuan", type(value).__name__)
    if amount < 0:
        raise InputError("amount", "must not be negative", _shown(str(amount)))
    if amount == 0:
        raise InputError("amount", "must be more than 0", str(amount))
    if max_amount is not None and amount > max_amount:
        raise InputError(
            "amount",
            f"is above the per-line ceiling of {max_amount:.2f} (raise it with --max-amount if meant)",
            _shown(f"{amount:.2f}"),
        )
    return amount
