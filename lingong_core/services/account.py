"""存管账户 — ``client.account``: service providers, balances, the ledger, enterprise bank accounts."""

from __future__ import annotations

from typing import TypeVar

from ..models import account as m
from .base import Endpoint, PagedEndpoint, Service

C = TypeVar("C", covariant=True)


class AccountService(Service[C]):
    """The custody account per service provider, and the enterprise's own bank accounts."""

    tax_bases = Endpoint("SFT0301", m.TaxBaseListRequest, m.TaxBaseListResponse)
    accounts = Endpoint("SFT0302", m.AccountListRequest, m.AccountListResponse)
    balance = Endpoint("SFT0303", m.BalanceRequest, m.BalanceResponse)
    recharge_account = Endpoint("SFT0304", m.RechargeAccountRequest, m.RechargeAccountResponse)
    bank_accounts = Endpoint("SFT0310", m.BankAccountListRequest, m.BankAccountListResponse)
    bind_bank_account = Endpoint("SFT0311", m.BankAccountBindRequest, m.BankAccountBindResponse)
    unbind_bank_account = Endpoint("SFT0312", m.BankAccountUnbindRequest, m.BankAccountUnbindResponse)
    ledger = PagedEndpoint("SFT0305", m.LedgerRequest, m.LedgerResponse, m.LedgerEntry)
