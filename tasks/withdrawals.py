"""Withdrawals of unused funds (SFT0412), to an enterprise bank account bound with SFT0311 (SFT0310), and
following them (SFT0413; notification 2001 ends a wait early). A withdrawal is applied for exactly once
per ``outWithdrawNo``: the platform is asked first, and a lost answer is reconciled by the same key
before anything is sent again (lingong_core.reconcile)."""

from __future__ import annotations

from decimal import Decimal

from prefect import task
from pydantic import BaseModel

from lingong_core.masking import mask_card
from lingong_core.models.withdrawal import WithdrawOrder
from lingong_payroll.withdrawals import FINAL, WithdrawalRefusedError

from .calls import found_or_none, poll_until, write_once
from .common import PLATFORM_TASK, open_client, retry_if_busy
from .links import link_this_run


class Account(BaseModel):
    bind_no: str
    bank_acct_name: str
    bank_acct_no: str  # masked
    bank_name: str


class WithdrawState(BaseModel):
    withdraw_no: str
    out_withdraw_no: str
    amount: Decimal
    status: str
    bank_acct_no: str = ""  # masked
    bank_name: str = ""
    fail_msg: str = ""


def _state(w: WithdrawOrder) -> WithdrawState:
    return WithdrawState(
        withdraw_no=w.withdraw_no,
        out_withdraw_no=w.out_withdraw_no,
        amount=w.amount,
        status=str(w.status),
        bank_acct_no=mask_card(w.bank_acct_no or "") if w.bank_acct_no else "",
        bank_name=w.bank_name or "",
        fail_msg=w.fail_msg or "",
    )


@task(name="find-bound-account", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def bound_account(bind_no: str | None = None, credentials_block: str | None = None) -> Account:
    """The bound enterprise account named by ``bind_no``, or the only one bound (SFT0310)."""
    async with open_client(credentials_block) as client:
        accounts = [a for a in (await client.account.bank_accounts()).items if str(a.bind_status) == "BOUND"]
    if bind_no:
        accounts = [a for a in accounts if a.bind_no == bind_no]
        if not accounts:
            raise WithdrawalRefusedError(f"bind_no: {bind_no} is not a bound enterprise bank account (SFT0310)")
    elif len(accounts) != 1:
        raise WithdrawalRefusedError(
            f"bind_no: {len(accounts)} enterprise bank accounts are bound; name the one to receive the money"
            if accounts
            else "bind_no: no enterprise bank account is bound; bind one first (SFT0311)"
        )
    a = accounts[0]
    return Account(
        bind_no=a.bind_no,
        bank_acct_name=a.bank_acct_name,
        bank_acct_no=mask_card(a.bank_acct_no or ""),
        bank_name=a.bank_name,
    )


@task(name="find-withdrawal", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def find_withdrawal(out_withdraw_no: str, credentials_block: str | None = None) -> WithdrawState | None:
    """SFT0413 by our key: the withdrawal, or None if the platform has none."""
    async with open_client(credentials_block) as client:
        found = await found_or_none(client.withdrawal.detail(out_withdraw_no=out_withdraw_no))
    return None if found is None else _state(found)


@task(name="apply-withdrawal", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def apply_withdrawal(
    out_withdraw_no: str,
    tax_base_code: str,
    amount: Decimal,
    bind_no: str,
    remark: str | None = None,
    credentials_block: str | None = None,
) -> WithdrawState:
    """SFT0412 exactly once per ``out_withdraw_no`` (a lost answer or a 409 is looked up by SFT0413)."""
    async with open_client(credentials_block) as client:
        found = await write_once(
            lambda: client.withdrawal.apply(
                out_withdraw_no=out_withdraw_no,
                tax_base_code=tax_base_code,
                amount=amount,
                bind_no=bind_no,
                remark=remark,
            ),
            lambda: found_or_none(client.withdrawal.detail(out_withdraw_no=out_withdraw_no)),
            what=f"withdrawal {out_withdraw_no}",
            api_code="SFT0413",
        )
    # Its 2001 names the run that applied for it (tasks/links.py).
    link_this_run({f"lingong.withdrawal.{found.withdraw_no}": out_withdraw_no}, role="withdraw-funds")
    return _state(found)


@task(name="wait-withdrawal", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def wait_withdrawal(
    out_withdraw_no: str, withdraw_no: str, timeout_seconds: float = 600.0, credentials_block: str | None = None
) -> WithdrawState:
    """Poll SFT0413 with backoff until the bank answered (or the timeout); a recorded 2001 ends a pause early."""
    async with open_client(credentials_block) as client:

        async def read() -> WithdrawState:
            return _state(await client.withdrawal.detail(out_withdraw_no=out_withdraw_no))

        return await poll_until(
            read,
            lambda state: state.status in FINAL,
            timeout_seconds=timeout_seconds,
            watch=lambda _: [f"lingong.withdrawal.{withdraw_no}"],
            final=FINAL,
        )


@task(name="available-and-frozen", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def available_and_frozen(tax_base_code: str, credentials_block: str | None = None) -> tuple[Decimal, Decimal]:
    """SFT0303: what can be spent now, and what is frozen (withdrawals the bank has not confirmed)."""
    async with open_client(credentials_block) as client:
        balance = await client.account.balance(tax_base_code=tax_base_code)
    return balance.available_amount, balance.frozen_amount


@task(name="read-withdrawal", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def read_withdrawal(
    withdraw_no: str = "", out_withdraw_no: str = "", credentials_block: str | None = None
) -> tuple[WithdrawState, str]:
    """SFT0413 by either number: the withdrawal and its service provider."""
    async with open_client(credentials_block) as client:
        if withdraw_no:
            found = await client.withdrawal.detail(withdraw_no=withdraw_no)
        else:
            found = await client.withdrawal.detail(out_withdraw_no=out_withdraw_no)
    return _state(found), found.tax_base_code or ""
