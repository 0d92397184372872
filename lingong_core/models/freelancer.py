"""自由职业者 — freelancers: verification, ID photos, bank cards (SFT0101–0103, 0109, 0110, 0201–0204).

A person is identified by ``idCardNo`` (the merchant knows it) or, once verified, by the platform's
``freelancerNo``; every request that names a person accepts either.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Self

from pydantic import Field, model_validator

from ..timeutil import ShanghaiDateTime
from .base import (
    BankCardNo,
    FieldRuleError,
    IdCardNo,
    MaskedBankCardNo,
    MaskedIdCardNo,
    MaskedMobile,
    MaskedName,
    Mobile,
    Name,
    Open,
    Personal,
    RecordModel,
    RequestModel,
    ResponseModel,
    mask_image,
)
from .common import (
    BindNo,
    BindStatus,
    CardType,
    ContractNo,
    ContractStatus,
    FreelancerNo,
    TaxBaseCode,
    VerifyStatus,
)

#: An ID card photo as base64 text (never shown, only its size).
IdImage = Annotated[str, Personal(mask_image), Field(min_length=1, description="Image as base64 text (JPEG or PNG)")]

_PERSON = (("id_card_no", "freelancer_no"),)


class PersonRef(RequestModel):
    """Names one person: ``idCardNo`` or the platform's ``freelancerNo`` (at least one)."""

    one_of: ClassVar[tuple[tuple[str, ...], ...]] = _PERSON

    id_card_no: IdCardNo | None = None
    freelancer_no: FreelancerNo | None = None


# SFT0101 实名认证 -------------------------------------------------------------------------------------


class VerifyRequest(RequestModel):
    """SFT0101: verify a person's real name against the ID register. Repeating it is harmless."""

    name: Name
    id_card_no: IdCardNo
    mobile: Mobile
    tax_base_code: TaxBaseCode | None = Field(
        None, description="Service provider code (服务商编码), if the merchant has several"
    )


class VerifyResponse(ResponseModel):
    freelancer_no: FreelancerNo
    verify_status: Open[VerifyStatus] = Field(description="Verification status (认证状态): VERIFIED on success")
    verify_time: ShanghaiDateTime | None = Field(None, description="When the person was verified (认证时间)")


# SFT0109 实名认证+合同综合接口 ------------------------------------------------------------------------------


class VerifyWithContractRequest(RequestModel):
    """SFT0109: SFT0101's verification and SFT0104's contract generation (and signing) in one call."""

    name: Name
    id_card_no: IdCardNo
    mobile: Mobile
    tax_base_code: TaxBaseCode
    template_no: str | None = Field(
        None,
        max_length=64,
        description="Contract template number (合同模板编号); the service provider's default when left out",
    )


class VerifyWithContractResponse(ResponseModel):
    freelancer_no: FreelancerNo
    verify_status: Open[VerifyStatus] = Field(description="Verification status (认证状态)")
    verify_time: ShanghaiDateTime | None = Field(None, description="When the person was verified (认证时间)")
    contract_no: ContractNo
    contract_status: Open[ContractStatus] = Field(description="E-contract status (合同状态)")


# SFT0102 身份证照片上传 ----------------------------------------------------------------------------------


class IdPhotoUploadRequest(PersonRef):
    """SFT0102: upload both sides of a person's ID card."""

    front_image: IdImage = Field(description="ID card portrait side (人像面), base64")
    back_image: IdImage = Field(description="ID card national-emblem side (国徽面), base64")


class IdPhotoUploadResponse(ResponseModel):
    freelancer_no: FreelancerNo
    upload_status: str | None = Field(None, description="Upload status (上传状态): UPLOADED")
    upload_time: ShanghaiDateTime | None = Field(None, description="When the photos were stored (上传时间)")


# SFT0103 自由职业者信息查询 ------------------------------------------------------------------------------


class FreelancerQueryRequest(PersonRef):
    """SFT0103: one person's verification, cards and contracts."""


class FreelancerCard(RecordModel):
    bind_no: BindNo | None = None
    bank_card_no: MaskedBankCardNo
    bank_code: str | None = Field(None, description="Bank code (银行编码)")
    bank_name: str | None = Field(None, description="Bank name (开户行)")
    card_type: Open[CardType] | None = Field(None, description="Card type (卡类型)")
    bind_status: Open[BindStatus] | None = Field(None, description="Binding status (绑定状态)")
    bind_time: ShanghaiDateTime | None = Field(None, description="When the card was bound (绑定时间)")
    unbind_time: ShanghaiDateTime | None = Field(None, description="When the card was unbound (解绑时间)")


class FreelancerContract(RecordModel):
    contract_no: ContractNo
    tax_base_code: TaxBaseCode | None = None
    status: Open[ContractStatus] = Field(description="E-contract status (合同状态)")


class FreelancerQueryResponse(ResponseModel):
    freelancer_no: FreelancerNo
    name: MaskedName | None = None
    id_card_no: MaskedIdCardNo | None = None
    mobile: MaskedMobile | None = None
    verify_status: Open[VerifyStatus] = Field(description="Verification status (认证状态)")
    verify_time: ShanghaiDateTime | None = Field(None, description="When the person was verified (认证时间)")
    bank_cards: list[FreelancerCard] = Field(default_factory=list, description="Bound bank cards (银行卡)")
    contracts: list[FreelancerContract] = Field(default_factory=list, description="E-contracts (电子合同)")


