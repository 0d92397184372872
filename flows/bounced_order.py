"""Bounced order (notification 5001, 退票): record it, tell the operator, re-pay only when told the card is fixed.

A paid order that the bank returned comes back to the account (the platform refunds amount and fee).
This flow reads the order from the platform (SFT0505), records ``BOUNCED`` in the run journal, and
publishes a markdown artifact ``bounce-<outOrderNo>`` naming who bounced (masked), why, and how to pay
them again. Nothing is paid then.

Once the person's card is fixed, the operator stores the person with the new card in the payee store
(``lingong payees add-person`` prints a ``PP…`` reference) and runs this flow again with ``card_fixed``
and that ``payee_ref`` — the person never travels as a parameter. It checks the order really bounced and
that the person is the one it paid, then runs ``payroll-run`` for that one person and the bounced amount,
as an additional payment whose reference (``additional_ref``) derives from the bounced order's number,
``RP-<orderNo>`` — so however often it runs, the re-payment is made at most once.

``python -m flows.bounced_order ORDER_NO`` runs the recording step by hand.
"""

from __future__ import annotations

import asyncio
import json
import sys

from prefect import flow, get_run_logger
from pydantic import BaseModel, Field

from flows.payroll_run import payroll_run
from lingong_core.masking import mask_card, mask_id, mask_name
from lingong_payroll.keys import check_period
from lingong_payroll.orders import PlatformOrder
from lingong_payroll.outcomes import JournalUpdate
from lingong_payroll.payees import PayeeRow
from lingong_payroll.report import Outcome
from tasks.bounces import consistent, repay_ref
from tasks.credentials import CredentialsParameter, credentials_name
from tasks.notices import cell, publish_once, yuan
from tasks.onboarding import Freelancer, OnboardingState, onboard_people, stored_people
from tasks.payees import store_payroll
from tasks.settlement_results import journal_period, read_order, record_outcomes


class RepayRefusedError(ValueError):
    """Nothing was re-paid: the order did not bounce, the person is not the one it paid, or the new card
    cannot be paid (not a debit card, refused by the bank's check)."""


class Repayment(BaseModel):
    additional_ref: str
    period: str
    out_order_no: str = Field("", description="The re-payment's order key")
    order_no: str = ""
    bank_card_no: str = Field("", description="masked")
    outcome: str
    reason: str = ""


class BounceResult(BaseModel):
    order: PlatformOrder
    tax_base_code: str
    refund_no: str = ""
    reason: str = ""
    journal: JournalUpdate
    repayment: Repayment | None = None


def _how_to_repay(order: PlatformOrder) -> list[str]:
    parameters = {"order_no": order.order_no, "card_fixed": True, "payee_ref": "PP…"}
    return [
        "## To pay them again",
        "",
        "Once the person has a working debit card, store them with the **new** card in the payee store "
        "(`lingong payees add-person` asks for the name, ID number, mobile and card, and prints a `PP…` "
        "reference), then start a custom run of the deployment **bounced-order/bounced-order** with "
        "`card_fixed` on and that `payee_ref` (the same person the order paid; it is checked). It pays the "
        f"bounced amount once, as additional payment `{repay_ref(order.order_no)}` — running it again pays "
        "nobody twice.",
        "",
        "```sh",
        "lingong payees add-person",
        "prefect deployment run bounced-order/bounced-order --params '"
        + json.dumps(parameters, ensure_ascii=False)
        + "'",
        "```",
    ]


def _markdown(result: BounceResult) -> str:
    o = result.order
    lines = [
        f"# Bounced payment (退票) · order {o.out_order_no}",
        "",
        "| | |",
        "|---|---|",
        f"| person | {o.name} ({o.id_card_no}) |",
        f"| card | {o.bank_card_no} |",
        f"| amount | {yuan(o.amount)} (fee {yuan(o.service_amount)}), refunded to the account |",
        f"| reason | {cell(result.reason) or '—'} |",
        f"| order | {o.order_no} in batch {o.batch_no} ({o.out_batch_no}) · {result.tax_base_code} |",
        f"| state on the platform | {o.status} |",
    ]
    if result.refund_no:
        lines.append(f"| refund | {result.refund_no} |")
    if result.repayment is None:
        lines += ["", *_how_to_repay(o)]
    else:
        r = result.repayment
        lines += [
            "",
            "## Re-payment",
            "",
            f"To card {r.bank_card_no} as order {r.out_order_no} "
            f"(additional payment `{r.additional_ref}`, period {r.period}): "
            f"**{r.outcome}**" + (f" — {cell(r.reason)}" if r.reason else ""),
        ]
    return "\n".join(lines)


def _one_person(payee_ref: str | None) -> Freelancer:
    """The one person stored under ``payee_ref`` (with the new card)."""
    if not payee_ref:
        raise RepayRefusedError(
            "card_fixed needs payee_ref: the person with the new card, stored by `lingong payees add-person`"
        )
    people = stored_people(payee_ref)
    if len(people) != 1:
        raise RepayRefusedError(f"payee_ref {payee_ref} holds {len(people)} people; a re-payment is for one")
    return people[0]


