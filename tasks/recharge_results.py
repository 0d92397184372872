"""Following a recharge notification (1001): the recharge order (SFT0403) and, once it succeeded, the
account's balance (SFT0303), as the platform answers now."""

from __future__ import annotations

from decimal import Decimal

from prefect import task
from pydantic import BaseModel, Field

from lingong_core.masking import scrub

from .common import PLATFORM_TASK, open_client, retry_if_busy
from .notices import as_text


class RechargeFacts(BaseModel):
    order_no: str
    out_order_no: str
    tax_base_code: str
    amount: Decimal
    status: str
    complete_time: str = ""
    fail_msg: str = ""
    available_balance: Decimal | None = Field(None, description="SFT0303 after the recharge, when it succeeded")


@task(name="read-recharge", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def read_recharge(
    out_order_no: str = "", order_no: str = "", credentials_block: str | None = None
) -> RechargeFacts:
    """SFT0403 for the recharge order; SFT0303 for the account's balance once it succeeded."""
    if not (out_order_no or order_no):
        raise ValueError("give out_order_no or order_no")
    async with open_client(credentials_block) as client:
        key = {"out_order_no": out_order_no} if out_order_no else {"order_no": order_no}
        order = await client.recharge.query(**key)
        balance = None
        if str(order.status) == "SUCCESS":
            balance = (await client.account.balance(tax_base_code=order.tax_base_code)).available_amount
    return RechargeFacts(
        order_no=order.order_no,
        out_order_no=order.out_order_no,
        tax_base_code=order.tax_base_code,
        amount=order.amount,
        status=str(order.status),
        complete_time=as_text(order.complete_time),
        fail_msg=scrub(order.fail_msg or ""),
        available_balance=balance,
    )
