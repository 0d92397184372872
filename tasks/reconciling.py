"""Reading what the platform holds, for reconciliation: the account ledger (SFT0305) and the balance."""

from __future__ import annotations

from decimal import Decimal

from prefect import task
from pydantic import BaseModel

from .common import PLATFORM_TASK, open_client, retry_if_busy


class LedgerLine(BaseModel):
    change_no: str
    change_type: str
    amount: Decimal
    balance_after: Decimal
    ref_no: str = ""
    out_ref_no: str = ""


class LedgerSnapshot(BaseModel):
    tax_base_code: str
    balance: Decimal
    lines: list[LedgerLine]


@task(name="read-ledger", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def read_ledger(tax_base_code: str, credentials_block: str | None = None) -> LedgerSnapshot:
    """Every ledger row of the account (oldest first) and its balance now."""
    async with open_client(credentials_block) as client:
        lines = [
            LedgerLine(
                change_no=e.change_no,
                change_type=str(e.change_type),
                amount=e.amount,
                balance_after=e.balance_after,
                ref_no=e.ref_no or "",
                out_ref_no=e.out_ref_no or "",
            )
            async for e in client.account.ledger.iter(tax_base_code=tax_base_code, page_size=1000)
        ]
        balance = (await client.account.balance(tax_base_code=tax_base_code)).balance
    return LedgerSnapshot(tax_base_code=tax_base_code, balance=balance, lines=lines)
