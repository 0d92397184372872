"""完税凭证 — tax payment certificates the service provider issues for withheld income tax (SFT1001)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from ..money import Money
from ..timeutil import ShanghaiDateTime
from .base import IdCardNo, MaskedIdCardNo, MaskedName, Open, PageRequest, PageResponse, Period, RecordModel
from .common import FreelancerNo, TaxBaseCode


class TaxCertificatesRequest(PageRequest):
    """SFT1001: tax payment certificates (paged), optionally for one person or one period."""

    tax_base_code: TaxBaseCode | None = None
    id_card_no: IdCardNo | None = None
    freelancer_no: FreelancerNo | None = None
    period: Period | None = Field(None, description="Tax period (所属期), yyyy-MM")


class CertificateStatus(StrEnum):
    """完税凭证状态: PENDING (the period is still open) → ISSUED."""

    PENDING = "PENDING"
    ISSUED = "ISSUED"


class TaxCertificate(RecordModel):
    certificate_no: str = Field(description="Certificate number (完税凭证号)")
    freelancer_no: FreelancerNo | None = None
    name: MaskedName | None = None
    id_card_no: MaskedIdCardNo | None = None
    tax_base_code: TaxBaseCode | None = None
    period: str | None = Field(None, description="Tax period (所属期), yyyy-MM")
    order_count: int | None = Field(None, description="Paid orders in the period (订单数)")
    income_amount: Money | None = Field(None, description="Income taxed (收入金额)")
    tax_amount: Money = Field(description="Tax withheld and paid (已缴税额)")
    status: Open[CertificateStatus] = Field(description="Certificate status (凭证状态): PENDING → ISSUED")
    issue_time: ShanghaiDateTime | None = Field(None, description="When it was issued (开具时间)")
    file_url: str | None = Field(None, description="Where to download it (凭证下载地址)")


class TaxCertificatesResponse(PageResponse[TaxCertificate]):
    pass


__all__ = ["CertificateStatus", "TaxCertificate", "TaxCertificatesRequest", "TaxCertificatesResponse"]
