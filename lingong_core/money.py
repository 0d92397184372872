"""Money: yuan as :class:`~decimal.Decimal` with two places. Never a binary float.

``Money`` is the pydantic field type for amounts that may be zero (a service fee, a balance);
``PositiveMoney`` for amounts that must be more than zero (a payout, a recharge); ``SignedMoney``
for ledger changes, which may be negative. All three refuse floats, refuse more than two decimal
places (a sub-cent amount is an error, never silently rounded), and serialise as a two-place Decimal
that :mod:`lingong_core.jsoncodec` writes as a JSON number.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from .errors import InputError

CENT = Decimal("0.01")
#: Larger than any amount the platform handles; guards against absurd input, not a business limit.
MAX_AMOUNT = Decimal("999999999999.99")
_LEAST = -MAX_AMOUNT


def to_money(value: Any, *, field: str = "amount", allow_zero: bool = True, allow_negative: bool = False) -> Decimal:
    """Parse ``value`` (Decimal, int, or decimal text) into a two-place Decimal, or raise :class:`InputError`."""
    if type(value) is Decimal:  # the usual case first: every amount in an answer is read as a Decimal
        amount = value
    elif isinstance(value, bool) or value is None:
        raise InputError(field, "must be an amount in yuan", repr(value))
    elif isinstance(value, float):
        raise InputError(field, "must not be a binary float; pass a Decimal, an int or decimal text", repr(value))
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", "")
        if text.startswith(("¥", "￥")):
            text = text[1:].strip()
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise InputError(field, "must be a number of yuan such as 1234.50", _clip(value)) from None
    else:
        raise InputError(field, "must be an amount in yuan", type(value).__name__)
    if not amount.is_finite():
        raise InputError(field, "must be a finite number", str(value))
    if not _LEAST <= amount <= MAX_AMOUNT:
        raise InputError(field, f"must be at most {MAX_AMOUNT}", _clip(str(value)))
    cents = amount.quantize(CENT)
    if cents != amount:
        raise InputError(field, "must have at most 2 decimal places (fen)", _clip(str(value)))
    if cents < 0 and not allow_negative:
        raise InputError(field, "must not be negative", str(cents))
    if cents == 0 and not allow_zero:
        raise InputError(field, "must be more than 0", str(cents))
    return cents


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _validator(allow_zero: bool, allow_negative: bool) -> BeforeValidator:
    def check(value: Any) -> Decimal:
        try:
            return to_money(value, field="amount", allow_zero=allow_zero, allow_negative=allow_negative)
        except InputError as exc:
            # pydantic adds the field's name (its location) to the message it raises from this.
            raise ValueError(exc.rule + (f" (got {exc.value})" if exc.value is not None else "")) from None

    return BeforeValidator(check)


def _serialise(value: Decimal) -> Decimal:
    return value.quantize(CENT)


_schema = WithJsonSchema({"type": "string", "pattern": r"^-?\d+(\.\d{1,2})?$", "examples": ["1234.50"]})
_out = PlainSerializer(_serialise, return_type=Decimal)

Money = Annotated[Decimal, _validator(True, False), _out, _schema]
PositiveMoney = Annotated[Decimal, _validator(False, False), _out, _schema]
SignedMoney = Annotated[Decimal, _validator(True, True), _out, _schema]


def fmt_yuan(amount: Decimal) -> str:
    """``¥1,234.50`` for people (reports, tables)."""
    return f"¥{amount.quantize(CENT):,.2f}"
