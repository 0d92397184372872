"""The receiver's one operation: verify a delivery, record it, then emit its event.

Order matters: the notification is committed to the store before anything else happens, so an emitter
that fails (or a crash after the commit) never loses it; the answer ``success`` is only given after the
commit. A ``notifyNo`` seen before is counted and acknowledged again, and does nothing else. Events not
yet emitted are retried after every valid delivery and at start-up (:meth:`Receiver.flush_pending`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from cryptography.hazmat.primitives.asymmetric import rsa

from lingong_core.masking import scrub
from lingong_core.signing import SignAlgorithm
from lingong_core.timeutil import Clock
from lingong_core.timeutil import now as shanghai_now
from lingong_core.verify import DEFAULT_TOLERANCE, NotificationRejected
from lingong_store.links import RunLink, RunLinks

from .events import Emitter, EmitUnavailableError, build_event
from .kinds import describe
from .store import NotificationRecord, Recorded, Store
from .verify import verify_notification

__all__ = ["Outcome", "Receiver"]

log = logging.getLogger(__name__)

#: Pending events retried after each delivery (the oldest first); start-up retries them all.
RETRY_PER_DELIVERY = 20


class _Emit(Enum):
    EMITTED = "emitted"
    ALREADY = "already"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one accepted delivery did. ``new`` is False for a redelivery; ``emitted`` for this delivery."""

    notify_no: str
    notify_type: str
    new: bool
    deliveries: int
    emitted: bool
    recorded: Recorded


class Receiver:
    """Verifies, records and emits. Everything it depends on is a constructor argument."""

    def __init__(
        self,
        store: Store,
        *,
        merchant_no: str,
        platform_public_key: rsa.RSAPublicKey,
        emitter: Emitter,
        sign_algorithm: SignAlgorithm = SignAlgorithm.SHA256_WITH_RSA,
        clock: Clock = shanghai_now,
        tolerance: timedelta = DEFAULT_TOLERANCE,
        links: RunLinks | None = None,
    ) -> None:
        if not merchant_no:
            raise ValueError("merchant_no is required")
        self.store = store
        self.merchant_no = merchant_no
        self.platform_public_key = platform_public_key
        self.emitter = emitter
        self.sign_algorithm = SignAlgorithm(sign_algorithm)
        self.clock = clock
        self.tolerance = tolerance
        self.links = links  # which flow run placed what (lingong_store.links): the events relate to it
        self._emit_lock = threading.Lock()

    def handle(self, body: bytes | str) -> Outcome:
        """Handle one delivery; raise :class:`NotificationRejected` (with its HTTP status) to refuse it."""
        try:
            notification = verify_notification(
                body,
                merchant_no=self.merchant_no,
                public_key=self.platform_public_key,
                now=self.clock(),
                algorithm=self.sign_algorithm,
                tolerance=self.tolerance,
            )
        except NotificationRejected as exc:
            log.warning("notification refused: %s", scrub(str(exc)))
            raise
        recorded = self.store.record(notification, received_at=self.clock())
        record = recorded.record
        result = _Emit.ALREADY
        if recorded.new:
            log.info(
                "notification %s (%s) recorded for %s%s",
                record.notify_no,
                record.notify_type,
                record.resource_id,
                f" [{record.state_note}]" if record.state_note else "",
            )
            result = self._emit(record.notify_no)
        else:
            if record.biz_text != notification.biz_text:
                log.warning("notification %s redelivered with a different bizModel; kept the first", record.notify_no)
            log.info("notification %s redelivered (delivery %d)", record.notify_no, record.deliveries)
        if result is not _Emit.FAILED:  # the emitter just failed: it is not worth trying older ones now
            self.flush_pending(RETRY_PER_DELIVERY)
        emitted = result is _Emit.EMITTED
        return Outcome(record.notify_no, record.notify_type, recorded.new, record.deliveries, emitted, recorded)

    def _emit(self, notify_no: str) -> _Emit:
        """Emit one recorded notification's event unless it was emitted already."""
        with self._emit_lock:
            record = self.store.get(notify_no)
            if record is None or record.emitted:
                return _Emit.ALREADY
            try:
                self.emitter(build_event(record, self._links(record)))
            except Exception as exc:
                level = logging.INFO if isinstance(exc, EmitUnavailableError) else logging.WARNING
                log.log(level, "event for notification %s not emitted (kept, will retry): %s", notify_no, exc)
                self.store.mark_emit_failed(notify_no, f"{type(exc).__name__}: {exc}")
                return _Emit.FAILED
            self.store.mark_emitted(notify_no, at=self.clock())
            return _Emit.EMITTED

    def _links(self, record: NotificationRecord) -> list[RunLink]:
        """The runs that placed what the notification is about; none when unknown or unreadable."""
        if self.links is None:
            return []
        try:
            subject = describe(record.notify_type, record.biz)
            return self.links.find([subject.resource_id, *(rid for rid, _ in subject.related)])
        except Exception as exc:  # a link is a convenience: the event goes out without it
            log.warning("notification %s: the runs it relates to not read: %s", record.notify_no, scrub(str(exc)))
            return []

    def flush_pending(self, limit: int | None = None) -> int:
        """Emit pending events, oldest first, stopping at the first failure; return how many were emitted."""
        emitted = 0
        for record in self.store.pending_events(limit):
            result = self._emit(record.notify_no)
            if result is _Emit.FAILED:
                break
            emitted += result is _Emit.EMITTED
        if emitted:
            log.info("emitted %d pending notification event(s)", emitted)
        return emitted
