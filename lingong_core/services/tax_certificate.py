"""完税凭证 — ``client.tax_certificate``: tax payment certificates."""

from __future__ import annotations

from typing import TypeVar

from ..models import tax_certificate as m
from .base import PagedEndpoint, Service

C = TypeVar("C", covariant=True)


class TaxCertificateService(Service[C]):
    """Tax payment certificates (SFT1001, paged)."""

    certificates = PagedEndpoint("SFT1001", m.TaxCertificatesRequest, m.TaxCertificatesResponse, m.TaxCertificate)
