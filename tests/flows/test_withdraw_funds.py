"""withdraw_funds against a sandbox of its own: frozen while the bank has not answered, debited once it
has, never twice — not on a re-run, not when the platform's answer to SFT0412 is lost."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from flows.fund_account import fund_account
from flows.withdraw_funds import withdraw_funds
from flows.withdrawal_result import WithdrawalFailedError, withdrawal_result
from lingong_core.timeutil import now
from lingong_payroll.withdrawals import WithdrawalRefusedError
from tasks.common import open_client
from tests.flows.conftest import Platform
from tests.flows.fresh import bind_enterprise_account, fresh_platform

pytestmark = pytest.mark.usefixtures("prefect")

TAX = "2000064001"
D = Decimal


def _applied(platform: Platform) -> list[dict[str, object]]:
    """Every SFT0412 the platform answered with success."""
    log = platform.admin("GET", "requests?apiCode=SFT0412&limit=1000")["list"]
    return [r for r in log if r.get("code") == 200]


def test_a_withdrawal_is_made_once_whatever_is_lost_or_run_again(tmp_path: Path) -> None:
    with fresh_platform(tmp_path) as platform:
        with pytest.raises(WithdrawalRefusedError, match="no enterprise bank account is bound"):
            asyncio.run(withdraw_funds("100.00", "no account", tax_base_code=TAX))
        asyncio.run(bind_enterprise_account())
        asyncio.run(fund_account(amount="1000.00", recharge_time=now(), tax_base_code=TAX, reference="withdraw"))

        platform.admin("PUT", "settings", delays={"withdrawal": 2000.0})  # the bank takes 4 s to answer
        pending = asyncio.run(withdraw_funds("300.00", "2026-11 surplus", tax_base_code=TAX, wait=False))
        assert pending.status == "PROCESSING"
        assert (pending.available_after, pending.frozen_after) == (D("700.00"), D("300.00"))  # frozen, not gone
        assert "6226 **** **** 0001" in pending.markdown()
        done = asyncio.run(withdraw_funds("300.00", "2026-11 surplus", tax_base_code=TAX))
        assert (done.status, done.earlier, done.withdraw_no) == ("SUCCESS", True, pending.withdraw_no)
        assert (done.available_after, done.frozen_after) == (D("700.00"), D("0.00"))
        platform.admin("PUT", "settings", delays={"withdrawal": 10.0})
        assert len(_applied(platform)) == 1

        # The platform takes the next withdrawal but its answer is lost: it is looked up, never sent again.
        platform.admin("PUT", "faults", spec="error_after=1,only=SFT0412")
        try:
            lost = asyncio.run(withdraw_funds("200.00", "lost answer", tax_base_code=TAX))
        finally:
            platform.admin("PUT", "faults", spec="")
        assert lost.status == "SUCCESS"
        assert platform.admin("GET", "faults")["counts"]
        audit = platform.audit()
        assert audit["ledger"][TAX]["withdrawals"] == D("500.00")
        assert audit["balanced"] is True

        with pytest.raises(WithdrawalRefusedError, match="available; nothing was withdrawn"):
            asyncio.run(withdraw_funds("500.01", "too much", tax_base_code=TAX))
        with pytest.raises(WithdrawalRefusedError, match="amount: must be more than 0"):
            asyncio.run(withdraw_funds("1.234", "bad amount", tax_base_code=TAX))

        result = asyncio.run(withdrawal_result(withdraw_no=done.withdraw_no))  # what 2001 starts
        assert (result.status, result.amount) == ("SUCCESS", D("300.00"))
        platform.script(businessKey=_key_of("rejected", D("50.00")), outcome="FAIL")
        failed = asyncio.run(withdraw_funds("50.00", "rejected", tax_base_code=TAX))
        assert failed.status == "FAILED"
        assert failed.available_after == D("500.00")  # nothing moved
        with pytest.raises(WithdrawalFailedError, match="failed"):
            asyncio.run(withdrawal_result(out_withdraw_no=failed.out_withdraw_no))


def _key_of(reference: str, amount: Decimal) -> str:
    import os

    from lingong_payroll.withdrawals import withdraw_key

    async def bind_no() -> str:
        async with open_client() as client:
            return (await client.account.bank_accounts()).items[0].bind_no

    return withdraw_key(os.environ["LINGONG_MERCHANT_NO"], TAX, asyncio.run(bind_no()), amount, reference)
