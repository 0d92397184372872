"""存管账户 — custody accounts, balances, the ledger and the enterprise's bank accounts (SFT0301–0305, 0310–0312).

The custody account holds the merchant's money per service provider (``taxBaseCode``). Every change
is one ledger row (SFT0305) with a signed amount: + in (RECHARGE, REFUND), − out (PAYOUT,
SERVICE_FEE, WITHDRAWAL).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field

from ..masking import mask_card
from ..money import Money, SignedMoney
from ..timeutil import ShanghaiDateTime
from .base import Open, PageRequest, PageResponse, Personal, RecordModel, RequestModel, ResponseModel
from .common import BindNo, BindStatus, LedgerChangeType, TaxBaseCode


class AccountStatus(StrEnum):
    """账户状态."""

    NORMAL = "NORMAL"  # 正常
    ENABLED = "ENABLED"  # 已开通 (a service provider opened for the merchant, SFT0301)
    FROZEN = "FROZEN"  # 冻结
    CLOSED = "CLOSED"  # 注销


#: A bank account number: masked like a card in repr and errors.
BankAcctNo = Annotated[str, Personal(mask_card), Field(description="Bank account number (银行账号)")]


# SFT0301 服务商列表 ------------------------------------------------------------------------------------


class TaxBaseListRequest(RequestModel):
    """SFT0301: the service providers the merchant works with. No fields."""


class TaxBase(RecordModel):
    tax_base_code: TaxBaseCode
    tax_base_name: str | None = Field(None, description="Service provider name (服务商名称)")
    status: Open[AccountStatus] | None = Field(None, description="Status with this merchant (状态)")
    fee_rate: Decimal | None = Field(None, description="Service fee rate (服务费率) as a fraction, e.g. 0.06")
    per_order_limit: Money | None = Field(None, description="Most one order may pay one person (单笔限额)")
    monthly_limit: Money | None = Field(
        None, description="Most one person may be paid in a calendar month (月度限额), per service provider"
    )


class TaxBaseListResponse(ResponseModel):
    total: int | None = Field(None, description="Number of records (总条数)")
    items: list[TaxBase] = Field(default_factory=list, alias="list", description="Service providers (服务商列表)")


# SFT0302 账户列表查询 -----------------------------------------------------------------------------------


class AccountListRequest(RequestModel):
    """SFT0302: the merchant's custody accounts, one per service provider."""

    tax_base_code: TaxBaseCode | None = None


class Account(RecordModel):
    tax_base_code: TaxBaseCode
    tax_base_name: str | None = Field(None, description="Service provider name (服务商名称)")
    account_no: str | None = Field(None, description="Custody account number (存管账号)")
    balance: Money = Field(description="Balance (账户余额)")
    frozen_amount: Money = Field(Decimal("0.00"), description="Frozen amount (冻结金额)")
    available_amount: Money = Field(description="Available amount (可用余额)")
    status: Open[AccountStatus] | None = Field(None, description="Account status (账户状态)")


class AccountListResponse(ResponseModel):
    total: int | None = Field(None, description="Number of records (总条数)")
    items: list[Account] = Field(default_factory=list, alias="list", description="Accounts (账户列表)")


# SFT0303 账户余额查询 -----------------------------------------------------------------------------------


class BalanceRequest(RequestModel):
    """SFT0303: the balance held with one service provider."""

    tax_base_code: TaxBaseCode


class BalanceResponse(ResponseModel):
    tax_base_code: TaxBaseCode | None = None
    tax_base_name: str | None = Field(None, description="Service provider name (服务商名称)")
    balance: Money = Field(description="Balance (账户余额) = frozen + available")
    frozen_amount: Money = Field(Decimal("0.00"), description="Frozen amount (冻结金额)")
    available_amount: Money = Field(description="Available amount (可用余额)")


# SFT0304 充值账户查询 -----------------------------------------------------------------------------------


class RechargeAccountRequest(RequestModel):
    """SFT0304: where to transfer money to fund the account (then report it with SFT0404)."""

    tax_base_code: TaxBaseCode


class RechargeAccountResponse(ResponseModel):
    tax_base_code: TaxBaseCode | None = None
    payee_acct_type: str | None = Field(None, description="Account type (收款账号类型): BANK or ALI_PAY")
    payee_bank_acct_name: str | None = Field(None, description="Account name (收款户名)")
    payee_bank_acct_no: Annotated[str, Personal(mask_card)] = Field(description="Account number (收款账号)")
    payee_bank_name: str | None = Field(None, description="Bank and branch (收款银行+支行)")
    remark: str | None = Field(None, description="What to write on the transfer (转账备注)")


# SFT0310 企业银行账户列表 ---------------------------------------------------------------------------------


