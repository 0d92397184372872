"""A recorded notification as a Prefect event named for what happened, e.g. ``lingong.settlement.completed``.

==========  ======================================  ===================================  ==================
notifyType  event (by the state reported)           resource (``prefect.resource.id``)   related (role)
==========  ======================================  ===================================  ==================
1001        ``lingong.recharge.confirmed|failed``   ``lingong.recharge.<outOrderNo>``    —
2001        ``lingong.withdrawal.completed|failed`` ``lingong.withdrawal.<withdrawNo>``  —
3001        ``lingong.settlement.completed`` (the   ``lingong.settlement.<batchNo>``     ``lingong.order.
            order completing its batch), else                                            <outOrderNo>``
            ``lingong.order.paid|failed``                                                (order)
5001        ``lingong.order.bounced``               ``lingong.settlement.<batchNo>``     (order)
8001        ``lingong.contract.signed|expired``     ``lingong.contract.<contractNo>``    —
9001        ``lingong.invoice.issued|rejected``     ``lingong.invoice.<applyNo>``        —
==========  ======================================  ===================================  ==================

A state the table does not name gives ``lingong.<kind>.<state in lower case>``, so nothing is dropped.

The resource also carries the labels ``lingong.notify-no``, ``lingong.notify-type`` and
``lingong.merchant-no``. The flow run that placed what a notification is about (the payroll run whose
batch it is, the onboarding that generated the contract; :mod:`lingong_store.links`) is a related
resource ``prefect.flow-run.<id>`` (role ``flow-run``, ``lingong.placed-by`` saying what it did), so the
event's page in the UI links to the run. An 8001 also carries ``lingong.onboarding-run`` (that onboarding
run's id, or empty) and ``lingong.signing-group`` (``onboarding-<run id>``, or ``contract-<resource>`` for
a contract no lingong onboarding generated): the contract-signed trigger runs once per group.
The payload is the bizModel's fields with personal data masked
(:func:`lingong_core.masking.mask_mapping`; free text scrubbed), amounts as two-place decimal strings
(``"200021.00"``, so a deployment parameter never meets a float), and times as ``yyyy-MM-dd HH:mm:ss``.
Identifiers (``batchNo``, ``outOrderNo``, …) are passed through untouched so that triggers can use them.

The event id is derived from (merchantNo, notifyNo), so every attempt to emit one notification carries
the same id; Prefect's server stores an event id once and its triggers skip an id they have seen.

:func:`build_event` is pure. :class:`PrefectEmitter` is the default emitter; anything callable with an
:class:`EventSpec` that raises on failure will do (tests pass a recording one).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from lingong_core.masking import mask_mapping
from lingong_core.money import to_money
from lingong_core.operations import NOTIFICATION_TYPES
from lingong_core.timeutil import format_datetime, parse_datetime
from lingong_store.links import RunLink

from .kinds import AMOUNT_FIELDS, TIME_FIELDS, describe
from .store import NotificationRecord

__all__ = [
    "EVENT_NAMES",
    "EmitError",
    "EmitUnavailableError",
    "Emitter",
    "EventSpec",
    "PrefectEmitter",
    "build_event",
    "event_id",
    "event_name",
    "payload_of",
]

#: (notifyType, state) → the event's name; the state is ``status`` (``batchStatus`` for a batch completed).
EVENT_NAMES: dict[tuple[str, str], str] = {
    ("1001", "SUCCESS"): "lingong.recharge.confirmed",
    ("1001", "FAILED"): "lingong.recharge.failed",
    ("2001", "SUCCESS"): "lingong.withdrawal.completed",
    ("2001", "FAILED"): "lingong.withdrawal.failed",
    ("3001", "SUCCESS"): "lingong.order.paid",
    ("3001", "FAILED"): "lingong.order.failed",
    ("3001", "COMPLETED"): "lingong.settlement.completed",
    ("5001", "BOUNCED"): "lingong.order.bounced",
    ("8001", "SIGNED"): "lingong.contract.signed",
    ("8001", "EXPIRED"): "lingong.contract.expired",
    ("9001", "ISSUED"): "lingong.invoice.issued",
    ("9001", "REJECTED"): "lingong.invoice.rejected",
}
_KIND_OF_TYPE = {
    "1001": "recharge",
    "2001": "withdrawal",
    "3001": "order",
    "5001": "order",
    "8001": "contract",
    "9001": "invoice",
}
_EVENT_NAMESPACE = uuid.UUID("6f1c3f0e-5d0b-4c39-9a57-2b7a4f1d8e21")  # fixed: ids must not change across releases

#: Passed through as sent: the numbers flows and triggers correlate on, and states.
IDENTIFIER_FIELDS = frozenset(
    {
        "orderNo",
        "outOrderNo",
        "batchNo",
        "outBatchNo",
        "withdrawNo",
        "outWithdrawNo",
        "contractNo",
        "applyNo",
        "outApplyNo",
        "refundNo",
        "freelancerNo",
        "taxBaseCode",
        "invoiceNos",
        "status",
        "batchStatus",
    }
)


@dataclass(frozen=True, slots=True)
class EventSpec:
    """Everything :func:`prefect.events.emit_event` is called with."""

    event: str
    resource: dict[str, str]
    payload: dict[str, Any]
    occurred: datetime
    id: uuid.UUID
    related: list[dict[str, str]] = field(default_factory=list)


Emitter = Callable[[EventSpec], None]
"""Emits one event or raises; it must be safe to call again for the same event (same id)."""


class EmitError(Exception):
    """The event could not be handed to Prefect; the notification stays pending and is retried."""


class EmitUnavailableError(EmitError):
    """Events cannot be sent at all in this process (no ``PREFECT_API_URL``)."""


def event_id(merchant_no: str, notify_no: str) -> uuid.UUID:
    """The same id for every attempt to emit one notification's event."""
    return uuid.uuid5(_EVENT_NAMESPACE, f"{merchant_no}/{notify_no}")


