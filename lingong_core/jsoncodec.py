"""JSON for the wire: compact, UTF-8 kept as is, Decimal written as a number, floats refused.

``bizModel`` is serialised once by :func:`dumps` and that exact text is both signed and sent
(contract §2). Answers are read by :func:`loads` with every non-integer number as a Decimal, so no
amount is ever a binary float.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from json.encoder import encode_basestring
from typing import Any

from .timeutil import format_datetime

# The string encoder ``json.JSONEncoder(ensure_ascii=False).encode`` calls for a ``str`` (C-accelerated):
# escapes ``"``, ``\\`` and control characters, keeps everything else as is.
_encode_str: Callable[[str], str] = encode_basestring


def dumps(value: Any) -> str:
    """Compact JSON text (no spaces, non-ASCII kept), Decimal as a plain number with at most 2 places."""
    out: list[str] = []
    _write(value, out)
    return "".join(out)


def _decimal_text(value: Decimal) -> str:
    """The plain digits; an amount's trailing zeros dropped (``1234.50`` → ``1234.5``, ``100.00`` → ``100``),
    any other number's kept (``0.0600``)."""
    if not value.is_finite():
        raise ValueError(f"cannot send a non-finite number: {value}")
    text = format(value, "f")
    if "." in text:
        short = text.rstrip("0")
        if len(short) - short.index(".") <= 3:  # at most two places once the trailing zeros go: an amount
            text = short.rstrip(".")
    return "0" if text == "-0" else text


def _write(value: Any, out: list[str]) -> None:
    # The exact built-in types go straight to their writer (the hot path: envelopes, bizModels, answers);
    # anything else, subclasses included, takes the ordered checks of _write_other.
    writer = _EXACT.get(type(value))
    if writer is not None:
        writer(value, out)
    else:
        _write_other(value, out)


def _write_str(value: str, out: list[str]) -> None:
    out.append(_encode_str(value))


def _write_int(value: int, out: list[str]) -> None:
    out.append(str(value))


def _write_bool(value: bool, out: list[str]) -> None:
    out.append("true" if value else "false")


def _write_none(value: None, out: list[str]) -> None:
    out.append("null")


def _write_decimal(value: Decimal, out: list[str]) -> None:
    out.append(_decimal_text(value))


def _write_mapping(value: Mapping[Any, Any], out: list[str]) -> None:
    # Text and amounts, the common values, are written here rather than through _write: a 1,000-order
    # bizModel is 7,000 of them.
    append, encode = out.append, _encode_str
    append("{")
    first = True
    for key, item in value.items():
        if first:
            first = False
        else:
            append(",")
        append(encode(key) if type(key) is str else encode(str(key)))
        append(":")
        kind = type(item)
        if kind is str:
            append(encode(item))
        elif kind is Decimal:
            append(_decimal_text(item))
        else:
            _write(item, out)
    append("}")


def _write_sequence(value: list[Any] | tuple[Any, ...], out: list[str]) -> None:
    append = out.append
    append("[")
    for i, item in enumerate(value):
        if i:
            append(",")
        _write(item, out)
    append("]")


_EXACT: dict[type, Callable[[Any, list[str]], None]] = {
    str: _write_str,
    int: _write_int,
    bool: _write_bool,
    type(None): _write_none,
    Decimal: _write_decimal,
    dict: _write_mapping,
    list: _write_sequence,
    tuple: _write_sequence,
}


def _write_other(value: Any, out: list[str]) -> None:
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
        _write_mapping(value, out)
    elif isinstance(value, (list, tuple)):
        _write_sequence(value, out)
    else:
        raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def loads(text: str | bytes) -> Any:
    """Parse JSON; non-integer numbers become Decimal; NaN and Infinity are refused."""
    return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
