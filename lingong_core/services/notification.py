"""通知 — ``client.notification``: verify a notification's signature and read its bizModel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from ..errors import InputError
from ..models.base import NotificationModel
from ..models.notification import NOTIFICATION_MODELS, parse_notification
from .base import Service

C = TypeVar("C", covariant=True)


class NotificationService(Service[C]):
    """Notifications are posted by the platform, so nothing here sends; the same code serves both clients.

    Deduplication on ``notifyNo`` and the freshness window are the receiver's (contract §6).
    """

    def parse(self, envelope: Mapping[str, Any], *, verify: bool = True) -> NotificationModel:
        """Verify the envelope with the platform public key (unless ``verify=False``), then parse its bizModel."""
        notify_type = str(envelope.get("notifyType", ""))
        if notify_type not in NOTIFICATION_MODELS:
            raise InputError("notifyType", f"must be one of {', '.join(NOTIFICATION_MODELS)}", repr(notify_type))
        if verify:
            self._client.verify_notification(envelope)
        biz = envelope.get("bizModel")
        if not isinstance(biz, str | Mapping):
            raise InputError("bizModel", "must be JSON text", type(biz).__name__)
        return parse_notification(notify_type, biz)
