"""Withdraw unused funds: apply for a withdrawal from the service provider's account to a bound
enterprise bank account (SFT0412), then follow it until the bank answers (SFT0413; notification 2001
ends the wait early and starts ``withdrawal_result``).

Never twice: the withdrawal's ``outWithdrawNo`` derives from the merchant, provider, account, amount and
the operator's ``reference`` (lingong_payroll.withdrawals), the platform is asked for it before anything
is sent, and a lost answer is reconciled by that key (lingong_core.reconcile). The same inputs run again
report the withdrawal made the first time. A short balance refuses the run before anything is sent.

``python -m flows.withdraw_funds AMOUNT REFERENCE`` runs it.
"""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal

from prefect import flow, get_run_logger
from prefect.artifacts import acreate_markdown_artifact

from flows import DEFAULT_TAX_BASE_CODE
from lingong_core.money import fmt_yuan
from lingong_payroll.withdrawals import (
    WithdrawalRefusedError,
    WithdrawalReport,
    check_amount,
    check_reference,
    withdraw_key,
)
from tasks.approval import ApprovalLine, PaymentSummary, require_approval
from tasks.artifacts import artifact_key
from tasks.credentials import CredentialsParameter, credentials_name, load_settings
from tasks.withdrawals import apply_withdrawal, available_and_frozen, bound_account, find_withdrawal, wait_withdrawal


@flow(name="withdraw-funds", description="Withdraw unused funds to the enterprise's bank account, exactly once.")
async def withdraw_funds(
    amount: str,
    reference: str,
    tax_base_code: str = DEFAULT_TAX_BASE_CODE,
    bind_no: str | None = None,
    remark: str | None = None,
    wait: bool = True,
    timeout_seconds: float = 600.0,
    credentials_block: CredentialsParameter = None,
) -> WithdrawalReport:
    """Withdraw ``amount`` from ``tax_base_code``'s account to a bound enterprise bank account.

    Args:
        amount: How much to withdraw, in yuan as text (e.g. "1234.50"); at most what is available.
        reference: Names this withdrawal (e.g. "2026-11 surplus"). The same amount, account and reference
            never withdraw twice; a new reference withdraws again, on purpose.
        tax_base_code: The service provider (服务商) whose account the money leaves, e.g. 2000064001.
        bind_no: The enterprise bank account to receive it (its bindNo, SFT0310). Empty: the only bound one.
        remark: A remark for the platform (备注), at most 200 characters.
        wait: Wait until the bank answers (SUCCESS or FAILED).
        timeout_seconds: How long to wait; a re-run, or the 2001 notification, picks up the result.
        credentials_block: A saved LingongCredentials Block, picked in the form (or its name); empty: LINGONG_*.
    """
    credentials_block = credentials_name(credentials_block)  # tasks take the Block's name
    logger = get_run_logger()
    value, reference = check_amount(amount), check_reference(reference)
    if remark is not None and len(remark) > 200:
        raise WithdrawalRefusedError("remark: at most 200 characters")
    account = await bound_account(bind_no, credentials_block)
    merchant_no = load_settings(credentials_block).merchant_no
    key = withdraw_key(merchant_no, tax_base_code, account.bind_no, value, reference)
    report = WithdrawalReport(
        out_withdraw_no=key,
        tax_base_code=tax_base_code,
        amount=value,
        bank_acct_no=account.bank_acct_no,
        bank_name=account.bank_name,
    )
    state = await find_withdrawal(key, credentials_block)
    report.earlier = state is not None
    if state is None:
        available, _ = await available_and_frozen(tax_base_code, credentials_block)
        report.available_before = available
        if available < value:
            raise WithdrawalRefusedError(
                f"amount: {fmt_yuan(value)} asked, the account with {tax_base_code} has {fmt_yuan(available)} "
                "available; nothing was withdrawn"
            )
        # The four-eyes approval (tasks/approval.py) before SFT0412: money leaves only once someone approves.
        approval = await require_approval(_summary(report, reference, available))
        report.approval = approval.note
        if not approval.approved:
            logger.warning("withdrawal %s of %s: %s", key, fmt_yuan(value), approval.note)
            await acreate_markdown_artifact(
                report.markdown(), key=artifact_key(f"withdrawal-{key}"), description="Withdrawal"
            )
            return report
        state = await apply_withdrawal(key, tax_base_code, value, account.bind_no, remark, credentials_block)
    if wait and state.status not in ("SUCCESS", "FAILED"):
        state = await wait_withdrawal(key, state.withdraw_no, timeout_seconds, credentials_block)
    report.withdraw_no, report.status, report.fail_msg = state.withdraw_no, state.status, state.fail_msg
    report.available_after, report.frozen_after = await available_and_frozen(tax_base_code, credentials_block)
    logger.info(
        "withdrawal %s of %s: %s%s", key, fmt_yuan(value), state.status, " (earlier run)" if report.earlier else ""
    )
    await acreate_markdown_artifact(report.markdown(), key=artifact_key(f"withdrawal-{key}"), description="Withdrawal")
    return report


def _summary(report: WithdrawalReport, reference: str, available: Decimal) -> PaymentSummary:
    """What the approver sees: the amount, the account it goes to (masked), the balance."""
    line = ApprovalLine(
        name=report.bank_name, bank_card_no=report.bank_acct_no, key=report.out_withdraw_no, amount=report.amount
    )
    return PaymentSummary(
        kind="withdrawal",
        title=f"withdrawal “{reference}” to {report.bank_name} {report.bank_acct_no}",
        run=report.out_withdraw_no,
        tax_base_code=report.tax_base_code,
        balance=available,
        lines=[line],
    )


if __name__ == "__main__":  # pragma: no cover - a thin command-line entry
    if len(sys.argv) != 3:
        sys.exit("usage: python -m flows.withdraw_funds AMOUNT REFERENCE")
    print(asyncio.run(withdraw_funds(sys.argv[1], sys.argv[2])).markdown())
