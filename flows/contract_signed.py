"""Contract signed (notification 8001): continue that freelancer's onboarding.

The platform's word is read again (SFT0106 for the contract, SFT0103 for the person): once the contract
is SIGNED, the person verified and a debit card bound, the freelancer is ready to be paid, and an
artifact ``freelancer-<freelancerNo>-<taxBaseCode>`` says so. A contract still being signed, or expired,
is reported as such. Running it again changes nothing.

``python -m flows.contract_signed CONTRACT_NO [FREELANCER_NO]`` runs it by hand.
"""

from __future__ import annotations

import asyncio
import sys

from prefect import flow, get_run_logger
from pydantic import BaseModel, Field

from tasks.contract_results import ContractFacts, read_contract
from tasks.notices import publish_once


class ContractSignedResult(BaseModel):
    contract_no: str
    freelancer_no: str
    tax_base_code: str
    status: str = Field(description="The contract's state on the platform now")
    ready: bool = Field(description="Verified, debit card bound and contract signed: can be paid")
    name: str = Field("", description="masked")
    id_card_no: str = Field("", description="masked")
    note: str = ""


def _note(facts: ContractFacts) -> str:
    if facts.ready:
        return "ready to be paid"
    if facts.status == "EXPIRED":
        return "the contract expired: onboard the person again (onboard-freelancers) for a new one"
    if facts.status != "SIGNED":
        return f"the contract is {facts.status}: still waiting for the signature"
    if not facts.freelancer_no:
        return "contract signed; the notification named no freelancer, so verification and card were not checked"
    missing = [
        what for what, ok in (("verified", facts.verified), ("a bound debit card", facts.debit_card_bound)) if not ok
    ]
    return "contract signed, but not yet " + " and ".join(missing) + ": run onboard-freelancers for this person"


def _markdown(result: ContractSignedResult) -> str:
    who = f"{result.name} ({result.id_card_no})" if result.name else result.freelancer_no or "—"
    return "\n".join(
        [
            f"# Freelancer {result.freelancer_no or '?'} · {result.tax_base_code}",
            "",
            f"- person: {who}",
            f"- contract: {result.contract_no} **{result.status}**",
            f"- ready to be paid: **{'yes' if result.ready else 'no'}** — {result.note}",
        ]
    )


@flow(name="contract-signed", description="Notification 8001: check the signed contract and mark the freelancer ready.")
async def contract_signed(
    contract_no: str,
    freelancer_no: str = "",
    credentials_block: str | None = None,
) -> ContractSignedResult:
    """Read a contract and its freelancer from the platform and report whether they can be paid.

    Args:
        contract_no: The platform's contract number (contractNo), e.g. HT2026110100000001.
        freelancer_no: The platform's freelancer number (freelancerNo); checks verification and card too.
        credentials_block: The name of a LingongCredentials block; empty: the worker's LINGONG_* variables.
    """
    facts = await read_contract(contract_no, freelancer_no, credentials_block)
    result = ContractSignedResult(
        contract_no=facts.contract_no,
        freelancer_no=facts.freelancer_no,
        tax_base_code=facts.tax_base_code,
        status=facts.status,
        ready=facts.ready,
        name=facts.name,
        id_card_no=facts.id_card_no,
        note=_note(facts),
    )
    key = f"freelancer-{facts.freelancer_no or facts.contract_no}-{facts.tax_base_code}"
    await publish_once(key, _markdown(result), "Onboarding state of one freelancer (masked)")
    get_run_logger().info("contract %s %s: %s", contract_no, result.status, result.note)
    return result


if __name__ == "__main__":  # pragma: no cover - a thin command-line entry
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python -m flows.contract_signed CONTRACT_NO [FREELANCER_NO]")
    print(asyncio.run(contract_signed(*sys.argv[1:])))
