"""Withdrawal result (notification 2001): record what the bank answered, from the platform's own record.

The withdrawal is read from the platform (SFT0413), with the account's available and frozen amounts
(SFT0303). A markdown artifact ``withdrawal-result-<withdrawNo>`` says whether the money reached the
enterprise's bank account; a FAILED withdrawal fails the run (the money stayed in the provider account),
so the operator sees it. Running it again changes nothing.

``python -m flows.withdrawal_result WITHDRAW_NO`` runs it by hand.
"""

from __future__ import annotations

import asyncio
import sys

from prefect import flow, get_run_logger
from prefect.artifacts import acreate_markdown_artifact

from lingong_payroll.withdrawals import WithdrawalRefusedError, WithdrawalReport
from tasks.artifacts import artifact_key
from tasks.credentials import CredentialsParameter, credentials_name
from tasks.withdrawals import available_and_frozen, read_withdrawal


class WithdrawalFailedError(RuntimeError):
    """The bank refused the withdrawal: the money is still in the service provider's account."""


@flow(name="withdrawal-result", description="Notification 2001: the bank's answer to a withdrawal, from the platform.")
async def withdrawal_result(
    withdraw_no: str = "", out_withdraw_no: str = "", credentials_block: CredentialsParameter = None
) -> WithdrawalReport:
    """Read a withdrawal from the platform and record whether the money reached the bank account.

    Args:
        withdraw_no: The platform's withdrawal number (withdrawNo).
        out_withdraw_no: Or the merchant's key for it (outWithdrawNo).
        credentials_block: A saved LingongCredentials Block, picked in the form (or its name); empty: LINGONG_*.
    """
    credentials_block = credentials_name(credentials_block)  # tasks take the Block's name
    if not (withdraw_no or out_withdraw_no):
        raise WithdrawalRefusedError("withdraw_no: give withdraw_no or out_withdraw_no")
    state, tax_base_code = await read_withdrawal(withdraw_no, out_withdraw_no, credentials_block)
    report = WithdrawalReport(
        out_withdraw_no=state.out_withdraw_no,
        withdraw_no=state.withdraw_no,
        tax_base_code=tax_base_code,
        amount=state.amount,
        status=state.status,
        bank_acct_no=state.bank_acct_no,
        bank_name=state.bank_name,
        fail_msg=state.fail_msg,
    )
    report.available_after, report.frozen_after = await available_and_frozen(tax_base_code, credentials_block)
    await acreate_markdown_artifact(
        report.markdown(), key=artifact_key(f"withdrawal-result-{state.withdraw_no}"), description="Withdrawal result"
    )
    get_run_logger().info(
        "withdrawal %s (%s): %s %s", state.withdraw_no, state.out_withdraw_no, state.amount, state.status
    )
    if state.status == "FAILED":
        raise WithdrawalFailedError(f"withdrawal {state.withdraw_no} failed: {state.fail_msg or 'no reason given'}")
    return report


if __name__ == "__main__":  # pragma: no cover - a thin command-line entry
    print(asyncio.run(withdrawal_result(sys.argv[1] if len(sys.argv) > 1 else "")).markdown())
