"""企业信息 — ``client.enterprise``: the merchant's registration."""

from __future__ import annotations

from typing import TypeVar

from ..models import enterprise as m
from .base import Endpoint, Service

C = TypeVar("C", covariant=True)


class EnterpriseService(Service[C]):
    """The merchant's own registration (SFT0901)."""

    info = Endpoint("SFT0901", m.EnterpriseInfoRequest, m.EnterpriseInfoResponse)
