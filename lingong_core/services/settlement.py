"""自由职业者佣金结算 — ``client.settlement``: pay freelancers in batches."""

from __future__ import annotations

from typing import TypeVar

from ..models import settlement as m
from .base import Endpoint, PagedEndpoint, Service

C = TypeVar("C", covariant=True)


class SettlementService(Service[C]):
    """Pre-calculate (SFT0501), submit (SFT0502), then follow the batch (SFT0503/0504/0505).

    ``submit`` is a write: if its answer is lost, reconcile with ``batch`` by ``out_batch_no`` before
    submitting again with the same key (contract §5).
    """

    precalculate = Endpoint("SFT0501", m.FeeCalcRequest, m.FeeCalcResponse)
    submit = Endpoint("SFT0502", m.SettlementRequest, m.SettlementResponse)
    batch = Endpoint("SFT0503", m.BatchQueryRequest, m.BatchQueryResponse)
    batch_orders = PagedEndpoint("SFT0504", m.BatchOrdersRequest, m.BatchOrdersResponse, m.SettlementOrder)
    order = Endpoint("SFT0505", m.OrderQueryRequest, m.OrderQueryResponse)
    receipt = Endpoint("SFT0506", m.ReceiptRequest, m.ReceiptResponse)
    sync = Endpoint("SFT0510", m.SettlementSyncRequest, m.SettlementSyncResponse)
