"""营销金结算 — marketing-fund settlement: a campaign (SFT1101), then SFT0502/0503/0504/0510 in their
marketing form.

The marketing form uses the same apiCodes as commission settlement and differs in one way: every
request carries the ``campaignNo`` that SFT1101 returned (required), and the answers echo it. The
platform tells the two families apart by that field. Everything else — all-or-nothing batches,
``outBatchNo``/``outOrderNo`` keys, states, notifications 3001/5001 — is the settlement group's.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from ..money import Money, PositiveMoney
from ..timeutil import PlatformDate
from .base import FieldRuleError, Open, RequestModel, ResponseModel
from .common import CampaignNo, OutCampaignNo, TaxBaseCode
from .settlement import (
    BatchOrdersRequest,
    BatchOrdersResponse,
    BatchQueryRequest,
    BatchQueryResponse,
    SettlementRequest,
    SettlementResponse,
    SettlementSyncRequest,
    SettlementSyncResponse,
)


class CampaignStatus(StrEnum):
    """营销活动状态: CREATED → ACTIVE → ENDED."""

    CREATED = "CREATED"
    ACTIVE = "ACTIVE"
    ENDED = "ENDED"


_CAMPAIGN = "The marketing campaign (营销活动编号) from SFT1101"


# SFT1101 营销活动创建 -----------------------------------------------------------------------------------


class CampaignCreateRequest(RequestModel):
    """SFT1101: create a marketing campaign whose rewards are paid as marketing funds (营销金)."""

    out_campaign_no: OutCampaignNo
    campaign_name: str = Field(min_length=1, max_length=100, description="Campaign name (活动名称)")
    tax_base_code: TaxBaseCode
    start_date: PlatformDate = Field(description="First day (开始日期), yyyy-MM-dd")
    end_date: PlatformDate = Field(description="Last day (结束日期), yyyy-MM-dd")
    budget_amount: PositiveMoney | None = Field(None, description="Budget (活动预算)")
    description: str | None = Field(None, max_length=1000, description="What the campaign rewards (活动说明)")

    @model_validator(mode="after")
    def _dates(self) -> Self:
        if self.end_date < self.start_date:
            raise FieldRuleError("endDate", "must not be before startDate")
        return self


class CampaignCreateResponse(ResponseModel):
    campaign_no: CampaignNo
    out_campaign_no: OutCampaignNo
    tax_base_code: TaxBaseCode | None = None
    budget_amount: Money | None = Field(None, description="Budget (活动预算)")
    status: Open[CampaignStatus] = Field(description="Campaign status (活动状态)")


# SFT0502 营销金结算付款 ---------------------------------------------------------------------------------


class MarketingSettlementRequest(SettlementRequest):
    """SFT0502, marketing form: pay a batch of marketing funds for one campaign."""

    campaign_no: CampaignNo = Field(description=_CAMPAIGN)


class MarketingSettlementResponse(SettlementResponse):
    campaign_no: CampaignNo | None = Field(None, description=_CAMPAIGN)


# SFT0503 营销金结算批次查询 ------------------------------------------------------------------------------


class MarketingBatchQueryRequest(BatchQueryRequest):
    """SFT0503, marketing form."""

    campaign_no: CampaignNo = Field(description=_CAMPAIGN)


class MarketingBatchQueryResponse(BatchQueryResponse):
    campaign_no: CampaignNo | None = Field(None, description=_CAMPAIGN)


# SFT0504 营销金结算批次订单查询 ----------------------------------------------------------------------------


class MarketingBatchOrdersRequest(BatchOrdersRequest):
    """SFT0504, marketing form (paged)."""

    campaign_no: CampaignNo = Field(description=_CAMPAIGN)


class MarketingBatchOrdersResponse(BatchOrdersResponse):
    campaign_no: CampaignNo | None = Field(None, description=_CAMPAIGN)


# SFT0510 营销金结算订单同步 ------------------------------------------------------------------------------


class MarketingSyncRequest(SettlementSyncRequest):
    """SFT0510, marketing form: report one marketing-fund payout made outside the platform."""

    campaign_no: CampaignNo = Field(description=_CAMPAIGN)


class MarketingSyncResponse(SettlementSyncResponse):
    campaign_no: CampaignNo | None = Field(None, description=_CAMPAIGN)


__all__ = [
    "CampaignCreateRequest",
    "CampaignCreateResponse",
    "CampaignStatus",
    "MarketingBatchOrdersRequest",
    "MarketingBatchOrdersResponse",
    "MarketingBatchQueryRequest",
    "MarketingBatchQueryResponse",
    "MarketingSettlementRequest",
    "MarketingSettlementResponse",
    "MarketingSyncRequest",
    "MarketingSyncResponse",
]
