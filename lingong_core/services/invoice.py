"""开票 — ``client.invoice``: invoice completed batches."""

from __future__ import annotations

from typing import TypeVar

from ..models import invoice as m
from .base import Endpoint, PagedEndpoint, Service

C = TypeVar("C", covariant=True)


class InvoiceService(Service[C]):
    """Invoiceable batches (SFT0603) → ``apply`` (SFT0605) → ISSUED/REJECTED (9001 or ``detail``)."""

    categories = Endpoint("SFT0601", m.InvoiceCategoriesRequest, m.InvoiceCategoriesResponse)
    types = Endpoint("SFT0602", m.InvoiceTypesRequest, m.InvoiceTypesResponse)
    invoiceable_batches = PagedEndpoint(
        "SFT0603", m.InvoiceableBatchesRequest, m.InvoiceableBatchesResponse, m.InvoiceableBatch
    )
    apply = Endpoint("SFT0605", m.InvoiceApplyRequest, m.InvoiceApplyResponse)
    applications = PagedEndpoint(
        "SFT0606", m.InvoiceApplicationsRequest, m.InvoiceApplicationsResponse, m.InvoiceApplication
    )
    detail = Endpoint("SFT0607", m.InvoiceDetailRequest, m.InvoiceDetailResponse)
    orders = PagedEndpoint("SFT0608", m.InvoiceOrdersRequest, m.InvoiceOrdersResponse, m.InvoiceOrder)
    quota_accounts = Endpoint("SFT0609", m.QuotaAccountsRequest, m.QuotaAccountsResponse)
    quota_account = Endpoint("SFT0610", m.QuotaAccountRequest, m.QuotaAccountResponse)
    cancel = Endpoint("SFT0611", m.InvoiceCancelRequest, m.InvoiceCancelResponse)
