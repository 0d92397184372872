"""Funding the account: recharge data sync (SFT0404), confirmed by SFT0403 (or notification 1001)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal

from prefect import task
from pydantic import BaseModel

from lingong_core.models.common import RechargeStatus
from lingong_core.models.recharge import RechargeOrder
from lingong_core.timeutil import format_datetime

from .calls import found_or_none, poll_until, write_once
from .common import PLATFORM_TASK, open_client, retry_if_busy
from .links import link_this_run


class RechargeResult(BaseModel):
    order_no: str
    out_order_no: str
    amount: Decimal
    status: str
    fail_msg: str = ""


def _result(order: RechargeOrder) -> RechargeResult:
    return RechargeResult(
        order_no=order.order_no,
        out_order_no=order.out_order_no,
        amount=order.amount,
        status=str(order.status),
        fail_msg=order.fail_msg or "",
    )


@task(name="sync-recharge", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def sync_recharge(
    out_order_no: str,
    tax_base_code: str,
    amount: Decimal,
    recharge_time: datetime,
    pay_channel_code: str = "3000003",
    service_amount: Decimal = Decimal("0.00"),
    remark: str | None = None,
    credentials_block: str | None = None,
) -> RechargeResult:
    """Report a transfer to the recharge account (SFT0404), exactly once per ``out_order_no``."""
    async with open_client(credentials_block) as client:
        order = await write_once(
            lambda: client.recharge.sync(
                out_order_no=out_order_no,
                tax_base_code=tax_base_code,
                amount=amount,
                service_amount=service_amount,
                pay_channel_code=pay_channel_code,
                recharge_time=recharge_time,
                remark=remark,
            ),
            lambda: found_or_none(client.recharge.query(out_order_no=out_order_no)),
            what=f"recharge {out_order_no}",
            api_code="SFT0403",
        )
    # Its 1001 names the run that reported it (tasks/links.py).
    link_this_run({f"lingong.recharge.{out_order_no}": out_order_no}, role="fund-account")
    return _result(order)


@task(name="wait-recharge", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def wait_recharge(
    out_order_no: str,
    timeout_seconds: float = 600.0,
    credentials_block: str | None = None,
    max_poll_seconds: float = 10.0,
) -> RechargeResult:
    """Poll SFT0403 with backoff until the recharge is SUCCESS or FAILED (or the timeout passes).

    A recharge notification (1001) recorded by the receiver ends a pause between polls early.
    """
    async with open_client(credentials_block) as client:
        order = await poll_until(
            lambda: client.recharge.query(out_order_no=out_order_no),
            lambda o: o.status in (RechargeStatus.SUCCESS, RechargeStatus.FAILED),
            timeout_seconds=timeout_seconds,
            watch=lambda _: [f"lingong.recharge.{out_order_no}"],
            final={"SUCCESS", "FAILED"},
            max_delay=max_poll_seconds,
            factor=2,
        )
    return _result(order)


def recharge_key(tax_base_code: str, amount: Decimal, recharge_time: datetime, ref: str | None) -> str:
    """A stable ``outOrderNo`` for a transfer, so the same transfer reported twice is one recharge.

    With the bank's reference the transfer is identified by it alone; without one, by amount and time.
    """
    parts = [tax_base_code, ref] if ref else [tax_base_code, f"{amount:.2f}", format_datetime(recharge_time)]
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).hexdigest().upper()
    return "RC" + digest