async def _repay(
    order: PlatformOrder,
    tax_base_code: str,
    payee: Freelancer,
    period: str | None,
    project_no: str | None,
    wait_timeout_seconds: float,
    credentials_block: str | None,
) -> Repayment:
    if not (consistent(order.id_card_no, payee.id_card_no) and consistent(order.name, payee.name)):
        raise RepayRefusedError(
            f"order {order.out_order_no} paid {order.name} ({order.id_card_no}), not "
            f"{mask_name(payee.name)} ({mask_id(payee.id_card_no)}): nothing was paid"
        )
    period = check_period(
        period or await journal_period(order.out_order_no, tax_base_code) or order.create_time[:7] or ""
    )
    # The new card must be bound before SFT0502 takes it (SFT0501 does not look at cards).
    (onboarded,) = await onboard_people([payee], tax_base_code, 1, credentials_block)
    if onboarded.state != OnboardingState.READY:
        raise RepayRefusedError(
            f"the new card {mask_card(payee.bank_card_no)} cannot be paid yet: {onboarded.reason or onboarded.state}"
        )
    ref = repay_ref(order.order_no)
    row = PayeeRow(
        name=payee.name,
        id_card_no=payee.id_card_no,
        mobile=payee.mobile,
        bank_card_no=payee.bank_card_no,
        amount=f"{order.amount:.2f}",
        remark=f"re-payment of bounced order {order.order_no}",
    )
    report = await payroll_run(
        period,
        payroll_ref=store_payroll([row], source=f"re-payment of {order.order_no}"),
        tax_base_code=tax_base_code,
        project_no=project_no,
        additional_ref=ref,
        onboard_missing=True,
        wait_timeout_seconds=wait_timeout_seconds,
        credentials_block=credentials_block,
    )
    line = report.lines[0]
    return Repayment(
        additional_ref=ref,
        period=period,
        out_order_no=line.out_order_no,
        order_no=line.order_no,
        bank_card_no=mask_card(payee.bank_card_no),
        outcome=line.outcome.value,
        reason=line.reason,
    )


@flow(
    name="bounced-order",
    description="Notification 5001 (退票): record the bounce, tell the operator; re-pay once the card is fixed.",
)
async def bounced_order(
    order_no: str = "",
    out_order_no: str = "",
    refund_no: str = "",
    bounce_reason: str = "",
    card_fixed: bool = False,
    payee_ref: str | None = None,
    period: str | None = None,
    project_no: str | None = None,
    wait_timeout_seconds: float = 900.0,
    credentials_block: CredentialsParameter = None,
) -> BounceResult:
    """Record a bounced payment and tell the operator; once the card is fixed, pay the person again, once.

    Args:
        order_no: The platform's number of the bounced order (orderNo).
        out_order_no: Or the merchant's order key (outOrderNo).
        refund_no: The refund the bounce made (refundNo), for the record.
        bounce_reason: The bank's reason as notified (bounceReason); the platform's own wins.
        card_fixed: The person's card is fixed: pay the bounced amount again to `payee`, once.
        payee_ref: With card_fixed: the person the order paid (checked), with the NEW debit card to pay into,
            as a reference (PP…) into the payee store — `lingong payees add-person` stores them and prints it.
        period: Period (yyyy-MM) of the re-payment; default: the period of the bounced order's payroll run.
        project_no: Project number (项目编号) of the re-payment, if any.
        wait_timeout_seconds: How long the re-payment waits for the platform to pay.
        credentials_block: A saved LingongCredentials Block, picked in the form (or its name); empty: LINGONG_*.
    """
    credentials_block = credentials_name(credentials_block)  # tasks take the Block's name
    logger = get_run_logger()
    order, tax_base_code = await read_order(order_no, out_order_no, credentials_block)
    journal = await record_outcomes([order], tax_base_code)
    result = BounceResult(
        order=order,
        tax_base_code=tax_base_code,
        refund_no=refund_no,
        reason=order.fail_msg or bounce_reason,
        journal=journal,
    )
    if order.status != "BOUNCED":
        await publish_once(f"bounce-{order.out_order_no}", _markdown(result), "Bounced payment (masked)")
        if card_fixed:
            raise RepayRefusedError(f"order {order.out_order_no} is {order.status} on the platform: nothing to re-pay")
        logger.warning(
            "order %s is %s on the platform, not BOUNCED: recorded as it is", order.out_order_no, order.status
        )
        return result
    if card_fixed:
        payee = _one_person(payee_ref)
        result.repayment = await _repay(
            order, tax_base_code, payee, period, project_no, wait_timeout_seconds, credentials_block
        )
        logger.info(
            "bounced order %s re-paid as %s: %s",
            order.out_order_no,
            result.repayment.out_order_no,
            result.repayment.outcome,
        )
    else:
        logger.info(
            "order %s bounced (%s %s); waiting for the card to be fixed", order.out_order_no, order.name, order.amount
        )
    await publish_once(f"bounce-{order.out_order_no}", _markdown(result), "Bounced payment (masked)")
    if result.repayment is not None and result.repayment.outcome not in (Outcome.PAID, Outcome.PENDING):
        raise RuntimeError(
            f"the re-payment of {order.out_order_no} is {result.repayment.outcome}: {result.repayment.reason}"
        )
    return result


if __name__ == "__main__":  # pragma: no cover - a thin command-line entry
    if len(sys.argv) != 2:
        sys.exit("usage: python -m flows.bounced_order ORDER_NO")
    print(asyncio.run(bounced_order(sys.argv[1])))
