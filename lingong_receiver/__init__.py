"""The merchant's notification receiver (contract §6): verify, record, deduplicate, emit Prefect events.

=============  ==============================================================================
module         answers
=============  ==============================================================================
``verify``     is this delivery authentic, fresh, for us and well-formed? (pure)
``kinds``      what is a notification about: its resource ids and the states it reports (pure)
``states``     may a reported state replace the recorded one? (pure)
``store``      what has been received, and the latest state of each record (SQLite)
``events``     the Prefect event for a recorded notification; the default emitter
``service``    the order of things: verify → record → acknowledge → emit, retrying pending events
``app``        the HTTP face (FastAPI): ``POST /notify``, ``GET /healthz``
``settings``   configuration from ``LINGONG_*`` and ``LINGONG_RECEIVER_*``
=============  ==============================================================================

Importing this package does not import Prefect; the default emitter imports it on first use.
"""

from __future__ import annotations

from lingong_core.verify import NotificationRejected

from .events import EmitError, Emitter, EmitUnavailableError, EventSpec, PrefectEmitter, build_event
from .kinds import resource_id
from .service import Outcome, Receiver
from .states import Kind
from .store import NotificationRecord, StateRecord, Store
from .verify import VerifiedNotification, verify_notification

__all__ = [
    "EmitError",
    "EmitUnavailableError",
    "Emitter",
    "EventSpec",
    "Kind",
    "NotificationRecord",
    "NotificationRejected",
    "Outcome",
    "PrefectEmitter",
    "Receiver",
    "StateRecord",
    "Store",
    "VerifiedNotification",
    "build_event",
    "resource_id",
    "verify_notification",
]