class BankAccountListRequest(RequestModel):
    """SFT0310: the enterprise's own bank accounts (where withdrawals go), optionally only BOUND or UNBOUND."""

    bind_status: BindStatus | None = Field(None, description="Only accounts in this state (绑定状态)")


class BankAccount(RecordModel):
    bind_no: BindNo
    bank_acct_name: str | None = Field(None, description="Account name (户名)")
    bank_acct_no: BankAcctNo | None = None
    bank_name: str | None = Field(None, description="Bank (开户银行)")
    bank_branch: str | None = Field(None, description="Branch (开户支行), or the bank code given on binding")
    bind_status: Open[BindStatus] = Field(description="Binding status (绑定状态)")
    bind_time: ShanghaiDateTime | None = Field(None, description="When it was bound (绑定时间)")
    unbind_time: ShanghaiDateTime | None = Field(None, description="When it was unbound (解绑时间)")


class BankAccountListResponse(ResponseModel):
    total: int | None = Field(None, description="Number of records (总条数)")
    items: list[BankAccount] = Field(default_factory=list, alias="list", description="Bank accounts (银行账户列表)")


# SFT0311 企业银行账户绑定 ---------------------------------------------------------------------------------


class BankAccountBindRequest(RequestModel):
    """SFT0311: bind an enterprise bank account (its name must be the enterprise's)."""

    bank_acct_name: str = Field(min_length=1, max_length=100, description="Account name (户名)")
    bank_acct_no: BankAcctNo = Field(min_length=6, max_length=40)
    bank_name: str = Field(min_length=1, max_length=100, description="Bank (开户银行), or bank and branch")
    bank_branch: str | None = Field(None, max_length=100, description="Branch (开户支行)")
    bank_code: str | None = Field(
        None,
        max_length=32,
        description="Bank code (银行编码) or CNAPS number (联行号); kept as the branch when no bankBranch",
    )


class BankAccountBindResponse(ResponseModel, BankAccount):
    """The bound account; ``bindStatus`` BOUND."""


# SFT0312 企业银行账户解绑 ---------------------------------------------------------------------------------


class BankAccountUnbindRequest(RequestModel):
    """SFT0312: unbind an enterprise bank account, by ``bindNo`` or by its account number."""

    one_of: ClassVar[tuple[tuple[str, ...], ...]] = (("bind_no", "bank_acct_no"),)

    bind_no: BindNo | None = None
    bank_acct_no: BankAcctNo | None = Field(None, min_length=6, max_length=40)


class BankAccountUnbindResponse(ResponseModel, BankAccount):
    """The unbound account; ``bindStatus`` UNBOUND."""


# SFT0305 账户变动明细 -----------------------------------------------------------------------------------


class LedgerRequest(PageRequest):
    """SFT0305: the ledger of one custody account (paged)."""

    tax_base_code: TaxBaseCode
    change_type: LedgerChangeType | None = Field(None, description="Only changes of this type (变动类型)")
    start_time: ShanghaiDateTime | None = Field(None, description="Changes at or after (开始时间)")
    end_time: ShanghaiDateTime | None = Field(None, description="Changes before (结束时间)")


class LedgerEntry(RecordModel):
    change_no: str = Field(description="Ledger row number (变动流水号)")
    change_type: Open[LedgerChangeType] = Field(description="Change type (变动类型)")
    amount: SignedMoney = Field(description="Change (变动金额): + in, − out")
    balance_after: Money | None = Field(None, description="Balance after the change (变动后余额)")
    tax_base_code: TaxBaseCode | None = None
    ref_no: str | None = Field(None, description="The platform number it belongs to (关联单号): orderNo or batchNo")
    out_ref_no: str | None = Field(None, description="The merchant's key it belongs to (外部关联单号)")
    remark: str | None = Field(None, description="What the change was (摘要)")
    change_time: ShanghaiDateTime | None = Field(None, description="When (变动时间)")


class LedgerResponse(PageResponse[LedgerEntry]):
    tax_base_code: TaxBaseCode | None = None


__all__ = [
    "Account",
    "AccountListRequest",
    "AccountListResponse",
    "AccountStatus",
    "BalanceRequest",
    "BalanceResponse",
    "BankAccount",
    "BankAccountBindRequest",
    "BankAccountBindResponse",
    "BankAccountListRequest",
    "BankAccountListResponse",
    "BankAccountUnbindRequest",
    "BankAccountUnbindResponse",
    "LedgerEntry",
    "LedgerRequest",
    "LedgerResponse",
    "RechargeAccountRequest",
    "RechargeAccountResponse",
    "TaxBase",
    "TaxBaseListRequest",
    "TaxBaseListResponse",
]
