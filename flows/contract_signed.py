"""Contract signed (notification 8001): continue that freelancer's onboarding — or a whole onboarding batch's.

The platform's word is read again (SFT0106 for the contract, SFT0103 for the person): once the contract
is SIGNED, the person verified and a debit card bound, the freelancer is ready to be paid, and an
artifact ``freelancer-<freelancerNo>-<taxBaseCode>`` says so. A contract still being signed, or expired,
is reported as such. Running it again changes nothing.

One run per onboarding batch, not per person: the receiver marks the 8001 of a contract that an
onboarding run generated with that run (``lingong.onboarding-run``, from :mod:`lingong_store.links`), the
trigger runs once per batch (``for_each: lingong.signing-group`` within 5 minutes, prefect.yaml), and the
run started with ``onboarding_run`` checks every contract of the batch, waiting up to
``signature_timeout_seconds`` for those not signed yet. A contract signed later than that starts a run of
its own; a contract no lingong onboarding generated is checked alone, as before.

``python -m flows.contract_signed CONTRACT_NO [FREELANCER_NO]`` runs it by hand.
"""

from __future__ import annotations

import asyncio
import sys

from prefect import flow, get_run_logger
from pydantic import BaseModel, Field

from tasks.contract_results import ContractFacts, read_contract
from tasks.credentials import CredentialsParameter, credentials_name
from tasks.links import onboarding_contracts
from tasks.notices import publish_once
from tasks.onboarding import wait_contracts_signed


class ContractSignedResult(BaseModel):
    contract_no: str
    freelancer_no: str
    tax_base_code: str
    status: str = Field(description="The contract's state on the platform now")
    ready: bool = Field(description="Verified, debit card bound and contract signed: can be paid")
    name: str = Field("", description="masked")
    id_card_no: str = Field("", description="masked")
    note: str = ""
    batch: list[ContractSignedResult] = Field(
        default_factory=list, description="The other contracts of its onboarding batch, checked by this run"
    )


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
    onboarding_run: str = "",
    signature_timeout_seconds: float = 240.0,
    credentials_block: CredentialsParameter = None,
) -> ContractSignedResult:
    """Read a contract and its freelancer from the platform and report whether they can be paid.

    Args:
        contract_no: The platform's contract number (contractNo), e.g. HT2026110100000001.
        freelancer_no: The platform's freelancer number (freelancerNo); checks verification and card too.
        onboarding_run: The onboarding run that generated the contract (the trigger passes it): every contract
            of that batch is checked by this one run.
        signature_timeout_seconds: How long to wait for the batch's other contracts to be signed.
        credentials_block: A saved LingongCredentials Block, picked in the form (or its name); empty: LINGONG_*.
    """
    credentials_block = credentials_name(credentials_block)  # tasks take the Block's name
    others = {c: f for c, f in onboarding_contracts(onboarding_run).items() if c != contract_no}
    if others and signature_timeout_seconds > 0:  # the batch's other contracts: wait for their signatures
        await wait_contracts_signed(sorted(others), signature_timeout_seconds, credentials_block)
    checked = await asyncio.gather(
        _check(contract_no, freelancer_no, credentials_block),
        *(_check(c, f, credentials_block) for c, f in sorted(others.items())),
    )
    result = checked[0].model_copy(update={"batch": list(checked[1:])})
    if others:
        ready = sum(1 for r in checked if r.ready)
        get_run_logger().info("onboarding batch %s: %d of %d contracts ready", onboarding_run, ready, len(checked))
    return result


async def _check(contract_no: str, freelancer_no: str, credentials_block: str | None) -> ContractSignedResult:
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
    print(asyncio.run(contract_signed(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else "")))
