"""用工企业提现 — ``client.withdrawal``: withdraw unused funds to an enterprise bank account."""

from __future__ import annotations

from typing import TypeVar

from ..models import withdrawal as m
from .base import Endpoint, PagedEndpoint, Service

C = TypeVar("C", covariant=True)


class WithdrawalService(Service[C]):
    """Apply (SFT0412), then follow it by notification 2001 or ``detail`` (SFT0413)."""

    orders = PagedEndpoint("SFT0411", m.WithdrawListRequest, m.WithdrawListResponse, m.WithdrawOrder)
    apply = Endpoint("SFT0412", m.WithdrawApplyRequest, m.WithdrawApplyResponse)
    detail = Endpoint("SFT0413", m.WithdrawDetailRequest, m.WithdrawDetailResponse)
