"""Verify one notification delivery (contract §6): the core's check, then what the notification is about.

Pure: the body bytes, our merchant number, the platform's public key and the current time go in; a
:class:`VerifiedNotification` comes out, or a :class:`NotificationRejected` carrying the HTTP status and a
message that says what was wrong. Parsing, the envelope's fields, the merchant, the signature, the freshness
and the bizModel's JSON are checked by :class:`lingong_core.verify.NotificationVerifier` (the same code
``client.notification.parse`` authenticates with), in this order:

====  ======================================================================================
400   the body is not a JSON object of text fields, or a field is missing or ill-formed
403   ``merchantNo`` is not ours
401   the signature does not verify with the platform public key (RSA, constant-time in OpenSSL)
408   ``timestamp`` is more than the tolerance (300 s) away from our clock, either way
400   ``bizModel`` is not a JSON object, or a field the receiver relies on is missing or ill-formed
====  ======================================================================================

The last row's second half is this module's: :func:`~lingong_receiver.kinds.describe` reads the subject.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from lingong_core.errors import InputError
from lingong_core.signing import SignAlgorithm
from lingong_core.verify import DEFAULT_TOLERANCE, NotificationRejected, NotificationVerifier

from .kinds import Subject, describe

__all__ = ["VerifiedNotification", "verify_notification"]


@dataclass(frozen=True, slots=True)
class VerifiedNotification:
    """An authentic, fresh notification for us. ``biz_text`` is the exact signed bizModel text."""

    notify_no: str
    notify_type: str
    merchant_no: str
    version: str
    timestamp: str
    sign: str
    biz_text: str = field(repr=False)  # raw personal data: never in a repr or a log
    biz: Mapping[str, Any] = field(repr=False)
    subject: Subject

    @property
    def resource_id(self) -> str:
        return self.subject.resource_id


def verify_notification(
    body: bytes | str,
    *,
    merchant_no: str,
    public_key: rsa.RSAPublicKey,
    now: datetime,
    algorithm: SignAlgorithm = SignAlgorithm.SHA256_WITH_RSA,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> VerifiedNotification:
    """Parse and verify one delivery's body; raise :class:`NotificationRejected` with the status to answer."""
    authentic = NotificationVerifier(public_key, algorithm).verify(
        body, merchant_no=merchant_no, now=now, tolerance=tolerance
    )
    try:
        subject = describe(authentic.notify_type, authentic.biz)
    except InputError as exc:
        raise NotificationRejected(400, str(exc)) from None
    return VerifiedNotification(
        notify_no=authentic.notify_no,
        notify_type=authentic.notify_type,
        merchant_no=authentic.merchant_no,
        version=authentic.version,
        timestamp=authentic.timestamp,
        sign=authentic.sign,
        biz_text=authentic.biz_text,
        biz=authentic.biz,
        subject=subject,
    )
