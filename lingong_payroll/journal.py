"""The run journal: what each payroll run submitted and what came of it, kept on the operator's side.

The platform is the record of what was paid; the journal is the record of what the runs *intended*
and saw, so that ``reconcile`` can compare the two and report every difference. It lives in the
project's database (:mod:`lingong_store.db`): ``LINGONG_JOURNAL_DB`` if set (a database URL, or a path
taken as a SQLite file, as before), else ``LINGONG_DATABASE_URL``, else the SQLite file
``.state/lingong.db``. Workers on several hosts share one PostgreSQL database, never a SQLite file on
shared storage. Losing it loses no money: the business keys, not the journal, prevent double payment.

One row per ``outOrderNo``, written by whichever run first submitted that key: its run, period, tax base
and amount never change afterwards. Later writes only add what was missing (batch and order numbers are
never blanked) and move the outcome forward — ``SUBMITTED`` → ``PENDING`` → ``CONFLICT`` → ``PAID`` /
``FAILED`` → ``BOUNCED`` — never back: a run that sees an older state, or a second run with the same key,
cannot undo what the journal already knows. Each write is one upsert per row (atomic on SQLite and
PostgreSQL alike), so concurrent runs on several workers neither lose nor double a row.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Index, MetaData, String, Table, case, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from lingong_core.timeutil import format_datetime, now
from lingong_store.db import Database, resolve_url

JOURNAL_DB_ENV = "LINGONG_JOURNAL_DB"
ROWS_PER_STATEMENT = 1000  # rows turned into parameters and written at a time
KEYS_PER_QUERY = 500  # outOrderNos in one IN (…): under SQLite's and PostgreSQL's parameter limits

#: How far along each outcome is; a write never replaces an outcome with one of the same or a lower rank.
#: A conflict (the key already used for another amount) is a run's view, so the platform's final state of
#: that key outranks it; a bounce comes after a payment.
SUBMITTED = "SUBMITTED"  # the platform took the order's batch (Journal.accepted)
OUTCOME_RANK: dict[str, int] = {
    SUBMITTED: 0,
    "PENDING": 1,
    "CONFLICT": 2,
    "PAID": 3,
    "FAILED": 3,
    "BOUNCED": 4,
}

metadata = MetaData()

# The columns are the ones the SQLite journal files written before this module used SQLAlchemy have, so
# such a file is used as it is (amounts and times as text: exact two-place decimals, Shanghai time).
journal_order = Table(
    "journal_order",
    metadata,
    Column("out_order_no", String, primary_key=True),
    Column("run", String, nullable=False),
    Column("period", String, nullable=False),
    Column("tax_base_code", String, nullable=False),
    Column("out_batch_no", String, nullable=False, server_default=""),
    Column("batch_no", String, nullable=False, server_default=""),
    Column("order_no", String, nullable=False, server_default=""),
    Column("amount", String, nullable=False),
    Column("service_amount", String, nullable=False, server_default="0.00"),
    Column("outcome", String, nullable=False),
    Column("updated", String, nullable=False),
    Index("journal_order_batch", "out_batch_no"),
    Index("journal_order_tax", "tax_base_code"),
    Index("journal_order_run", "run"),  # a run reads its own rows, not the merchant's history
)


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


def _rank(outcome: Any) -> Any:
    return case(OUTCOME_RANK, value=outcome, else_=-1)


ROW_COLUMNS = tuple(journal_order.c.keys())  # the parameters of a row, in the table's order


def _values(o: JournalOrder, stamp: str) -> tuple[str, ...]:
    """A row's parameters, in the order of :data:`ROW_COLUMNS` (the table's)."""
    return (
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


assert ROW_COLUMNS == (  # _values' order
    "out_order_no", "run", "period", "tax_base_code", "out_batch_no", "batch_no", "order_no", "amount",
    "service_amount", "outcome", "updated",
)  # fmt: skip


class Journal:
    """The journal in ``path`` (a SQLite file or a URL), else the configured database; or in ``db``, which
    the caller owns (:meth:`close` then leaves it open)."""

    def __init__(self, path: str | Path | None = None, *, db: Database | None = None) -> None:
        self._owned = db is None
        self._compiled: tuple[str, Callable[[tuple[str, ...]], Any]] | None = None
        self.db = db if db is not None else Database(resolve_url(path, own_env=JOURNAL_DB_ENV))
        self.db.create_all(metadata)

    def __repr__(self) -> str:
        return f"Journal({self.db.where!r})"

    def record(self, orders: Iterable[JournalOrder]) -> None:
        """Insert each order once per key, or move its record forward: numbers only gain information and
        the outcome only advances (:data:`OUTCOME_RANK`); run, period, tax base and amount stay the first's.

        One transaction, written :data:`ROWS_PER_STATEMENT` rows at a time: a 100,000-payee run's rows are
        never all turned into parameters at once."""
        # one row per key (PostgreSQL refuses an upsert that touches a row twice): the most advanced of a
        # key's rows, the last of equals
        latest: dict[str, JournalOrder] = {}
        for o in orders:
            held = latest.get(o.out_order_no)
            if held is None or OUTCOME_RANK.get(o.outcome, -1) >= OUTCOME_RANK.get(held.outcome, -1):
                latest[o.out_order_no] = o
        if not latest:
            return
        stamp = format_datetime(now())
        with self.db.begin() as conn:
            sql, params_of = self._upsert(conn)
            # sorted: two runs upserting overlapping keys take the row locks in one order, never deadlock
            ordered = sorted(latest)
            for start in range(0, len(ordered), ROWS_PER_STATEMENT):
                chunk = ordered[start : start + ROWS_PER_STATEMENT]
                conn.exec_driver_sql(sql, [params_of(_values(latest[key], stamp)) for key in chunk])

    def accepted(self, out_batch_no: str, batch_no: str) -> None:
        """The platform took batch ``out_batch_no`` as ``batch_no`` (SFT0502 answered): every row sent in it
        learns the platform's batch number and moves to ``SUBMITTED``, forward only and never blanking a
        number, as :meth:`record` would. One statement for the batch, where recording each of its rows again
        took a thousand upserts (~0.15 s of every 10,000 payees)."""
        rows = journal_order.c
        forward = _rank(literal(SUBMITTED)) > _rank(rows.outcome)
        with self.db.begin() as conn:
            conn.execute(
                journal_order.update()
                .where(rows.out_batch_no == out_batch_no)
                .values(
                    batch_no=func.coalesce(func.nullif(literal(batch_no), literal("")), rows.batch_no),
                    outcome=case((forward, literal(SUBMITTED)), else_=rows.outcome),
                    updated=format_datetime(now()),
                )
            )

    def _upsert(self, conn: Any) -> tuple[str, Callable[[tuple[str, ...]], Any]]:
        """The upsert, compiled once per journal and handed to the driver's executemany: SQLAlchemy's own
        executemany builds each row's parameters through the compiler (~0.3 ms a row: 3 s for the 30,000 rows
        of a 10,000-payee run), and compiling it again for each batch's record cost ~10 ms a time. The
        statement's constants (the rank table, "") are the compiler's own parameters. ``params_of`` turns a row's
        values (:func:`_values`) into the driver's parameters: for a positional driver (SQLite) the row's values
        and the constants in the statement's order, one C call a row; for a named one (PostgreSQL) a dict."""
        if self._compiled is not None:
            return self._compiled
        dialect = postgresql if not self.db.is_sqlite else sqlite
        statement = dialect.insert(journal_order)
        new, old = statement.excluded, journal_order.c
        forward = _rank(new.outcome) > _rank(old.outcome)

        def filled(column: str) -> Any:
            return func.coalesce(func.nullif(new[column], literal("")), old[column])

        statement = statement.on_conflict_do_update(
            index_elements=[old.out_order_no],
            set_={
                "out_batch_no": filled("out_batch_no"),
                "batch_no": filled("batch_no"),
                "order_no": filled("order_no"),
                "service_amount": case((forward, new.service_amount), else_=old.service_amount),
                "outcome": case((forward, new.outcome), else_=old.outcome),
                "updated": new.updated,
            },
        )
        compiled = statement.compile(dialect=conn.dialect, column_keys=list(ROW_COLUMNS))
        constants = {k: v for k, v in compiled.params.items() if k not in ROW_COLUMNS}
        params_of: Callable[[tuple[str, ...]], Any]
        if compiled.positional:
            fixed = tuple(constants.values())
            where = {name: i for i, name in enumerate((*ROW_COLUMNS, *constants))}
            pick = itemgetter(*(where[name] for name in compiled.positiontup or []))  # the statement has many

            def params_of(row: tuple[str, ...]) -> Any:
                return pick(row + fixed)
        else:

            def params_of(row: tuple[str, ...]) -> Any:
                return {**constants, **dict(zip(ROW_COLUMNS, row, strict=True))}

        self._compiled = (str(compiled), params_of)
        return self._compiled

    def orders(
        self,
        tax_base_code: str | None = None,
        *,
        runs: Collection[str] | None = None,
        keys: Collection[str] | None = None,
    ) -> list[JournalOrder]:
        """The orders recorded (of one tax base; of these runs; with these ``outOrderNo``s), by ``outOrderNo``.

        ``runs`` and ``keys`` scope the query itself (indexed), so what a run or a notification reads does not
        grow with the months of history the journal holds."""
        if (runs is not None and not runs) or (keys is not None and not keys):
            return []
        query = select(journal_order)
        if tax_base_code:
            query = query.where(journal_order.c.tax_base_code == tax_base_code)
        if runs is not None:
            query = query.where(journal_order.c.run.in_(sorted(runs)))
        found: list[JournalOrder] = []
        with self.db.connect() as conn:
            wanted = sorted(keys) if keys is not None else None
            for start in range(0, len(wanted), KEYS_PER_QUERY) if wanted is not None else [0]:
                scoped = query
                if wanted is not None:
                    scoped = query.where(journal_order.c.out_order_no.in_(wanted[start : start + KEYS_PER_QUERY]))
                found += [
                    JournalOrder(
                        r.out_order_no,
                        r.run,
                        r.period,
                        r.tax_base_code,
                        r.out_batch_no,
                        r.batch_no,
                        r.order_no,
                        Decimal(r.amount),
                        Decimal(r.service_amount),
                        r.outcome,
                    )
                    for r in conn.execute(scoped)
                ]
        found.sort(key=lambda o: o.out_order_no)
        return found

    def close(self) -> None:
        if self._owned:
            self.db.dispose()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
