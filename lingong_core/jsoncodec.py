"""JSON for the wire: compact, UTF-8 kept as is, Decimal written as a number, floats refused.

``bizModel`` is serialised once by :func:`dumps` and that exact text is both signed and sent
(contract §2). Answers are read by :func:`loads` with every non-integer number as a Decimal, so no
amount is ever a binary float.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from .money import CENT
from .timeutil import format_datetime

_encode_str = json.JSONEncoder(ensure_ascii=False).encode


def dumps(value: Any) -> str:
    """Compact JSON text (no spaces, non-ASCII kept), Decimal as a plain number with at most 2 places."""
    out: list[str] = []
    _write(value, out)
    return "".join(out)


def _decimal_text(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"cannot send a non-finite number: {value}")
    if value == value.to_integral_value():
        return str(int(value))
    if value == value.quantize(CENT):
        return format(value.quantize(CENT), "f").rstrip("0")
    return format(value, "f")


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_encode_str(value))
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        raise TypeError("binary floats are not sent; use Decimal for money")
    elif isinstance(value, Decimal):
        out.append(_decimal_text(value))
    elif isinstance(value, Enum):
        _write(value.value, out)
    elif isinstance(value, datetime):
        out.append(_encode_str(format_datetime(value)))
    elif isinstance(value, date):
        out.append(_encode_str(value.isoformat()))
    elif isinstance(value, Mapping):
        out.append("{")
        first = True
        for key, item in value.items():
            if not first:
                out.append(",")
            first = False
            out.append(_encode_str(str(key)))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def loads(text: str | bytes) -> Any:
    """Parse JSON; non-integer numbers become Decimal; NaN and Infinity are refused."""
    return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
