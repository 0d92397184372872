"""The one check of a notification the platform posts (contract §6): parse, check, authenticate, freshness.

:class:`NotificationVerifier` holds the platform's public key and algorithm. Two uses, one code:

- :meth:`~NotificationVerifier.authenticate` checks an envelope's signature, raising
  :class:`~lingong_core.errors.SignatureError` (``client.notification.parse`` and
  ``client.verify_notification`` use it);
- :meth:`~NotificationVerifier.verify` checks a whole delivery's body, in the manner of stripe's webhook
  check — the body bytes, our merchant number and the current time go in, an :class:`AuthenticNotification`
  comes out, or a :class:`NotificationRejected` carrying the HTTP status to answer and a message that says
  what was wrong (the receiver, ``lingong_receiver.verify``, uses it and adds what the notification is about).

The checks of :meth:`~NotificationVerifier.verify` run in this order, so that only an authentic envelope has
its business content read:

====  ======================================================================================
413   the body is larger than :data:`MAX_BODY_BYTES`
400   the body is not a JSON object of text fields, or a field is missing or ill-formed
403   ``merchantNo`` is not ours
401   the signature does not verify with the platform public key (RSA, constant-time in OpenSSL)
408   ``timestamp`` is more than the tolerance (300 s) away from our clock, either way
400   ``bizModel`` is not the JSON text of an object
====  ======================================================================================

Pure: no clock of its own, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from . import jsoncodec
from .errors import InputError, SignatureError
from .signing import SignAlgorithm, verify_envelope
from .timeutil import parse_timestamp, to_shanghai

__all__ = [
    "DEFAULT_TOLERANCE",
    "MAX_BODY_BYTES",
    "AuthenticNotification",
    "NotificationRejected",
    "NotificationVerifier",
]

DEFAULT_TOLERANCE = timedelta(seconds=300)
MAX_BODY_BYTES = 1_048_576
VERSION = "2.0"
TEXT_FIELDS = ("notifyNo", "merchantNo", "version", "timestamp", "bizModel", "sign")
MAX_NOTIFY_NO_LENGTH = 64


class NotificationRejected(Exception):
    """A delivery to refuse. ``status`` is the HTTP status to answer; ``message`` says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"[{status}] {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class AuthenticNotification:
    """An authentic, fresh notification for us. ``biz_text`` is the exact signed bizModel text."""

    notify_no: str
    notify_type: str
    merchant_no: str
    version: str
    timestamp: str
    sign: str
    biz_text: str = field(repr=False)  # raw personal data: never in a repr or a log
    biz: dict[str, Any] = field(repr=False)


