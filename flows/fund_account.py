"""Fund the account: report a transfer with recharge data sync (SFT0404), then wait until the platform
confirms it (SFT0403, or notification 1001).

The recharge's ``outOrderNo`` derives from the transfer (provider, amount, time and the bank's
reference), so reporting the same transfer twice — a retry, a re-run — records one recharge.
``python -m flows.fund_account AMOUNT "yyyy-MM-dd HH:mm:ss" [REFERENCE]`` runs it.
"""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal
from typing import Annotated

from prefect import flow, get_run_logger
from pydantic import Field

from flows import DEFAULT_TAX_BASE_CODE
from lingong_core.money import PositiveMoney
from lingong_core.timeutil import ShanghaiDateTime, parse_datetime
from tasks.credentials import CredentialsParameter, credentials_name
from tasks.funding import RechargeResult, recharge_key, sync_recharge, wait_recharge


@flow(name="fund-account", description="Report a transfer to the recharge account and wait for confirmation.")
async def fund_account(
    amount: PositiveMoney,
    recharge_time: ShanghaiDateTime,
    tax_base_code: str = DEFAULT_TAX_BASE_CODE,
    reference: Annotated[str | None, Field(description="The bank transfer's reference (流水号)")] = None,
    pay_channel_code: str = "3000003",
    wait: bool = True,
    timeout_seconds: float = 600.0,
    credentials_block: CredentialsParameter = None,
) -> RechargeResult:
    """Report ``amount`` transferred at ``recharge_time`` to ``tax_base_code``'s recharge account.

    Args:
        amount: The yuan transferred, as text, e.g. "100000.00".
        recharge_time: When the transfer was made, yyyy-MM-dd HH:mm:ss (Asia/Shanghai).
        tax_base_code: The service provider whose custody account received it.
        reference: The bank transfer's reference (流水号): reporting it twice records one recharge.
        pay_channel_code: The channel (3000001 Alipay, 3000002 WeChat, 3000003 CMB, 3000005 Ping An, 3000007 CIB).
        wait: Wait until the platform confirms the recharge.
        timeout_seconds: How long to wait for the confirmation.
        credentials_block: A saved LingongCredentials Block, picked in the form (or its name); empty: LINGONG_*.
    """
    credentials_block = credentials_name(credentials_block)  # tasks take the Block's name
    out_order_no = recharge_key(tax_base_code, amount, recharge_time, reference)
    result = await sync_recharge(
        out_order_no,
        tax_base_code,
        amount,
        recharge_time,
        pay_channel_code,
        remark=reference,
        credentials_block=credentials_block,
    )
    if wait and result.status not in ("SUCCESS", "FAILED"):
        result = await wait_recharge(out_order_no, timeout_seconds, credentials_block)
    get_run_logger().info("recharge %s (%s): %s %s", result.order_no, out_order_no, result.amount, result.status)
    if result.status == "FAILED":
        raise RuntimeError(f"recharge {result.order_no} failed: {result.fail_msg or 'no reason given'}")
    return result


if __name__ == "__main__":  # pragma: no cover - a thin command-line entry
    if len(sys.argv) < 3:
        sys.exit('usage: python -m flows.fund_account AMOUNT "yyyy-MM-dd HH:mm:ss" [REFERENCE]')
    reference = sys.argv[3] if len(sys.argv) > 3 else None
    print(asyncio.run(fund_account(Decimal(sys.argv[1]), parse_datetime(sys.argv[2]), reference=reference)))
