"""电子合同 — ``client.contract``: generate, sign and query e-contracts."""

from __future__ import annotations

from typing import TypeVar

from ..models import contract as m
from .base import Endpoint, PagedEndpoint, Service

C = TypeVar("C", covariant=True)


class ContractService(Service[C]):
    """Generate (SFT0104), sign (SFT0105), then wait for SIGNED (notification 8001 or SFT0106).

    ``upload`` (SFT0108) is 待开发 on the platform: it raises NotOfferedError and sends nothing.
    """

    preview = Endpoint("SFT0107", m.ContractPreviewRequest, m.ContractPreviewResponse)
    generate = Endpoint("SFT0104", m.ContractGenerateRequest, m.ContractGenerateResponse)
    sign = Endpoint("SFT0105", m.ContractSignRequest, m.ContractSignResponse)
    query = Endpoint("SFT0106", m.ContractQueryRequest, m.ContractQueryResponse)
    upload = Endpoint("SFT0108", m.ContractUploadRequest, m.ContractUploadResponse)
    of_freelancer = PagedEndpoint(
        "SFT0111", m.FreelancerContractsRequest, m.FreelancerContractsResponse, m.ContractInfo
    )