class NotificationVerifier:
    """Checks notifications with the platform's public key (``algorithm``: the merchant's sign algorithm)."""

    def __init__(
        self, public_key: rsa.RSAPublicKey, algorithm: SignAlgorithm | str = SignAlgorithm.SHA256_WITH_RSA
    ) -> None:
        self.public_key = public_key
        self.algorithm = SignAlgorithm(algorithm)

    def __repr__(self) -> str:
        return f"NotificationVerifier({self.algorithm.value})"

    def authenticate(self, envelope: Mapping[str, Any]) -> None:
        """Verify the envelope's ``sign``; raise :class:`~lingong_core.errors.SignatureError` if it fails."""
        verify_envelope(envelope, self.public_key, self.algorithm)

    def verify(
        self, body: bytes | str, *, merchant_no: str, now: datetime, tolerance: timedelta = DEFAULT_TOLERANCE
    ) -> AuthenticNotification:
        """Parse and verify one delivery's body; raise :class:`NotificationRejected` with the status to answer."""
        envelope = _parse_envelope(body)
        notify_no, notify_type = _check_envelope(envelope)
        try:
            sent_at = parse_timestamp(envelope["timestamp"])
        except InputError as exc:
            raise _bad(str(exc)) from None

        if envelope["merchantNo"] != merchant_no:
            raise NotificationRejected(
                403, f"merchantNo {envelope['merchantNo'][:32]!r} is not this receiver's merchant"
            )
        try:
            self.authenticate(envelope)
        except SignatureError as exc:
            raise NotificationRejected(
                401, f"{exc.msg} with the platform public key ({self.algorithm.value})"
            ) from None
        skew = to_shanghai(now) - sent_at
        if abs(skew) > tolerance:
            direction = "old" if skew > timedelta(0) else "ahead of our clock"
            raise NotificationRejected(
                408,
                f"timestamp {envelope['timestamp']} is {int(abs(skew).total_seconds())} s {direction}; "
                f"at most {int(tolerance.total_seconds())} s is accepted",
            )

        biz_text: str = envelope["bizModel"]
        try:
            biz = jsoncodec.loads(biz_text)
        except (ValueError, RecursionError) as exc:
            raise _bad(f"bizModel is not JSON text: {str(exc)[:80]}") from None
        if not isinstance(biz, dict):
            raise _bad(f"bizModel must be the JSON text of an object, not of {_json_type(biz)}")
        return AuthenticNotification(
            notify_no=notify_no,
            notify_type=notify_type,
            merchant_no=envelope["merchantNo"],
            version=envelope["version"],
            timestamp=envelope["timestamp"],
            sign=envelope["sign"],
            biz_text=biz_text,
            biz=biz,
        )


def _bad(message: str) -> NotificationRejected:
    return NotificationRejected(400, message)


def _parse_envelope(body: bytes | str) -> dict[str, Any]:
    if isinstance(body, bytes):
        if len(body) > MAX_BODY_BYTES:
            raise NotificationRejected(413, f"body is larger than {MAX_BODY_BYTES} bytes")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise _bad("body is not UTF-8 text") from None
    else:
        text = body
    if not text.strip():
        raise _bad("body is empty; expected the notification as a JSON object")
    try:
        envelope = jsoncodec.loads(text)
    except (ValueError, RecursionError) as exc:
        raise _bad(f"body is not JSON: {str(exc)[:80]}") from None
    if not isinstance(envelope, dict):
        raise _bad(f"body must be a JSON object, not {_json_type(envelope)}")
    for name, value in envelope.items():
        # JSON may escape half a surrogate pair (\ud800): such text cannot even be signed or stored.
        if not _is_unicode(name) or (isinstance(value, str) and not _is_unicode(value)):
            shown = name.encode("utf-8", "replace").decode("utf-8")[:40]
            raise _bad(f"{shown} is not valid Unicode text (a lone surrogate)")
    return envelope


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_envelope(envelope: Mapping[str, Any]) -> tuple[str, str]:
    """Field presence and types; returns (notifyNo, notifyType)."""
    notify_type = envelope.get("notifyType")
    if notify_type is None or notify_type == "":
        raise _bad("notifyType is required")
    if isinstance(notify_type, int) and not isinstance(notify_type, bool):
        notify_type = str(notify_type)  # a Java platform may send the code as a number; it signs the same
    if not isinstance(notify_type, str):
        raise _bad(f"notifyType must be a string, not {_json_type(notify_type)}")
    for name in TEXT_FIELDS:
        value = envelope.get(name)
        if value is None or value == "":
            raise _bad(f"{name} is required")
        if not isinstance(value, str):
            hint = " (the JSON text of the business model, not an object)" if name == "bizModel" else ""
            raise _bad(f"{name} must be a string{hint}, not {_json_type(value)}")
    notify_no: str = envelope["notifyNo"]
    if len(notify_no) > MAX_NOTIFY_NO_LENGTH or not notify_no.isprintable():
        raise _bad(f"notifyNo must be at most {MAX_NOTIFY_NO_LENGTH} printable characters")
    if envelope["version"] != VERSION:
        raise _bad(f"version must be {VERSION} (got {envelope['version'][:20]!r})")
    return notify_no, notify_type


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    return "a number"
