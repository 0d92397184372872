"""The business engine: :class:`Platform` implements :class:`lingong_sandbox.interface.Engine`.

``handle`` dispatches an apiCode of the menu (``lingong_core.operations.OPERATIONS``) to its handler
inside a savepoint of the caller's transaction, so a refusal leaves nothing behind. An apiCode the menu
does not list is 404; the two 待开发 entries are 404 "not yet offered". Malformed input never escapes as
anything but :class:`PlatformError` (400 naming the field).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from lingong_core.errors import InputError
from lingong_core.masking import scrub
from lingong_core.operations import OPERATIONS
from lingong_core.timeutil import Clock, now, to_shanghai

from ..interface import Notify, PlatformError
from ..settings import SandboxSettings
from . import (  # noqa: F401 - importing a module registers its handlers and tables
    account,
    audit,
    contract,
    documents,
    enterprise,
    freelancer,
    invoice,
    jobs,
    ledger,
    marketing,
    project,
    recharge,
    refund,
    settlement,
    settlement_processing,
    settlement_queries,
    validation,
    withdrawal,
)
from .base import HANDLERS, Ctx, Handler
from .fields import Biz


def dispatch(api_code: str) -> Handler:
    """The handler of ``api_code``: every offered apiCode of the menu has one; anything else is 404."""
    op = OPERATIONS.get(api_code)
    if op is None:
        raise PlatformError(404, f"no such apiCode: {str(api_code)[:32]}")
    if not op.offered:
        raise PlatformError(404, f"{api_code} ({op.title_zh}) is not yet offered by the platform (待开发)")
    handler = HANDLERS.get(api_code)
    if handler is None:  # pragma: no cover - a test checks every offered apiCode has a handler
        raise PlatformError(404, f"{api_code} is not implemented by the sandbox")
    return handler


def _no_notify(conn: sqlite3.Connection, merchant_no: str, notify_type: str, biz: dict[str, Any]) -> None:
    return None


class Platform:
    """The platform's rules and state. ``notify`` queues notifications; ``clock`` is the time of calls."""

    def __init__(
        self,
        settings: SandboxSettings | None = None,
        notify: Notify | None = None,
        *,
        clock: Clock = now,
    ) -> None:
        self.settings = settings or SandboxSettings()
        self.notify: Notify = notify or _no_notify
        self.clock = clock
        self._jobs = jobs.JobTable()
        #: (apiCode, marketing form) → every request field a handler has read (``orders[].name`` inside
        #: a list): what the menu-wide contract test compares with the request models.
        self.fields_read: dict[tuple[str, bool], set[str]] = {}

    # -- Engine ------------------------------------------------------------------------------------

    def handle(self, conn: sqlite3.Connection, merchant_no: str, api_code: str, biz: dict[str, Any]) -> dict[str, Any]:
        handler = dispatch(api_code)
        if not isinstance(biz, dict):
            raise PlatformError(400, "bizModel: must be a JSON object")
        data = validation.normalise(api_code, biz)
        form = validation.is_marketing(api_code, biz)
        ctx = self._ctx(conn, merchant_no, to_shanghai(self.clock()), api_code)
        read = self.fields_read.setdefault((api_code, form), set())
        conn.execute("SAVEPOINT eng_call")
        try:
            answer = handler(ctx, Biz(data, fields=validation.request_fields(api_code, form), read=read))
            answer = validation.build_answer(api_code, form, answer)
        except PlatformError:
            self._undo(conn)
            raise
        except InputError as exc:
            self._undo(conn)
            raise PlatformError(400, scrub(str(exc))) from None
        except BaseException:
            self._undo(conn)
            raise
        conn.execute("RELEASE eng_call")
        return answer

    def run_due(self, conn: sqlite3.Connection, now: datetime) -> int:
        moment = to_shanghai(now)
        made = contract.sweep_expired(conn, moment)
        made += jobs.run_due(lambda merchant_no, at: self._ctx(conn, merchant_no, at, ""), conn, moment)
        return made

    def audit(self, conn: sqlite3.Connection) -> dict[str, Any]:
        return audit.audit(conn)

    # -- for tests and the admin endpoint ----------------------------------------------------------

    def script_outcome(
        self,
        conn: sqlite3.Connection,
        *,
        bank_card_no: str | None = None,
        id_card_no: str | None = None,
        business_key: str | None = None,
        outcome: str = jobs.FAIL,
        times: int | None = 1,
    ) -> None:
        """Decide the next outcome for one payee (by card or ID number) or one business key.

        ``outcome``: ``FAIL`` (the order fails; a recharge, withdrawal or invoice application keyed by
        ``business_key`` fails or is rejected), ``BOUNCE`` (the order is paid, then bounces after
        ``delays.bounce``) or ``SUCCESS`` (paid, whatever the rates say). Used ``times`` times (None:
        every time). Business keys: ``outOrderNo`` of a settlement or recharge order, ``outWithdrawNo``,
        ``outApplyNo``.
        """
        given = [
            (k, v)
            for k, v in (("bank_card_no", bank_card_no), ("id_card_no", id_card_no), ("business_key", business_key))
            if v
        ]
        if len(given) != 1:
            raise ValueError("give exactly one of bank_card_no, id_card_no, business_key")
        kind, value = given[0]
        if kind == "id_card_no":
            value = value.strip().upper()
        elif kind == "bank_card_no":
            value = "".join(value.split())
        jobs.add_script(conn, kind, value, outcome.upper(), times)

    def document(self, conn: sqlite3.Connection, kind: str, number: str, *, current_month: str) -> bytes | None:
        """The receipt or tax certificate a ``receiptUrl``/``fileUrl`` names (``documents.document``)."""
        return documents.document(conn, kind, number, current_month=current_month)

    def pending_jobs(self, conn: sqlite3.Connection) -> int:
        """How many background transitions are still waiting (scheduled, not yet due or not yet run)."""
        return jobs.pending(conn)

    # -- internals -----------------------------------------------------------------------------------

    def _ctx(self, conn: sqlite3.Connection, merchant_no: str, at: datetime, api_code: str) -> Ctx:
        return Ctx(
            conn=conn,
            merchant_no=merchant_no,
            settings=self.settings,
            now=at,
            notifier=self.notify,
            jobs=self._jobs,
            api_code=api_code,
        )

    @staticmethod
    def _undo(conn: sqlite3.Connection) -> None:
        conn.execute("ROLLBACK TO eng_call")
        conn.execute("RELEASE eng_call")
