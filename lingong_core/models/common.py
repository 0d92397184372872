"""Field types and state enums shared by several groups.

The states are the ones domain.md fixes; responses and notifications carry them as ``Open[...]`` so a
state the platform adds later is kept, not crashed on (see :mod:`lingong_core.models.base`). Each
enum's docstring lists its forward order: states only move forward.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Annotated

from pydantic import Field

__all__ = [
    "AcctType",
    "ApplyNo",
    "BatchNo",
    "BatchStatus",
    "BindNo",
    "BindStatus",
    "CampaignNo",
    "CardType",
    "CheckResult",
    "ContractNo",
    "ContractStatus",
    "FreelancerNo",
    "InvoiceStatus",
    "LedgerChangeType",
    "OpenInvoiceModel",
    "OrderNo",
    "OutApplyNo",
    "OutBatchNo",
    "OutCampaignNo",
    "OutOrderNo",
    "OutProjectNo",
    "OutWithdrawNo",
    "PayChannelCode",
    "ProjectNo",
    "RechargeStatus",
    "RefundNo",
    "Remark",
    "SettlementStatus",
    "TaxBaseCode",
    "VerifyStatus",
    "WithdrawNo",
    "WithdrawStatus",
]

# --------------------------------------------------------------------------------------------------
# Identifiers. The merchant's business keys (out…No) are unique per merchant and at most 64 characters.
# --------------------------------------------------------------------------------------------------


TaxBaseCode = Annotated[str, Field(min_length=1, description="Service provider code (服务商编码), e.g. 2000064001")]
OutOrderNo = Annotated[
    str, Field(min_length=1, max_length=64, description="The merchant's order number (外部订单号), unique per merchant")
]
OrderNo = Annotated[str, Field(description="The platform's order number (平台订单号)")]
OutBatchNo = Annotated[
    str, Field(min_length=1, max_length=64, description="The merchant's batch number (外部批次号), unique per merchant")
]
BatchNo = Annotated[str, Field(description="The platform's batch number (平台批次号)")]
FreelancerNo = Annotated[
    str, Field(description="The platform's freelancer number (自由职业者编号), given on verification")
]
ContractNo = Annotated[str, Field(description="The platform's e-contract number (电子合同编号)")]
BindNo = Annotated[str, Field(description="The platform's binding number (绑定编号) of a bank card or account")]
OutApplyNo = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="The merchant's invoice application number (外部申请单号), unique per merchant",
    ),
]
ApplyNo = Annotated[str, Field(description="The platform's invoice application number (开票申请单号)")]
OutWithdrawNo = Annotated[
    str,
    Field(
        min_length=1, max_length=64, description="The merchant's withdrawal number (外部提现单号), unique per merchant"
    ),
]
WithdrawNo = Annotated[str, Field(description="The platform's withdrawal number (提现单号)")]
OutProjectNo = Annotated[
    str,
    Field(min_length=1, max_length=64, description="The merchant's project number (外部项目编号), unique per merchant"),
]
ProjectNo = Annotated[str, Field(description="The platform's project number (项目编号)")]
OutCampaignNo = Annotated[
    str,
    Field(
        min_length=1, max_length=64, description="The merchant's campaign number (外部活动编号), unique per merchant"
    ),
]
CampaignNo = Annotated[str, Field(description="The platform's marketing campaign number (营销活动编号), from SFT1101")]
RefundNo = Annotated[str, Field(description="The platform's refund number (退款单号)")]
Remark = Annotated[str, Field(max_length=200, description="Remark (备注), at most 200 characters")]


# --------------------------------------------------------------------------------------------------
# Codes fixed by the seed page (SFT0404's field table)
# --------------------------------------------------------------------------------------------------


class PayChannelCode(StrEnum):
    """交易通道: the channel money moved through."""

    ALIPAY = "3000001"  # 支付宝
    WECHAT = "3000002"  # 微信
    CMB = "3000003"  # 招商银行 China Merchants Bank
    PING_AN = "3000005"  # 平安银行 Ping An Bank
    CIB = "3000007"  # 兴业银行 Industrial Bank


class OpenInvoiceModel(IntEnum):
    """开票模式. If a recharge uses 1 or 2, the matching SFT0510 settlement sync must use 0."""

    NONE = 0  # 不可开票 not invoiceable
    PER_ORDER = 1  # 订单开票 invoice per order
    SUMMARY = 2  # 汇总开票 invoice in summary


class AcctType(StrEnum):
    """账号类型: a bank account or an Alipay account."""

    BANK = "BANK"  # 银行卡
    ALI_PAY = "ALI_PAY"  # 支付宝


# --------------------------------------------------------------------------------------------------
# States (domain.md). Forward order in each docstring.
# --------------------------------------------------------------------------------------------------


class VerifyStatus(StrEnum):
    """实名认证状态: UNVERIFIED → VERIFIED | FAILED."""

    UNVERIFIED = "UNVERIFIED"
    VERIFIED = "VERIFIED"
    FAILED = "FAILED"


class CardType(StrEnum):
    """银行卡类型 from the BIN: payouts go to DEBIT cards only."""

    DEBIT = "DEBIT"  # 借记卡
    CREDIT = "CREDIT"  # 信用卡
    PREPAID = "PREPAID"  # 预付卡
    UNKNOWN = "UNKNOWN"


class BindStatus(StrEnum):
    """绑定状态: BOUND → UNBOUND."""

    BOUND = "BOUND"
    UNBOUND = "UNBOUND"


class ContractStatus(StrEnum):
    """电子合同状态: CREATED → SIGNING → SIGNED | EXPIRED."""

    CREATED = "CREATED"
    SIGNING = "SIGNING"
    SIGNED = "SIGNED"
    EXPIRED = "EXPIRED"


class RechargeStatus(StrEnum):
    """充值订单状态: PROCESSING → SUCCESS | FAILED."""

    PROCESSING = "PROCESSING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


class WithdrawStatus(StrEnum):
    """提现订单状态: PROCESSING → SUCCESS | FAILED."""

    PROCESSING = "PROCESSING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


class SettlementStatus(StrEnum):
    """佣金结算订单状态: ACCEPTED → PROCESSING → SUCCESS | FAILED; SUCCESS → BOUNCED (退票)."""

    ACCEPTED = "ACCEPTED"
    PROCESSING = "PROCESSING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    BOUNCED = "BOUNCED"


class BatchStatus(StrEnum):
    """佣金结算批次状态: ACCEPTED → PROCESSING → COMPLETED (every order final; some may have failed)."""

    ACCEPTED = "ACCEPTED"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"


class CheckResult(StrEnum):
    """预计算校验结果 of one order in SFT0501."""

    PASS = "PASS"  # noqa: S105 - a check result, not a password
    REJECT = "REJECT"


class LedgerChangeType(StrEnum):
    """账户变动类型 (SFT0305): money in (RECHARGE, REFUND) or out (PAYOUT, SERVICE_FEE, WITHDRAWAL)."""

    RECHARGE = "RECHARGE"
    PAYOUT = "PAYOUT"
    SERVICE_FEE = "SERVICE_FEE"
    REFUND = "REFUND"
    WITHDRAWAL = "WITHDRAWAL"


class InvoiceStatus(StrEnum):
    """开票申请状态: APPLIED → ISSUED | REJECTED | CANCELLED."""

    APPLIED = "APPLIED"
    ISSUED = "ISSUED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
