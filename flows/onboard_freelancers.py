"""Onboard freelancers: verify, bind card and get a signed contract for each person, concurrently.

People already onboarded are skipped; one person's refusal does not stop the others and is reported
with the platform's code and reason. The people come as a reference into the payee store (``PP…``,
``lingong_store.payees``), never as a parameter: Prefect keeps a run's parameters in its database, shows
them in the UI and has a 512 KiB limit on them. ``python -m flows.onboard_freelancers people.csv`` stores
the people of a payroll file and runs it on them.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from prefect import flow
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from pydantic import BaseModel, Field

from flows import DEFAULT_TAX_BASE_CODE
from lingong_payroll.report import Lines
from tasks.credentials import CredentialsParameter, credentials_name
from tasks.onboarding import (
    Freelancer,
    OnboardingResult,
    OnboardingState,
    onboard_people,
    stored_people,
    wait_contracts_signed,
)


class OnboardingReport(BaseModel):
    tax_base_code: str
    # Lines: Prefect takes the subflow's returned report as one value instead of walking 10,000 results
    results: Lines[OnboardingResult] = Field(default_factory=Lines)

    def count(self, state: OnboardingState) -> int:
        return sum(1 for r in self.results if r.state == state)

    @property
    def refused(self) -> list[OnboardingResult]:
        return [r for r in self.results if r.state == OnboardingState.REFUSED]

    def markdown(self) -> str:
        skipped = sum(1 for r in self.results if r.skipped)
        lines = [
            f"# Onboarding · {self.tax_base_code}",
            "",
            f"- ready to be paid: **{self.count(OnboardingState.READY)}** (of which already onboarded: {skipped})",
            f"- contract still being signed: {self.count(OnboardingState.SIGNING)}",
            f"- refused: {self.count(OnboardingState.REFUSED)}",
        ]
        if self.refused:
            lines += ["", "| name | ID | code | reason |", "|---|---|---:|---|"]
            lines += [f"| {r.name} | {r.id_card_no} | {r.code or ''} | {r.reason} |" for r in self.refused]
        return "\n".join(lines)


def _after_signing(result: OnboardingResult, states: dict[str, str]) -> OnboardingResult:
    """A person whose contract was being signed, once the platform says how the signing ended."""
    if result.state != OnboardingState.SIGNING:
        return result
    state = states.get(result.contract_no, "")
    if state == "SIGNED":
        return result.model_copy(update={"state": OnboardingState.READY})
    reason = f"contract {result.contract_no} is {state or 'unknown'}" + (
        "" if state == "EXPIRED" else " (still waiting)"
    )
    if state == "EXPIRED":
        return result.model_copy(update={"state": OnboardingState.REFUSED, "reason": reason})
    return result.model_copy(update={"reason": reason})


def _unique(people: Sequence[Freelancer]) -> list[Freelancer]:
    seen: set[str] = set()
    out = []
    for p in people:
        if p.id_card_no.upper() not in seen:
            seen.add(p.id_card_no.upper())
            out.append(p)
    return out


@flow(name="onboard-freelancers", description="Verify, bind card and sign the contract for each person.")
async def onboard_freelancers(
    people_ref: str,
    tax_base_code: str = DEFAULT_TAX_BASE_CODE,
    concurrency: int = 16,
    chunk_size: int = 100,
    wait_for_signature: bool = True,
    signature_timeout_seconds: float = 300.0,
    credentials_block: CredentialsParameter = None,
    publish: bool = True,
    precheck: bool = True,
) -> OnboardingReport:
    """Onboard the people stored under ``people_ref`` with service provider ``tax_base_code``.

    Work is cut into chunks of ``chunk_size`` people (one task run each, ``concurrency`` people in flight
    across all chunks), so the number of task runs grows with chunks, not with people.

    Args:
        people_ref: Who to onboard: a reference into the payee store, where the people (name, ID number, mobile,
            the debit card they will be paid to) are kept encrypted — stored people (PP…) or a stored payroll (PR…).
        tax_base_code: The service provider the contract is signed with.
        concurrency: How many people are onboarded at once, across all chunks.
        chunk_size: People per task run.
        wait_for_signature: Wait until each contract is signed (8001 or SFT0106).
        signature_timeout_seconds: How long to wait for the signatures.
        credentials_block: A saved LingongCredentials Block, picked in the form (or its name); empty: LINGONG_*.
        publish: Publish the result table and summary as artifacts.
        precheck: Ask first (SFT0103) whether each person is onboarded already, so a re-run costs one call per
            person. ``payroll_run`` turns it off for the people the platform has just refused for want of
            onboarding: for them the query is a wasted call (every later step is idempotent anyway).
    """
    credentials_block = credentials_name(credentials_block)  # tasks take the Block's name
    unique = _unique(stored_people(people_ref))
    chunks = [unique[i : i + max(1, chunk_size)] for i in range(0, len(unique), max(1, chunk_size))]
    per_chunk = max(1, concurrency // max(1, min(len(chunks), 4)))
    gate = asyncio.Semaphore(4)

    async def run(chunk: list[Freelancer]) -> list[OnboardingResult]:
        async with gate:
            return await onboard_people(chunk, tax_base_code, per_chunk, credentials_block, precheck)

    results = [r for chunk in await asyncio.gather(*(run(c) for c in chunks)) for r in chunk]
    signing = [r.contract_no for r in results if r.state == OnboardingState.SIGNING and r.contract_no]
    if signing and wait_for_signature:
        states = await wait_contracts_signed(signing, signature_timeout_seconds, credentials_block)
        results = [_after_signing(r, states) for r in results]
    report = OnboardingReport(tax_base_code=tax_base_code, results=results)
    if publish:
        await acreate_table_artifact(
            [r.model_dump(mode="json") for r in results],
            key="onboarding-results",
            description="Onboarding per person (masked)",
        )
        await acreate_markdown_artifact(report.markdown(), key="onboarding-summary", description="Onboarding")
    return report


if __name__ == "__main__":  # pragma: no cover - a thin command-line entry
    from lingong_payroll.files import read_payroll_file
    from tasks.payees import payee_store

    parsed = read_payroll_file(sys.argv[1])
    if parsed.errors:
        sys.exit(parsed.report())
    with payee_store() as store:
        ref = store.put_people(parsed.payees, source="python -m flows.onboard_freelancers")
    print(asyncio.run(onboard_freelancers(ref)).markdown())
