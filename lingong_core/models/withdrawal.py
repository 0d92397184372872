"""用工企业提现 — withdrawing unused funds to the enterprise's bank account (SFT0411–0413).

A withdrawal is keyed by ``outWithdrawNo`` and goes to an enterprise bank account bound with
SFT0311 (its ``bindNo``). Its result arrives by notification 2001 or SFT0413.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from ..money import Money, PositiveMoney
from ..timeutil import ShanghaiDateTime
from .account import BankAcctNo
from .base import Open, PageRequest, PageResponse, RecordModel, RequestModel, ResponseModel
from .common import BindNo, OutWithdrawNo, Remark, TaxBaseCode, WithdrawNo, WithdrawStatus


class WithdrawOrder(RecordModel):
    withdraw_no: WithdrawNo
    out_withdraw_no: OutWithdrawNo
    tax_base_code: TaxBaseCode | None = None
    amount: Money = Field(description="Withdrawal amount (提现金额)")
    status: Open[WithdrawStatus] = Field(description="Withdrawal status (提现状态): PROCESSING → SUCCESS | FAILED")
    bank_acct_name: str | None = Field(None, description="Receiving account name (收款户名)")
    bank_acct_no: BankAcctNo | None = None
    bank_name: str | None = Field(None, description="Receiving bank and branch (收款银行+支行)")
    remark: str | None = Field(None, description="Remark (备注)")
    apply_time: ShanghaiDateTime | None = Field(None, description="When it was applied for (申请时间)")
    complete_time: ShanghaiDateTime | None = Field(None, description="When it became final (完成时间)")
    fail_msg: str | None = Field(None, description="Why it failed (失败原因)")


# SFT0411 提现订单列表 -----------------------------------------------------------------------------------


class WithdrawListRequest(PageRequest):
    """SFT0411: withdrawals (paged), optionally filtered."""

    tax_base_code: TaxBaseCode | None = None
    status: WithdrawStatus | None = Field(None, description="Only withdrawals in this state (提现状态)")
    start_time: ShanghaiDateTime | None = Field(None, description="Applied at or after (开始时间)")
    end_time: ShanghaiDateTime | None = Field(None, description="Applied before (结束时间)")


class WithdrawListResponse(PageResponse[WithdrawOrder]):
    pass


# SFT0412 提现申请 --------------------------------------------------------------------------------------


class WithdrawApplyRequest(RequestModel):
    """SFT0412: withdraw available money to a bound enterprise bank account."""

    out_withdraw_no: OutWithdrawNo
    tax_base_code: TaxBaseCode
    amount: PositiveMoney = Field(description="Withdrawal amount (提现金额), at most the available balance")
    bind_no: BindNo | None = Field(
        None,
        description="The enterprise bank account to receive it (绑定编号), from SFT0310/0311; "
        "may be left out when exactly one account is bound",
    )
    bank_acct_no: BankAcctNo | None = Field(
        None, min_length=6, max_length=40, description="Or the bound account's number (银行账号) instead of bindNo"
    )
    remark: Remark | None = None


class WithdrawApplyResponse(ResponseModel):
    withdraw_no: WithdrawNo
    out_withdraw_no: OutWithdrawNo
    status: Open[WithdrawStatus] = Field(description="Withdrawal status (提现状态): PROCESSING")
    amount: Money | None = Field(None, description="Withdrawal amount (提现金额)")


# SFT0413 提现订单详情 -----------------------------------------------------------------------------------


class WithdrawDetailRequest(RequestModel):
    """SFT0413: one withdrawal."""

    one_of: ClassVar[tuple[tuple[str, ...], ...]] = (("out_withdraw_no", "withdraw_no"),)

    out_withdraw_no: OutWithdrawNo | None = None
    withdraw_no: WithdrawNo | None = None


class WithdrawDetailResponse(ResponseModel, WithdrawOrder):
    pass


__all__ = [
    "WithdrawApplyRequest",
    "WithdrawApplyResponse",
    "WithdrawDetailRequest",
    "WithdrawDetailResponse",
    "WithdrawListRequest",
    "WithdrawListResponse",
    "WithdrawOrder",
]
