"""Every apiCode of the platform's menu → its request and response model; every notifyType → its model.

``CATALOGUE`` covers :data:`lingong_core.operations.OPERATIONS` exactly (a test checks it), including
the two 待开发 entries. ``MARKETING_CATALOGUE`` holds the marketing form of SFT0502/0503/0504/0510,
which shares those apiCodes (:data:`lingong_core.operations.MARKETING_SETTLEMENT_CODES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..operations import MARKETING_SETTLEMENT_CODES, OPERATIONS, Operation
from . import (
    account,
    contract,
    enterprise,
    freelancer,
    invoice,
    marketing,
    project,
    recharge,
    refund,
    settlement,
    tax_certificate,
    withdrawal,
)
from .base import NotificationModel, PageResponse, RequestModel, ResponseModel
from .notification import NOTIFICATION_MODELS


@dataclass(frozen=True, slots=True)
class ApiSpec:
    """One operation of the menu with its models. ``marketing`` marks the marketing-fund form."""

    operation: Operation
    request: type[RequestModel]
    response: type[ResponseModel]
    marketing: bool = False

    @property
    def api_code(self) -> str:
        return self.operation.api_code

    @property
    def paged(self) -> bool:
        """Whether the response is a page (``pageNo``, ``pageSize``, ``total``, ``list``)."""
        return issubclass(self.response, PageResponse)

    @property
    def title(self) -> str:
        suffix = " (marketing form)" if self.marketing else ""
        return f"{self.operation.title_en}{suffix} — {self.operation.title_zh}"


_MODELS: dict[str, tuple[type[RequestModel], type[ResponseModel]]] = {
    # 自由职业者
    "SFT0101": (freelancer.VerifyRequest, freelancer.VerifyResponse),
    "SFT0109": (freelancer.VerifyWithContractRequest, freelancer.VerifyWithContractResponse),
    "SFT0102": (freelancer.IdPhotoUploadRequest, freelancer.IdPhotoUploadResponse),
    "SFT0103": (freelancer.FreelancerQueryRequest, freelancer.FreelancerQueryResponse),
    "SFT0202": (freelancer.CardBinRequest, freelancer.CardBinResponse),
    "SFT0201": (freelancer.CardListRequest, freelancer.CardListResponse),
    "SFT0203": (freelancer.CardBindRequest, freelancer.CardBindResponse),
    "SFT0204": (freelancer.CardUnbindRequest, freelancer.CardUnbindResponse),
    "SFT0110": (freelancer.IdPhotoRequest, freelancer.IdPhotoResponse),
    # 电子合同
    "SFT0107": (contract.ContractPreviewRequest, contract.ContractPreviewResponse),
    "SFT0104": (contract.ContractGenerateRequest, contract.ContractGenerateResponse),
    "SFT0105": (contract.ContractSignRequest, contract.ContractSignResponse),
    "SFT0106": (contract.ContractQueryRequest, contract.ContractQueryResponse),
    "SFT0108": (contract.ContractUploadRequest, contract.ContractUploadResponse),
    "SFT0111": (contract.FreelancerContractsRequest, contract.FreelancerContractsResponse),
    # 存管账户
    "SFT0301": (account.TaxBaseListRequest, account.TaxBaseListResponse),
    "SFT0302": (account.AccountListRequest, account.AccountListResponse),
    "SFT0303": (account.BalanceRequest, account.BalanceResponse),
    "SFT0304": (account.RechargeAccountRequest, account.RechargeAccountResponse),
    "SFT0310": (account.BankAccountListRequest, account.BankAccountListResponse),
    "SFT0311": (account.BankAccountBindRequest, account.BankAccountBindResponse),
    "SFT0312": (account.BankAccountUnbindRequest, account.BankAccountUnbindResponse),
    "SFT0305": (account.LedgerRequest, account.LedgerResponse),
    # 充值
    "SFT0401": (recharge.RechargeRecordsRequest, recharge.RechargeRecordsResponse),
    "SFT0402": (recharge.RechargeApplyRequest, recharge.RechargeApplyResponse),
    "SFT0403": (recharge.RechargeQueryRequest, recharge.RechargeQueryResponse),
    "SFT0404": (recharge.RechargeSyncRequest, recharge.RechargeSyncResponse),
    # 用工企业提现
    "SFT0411": (withdrawal.WithdrawListRequest, withdrawal.WithdrawListResponse),
    "SFT0412": (withdrawal.WithdrawApplyRequest, withdrawal.WithdrawApplyResponse),
    "SFT0413": (withdrawal.WithdrawDetailRequest, withdrawal.WithdrawDetailResponse),
    # 自由职业者佣金结算
    "SFT0501": (settlement.FeeCalcRequest, settlement.FeeCalcResponse),
    "SFT0502": (settlement.SettlementRequest, settlement.SettlementResponse),
    "SFT0503": (settlement.BatchQueryRequest, settlement.BatchQueryResponse),
    "SFT0504": (settlement.BatchOrdersRequest, settlement.BatchOrdersResponse),
    "SFT0505": (settlement.OrderQueryRequest, settlement.OrderQueryResponse),
    "SFT0506": (settlement.ReceiptRequest, settlement.ReceiptResponse),
    "SFT0510": (settlement.SettlementSyncRequest, settlement.SettlementSyncResponse),
    # 退款
    "SFT0801": (refund.RefundOrdersRequest, refund.RefundOrdersResponse),
    "SFT0802": (refund.RefundDetailRequest, refund.RefundDetailResponse),
    # 开票
    "SFT0601": (invoice.InvoiceCategoriesRequest, invoice.InvoiceCategoriesResponse),
    "SFT0602": (invoice.InvoiceTypesRequest, invoice.InvoiceTypesResponse),
    "SFT0603": (invoice.InvoiceableBatchesRequest, invoice.InvoiceableBatchesResponse),
    "SFT0605": (invoice.InvoiceApplyRequest, invoice.InvoiceApplyResponse),
    "SFT0606": (invoice.InvoiceApplicationsRequest, invoice.InvoiceApplicationsResponse),
    "SFT0607": (invoice.InvoiceDetailRequest, invoice.InvoiceDetailResponse),
    "SFT0608": (invoice.InvoiceOrdersRequest, invoice.InvoiceOrdersResponse),
    "SFT0609": (invoice.QuotaAccountsRequest, invoice.QuotaAccountsResponse),
    "SFT0610": (invoice.QuotaAccountRequest, invoice.QuotaAccountResponse),
    "SFT0611": (invoice.InvoiceCancelRequest, invoice.InvoiceCancelResponse),
    # 项目
    "SFT0701": (project.ProjectListRequest, project.ProjectListResponse),
    "SFT0702": (project.ProjectDetailRequest, project.ProjectDetailResponse),
    "SFT0703": (project.ProjectCreateRequest, project.ProjectCreateResponse),
    "SFT0704": (project.ProjectDeleteRequest, project.ProjectDeleteResponse),
    "SFT0705": (project.ProjectConfirmRequest, project.ProjectConfirmResponse),
    # 完税凭证
    "SFT1001": (tax_certificate.TaxCertificatesRequest, tax_certificate.TaxCertificatesResponse),
    # 企业信息
    "SFT0901": (enterprise.EnterpriseInfoRequest, enterprise.EnterpriseInfoResponse),
    # 营销金结算
    "SFT1101": (marketing.CampaignCreateRequest, marketing.CampaignCreateResponse),
}

_MARKETING_MODELS: dict[str, tuple[type[RequestModel], type[ResponseModel]]] = {
    "SFT0502": (marketing.MarketingSettlementRequest, marketing.MarketingSettlementResponse),
    "SFT0503": (marketing.MarketingBatchQueryRequest, marketing.MarketingBatchQueryResponse),
    "SFT0504": (marketing.MarketingBatchOrdersRequest, marketing.MarketingBatchOrdersResponse),
    "SFT0510": (marketing.MarketingSyncRequest, marketing.MarketingSyncResponse),
}

#: apiCode → its operation and models, in the menu's order.
CATALOGUE: dict[str, ApiSpec] = {
    code: ApiSpec(op, *_MODELS[code]) for code, op in OPERATIONS.items() if code in _MODELS
}

#: The marketing-fund form of SFT0502/0503/0504/0510.
MARKETING_CATALOGUE: dict[str, ApiSpec] = {
    code: ApiSpec(OPERATIONS[code], *_MARKETING_MODELS[code], marketing=True) for code in MARKETING_SETTLEMENT_CODES
}

#: notifyType → the model of its bizModel.
NOTIFICATIONS: dict[str, type[NotificationModel]] = dict(NOTIFICATION_MODELS)


def spec(api_code: str, *, marketing: bool = False) -> ApiSpec:
    """The catalogue entry for ``api_code`` (upper-cased); :class:`KeyError` if the menu has no such code."""
    table = MARKETING_CATALOGUE if marketing else CATALOGUE
    return table[api_code.strip().upper()]


def parse_request(api_code: str, biz: Any, *, marketing: bool = False) -> RequestModel:
    """Validate a request bizModel (a dict) with its model: what a platform does on receipt."""
    return spec(api_code, marketing=marketing).request.model_validate(biz)


def parse_response(api_code: str, answer: Any, *, marketing: bool = False) -> ResponseModel:
    """Validate an answer's flat fields with the operation's response model."""
    return spec(api_code, marketing=marketing).response.model_validate(answer)


__all__ = [
    "CATALOGUE",
    "MARKETING_CATALOGUE",
    "NOTIFICATIONS",
    "ApiSpec",
    "parse_request",
    "parse_response",
    "spec",
]
