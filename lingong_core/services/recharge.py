"""充值 — ``client.recharge``: report a transfer (SFT0404) and follow the order (SFT0403)."""

from __future__ import annotations

from typing import TypeVar

from ..models import recharge as m
from .base import Endpoint, PagedEndpoint, Service

C = TypeVar("C", covariant=True)


class RechargeService(Service[C]):
    """Funding: transfer to the account from SFT0304, then ``sync`` (SFT0404) reports it.

    ``apply`` (SFT0402) is 待开发 on the platform: it raises NotOfferedError and sends nothing.
    """

    records = PagedEndpoint("SFT0401", m.RechargeRecordsRequest, m.RechargeRecordsResponse, m.RechargeOrder)
    apply = Endpoint("SFT0402", m.RechargeApplyRequest, m.RechargeApplyResponse)
    query = Endpoint("SFT0403", m.RechargeQueryRequest, m.RechargeQueryResponse)
    sync = Endpoint("SFT0404", m.RechargeSyncRequest, m.RechargeSyncResponse)
