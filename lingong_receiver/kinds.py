"""What each notification type is about: its resource, its keys, and the states it reports.

::

    notifyType  event resource                   related (role)                     states recorded
    1001        lingong.recharge.<outOrderNo>    -                                  recharge: status
    2001        lingong.withdrawal.<withdrawNo>  -                                  withdrawal: status
    3001        lingong.settlement.<batchNo>     lingong.order.<outOrderNo> (order) order: status; batch: batchStatus
                                                                                    (when this order completed it)
    5001        lingong.settlement.<batchNo>     lingong.order.<outOrderNo> (order) order: BOUNCED
    8001        lingong.contract.<contractNo>    -                                  contract: status
    9001        lingong.invoice.<applyNo>        -                                  invoice: status

:func:`describe` requires the numbers and the state the receiver relies on, and checks every field that
is present against the shared model of its bizModel (``lingong_core.models.notification``); it raises
:class:`~lingong_core.errors.InputError` naming the first bad field. Unknown fields are kept as they
came. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from lingong_core.errors import InputError
from lingong_core.models.notification import NOTIFICATION_MODELS
from lingong_core.operations import NOTIFICATION_TYPES

from .states import Kind

__all__ = [
    "AMOUNT_FIELDS",
    "TIME_FIELDS",
    "StateUpdate",
    "Subject",
    "check_fields",
    "describe",
    "parse_resource_id",
    "resource_id",
]

RESOURCE_PREFIX = "lingong."
MAX_KEY_LENGTH = 64

#: Money fields, whatever the type: the event payload carries them as two-place decimal strings.
AMOUNT_FIELDS = frozenset({"amount", "serviceAmount", "successAmount", "failAmount"})
#: Date-time fields: the event payload carries them as ``yyyy-MM-dd HH:mm:ss``.
TIME_FIELDS = frozenset({"completeTime", "bounceTime", "signTime", "issueTime"})


@dataclass(frozen=True, slots=True)
class StateUpdate:
    """A state reported for one record. ``key`` is the number in its resource id; both numbers are kept."""

    kind: Kind
    key: str
    state: str
    platform_no: str | None = None
    out_no: str | None = None

    @property
    def resource_id(self) -> str:
        return resource_id(self.kind, self.key)


@dataclass(frozen=True, slots=True)
class Subject:
    """What a notification is about: the event's resource, related resources, and the states it reports."""

    resource_id: str
    related: tuple[tuple[str, str], ...]  # (resource id, role)
    updates: tuple[StateUpdate, ...]


def resource_id(kind: Kind | str, number: str) -> str:
    """``lingong.<kind>.<number>``, the id used for Prefect event resources and :meth:`Store.get_state`."""
    return f"{RESOURCE_PREFIX}{Kind(kind).value}.{number}"


def parse_resource_id(text: str) -> tuple[Kind, str]:
    """``lingong.order.T001`` → (Kind.ORDER, "T001"); raise :class:`ValueError` for anything else."""
    if not text.startswith(RESOURCE_PREFIX):
        raise ValueError(f"a resource id looks like lingong.<kind>.<number> (got {text[:80]!r})")
    kind_text, _, number = text[len(RESOURCE_PREFIX) :].partition(".")
    try:
        kind = Kind(kind_text)
    except ValueError:
        kinds = ", ".join(k.value for k in Kind)
        raise ValueError(f"unknown kind {kind_text!r} in resource id; one of: {kinds}") from None
    if not number:
        raise ValueError(f"a resource id needs a number after lingong.{kind.value}.")
    return kind, number


def _key(biz: Mapping[str, Any], name: str) -> str:
    value = biz.get(name)
    if value is None or value == "":
        raise InputError(f"bizModel.{name}", "is required")
    if not isinstance(value, str):
        raise InputError(f"bizModel.{name}", "must be a string", type(value).__name__)
    if len(value) > MAX_KEY_LENGTH or not value.isprintable() or any(ch.isspace() for ch in value):
        raise InputError(f"bizModel.{name}", f"must be at most {MAX_KEY_LENGTH} printable characters without spaces")
    return value


def _optional_key(biz: Mapping[str, Any], name: str) -> str | None:
    return _key(biz, name) if biz.get(name) not in (None, "") else None


@cache
def _adapter(notify_type: str) -> TypeAdapter[Any]:
    # A TypeAdapter validates with the model's own schema but raises pydantic's ValidationError, whose
    # error types tell a missing field (tolerated here) from an ill-formed one.
    return TypeAdapter(NOTIFICATION_MODELS[notify_type])


def check_fields(notify_type: str, biz: Mapping[str, Any]) -> None:
    """Check every field present against the shared model (:mod:`lingong_core.models.notification`).

    Absent (or null) fields are not refused here: the platform would redeliver a refused notification
    8 times and then give up, so only what the receiver needs is required (:func:`describe`).
    """
    present = {name: value for name, value in biz.items() if value is not None}
    try:
        _adapter(notify_type).validate_python(present)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            if error["type"] == "missing":
                continue
            where = ".".join(str(step) for step in error["loc"])
            rule = str(error["msg"]).removeprefix("Value error, ")
            raise InputError(f"bizModel.{where}", rule) from None


def describe(notify_type: str, biz: Mapping[str, Any]) -> Subject:
    """The resource, related resources and state updates of a notification; raise :class:`InputError`."""
    if notify_type not in NOTIFICATION_TYPES or notify_type not in NOTIFICATION_MODELS:
        known = ", ".join(sorted(NOTIFICATION_TYPES))
        raise InputError("notifyType", f"must be one of {known}", notify_type[:20])
    check_fields(notify_type, biz)
    if notify_type == "1001":
        out_order_no, order_no = _key(biz, "outOrderNo"), _key(biz, "orderNo")
        update = StateUpdate(Kind.RECHARGE, out_order_no, _key(biz, "status"), order_no, out_order_no)
        return Subject(update.resource_id, (), (update,))
    if notify_type == "2001":
        withdraw_no = _key(biz, "withdrawNo")
        update = StateUpdate(
            Kind.WITHDRAWAL, withdraw_no, _key(biz, "status"), withdraw_no, _optional_key(biz, "outWithdrawNo")
        )
        return Subject(update.resource_id, (), (update,))
    if notify_type in ("3001", "5001"):
        batch_no, out_order_no, order_no = _key(biz, "batchNo"), _key(biz, "outOrderNo"), _key(biz, "orderNo")
        state = _key(biz, "status") if notify_type == "3001" else "BOUNCED"
        updates = [StateUpdate(Kind.ORDER, out_order_no, state, order_no, out_order_no)]
        if notify_type == "3001" and biz.get("batchStatus") not in (None, ""):
            updates.append(
                StateUpdate(
                    Kind.SETTLEMENT, batch_no, _key(biz, "batchStatus"), batch_no, _optional_key(biz, "outBatchNo")
                )
            )
        return Subject(resource_id(Kind.SETTLEMENT, batch_no), ((updates[0].resource_id, "order"),), tuple(updates))
    if notify_type == "8001":
        contract_no = _key(biz, "contractNo")
        update = StateUpdate(Kind.CONTRACT, contract_no, _key(biz, "status"), contract_no, None)
        return Subject(update.resource_id, (), (update,))
    # 9001
    apply_no = _key(biz, "applyNo")
    update = StateUpdate(Kind.INVOICE, apply_no, _key(biz, "status"), apply_no, _optional_key(biz, "outApplyNo"))
    return Subject(update.resource_id, (), (update,))
