"""The whole chain for a team: onboard everyone, fund the account with exactly what the payroll needs,
pay the payroll, and apply for the invoice. The demo runs it for a generated team.

Re-running it with the same inputs repeats nothing: onboarding is idempotent on the platform, the
recharge's key derives from the transfer, and the payroll's keys from the payroll. The team comes as a
reference into the payee store (``PR…``), never as people in a parameter.
``python -m flows.end_to_end [TEAM_SIZE]`` runs it against the configured platform.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from decimal import Decimal

from prefect import flow
from pydantic import BaseModel

from flows import DEFAULT_TAX_BASE_CODE
from flows.fund_account import fund_account
from flows.onboard_freelancers import OnboardingReport, onboard_freelancers
from flows.payroll_run import payroll_run
from lingong_core.timeutil import SHANGHAI, now
from lingong_payroll.orders import PlannedOrder
from lingong_payroll.payees import Payee
from lingong_payroll.report import PayrollReport
from tasks.credentials import CredentialsParameter, credentials_name
from tasks.funding import RechargeResult
from tasks.onboarding import Freelancer, store_people
from tasks.payees import stored_payroll
from tasks.settlement import precalculate


class EndToEndReport(BaseModel):
    onboarding: OnboardingReport
    recharge: RechargeResult | None
    payroll: PayrollReport


@flow(name="end-to-end", description="Onboard a team, fund the account, pay the payroll, apply for the invoice.")
async def end_to_end(
    payroll_ref: str,
    period: str,
    tax_base_code: str = DEFAULT_TAX_BASE_CODE,
    transfer_time: datetime | None = None,
    invoice: bool = True,
    credentials_block: CredentialsParameter = None,
) -> EndToEndReport:
    """Pay the payroll stored under ``payroll_ref`` for ``period`` from scratch: onboard, fund, pay, invoice.

    Args:
        payroll_ref: The team and their amounts: a payroll in the payee store (PR…), e.g. as the upload page
            or ``tasks.payees.store_payroll`` stores it.
        period: The month paid for, yyyy-MM.
        tax_base_code: The service provider paying through.
        transfer_time: When the enterprise's transfer to the recharge account happened (default: the 1st
            of the period's month, 09:00).
        invoice: Apply for the invoice once every order is final.
        credentials_block: A saved LingongCredentials Block, picked in the form (or its name); empty: LINGONG_*.
    """
    credentials_block = credentials_name(credentials_block)  # tasks take the Block's name
    payees = stored_payroll(payroll_ref)
    people = [
        Freelancer(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no) for p in payees
    ]
    people_ref = store_people(people, source=f"end-to-end {period}")
    onboarding = await onboard_freelancers(people_ref, tax_base_code, credentials_block=credentials_block)
    checks = await precalculate(
        [
            PlannedOrder(
                out_order_no=f"E2E{i:05d}",
                person="",
                row=i + 1,
                payee=Payee(
                    name=p.name,
                    id_card_no=p.id_card_no,
                    mobile=p.mobile,
                    bank_card_no=p.bank_card_no,
                    amount=Decimal(p.amount),
                ),
            )
            for i, p in enumerate(payees)
        ],
        tax_base_code,
        credentials_block,
    )
    need = sum(
        (Decimal(p.amount) + c.service_amount for p, c in zip(payees, checks, strict=True) if c.passed), Decimal("0.00")
    )
    recharge = None
    if need > 0:
        when = transfer_time or datetime.strptime(period + "-01 09:00:00", "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
        recharge = await fund_account(
            need, when, tax_base_code, reference=f"E2E-{period}", credentials_block=credentials_block
        )
    payroll = await payroll_run(
        period,
        payroll_ref=payroll_ref,
        tax_base_code=tax_base_code,
        invoice=invoice,
        credentials_block=credentials_block,
    )
    return EndToEndReport(onboarding=onboarding, recharge=recharge, payroll=payroll)


if __name__ == "__main__":  # pragma: no cover - a thin command-line entry
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python -m flows.end_to_end PAYROLL_REF [yyyy-MM]  (a made-up team: lingong demo)")
    month = sys.argv[2] if len(sys.argv) > 2 else now().strftime("%Y-%m")
    print(asyncio.run(end_to_end(sys.argv[1], month)).payroll.markdown())
