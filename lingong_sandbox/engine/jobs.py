"""Background transitions: a table of due jobs, the outcome dice, and the scripting hook for tests.

A handler schedules ``(kind, ref)`` at ``now + settings.scaled(delay)`` (real seconds). ``run_due``
performs every job due by its ``now`` in due order, each in its own savepoint; a job runs with the
clock set to the moment it was due, and what it schedules counts from that moment, so one call with
a late enough ``now`` carries a chain (accepted → processing → paid → bounced) to its end. States
only move forward: a job whose record has already moved on does nothing.

Outcomes are deterministic: a script set with :func:`script_outcome` wins (matched by bank card, ID
number or business key, consumed once unless ``times=None``); otherwise the order's number and
``settings.seed`` are hashed against the configured rate.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import Any

from lingong_core.timeutil import SHANGHAI

from ..db import schema
from .base import Ctx, Jobs, draw

log = logging.getLogger(__name__)

FAIL, BOUNCE, SUCCESS = "FAIL", "BOUNCE", "SUCCESS"
OUTCOMES = (FAIL, BOUNCE, SUCCESS)
MAX_JOBS_PER_RUN = 100_000

schema(
    """
    CREATE TABLE IF NOT EXISTS eng_job (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        merchant_no TEXT NOT NULL,
        kind TEXT NOT NULL,
        ref TEXT NOT NULL,
        due_at REAL NOT NULL,
        done INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    );
    CREATE INDEX IF NOT EXISTS eng_job_due ON eng_job (done, due_at, id);
    CREATE TABLE IF NOT EXISTS eng_script (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key_kind TEXT NOT NULL,
        key_value TEXT NOT NULL,
        outcome TEXT NOT NULL,
        remaining INTEGER
    );
    CREATE INDEX IF NOT EXISTS eng_script_key ON eng_script (key_kind, key_value)
    """
)

JobHandler = Callable[[Ctx, str], None]
JOB_HANDLERS: dict[str, JobHandler] = {}


def job(kind: str) -> Callable[[JobHandler], JobHandler]:
    def register(fn: JobHandler) -> JobHandler:
        JOB_HANDLERS[kind] = fn
        return fn

    return register


class JobTable(Jobs):
    def schedule(self, ctx: Ctx, kind: str, ref: str, delay: float) -> None:
        base = ctx.now.timestamp()
        ctx.exec(
            "INSERT INTO eng_job (merchant_no, kind, ref, due_at) VALUES (?, ?, ?, ?)",
            ctx.merchant_no,
            kind,
            ref,
            base + ctx.settings.scaled(delay),
        )


def run_due(make_ctx: Callable[[str, datetime], Ctx], conn: sqlite3.Connection, now: datetime) -> int:
    """Perform every job due by ``now`` (and those they make due by then); return how many ran."""
    limit = now.timestamp()
    made = 0
    while made < MAX_JOBS_PER_RUN:
        row = conn.execute(
            "SELECT id, merchant_no, kind, ref, due_at FROM eng_job WHERE done = 0 AND due_at <= ?"
            " ORDER BY due_at, id LIMIT 1",
            (limit,),
        ).fetchone()
        if row is None:
            break
        handler = JOB_HANDLERS.get(row["kind"])
        at = datetime.fromtimestamp(row["due_at"], SHANGHAI)
        conn.execute("SAVEPOINT eng_job")
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {row['kind']}")
            handler(make_ctx(row["merchant_no"], at), row["ref"])
        except Exception as exc:
            conn.execute("ROLLBACK TO eng_job")
            conn.execute("RELEASE eng_job")
            log.exception("sandbox job %s %s failed", row["kind"], row["ref"])
            # Park it (done = 2) so one broken job never blocks the ones behind it.
            conn.execute(
                "UPDATE eng_job SET done = 2, attempts = attempts + 1, last_error = ? WHERE id = ?",
                (f"{type(exc).__name__}: {exc}"[:500], row["id"]),
            )
        else:
            conn.execute("UPDATE eng_job SET done = 1, attempts = attempts + 1 WHERE id = ?", (row["id"],))
            conn.execute("RELEASE eng_job")
        made += 1
    return made


def pending(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM eng_job WHERE done = 0").fetchone()[0])


def failed_jobs(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT kind, ref, last_error FROM eng_job WHERE done = 2 ORDER BY id").fetchall()
    return [dict(r) for r in rows]


# -- outcomes --------------------------------------------------------------------------------------


def add_script(conn: sqlite3.Connection, key_kind: str, key_value: str, outcome: str, times: int | None = 1) -> None:
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
    if times is not None and times < 1:
        raise ValueError("times must be at least 1 (or None for every time)")
    conn.execute(
        "INSERT INTO eng_script (key_kind, key_value, outcome, remaining) VALUES (?, ?, ?, ?)",
        (key_kind, key_value, outcome, times),
    )


def take_script(ctx: Ctx, *keys: tuple[str, str | None]) -> str | None:
    """The earliest live script matching any of ``(kind, value)``; consumes one use of it."""
    for kind, value in keys:
        if not value:
            continue
        row = ctx.one(
            "SELECT id, outcome, remaining FROM eng_script WHERE key_kind = ? AND key_value = ?"
            " AND (remaining IS NULL OR remaining > 0) ORDER BY id LIMIT 1",
            kind,
            value,
        )
        if row is not None:
            if row["remaining"] is not None:
                ctx.exec("UPDATE eng_script SET remaining = remaining - 1 WHERE id = ?", row["id"])
            return str(row["outcome"])
    return None


def rolled(ctx: Ctx, number: str, what: str, rate: float) -> bool:
    """Whether the dice for ``what`` on ``number`` fall under ``rate`` (deterministic in the seed)."""
    return rate > 0 and draw(ctx.settings.seed, number, what) < rate
