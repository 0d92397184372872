"""The requestNo store (contract §4) and the log of every request the gateway answered.

``(merchantNo, requestNo)`` is remembered for ``request_no_ttl_seconds`` (24 h) with a hash of
``(apiCode, bizModel text)`` and the exact bytes of the answer. A repeat with the same hash gets those
bytes again; a repeat with other content is a conflict (409). Only answers the business logic produced
are stored, in the same transaction as the business write (see ``gateway.py``).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .db import schema

schema(
    """
    CREATE TABLE IF NOT EXISTS sandbox_request_nos (
        merchant_no TEXT NOT NULL,
        request_no TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        api_code TEXT NOT NULL,
        answer BLOB NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (merchant_no, request_no)
    );
    CREATE INDEX IF NOT EXISTS sandbox_request_nos_created ON sandbox_request_nos (created_at);
    CREATE TABLE IF NOT EXISTS sandbox_request_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        at_epoch REAL NOT NULL,
        api_code TEXT,
        merchant_no TEXT,
        request_no TEXT,
        http_status INTEGER NOT NULL,
        code INTEGER,
        outcome TEXT NOT NULL,
        duration_ms REAL NOT NULL
    )
    """
)


def content_hash(api_code: str, biz_model: str) -> str:
    """What makes two uses of one requestNo "the same request": the apiCode and the exact bizModel text."""
    digest = hashlib.sha256()
    digest.update(api_code.encode("utf-8"))
    digest.update(b"\x00")
    digest.update(biz_model.encode("utf-8"))
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Remembered:
    content_hash: str
    answer: bytes


def lookup(conn: sqlite3.Connection, merchant_no: str, request_no: str, ttl_seconds: float) -> Remembered | None:
    """The stored answer for a requestNo still inside its time to live, or None."""
    row = conn.execute(
        "SELECT content_hash, answer, created_at FROM sandbox_request_nos WHERE merchant_no = ? AND request_no = ?",
        (merchant_no, request_no),
    ).fetchone()
    if row is None or row["created_at"] < time.time() - ttl_seconds:
        return None
    return Remembered(row["content_hash"], bytes(row["answer"]))


def remember(
    conn: sqlite3.Connection, merchant_no: str, request_no: str, api_code: str, digest: str, answer: bytes
) -> None:
    """Store an answer under the requestNo (replacing an expired record of the same number)."""
    conn.execute(
        "INSERT OR REPLACE INTO sandbox_request_nos"
        " (merchant_no, request_no, content_hash, api_code, answer, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (merchant_no, request_no, digest, api_code, answer, time.time()),
    )


def purge(conn: sqlite3.Connection, ttl_seconds: float) -> int:
    """Forget requestNos older than their time to live; return how many."""
    cur = conn.execute("DELETE FROM sandbox_request_nos WHERE created_at < ?", (time.time() - ttl_seconds,))
    return cur.rowcount


@dataclass(slots=True)
class LogEntry:
    at: str
    at_epoch: float
    api_code: str | None
    merchant_no: str | None
    request_no: str | None
    http_status: int
    code: int | None
    outcome: str  # handled, replayed, refused, conflict, malformed, fault:<kind>, error
    duration_ms: float


def log_request(conn: sqlite3.Connection, entry: LogEntry) -> None:
    conn.execute(
        "INSERT INTO sandbox_request_log (at, at_epoch, api_code, merchant_no, request_no, http_status, code,"
        " outcome, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            entry.at,
            entry.at_epoch,
            entry.api_code,
            entry.merchant_no,
            entry.request_no,
            entry.http_status,
            entry.code,
            entry.outcome,
            round(entry.duration_ms, 3),
        ),
    )


def request_log(
    conn: sqlite3.Connection, *, since_id: int = 0, limit: int = 1000, api_code: str | None = None
) -> list[dict[str, Any]]:
    """Logged requests after ``since_id``, oldest first."""
    sql = "SELECT * FROM sandbox_request_log WHERE id > ?"
    params: list[Any] = [since_id]
    if api_code:
        sql += " AND api_code = ?"
        params.append(api_code)
    sql += " ORDER BY id LIMIT ?"
    params.append(limit)
    return [
        {
            "id": row["id"],
            "time": row["at"],
            "epoch": Decimal(f"{row['at_epoch']:.3f}"),
            "apiCode": row["api_code"],
            "merchantNo": row["merchant_no"],
            "requestNo": row["request_no"],
            "httpStatus": row["http_status"],
            "code": row["code"],
            "outcome": row["outcome"],
            "durationMs": Decimal(f"{row['duration_ms']:.3f}"),
        }
        for row in conn.execute(sql, params)
    ]
