"""营销金结算 — ``client.marketing``: campaigns and marketing-fund settlement."""

from __future__ import annotations

from typing import TypeVar

from ..models import marketing as m
from ..models import settlement as s
from .base import Endpoint, PagedEndpoint, Service

C = TypeVar("C", covariant=True)


class MarketingService(Service[C]):
    """Create a campaign (SFT1101), then pay and follow its batches with the marketing form of
    SFT0502/0503/0504/0510: the same apiCodes as ``client.settlement``, every request carrying the
    ``campaign_no``.
    """

    create_campaign = Endpoint("SFT1101", m.CampaignCreateRequest, m.CampaignCreateResponse)
    submit = Endpoint("SFT0502", m.MarketingSettlementRequest, m.MarketingSettlementResponse, marketing=True)
    batch = Endpoint("SFT0503", m.MarketingBatchQueryRequest, m.MarketingBatchQueryResponse, marketing=True)
    batch_orders = PagedEndpoint(
        "SFT0504",
        m.MarketingBatchOrdersRequest,
        m.MarketingBatchOrdersResponse,
        s.SettlementOrder,
        marketing=True,
    )
    sync = Endpoint("SFT0510", m.MarketingSyncRequest, m.MarketingSyncResponse, marketing=True)