# SFT0202 银行卡bin查询 ----------------------------------------------------------------------------------


class CardBinRequest(RequestModel):
    """SFT0202: which bank issued a card, and whether it is a debit card."""

    bank_card_no: BankCardNo


class CardBinResponse(ResponseModel):
    bank_card_no: MaskedBankCardNo | None = None
    bank_code: str | None = Field(None, description="Bank code (银行编码)")
    bank_name: str | None = Field(None, description="Bank name (银行名称)")
    card_type: Open[CardType] = Field(description="Card type (卡类型): payouts need DEBIT")
    luhn_valid: bool | None = Field(
        None, description="Whether the number passes the Luhn check (some real debit cards do not)"
    )


# SFT0201 银行卡列表 ------------------------------------------------------------------------------------


class CardListRequest(PersonRef):
    """SFT0201: the cards of one person, optionally only BOUND or UNBOUND ones."""

    bind_status: BindStatus | None = Field(None, description="Only cards in this state (绑定状态)")


class BoundCard(RecordModel):
    bind_no: BindNo
    bank_card_no: MaskedBankCardNo | None = None
    bank_code: str | None = Field(None, description="Bank code (银行编码)")
    bank_name: str | None = Field(None, description="Bank name (银行名称)")
    card_type: Open[CardType] | None = Field(None, description="Card type (卡类型)")
    bind_status: Open[BindStatus] = Field(description="Binding status (绑定状态)")
    bind_time: ShanghaiDateTime | None = Field(None, description="When the card was bound (绑定时间)")
    unbind_time: ShanghaiDateTime | None = Field(None, description="When the card was unbound (解绑时间)")


class CardListResponse(ResponseModel):
    freelancer_no: FreelancerNo | None = None
    total: int | None = Field(None, description="Number of records (总条数)")
    items: list[BoundCard] = Field(default_factory=list, alias="list", description="Bound cards (银行卡列表)")


# SFT0203 银行卡绑定 ------------------------------------------------------------------------------------


class CardBindRequest(PersonRef):
    """SFT0203: bind a debit card to a verified person. Binding the same card again is harmless."""

    name: Name = Field(description="Card holder's name (持卡人姓名): must be the verified person")
    bank_card_no: BankCardNo
    mobile: Mobile | None = Field(None, description="Mobile number reserved at the bank (预留手机号)")


class CardBindResponse(ResponseModel, BoundCard):
    """The bound card; ``bindStatus`` BOUND."""

    freelancer_no: FreelancerNo | None = None
    luhn_valid: bool | None = Field(
        None, description="Whether the number passes the Luhn check (some real debit cards do not)"
    )


# SFT0204 银行卡解绑 ------------------------------------------------------------------------------------


class CardUnbindRequest(RequestModel):
    """SFT0204: unbind a card, by ``bindNo`` or by the person and the card number."""

    one_of: ClassVar[tuple[tuple[str, ...], ...]] = (("bind_no", "bank_card_no"),)

    bind_no: BindNo | None = None
    id_card_no: IdCardNo | None = None
    freelancer_no: FreelancerNo | None = None
    bank_card_no: BankCardNo | None = Field(
        None, description="Bank card number (银行卡号), with idCardNo or freelancerNo"
    )

    @model_validator(mode="after")
    def _person_with_card(self) -> Self:
        if self.bind_no is None and self.id_card_no is None and self.freelancer_no is None:
            raise FieldRuleError("idCardNo/freelancerNo", "one of idCardNo, freelancerNo is required with bankCardNo")
        return self


class CardUnbindResponse(ResponseModel, BoundCard):
    """The unbound card; ``bindStatus`` UNBOUND."""

    freelancer_no: FreelancerNo | None = None


# SFT0110 自由职业者身份证图片获取 ----------------------------------------------------------------------------


class IdPhotoRequest(PersonRef):
    """SFT0110: fetch the stored ID card photos of one person."""


class IdPhotoResponse(ResponseModel):
    freelancer_no: FreelancerNo
    front_image: IdImage | None = Field(None, description="ID card portrait side (人像面), base64")
    back_image: IdImage | None = Field(None, description="ID card national-emblem side (国徽面), base64")
    upload_time: ShanghaiDateTime | None = Field(None, description="When the photos were stored (上传时间)")


__all__ = [
    "BoundCard",
    "CardBinRequest",
    "CardBinResponse",
    "CardBindRequest",
    "CardBindResponse",
    "CardListRequest",
    "CardListResponse",
    "CardUnbindRequest",
    "CardUnbindResponse",
    "FreelancerCard",
    "FreelancerContract",
    "FreelancerQueryRequest",
    "FreelancerQueryResponse",
    "IdPhotoRequest",
    "IdPhotoResponse",
    "IdPhotoUploadRequest",
    "IdPhotoUploadResponse",
    "PersonRef",
    "VerifyRequest",
    "VerifyResponse",
    "VerifyWithContractRequest",
    "VerifyWithContractResponse",
]
