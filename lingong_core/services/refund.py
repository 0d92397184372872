"""退款 — ``client.refund``: money returned by failed or bounced payouts."""

from __future__ import annotations

from typing import TypeVar

from ..models import refund as m
from .base import Endpoint, PagedEndpoint, Service

C = TypeVar("C", covariant=True)


class RefundService(Service[C]):
    """Refund orders (SFT0801, paged) and one refund's detail (SFT0802)."""

    orders = PagedEndpoint("SFT0801", m.RefundOrdersRequest, m.RefundOrdersResponse, m.RefundOrder)
    detail = Endpoint("SFT0802", m.RefundDetailRequest, m.RefundDetailResponse)