def _plain(value: Any) -> Any:
    """Decimals anywhere become text, so the payload is plain JSON without floats."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def payload_of(biz: Mapping[str, Any]) -> dict[str, Any]:
    """The event payload of a bizModel: personal data masked, amounts as strings, times normalised."""
    masked = mask_mapping(biz)
    payload: dict[str, Any] = {}
    for name, value in biz.items():
        if value is None:
            payload[name] = None
        elif name in IDENTIFIER_FIELDS:
            payload[name] = value
        elif name in AMOUNT_FIELDS and isinstance(value, (int, Decimal, str)) and not isinstance(value, bool):
            payload[name] = format(to_money(value, field=name), "f")  # checked on receipt, so it parses
        elif name in TIME_FIELDS and isinstance(value, (str, int)) and value != "":
            payload[name] = format_datetime(parse_datetime(value, field=name))
        else:
            payload[name] = _plain(masked[name])
    return payload


def event_name(notify_type: str, biz: Mapping[str, Any]) -> str:
    """The event's name: what happened, by the notification's type and the state it reports."""
    if notify_type == "3001" and biz.get("batchStatus") == "COMPLETED":
        state = "COMPLETED"
    elif notify_type == "5001":
        state = "BOUNCED"
    else:
        state = str(biz.get("status") or "unknown")
    name = EVENT_NAMES.get((notify_type, state))
    if name is None:
        kind = _KIND_OF_TYPE.get(notify_type, "notification")
        word = "".join(ch if ch.isalnum() else "-" for ch in state.lower())[:32].strip("-") or "unknown"
        name = f"lingong.{kind}.{word}"
    return name


def build_event(record: NotificationRecord, links: Sequence[RunLink] = ()) -> EventSpec:
    """The Prefect event for a recorded notification (pure); ``links``: the runs that placed what it is about."""
    subject = describe(record.notify_type, record.biz)
    title = NOTIFICATION_TYPES.get(record.notify_type, ("", record.notify_type))[1]
    resource = {
        "prefect.resource.id": subject.resource_id,
        "prefect.resource.name": f"{title} {subject.resource_id.rsplit('.', 1)[-1]}",
        "lingong.notify-no": record.notify_no,
        "lingong.notify-type": record.notify_type,
        "lingong.merchant-no": record.merchant_no,
    }
    batch_status = record.biz.get("batchStatus") if record.notify_type == "3001" else None
    if isinstance(batch_status, str) and batch_status:
        # The order that completes its batch says so: a trigger can then start one run per batch, not per order.
        resource["lingong.batch-status"] = batch_status
    related = [{"prefect.resource.id": rid, "prefect.resource.role": role} for rid, role in subject.related]
    for run_id in dict.fromkeys(link.flow_run_id for link in links):
        link = next(x for x in links if x.flow_run_id == run_id)
        related.append(
            {
                "prefect.resource.id": f"prefect.flow-run.{run_id}",
                "prefect.resource.role": "flow-run",
                **({"prefect.resource.name": link.flow_run_name} if link.flow_run_name else {}),
                "lingong.placed-by": link.role,  # what the run did: payroll-run (the batch), onboarding (the contract)
            }
        )
    if record.notify_type == "8001":
        # One contract-signed run per onboarding batch: the trigger runs once per signing group (prefect.yaml).
        batch = next((x.group_id for x in links if x.role == "onboarding" and x.group_id), "")
        resource["lingong.onboarding-run"] = batch
        resource["lingong.signing-group"] = f"onboarding-{batch}" if batch else f"contract-{subject.resource_id}"
    return EventSpec(
        event=event_name(record.notify_type, record.biz),
        resource=resource,
        payload=payload_of(record.biz),
        occurred=record.received_at,
        id=event_id(record.merchant_no, record.notify_no),
        related=related,
    )


class PrefectEmitter:
    """The default emitter: :func:`prefect.events.emit_event`, refusing when no Prefect API is configured.

    Without ``PREFECT_API_URL``, Prefect would start a throwaway local server that swallows the event;
    this emitter raises :class:`EmitUnavailableError` instead, so the notification stays pending and its
    event is emitted once the receiver runs with ``PREFECT_API_URL`` set. "Emitted" means handed to
    Prefect's events worker, which delivers it over its websocket with its own reconnect and resend.
    Prefect is imported on first use, so a receiver's start-up and tests that inject an emitter stay fast.
    """

    def available(self) -> str | None:
        """The Prefect API URL events go to, or None when events cannot be sent."""
        from prefect.settings import get_current_settings

        url = get_current_settings().api.url
        return str(url) if url else None

    def __call__(self, spec: EventSpec) -> None:
        if self.available() is None:
            raise EmitUnavailableError("PREFECT_API_URL is not set: events are kept until it is")
        from prefect.events import emit_event

        emitted = emit_event(
            event=spec.event,
            resource=spec.resource,
            occurred=spec.occurred,
            related=spec.related,
            payload=spec.payload,
            id=spec.id,
        )
        if emitted is None:
            raise EmitError("Prefect did not accept the event (see Prefect's log)")
