"""Time on the platform is Asia/Shanghai (UTC+8, no daylight saving since 1991).

Date-times travel as ``yyyy-MM-dd HH:mm:ss``; epoch milliseconds are accepted on input (contract §7),
as the seed's SFT0404 example sends them. Envelope timestamps are ``yyyyMMddHHmmss``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from .errors import InputError

SHANGHAI = ZoneInfo("Asia/Shanghai")
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"
_WIRE_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")

Clock = Callable[[], datetime]


def now() -> datetime:
    """The current time, aware, in Asia/Shanghai."""
    return datetime.now(SHANGHAI)


def to_shanghai(moment: datetime) -> datetime:
    """An aware datetime in Asia/Shanghai; a naive one is taken to be Shanghai time already."""
    return moment.replace(tzinfo=SHANGHAI) if moment.tzinfo is None else moment.astimezone(SHANGHAI)


def format_timestamp(moment: datetime) -> str:
    """The envelope's ``timestamp``: ``yyyyMMddHHmmss`` in Shanghai time."""
    return to_shanghai(moment).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime:
    """Parse an envelope ``timestamp`` (``yyyyMMddHHmmss``, Shanghai); raise :class:`InputError`."""
    if not isinstance(text, str) or len(text) != 14 or not text.isdigit():
        raise InputError("timestamp", "must be yyyyMMddHHmmss", repr(text)[:40])
    try:
        return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=SHANGHAI)
    except ValueError:
        raise InputError("timestamp", "must be a real date and time in yyyyMMddHHmmss", text) from None


@functools.lru_cache(maxsize=1024)
def format_datetime(moment: datetime) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in Shanghai time.

    Remembered: a page of 1,000 orders carries 2,000 times, most of them the same few seconds. Equal
    instants are equal keys whatever their zone, and both read the same in Shanghai."""
    return to_shanghai(moment).strftime(DATETIME_FORMAT)


@functools.lru_cache(maxsize=1024)
def _wire_datetime(text: str) -> datetime | None:
    """``text`` in the wire's own form (``yyyy-MM-dd HH:mm:ss``), read without strptime and remembered (see
    :func:`format_datetime`); None when it is not in that form or a field is out of range."""
    if not _WIRE_DATETIME.fullmatch(text):
        return None
    try:
        return datetime(
            int(text[0:4]),
            int(text[5:7]),
            int(text[8:10]),
            int(text[11:13]),
            int(text[14:16]),
            int(text[17:19]),
            tzinfo=SHANGHAI,
        )
    except ValueError:
        return None


def parse_datetime(value: Any, *, field: str = "time") -> datetime:
    """A date-time from ``yyyy-MM-dd HH:mm:ss``, ISO 8601, epoch milliseconds, or a datetime."""
    if isinstance(value, datetime):
        return to_shanghai(value)
    if isinstance(value, bool):
        raise InputError(field, "must be yyyy-MM-dd HH:mm:ss or epoch milliseconds", repr(value))
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit() and len(value) == 13):
        millis = int(value)
        if not 0 <= millis <= 32503651200000:  # up to the year 3000
            raise InputError(field, "epoch milliseconds out of range", str(value))
        return datetime.fromtimestamp(millis / 1000, SHANGHAI)
    if isinstance(value, str):
        text = value.strip()
        moment = _wire_datetime(text) if len(text) == 19 else None
        if moment is not None:
            return moment
        # another form, or out of range: the formats below read it or refuse it with the usual message
        for fmt in (DATETIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
            try:
                return datetime.strptime(text, fmt).replace(tzinfo=SHANGHAI)
            except ValueError:
                continue
        try:
            return to_shanghai(datetime.fromisoformat(text))
        except ValueError:
            pass
        raise InputError(field, "must be yyyy-MM-dd HH:mm:ss or epoch milliseconds", text[:40])
    raise InputError(field, "must be yyyy-MM-dd HH:mm:ss or epoch milliseconds", type(value).__name__)


def _dt_validator(value: Any) -> datetime:
    try:
        return parse_datetime(value)
    except InputError as exc:
        raise ValueError(exc.rule + (f" (got {exc.value})" if exc.value is not None else "")) from None


def _date_validator(value: Any) -> date:
    if isinstance(value, datetime):
        return to_shanghai(value).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"must be yyyy-MM-dd (got {value[:40]})") from None
    raise ValueError(f"must be yyyy-MM-dd (got {type(value).__name__})")


#: A pydantic field type: accepts the string form or epoch milliseconds, serialises as the string form.
ShanghaiDateTime = Annotated[
    datetime,
    BeforeValidator(_dt_validator),
    PlainSerializer(format_datetime, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"}),
]

#: A calendar date, ``yyyy-MM-dd``.
PlatformDate = Annotated[
    date,
    BeforeValidator(_date_validator),
    PlainSerializer(lambda d: d.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date"}),
]
