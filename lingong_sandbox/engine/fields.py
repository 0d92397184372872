"""Reading a bizModel field by field: every refusal is a 400 whose ``msg`` names the field and the rule.

The apiCode's request model in ``lingong_core.models`` checks the shape first and the handler reads
what it validated (:mod:`.validation`). A :class:`Biz` knows the model's wire fields: reading a name
the model lacks raises :class:`NotAField` (a handler and its model that drifted apart fail every test
that reaches the read, instead of silently honouring a field no client can send), and every field read
is recorded (``read``), which the menu-wide contract test compares with the model's fields. Personal
values are never echoed in a message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from lingong_core.errors import InputError
from lingong_core.money import to_money
from lingong_core.timeutil import parse_datetime

from ..interface import PlatformError

PERSONAL = frozenset({"name", "idCardNo", "mobile", "bankCardNo", "frontImage", "backImage", "reservedMobile"})


#: A request model's wire fields: name → the fields of the records a list field holds (None for a plain field).
Fields = Mapping[str, "Fields | None"]


def bad(field: str, rule: str) -> PlatformError:
    return PlatformError(400, f"{field}: {rule}")


class NotAField(LookupError):
    """A handler read a field its apiCode's request model does not have: the sandbox and the core drifted."""


class Biz:
    """A bizModel (or one object inside it), read field by field.

    ``fields`` are the wire fields of the request model it was validated with (None: no restriction);
    ``read`` collects the paths read (``orders[].name`` for a field of a list's records).
    """

    def __init__(
        self,
        data: Mapping[str, Any],
        where: str = "",
        *,
        fields: Fields | None = None,
        read: set[str] | None = None,
        path: str = "",
    ) -> None:
        self.data = data
        self.where = where
        self.fields = fields
        self.read: set[str] = read if read is not None else set()
        self.path = path

    def name(self, key: str) -> str:
        return f"{self.where}{key}"

    def knows(self, key: str) -> bool:
        """Whether ``key`` is a field of the request model (so a handler serving two forms may read it)."""
        return self.fields is None or key in self.fields

    def _touch(self, key: str) -> None:
        if not self.knows(key):
            raise NotAField(f"the handler read {self.path}{key}, which its request model does not have")
        self.read.add(self.path + key)

    def has(self, key: str) -> bool:
        self._touch(key)
        value = self.data.get(key)
        return value is not None and value != ""

    def raw(self, key: str) -> Any:
        self._touch(key)
        value = self.data.get(key)
        return value.value if isinstance(value, Enum) else value

    def text(
        self,
        key: str,
        *,
        required: bool = True,
        max_len: int = 64,
        pattern: str | None = None,
        choices: tuple[str, ...] | None = None,
        rule: str | None = None,
    ) -> str | None:
        value = self.raw(key)
        if value is None or value == "":
            if required:
                raise bad(self.name(key), "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise bad(self.name(key), "must be a string")
        text = str(value).strip()
        if not text:
            if required:
                raise bad(self.name(key), "is required")
            return None
        if len(text) > max_len:
            raise bad(self.name(key), f"must be at most {max_len} characters")
        if choices is not None and text not in choices:
            raise bad(self.name(key), rule or f"must be one of {', '.join(choices)}")
        if pattern is not None and not re.fullmatch(pattern, text):
            raise bad(self.name(key), rule or f"must match {pattern}")
        return text

    def req(self, key: str, **kwargs: Any) -> str:
        """A required text field (typed as ``str``)."""
        value = self.text(key, required=True, **kwargs)
        assert value is not None
        return value

    def money(self, key: str, *, required: bool = True, positive: bool = True) -> Decimal | None:
        value = self.raw(key)
        if value is None or value == "":
            if required:
                raise bad(self.name(key), "is required")
            return None
        try:
            return to_money(value, field=self.name(key), allow_zero=not positive)
        except InputError as exc:
            shown = f" (got {exc.value})" if exc.value is not None and self.name(key) not in PERSONAL else ""
            raise bad(self.name(key), exc.rule + shown) from None

    def amount(self, key: str, *, positive: bool = True) -> Decimal:
        value = self.money(key, required=True, positive=positive)
        assert value is not None
        return value

    def integer(
        self,
        key: str,
        *,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
        choices: tuple[int, ...] | None = None,
    ) -> int | None:
        value = self.raw(key)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise bad(self.name(key), "must be an integer")
        if isinstance(value, str) and re.fullmatch(r"-?\d{1,9}", value.strip()):
            value = int(value.strip())
        if isinstance(value, Decimal) and value == value.to_integral_value() and abs(value) < 10**9:
            value = int(value)
        if not isinstance(value, int):
            raise bad(self.name(key), "must be an integer")
        if minimum is not None and value < minimum:
            raise bad(self.name(key), f"must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise bad(self.name(key), f"must be at most {maximum}")
        if choices is not None and value not in choices:
            raise bad(self.name(key), f"must be one of {', '.join(map(str, choices))}")
        return value

    def when(self, key: str, *, required: bool = False) -> datetime | None:
        value = self.raw(key)
        if value is None or value == "":
            if required:
                raise bad(self.name(key), "is required")
            return None
        if isinstance(value, Decimal) and value == value.to_integral_value():
            value = int(value)
        try:
            return parse_datetime(value, field=self.name(key))
        except InputError as exc:
            raise bad(self.name(key), exc.rule) from None

    def items(self, key: str, *, required: bool = True, max_items: int | None = None) -> list[Biz]:
        value = self.raw(key)
        if value is None:
            if required:
                raise bad(self.name(key), "is required")
            return []
        if not isinstance(value, list | tuple):
            raise bad(self.name(key), "must be a list")
        if required and not value:
            raise bad(self.name(key), "must not be empty")
        if max_items is not None and len(value) > max_items:
            raise bad(self.name(key), f"must hold at most {max_items} items")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise bad(f"{self.name(key)}[{i}]", "must be an object")
            nested = self.fields.get(key) if self.fields is not None else None
            out.append(Biz(item, f"{self.name(key)}[{i}].", fields=nested, read=self.read, path=f"{self.path}{key}[]."))
        return out

    def strings(self, key: str, *, required: bool = True, max_items: int = 1000, max_len: int = 64) -> list[str]:
        value = self.raw(key)
        if value is None or value == "":
            if required:
                raise bad(self.name(key), "is required")
            return []
        if isinstance(value, str):
            value = [v for v in value.split(",") if v.strip()]
        if not isinstance(value, list | tuple):
            raise bad(self.name(key), "must be a list of strings")
        if required and not value:
            raise bad(self.name(key), "must not be empty")
        if len(value) > max_items:
            raise bad(self.name(key), f"must hold at most {max_items} items")
        out: list[str] = []
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, str | int) or not str(item).strip():
                raise bad(f"{self.name(key)}[{i}]", "must be a non-empty string")
            if len(str(item)) > max_len:
                raise bad(f"{self.name(key)}[{i}]", f"must be at most {max_len} characters")
            out.append(str(item).strip())
        return out

    def page(self, max_size: int) -> tuple[int, int]:
        page_no = self.integer("pageNo", default=1, minimum=1)
        page_size = self.integer("pageSize", default=20, minimum=1, maximum=max_size)
        assert page_no is not None
        assert page_size is not None
        return page_no, page_size

    def one_of(self, *keys: str) -> None:
        if not any(self.has(k) for k in keys):
            raise bad("/".join(self.name(k) for k in keys), f"one of {', '.join(keys)} is required")
