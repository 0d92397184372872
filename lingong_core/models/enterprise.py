"""企业信息 — the merchant's own registration on the platform (SFT0901)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from ..timeutil import ShanghaiDateTime
from .base import MaskedMobile, MaskedName, Open, RecordModel, RequestModel, ResponseModel
from .common import TaxBaseCode


class EnterpriseStatus(StrEnum):
    """商户状态."""

    NORMAL = "NORMAL"  # 正常
    ENABLED = "ENABLED"  # 已启用
    DISABLED = "DISABLED"  # 停用


class EnterpriseTaxBase(RecordModel):
    tax_base_code: TaxBaseCode
    tax_base_name: str | None = Field(None, description="Service provider name (服务商名称)")


class EnterpriseInfoRequest(RequestModel):
    """SFT0901: the merchant's registration. No fields (the envelope's merchantNo says who)."""


class EnterpriseInfoResponse(ResponseModel):
    merchant_no: str = Field(description="Merchant number (商户号)")
    enterprise_name: str | None = Field(None, description="Registered name (企业名称)")
    credit_code: str | None = Field(None, description="Unified social credit code (统一社会信用代码)")
    legal_person: MaskedName | None = Field(None, description="Legal representative (法定代表人)")
    contact_name: MaskedName | None = Field(None, description="Contact person (联系人)")
    contact_mobile: MaskedMobile | None = Field(None, description="Contact mobile (联系电话)")
    status: Open[EnterpriseStatus] = Field(description="Merchant status (商户状态)")
    sign_algorithm: str | None = Field(None, description="Signature algorithm of the envelope (签名算法), e.g. RSA2")
    notify_url: str | None = Field(None, description="Where notifications are sent (通知地址)")
    tax_base_codes: list[TaxBaseCode] = Field(
        default_factory=list, description="Service providers opened for the merchant (已开通服务商)"
    )
    tax_bases: list[EnterpriseTaxBase] = Field(
        default_factory=list, description="Service providers opened for the merchant, with names (已开通服务商)"
    )
    create_time: ShanghaiDateTime | None = Field(None, description="When it was registered (注册时间)")


__all__ = ["EnterpriseInfoRequest", "EnterpriseInfoResponse", "EnterpriseStatus", "EnterpriseTaxBase"]
