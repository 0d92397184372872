"""The run journal: what each payroll run submitted and what came of it, kept on the operator's side.

The platform is the record of what was paid; the journal is the record of what the runs *intended*
and saw, so that ``reconcile`` can compare the two and report every difference. It is a SQLite file
(``LINGONG_JOURNAL_DB``, default ``.state/journal.db``); put it on shared storage when workers run on
several hosts. Losing it loses no money: the business keys, not the journal, prevent double payment.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from lingong_core.timeutil import format_datetime, now

DEFAULT_PATH = Path(".state") / "journal.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal_order (
    out_order_no TEXT PRIMARY KEY,
    run TEXT NOT NULL,
    period TEXT NOT NULL,
    tax_base_code TEXT NOT NULL,
    out_batch_no TEXT NOT NULL DEFAULT '',
    batch_no TEXT NOT NULL DEFAULT '',
    order_no TEXT NOT NULL DEFAULT '',
    amount TEXT NOT NULL,
    service_amount TEXT NOT NULL DEFAULT '0.00',
    outcome TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS journal_order_batch ON journal_order (out_batch_no);
CREATE INDEX IF NOT EXISTS journal_order_tax ON journal_order (tax_base_code)
"""


@dataclass(frozen=True, slots=True)
class JournalOrder:
    out_order_no: str
    run: str
    period: str
    tax_base_code: str
    out_batch_no: str
    batch_no: str
    order_no: str
    amount: Decimal
    service_amount: Decimal
    outcome: str


class Journal:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path or os.environ.get("LINGONG_JOURNAL_DB") or DEFAULT_PATH)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                self._conn.execute(statement)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def record(self, orders: Iterable[JournalOrder]) -> None:
        """Insert or update orders; an order's record only gains information (numbers are never blanked)."""
        stamp = format_datetime(now())
        with self._tx() as conn:
            conn.executemany(
                "INSERT INTO journal_order VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (out_order_no) DO UPDATE SET"
                " out_batch_no = COALESCE(NULLIF(excluded.out_batch_no, ''), out_batch_no),"
                " batch_no = COALESCE(NULLIF(excluded.batch_no, ''), batch_no),"
                " order_no = COALESCE(NULLIF(excluded.order_no, ''), order_no),"
                " amount = excluded.amount, service_amount = excluded.service_amount,"
                " outcome = excluded.outcome, updated = excluded.updated",
                [
                    (
                        o.out_order_no,
                        o.run,
                        o.period,
                        o.tax_base_code,
                        o.out_batch_no,
                        o.batch_no,
                        o.order_no,
                        f"{o.amount:.2f}",
                        f"{o.service_amount:.2f}",
                        o.outcome,
                        stamp,
                    )
                    for o in orders
                ],
            )

    def orders(self, tax_base_code: str | None = None) -> list[JournalOrder]:
        sql = "SELECT * FROM journal_order" + (" WHERE tax_base_code = ?" if tax_base_code else "")
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY out_order_no", (tax_base_code,) if tax_base_code else ())
            return [
                JournalOrder(r[0], r[1], r[2], r[3], r[4], r[5], r[6], Decimal(r[7]), Decimal(r[8]), r[9])
                for r in rows.fetchall()
            ]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
