"""Recharge result (notification 1001): mark the recharge confirmed, with the balance it leaves.

The recharge order is read from the platform (SFT0403) and, when it succeeded, the account's balance
(SFT0303). A markdown artifact ``recharge-<outOrderNo>`` records the confirmation — or the failure and
its reason. A failed recharge fails the run, so the operator sees it. Running it again changes nothing.

``python -m flows.recharge_confirmed OUT_ORDER_NO`` runs it by hand.
"""

from __future__ import annotations

import asyncio
import sys

from prefect import flow, get_run_logger

from tasks.credentials import CredentialsParameter, credentials_name
from tasks.notices import cell, publish_once, yuan
from tasks.recharge_results import RechargeFacts, read_recharge


class RechargeFailedError(RuntimeError):
    """The platform reports the recharge FAILED: the money did not arrive in the account."""


def _markdown(facts: RechargeFacts) -> str:
    verdict = {"SUCCESS": "confirmed", "FAILED": "FAILED"}.get(facts.status, f"not final ({facts.status})")
    lines = [
        f"# Recharge {facts.out_order_no} · {facts.tax_base_code}: {verdict}",
        "",
        f"- amount: {yuan(facts.amount)}",
        f"- platform order: {facts.order_no}, {facts.status}"
        + (f" at {facts.complete_time}" if facts.complete_time else ""),
    ]
    if facts.available_balance is not None:
        lines.append(f"- available balance now: {yuan(facts.available_balance)}")
    if facts.fail_msg:
        lines.append(f"- reason: {cell(facts.fail_msg)}")
    return "\n".join(lines)


@flow(name="recharge-confirmed", description="Notification 1001: confirm the recharge from the platform's own record.")
async def recharge_confirmed(
    out_order_no: str = "",
    order_no: str = "",
    credentials_block: CredentialsParameter = None,
) -> RechargeFacts:
    """Read a recharge order from the platform and record whether the money arrived.

    Args:
        out_order_no: The merchant's recharge order key (outOrderNo).
        order_no: Or the platform's recharge order number (orderNo).
        credentials_block: A saved LingongCredentials Block, picked in the form (or its name); empty: LINGONG_*.
    """
    credentials_block = credentials_name(credentials_block)  # tasks take the Block's name
    facts = await read_recharge(out_order_no, order_no, credentials_block)
    await publish_once(f"recharge-{facts.out_order_no}", _markdown(facts), "Recharge confirmation")
    get_run_logger().info("recharge %s (%s): %s %s", facts.out_order_no, facts.order_no, facts.amount, facts.status)
    if facts.status == "FAILED":
        raise RechargeFailedError(f"recharge {facts.out_order_no} failed: {facts.fail_msg or 'no reason given'}")
    return facts


if __name__ == "__main__":  # pragma: no cover - a thin command-line entry
    if len(sys.argv) != 2:
        sys.exit("usage: python -m flows.recharge_confirmed OUT_ORDER_NO")
    print(asyncio.run(recharge_confirmed(sys.argv[1])))
