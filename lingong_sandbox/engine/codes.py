"""The sandbox's business refusals (contract §3: 4000–4999), the single source of the table.

Every refusal the engine makes on business grounds carries one of these codes; ``docs/error-codes.md``
is written from :data:`CODES` (``python -m lingong_sandbox.engine.codes`` prints it, and a test checks
that the two agree). Malformed input (a missing field, a wrong type, a sub-cent amount) is 400, not a
4xxx code; the rules below are what a well-formed request can still break.

Numbering: 40xx general, 41xx identity, 42xx bank cards, 43xx contracts, 44xx account and money,
45xx settlement, 46xx invoices, 47xx projects, 48xx withdrawals and enterprise accounts, 49xx marketing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..interface import PlatformError


@dataclass(frozen=True, slots=True)
class Code:
    code: int
    name: str
    en: str
    zh: str
    when: str  # what triggers it, for the documentation

    def error(self, detail: str = "", **fields: Any) -> PlatformError:
        """A :class:`PlatformError` with this code; ``msg`` is ``"中文 (English): detail"``."""
        msg = f"{self.zh} ({self.en})" + (f": {detail}" if detail else "")
        return PlatformError(self.code, msg, **fields)

    def message(self, detail: str = "") -> str:
        return f"{self.zh} ({self.en})" + (f": {detail}" if detail else "")


# 40xx general
TAX_BASE_UNKNOWN = Code(
    4001,
    "TAX_BASE_UNKNOWN",
    "unknown service provider",
    "服务商不存在",
    "`taxBaseCode` is not one of the platform's service providers",
)

# 41xx identity
ID_CARD_INVALID = Code(
    4101,
    "ID_CARD_INVALID",
    "ID card number invalid",
    "身份证号码校验失败",
    "not 18 characters, a wrong GB 11643 check character, or an unknown region code",
)
ID_CARD_BIRTH_DATE_INVALID = Code(
    4102,
    "ID_CARD_BIRTH_DATE_INVALID",
    "birth date in the ID card number invalid",
    "身份证出生日期无效",
    "the birth date inside the number is not a real date or lies in the future",
)
AGE_OUT_OF_RANGE = Code(
    4103,
    "AGE_OUT_OF_RANGE",
    "age outside the accepted range",
    "年龄不在允许范围内",
    "the person is younger than `min_age` (18) or older than `max_age` (65)",
)
MOBILE_INVALID = Code(
    4104, "MOBILE_INVALID", "mobile number invalid", "手机号格式错误", "the mobile does not match `^1[3-9]\\d{9}$`"
)
NAME_MISMATCH = Code(
    4105,
    "NAME_MISMATCH",
    "name does not match the verified identity",
    "姓名与身份证号不一致",
    "a different name for an ID number the platform already verified",
)
FREELANCER_NOT_VERIFIED = Code(
    4106,
    "FREELANCER_NOT_VERIFIED",
    "freelancer not verified",
    "自由职业者未实名认证",
    "the person has not passed SFT0101/SFT0109",
)
NAME_INVALID = Code(
    4107,
    "NAME_INVALID",
    "name invalid",
    "姓名格式错误",
    "a name of fewer than 2 or more than 30 characters, or with digits",
)

# 42xx bank cards
CARD_NUMBER_INVALID = Code(
    4201, "CARD_NUMBER_INVALID", "bank card number invalid", "银行卡号格式错误", "not 12–19 digits"
)
CARD_BIN_UNKNOWN = Code(
    4202,
    "CARD_BIN_UNKNOWN",
    "card issuer unknown",
    "无法识别的银行卡",
    "no BIN in the platform's table matches the number and its length",
)
CARD_NOT_DEBIT = Code(
    4203,
    "CARD_NOT_DEBIT",
    "not a debit card",
    "非借记卡",
    "the BIN says credit or prepaid; payouts go to debit cards only",
)
CARD_LUHN_FAILED = Code(
    4204,
    "CARD_LUHN_FAILED",
    "card number fails the Luhn check",
    "银行卡号校验位错误",
    "Luhn check failed and the merchant's `luhn_strict` setting is on (otherwise only flagged)",
)
CARD_NOT_BOUND = Code(
    4205,
    "CARD_NOT_BOUND",
    "card not bound to the payee",
    "银行卡未绑定",
    "a payout to a card the person has not bound (SFT0203) or has unbound",
)
CARD_BOUND_TO_OTHER = Code(
    4206,
    "CARD_BOUND_TO_OTHER",
    "card bound to another person",
    "银行卡已被他人绑定",
    "the card is bound to a different ID number",
)

# 43xx contracts
CONTRACT_NOT_SIGNED = Code(
    4301,
    "CONTRACT_NOT_SIGNED",
    "no signed contract with the service provider",
    "电子合同未签署",
    "a payout to a person without a SIGNED contract for the batch's `taxBaseCode`",
)
CONTRACT_EXPIRED = Code(
    4302, "CONTRACT_EXPIRED", "contract expired", "电子合同已过期", "signing or paying under an EXPIRED contract"
)

# 44xx account and money
INSUFFICIENT_BALANCE = Code(
    4401,
    "INSUFFICIENT_BALANCE",
    "insufficient balance",
    "账户余额不足",
    "the provider account's available balance is below the batch amount plus service fee (or the withdrawal)",
)
PAY_CHANNEL_UNKNOWN = Code(
    4402,
    "PAY_CHANNEL_UNKNOWN",
    "unknown pay channel",
    "交易通道不存在",
    "`payChannelCode` is not one of 3000001/3000002/3000003/3000005/3000007",
)
RECHARGE_TIME_IN_FUTURE = Code(
    4403,
    "RECHARGE_TIME_IN_FUTURE",
    "recharge time in the future",
    "充值时间晚于当前时间",
    "SFT0404's `rechargeTime` is later than the platform's clock by more than `clock_skew` (5 minutes)",
)

# 45xx settlement
PER_ORDER_LIMIT_EXCEEDED = Code(
    4501,
    "PER_ORDER_LIMIT_EXCEEDED",
    "single payout over the limit",
    "单笔金额超限",
    "one order's amount is over the provider's `per_order_limit`",
)
MONTHLY_LIMIT_EXCEEDED = Code(
    4502,
    "MONTHLY_LIMIT_EXCEEDED",
    "monthly payout to the person over the limit",
    "月累计金额超限",
    "the person's payouts through the provider this calendar month (Asia/Shanghai; accepted, processing and paid"
    " orders, this batch included) would pass `monthly_limit`",
)
RECEIPT_NOT_AVAILABLE = Code(
    4503,
    "RECEIPT_NOT_AVAILABLE",
    "no receipt for an unpaid order",
    "订单未成功，无电子回单",
    "SFT0506 for an order that is not SUCCESS",
)
PAY_TIME_IN_FUTURE = Code(
    4504,
    "PAY_TIME_IN_FUTURE",
    "pay time in the future",
    "付款时间晚于当前时间",
    "SFT0510's `payTime` is later than the platform's clock by more than `clock_skew` (5 minutes)",
)
SERVICE_AMOUNT_MISMATCH = Code(
    4505,
    "SERVICE_AMOUNT_MISMATCH",
    "service fee does not match the provider's rate",
    "服务费与服务商费率不符",
    "SFT0510's `serviceAmount` is not the fee the provider charges for `amount` (its `fee_rate`, rounded to the fen)",
)

# 46xx invoices
INVOICE_AMOUNT_EXCEEDED = Code(
    4601,
    "INVOICE_AMOUNT_EXCEEDED",
    "amount over the invoiceable amount",
    "开票金额超过可开票金额",
    "SFT0605 asks for more than the listed batches can still invoice",
)
BATCH_NOT_INVOICEABLE = Code(
    4602,
    "BATCH_NOT_INVOICEABLE",
    "batch not invoiceable",
    "批次不可开票",
    "a listed batch is not COMPLETED, belongs to another provider, or has nothing left to invoice",
)
INVOICE_NOT_CANCELLABLE = Code(
    4603,
    "INVOICE_NOT_CANCELLABLE",
    "invoice application can no longer be cancelled",
    "开票申请不可撤销",
    "SFT0611 on an application that is no longer APPLIED",
)
INVOICE_CATEGORY_UNKNOWN = Code(
    4604,
    "INVOICE_CATEGORY_UNKNOWN",
    "unknown invoice category",
    "开票类目不存在",
    "`categoryCode` is not one the provider offers (SFT0601)",
)
INVOICE_TYPE_UNKNOWN = Code(
    4605, "INVOICE_TYPE_UNKNOWN", "unknown invoice type", "开票类型不存在", "`invoiceType` is not one of SFT0602's"
)

# 47xx projects
PROJECT_NOT_FOUND = Code(
    4701,
    "PROJECT_NOT_FOUND",
    "project not found",
    "项目不存在",
    "a settlement or confirmation names a `projectNo` the merchant does not have (or deleted)",
)
PROJECT_IN_USE = Code(
    4702,
    "PROJECT_IN_USE",
    "project has settlements",
    "项目已有结算，不可删除",
    "SFT0704 on a project that batches were paid under",
)
PROJECT_PROVIDER_MISMATCH = Code(
    4703,
    "PROJECT_PROVIDER_MISMATCH",
    "project belongs to another service provider",
    "项目与批次不属于同一服务商",
    "SFT0705 for a batch paid through another `taxBaseCode` than the project's",
)
BATCH_NOT_UNDER_PROJECT = Code(
    4704,
    "BATCH_NOT_UNDER_PROJECT",
    "batch was not paid under the project",
    "批次未关联该项目",
    "SFT0705 for a batch whose SFT0502/SFT0510 did not name this `projectNo`",
)
CONFIRM_AMOUNT_ZERO = Code(
    4705,
    "CONFIRM_AMOUNT_ZERO",
    "nothing paid to confirm",
    "确认金额为零",
    "SFT0705 for a batch that paid nothing (no order SUCCESS)",
)
CONFIRM_DATE_BEFORE_PROJECT = Code(
    4706,
    "CONFIRM_DATE_BEFORE_PROJECT",
    "confirmation date before the project",
    "确认日期早于项目",
    "SFT0705's `confirmDate` is before the project's `startDate` or the day it was created, or after today",
)

# 48xx withdrawals and enterprise bank accounts
ENTERPRISE_ACCOUNT_NOT_BOUND = Code(
    4801,
    "ENTERPRISE_ACCOUNT_NOT_BOUND",
    "enterprise bank account not bound",
    "企业银行账户未绑定",
    "a withdrawal to an account not bound with SFT0311",
)

# 49xx marketing
CAMPAIGN_NOT_FOUND = Code(
    4901,
    "CAMPAIGN_NOT_FOUND",
    "marketing campaign not found",
    "营销活动不存在",
    "a marketing settlement names an unknown `campaignNo`",
)
CAMPAIGN_BUDGET_EXCEEDED = Code(
    4902,
    "CAMPAIGN_BUDGET_EXCEEDED",
    "over the campaign's budget",
    "超出营销活动预算",
    "the batch would take the campaign's payouts past its `budgetAmount`",
)
CAMPAIGN_NOT_ACTIVE = Code(
    4903,
    "CAMPAIGN_NOT_ACTIVE",
    "campaign not active",
    "营销活动不在有效期内",
    "today is outside the campaign's `startDate`…`endDate`",
)

CODES: tuple[Code, ...] = tuple(v for v in dict(globals()).values() if isinstance(v, Code))
BY_CODE: dict[int, Code] = {c.code: c for c in CODES}


def markdown_table() -> str:
    """The table as it appears in ``docs/error-codes.md``."""
    lines = ["| code | name | 中文 | English | when |", "|---|---|---|---|---|"]
    lines += [f"| {c.code} | `{c.name}` | {c.zh} | {c.en} | {c.when} |" for c in sorted(CODES, key=lambda c: c.code)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(markdown_table(), end="")
