"""What every handler shares: the call context, money in fen, platform numbers, and the handler registry.

Money is stored as integer fen (``INTEGER`` columns named ``*_fen``) and answered as two-place
:class:`~decimal.Decimal` yuan, so no amount is ever a binary float and sums are exact.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

from lingong_core.money import CENT
from lingong_core.timeutil import format_datetime, to_shanghai

from ..db import schema
from ..interface import PlatformError
from ..settings import SandboxSettings, ServiceProvider
from . import codes
from .fields import Biz

schema(
    """
    CREATE TABLE IF NOT EXISTS eng_seq (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    )
    """
)


def to_fen(amount: Decimal) -> int:
    """Two-place yuan → integer fen, exactly (a sub-fen amount is a bug upstream: ValueError)."""
    fen = amount.scaleb(2)
    if fen != fen.to_integral_value():
        raise ValueError(f"{amount} has more than 2 decimal places")
    return int(fen)


def yuan(fen: int | None) -> Decimal:
    """Integer fen → two-place yuan."""
    return (Decimal(fen or 0) / 100).quantize(CENT)


def fmt_time(moment: datetime | None) -> str | None:
    return format_datetime(moment) if moment is not None else None


def stamp(moment: datetime) -> str:
    """How times are stored: ``yyyy-MM-dd HH:mm:ss`` Shanghai (sorts in time order)."""
    return format_datetime(to_shanghai(moment))


def draw(seed: int, *parts: str) -> float:
    """A deterministic number in [0, 1) from the seed and the parts (the outcome dice)."""
    digest = hashlib.sha256("|".join((str(seed), *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class Jobs:
    """Interface the handlers use to schedule a background transition (implemented in ``jobs.py``)."""

    def schedule(self, ctx: Ctx, kind: str, ref: str, delay: float) -> None:  # pragma: no cover
        raise NotImplementedError


Notifier = Callable[[sqlite3.Connection, str, str, dict[str, Any]], None]


@dataclass
class Ctx:
    """One call (or one background transition): the transaction, the merchant, the time, the settings."""

    conn: sqlite3.Connection
    merchant_no: str
    settings: SandboxSettings
    now: datetime
    notifier: Notifier
    jobs: Jobs
    api_code: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def stamp(self) -> str:
        return stamp(self.now)

    def notify(self, notify_type: str, biz: dict[str, Any]) -> None:
        self.notifier(self.conn, self.merchant_no, notify_type, biz)

    def schedule(self, kind: str, ref: str, delay: float) -> None:
        self.jobs.schedule(self, kind, ref, delay)

    def provider(self, tax_base_code: str | None) -> ServiceProvider:
        provider = self.settings.provider(tax_base_code or "")
        if provider is None:
            raise codes.TAX_BASE_UNKNOWN.error(f"taxBaseCode {tax_base_code!r}")
        return provider

    def next_no(self, prefix: str = "") -> str:
        """A new platform number: ``prefix`` + ``yyyyMMdd`` + an 8-digit sequence (unique across kinds)."""
        row = self.conn.execute(
            "INSERT INTO eng_seq (name, value) VALUES ('no', 1) "
            "ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value"
        ).fetchone()
        return f"{prefix}{to_shanghai(self.now):%Y%m%d}{int(row[0]):08d}"

    def one(self, sql: str, *params: Any) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        return list(self.conn.execute(sql, params).fetchall())

    def exec(self, sql: str, *params: Any) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)


Handler = Callable[[Ctx, "Biz"], dict[str, Any]]

#: apiCode → handler; filled by the ``@handles`` decorator in each module.
HANDLERS: dict[str, Handler] = {}


def handles(*api_codes: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for api_code in api_codes:
            HANDLERS[api_code] = fn
        return fn

    return register


def not_found(what: str) -> PlatformError:
    return PlatformError(404, f"no such record: {what}")


def conflict(what: str, **existing: Any) -> PlatformError:
    """409 for a business key already used; ``existing`` carries the platform's number(s)."""
    return PlatformError(409, f"business key already used: {what}", **existing)


def list_query(ctx: Ctx, biz: Biz, table: str, *, statuses: tuple[str, ...], time_column: str) -> tuple[str, list[Any]]:
    """``SELECT * FROM table`` for this merchant, narrowed by the list queries' common filters:
    ``taxBaseCode``, ``status`` (one of ``statuses``), ``startTime``/``endTime`` on ``time_column``."""
    sql = f"SELECT * FROM {table} WHERE merchant_no = ?"
    params: list[Any] = [ctx.merchant_no]
    if biz.has("taxBaseCode"):
        code = biz.req("taxBaseCode")
        ctx.provider(code)
        sql += " AND tax_base_code = ?"
        params.append(code)
    status = biz.text("status", required=False, choices=statuses)
    if status:
        sql += " AND status = ?"
        params.append(status)
    start, end = biz.when("startTime"), biz.when("endTime")
    if start is not None:
        sql += f" AND {time_column} >= ?"
        params.append(stamp(start))
    if end is not None:
        sql += f" AND {time_column} <= ?"
        params.append(stamp(end))
    return sql, params


def paged(
    ctx: Ctx, biz: Biz, sql: str, params: tuple[Any, ...], render: Callable[[sqlite3.Row], dict[str, Any]]
) -> dict[str, Any]:
    """Run ``sql`` (a SELECT with its ORDER BY) one page at a time: ``pageNo``, ``pageSize``, ``total``, ``list``."""
    page_no, page_size = biz.page(ctx.settings.max_page_size)
    total = ctx.conn.execute(f"SELECT COUNT(*) FROM ({sql})", params).fetchone()[0]
    offset = (page_no - 1) * page_size
    # A page past the end is empty; asking SQLite for it could overflow its integers (pageNo 2⁶³−1).
    rows = (
        ctx.conn.execute(f"{sql} LIMIT ? OFFSET ?", (*params, page_size, offset)).fetchall() if offset < total else []
    )
    return {"pageNo": page_no, "pageSize": page_size, "total": int(total), "list": [render(r) for r in rows]}


def drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}
