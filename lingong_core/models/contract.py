"""电子合同 — e-contracts between a freelancer and a service provider (SFT0104–0108, 0111).

A contract is keyed by (person, ``taxBaseCode``): a second SFT0104 for a person who already has an
unexpired contract with that service provider answers 409 with the existing ``contractNo``.
SFT0108 (电子合同上传) is marked 待开发 on the platform's menu: its models exist so the catalogue is
complete, and its service method raises :class:`~lingong_core.errors.NotOfferedError`.
"""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import Field, model_validator

from ..timeutil import ShanghaiDateTime
from .base import (
    FieldRuleError,
    IdCardNo,
    MaskedIdCardNo,
    MaskedName,
    Open,
    PageRequest,
    PageResponse,
    RecordModel,
    RequestModel,
    ResponseModel,
)
from .common import ContractNo, ContractStatus, FreelancerNo, TaxBaseCode
from .freelancer import PersonRef

_TEMPLATE = "Contract template number (合同模板编号); the service provider's default when left out"


# SFT0107 合同预览 --------------------------------------------------------------------------------------


class ContractPreviewRequest(PersonRef):
    """SFT0107: a link to preview the contract SFT0104 would generate."""

    tax_base_code: TaxBaseCode
    template_no: str | None = Field(None, description=_TEMPLATE)


class ContractPreviewResponse(ResponseModel):
    preview_url: str = Field(description="Preview link (预览地址)")
    freelancer_no: FreelancerNo | None = None
    tax_base_code: TaxBaseCode | None = None
    template_no: str | None = Field(None, description="The template it would use (合同模板编号)")
    title: str | None = Field(None, description="Contract title (合同标题)")
    content: str | None = Field(None, description="The contract's text as it would be generated (合同内容)")
    expire_time: ShanghaiDateTime | None = Field(None, description="When the link stops working (链接失效时间)")


# SFT0104 电子合同生成 -----------------------------------------------------------------------------------


class ContractGenerateRequest(PersonRef):
    """SFT0104: generate a person's e-contract with a service provider."""

    tax_base_code: TaxBaseCode
    template_no: str | None = Field(None, description=_TEMPLATE)


class ContractGenerateResponse(ResponseModel):
    contract_no: ContractNo
    freelancer_no: FreelancerNo | None = None
    tax_base_code: TaxBaseCode | None = None
    status: Open[ContractStatus] = Field(description="E-contract status (合同状态): CREATED")


# SFT0105 电子合同授权签约 ---------------------------------------------------------------------------------


class ContractSignRequest(RequestModel):
    """SFT0105: sign a generated contract under the person's authorisation (授权签约)."""

    contract_no: ContractNo


class ContractSignResponse(ResponseModel):
    contract_no: ContractNo
    status: Open[ContractStatus] = Field(
        description="E-contract status (合同状态): SIGNING; SIGNED follows in the background, with notification 8001"
    )


# SFT0106 电子合同信息查询 ---------------------------------------------------------------------------------


class ContractQueryRequest(RequestModel):
    """SFT0106: one contract, by ``contractNo`` or by the person (``idCardNo`` or ``freelancerNo``) and
    ``taxBaseCode`` (their latest contract with that service provider)."""

    contract_no: ContractNo | None = None
    id_card_no: IdCardNo | None = None
    freelancer_no: FreelancerNo | None = None
    tax_base_code: TaxBaseCode | None = None

    @model_validator(mode="after")
    def _key(self) -> Self:
        person = self.id_card_no is not None or self.freelancer_no is not None
        if self.contract_no is None and (not person or self.tax_base_code is None):
            raise FieldRuleError("contractNo", "give contractNo, or idCardNo (or freelancerNo) and taxBaseCode")
        return self


class ContractInfo(RecordModel):
    contract_no: ContractNo
    freelancer_no: FreelancerNo | None = None
    name: MaskedName | None = None
    id_card_no: MaskedIdCardNo | None = None
    tax_base_code: TaxBaseCode | None = None
    template_no: str | None = Field(None, description="The template it was made from (合同模板编号)")
    status: Open[ContractStatus] = Field(description="E-contract status (合同状态)")
    create_time: ShanghaiDateTime | None = Field(None, description="When it was generated (生成时间)")
    sign_time: ShanghaiDateTime | None = Field(None, description="When it was signed (签约时间)")
    expire_time: ShanghaiDateTime | None = Field(None, description="When it expires (到期时间)")


class ContractQueryResponse(ResponseModel, ContractInfo):
    pass


# SFT0108 电子合同上传 (待开发) ------------------------------------------------------------------------------


class ContractUploadRequest(PersonRef):
    """SFT0108 (not yet offered): upload a contract signed outside the platform."""

    tax_base_code: TaxBaseCode
    file_name: str = Field(min_length=1, description="File name (文件名), e.g. contract.pdf")
    file_content: str = Field(min_length=1, repr=False, description="The signed contract file (合同文件), base64")
    sign_time: ShanghaiDateTime = Field(description="When it was signed (签约时间)")
    expire_time: ShanghaiDateTime | None = Field(None, description="When it expires (到期时间)")


class ContractUploadResponse(ResponseModel):
    contract_no: ContractNo
    status: Open[ContractStatus] = Field(description="E-contract status (合同状态)")


# SFT0111 自由职业者电子合同查询 ------------------------------------------------------------------------------


class FreelancerContractsRequest(PageRequest):
    """SFT0111: every contract of one person (paged), optionally with one service provider."""

    one_of: ClassVar[tuple[tuple[str, ...], ...]] = (("id_card_no", "freelancer_no"),)

    id_card_no: IdCardNo | None = None
    freelancer_no: FreelancerNo | None = None
    tax_base_code: TaxBaseCode | None = None


class FreelancerContractsResponse(PageResponse[ContractInfo]):
    freelancer_no: FreelancerNo | None = None


__all__ = [
    "ContractGenerateRequest",
    "ContractGenerateResponse",
    "ContractInfo",
    "ContractPreviewRequest",
    "ContractPreviewResponse",
    "ContractQueryRequest",
    "ContractQueryResponse",
    "ContractSignRequest",
    "ContractSignResponse",
    "ContractUploadRequest",
    "ContractUploadResponse",
    "FreelancerContractsRequest",
    "FreelancerContractsResponse",
]
