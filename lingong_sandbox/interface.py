"""The seam between the sandbox's gateway (envelope, signatures, replay, faults, notifications, HTTP)
and its business engine (the platform's rules and state).

The gateway verifies the envelope, opens one transaction, calls :meth:`Engine.handle`, records the
answer under the requestNo and commits. The engine raises :class:`PlatformError` to refuse; it queues
notifications through :class:`Notify` inside the same transaction; the gateway's background loop
calls :meth:`Engine.run_due` to move orders, contracts, recharges and invoices along.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any, Protocol


class PlatformError(Exception):
    """A refusal with a contract §3 code (400, 404, 409, 4xxx …); ``fields`` go flat into the answer."""

    def __init__(self, code: int, msg: str, **fields: Any) -> None:
        super().__init__(f"[{code}] {msg}")
        self.code = code
        self.msg = msg
        self.fields = fields

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg, **self.fields}


class Notify(Protocol):
    """Queue a notification to the merchant (delivered, signed, after the transaction commits)."""

    def __call__(self, conn: sqlite3.Connection, merchant_no: str, notify_type: str, biz: dict[str, Any]) -> None: ...


class Engine(Protocol):
    def handle(self, conn: sqlite3.Connection, merchant_no: str, api_code: str, biz: dict[str, Any]) -> dict[str, Any]:
        """Apply one call inside the caller's transaction; return the answer's business fields."""
        ...

    def run_due(self, conn: sqlite3.Connection, now: datetime) -> int:
        """Make every background transition due by ``now``; return how many were made."""
        ...

    def audit(self, conn: sqlite3.Connection) -> dict[str, Any]:
        """Per business key, how many times it was paid; the ledger's totals; whether it balances."""
        ...
