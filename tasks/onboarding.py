"""Onboarding a freelancer: BIN check (SFT0202) → verification, contract and authorised signing in one call
(SFT0109) → bind card (SFT0203) → signed (SFT0106, or notification 8001). Four calls a person, where
verify (SFT0101), contract (SFT0104) and signing (SFT0105) one by one took six.

Every step is naturally idempotent on the platform (a second verification returns the same
``freelancerNo``, a second bind the same ``bindNo``, a second SFT0109 the live contract), so a task retry or
a re-run repeats nothing harmful. People are handled in chunks, many
at once inside one task, so the number of task runs grows with chunks, not with people. One person's
refusal never stops the others: it is reported with the platform's code and reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from typing import Any, TypeVar

from prefect import task
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from lingong_core.client import AsyncLingongClient
from lingong_core.errors import ApiError, InputError, NotFoundError
from lingong_core.masking import mask_card, mask_id, mask_mobile, mask_name
from lingong_core.models.common import CardType, ContractStatus, VerifyStatus
from lingong_payroll.payees import person_field

from .calls import fan_out, poll_until
from .common import PLATFORM_TASK, RETRYABLE, open_client, retry_if_busy
from .links import LinkBuffer
from .payees import payee_store

T = TypeVar("T")

#: Tries of one onboarding step whose answer was lost (or that met a busy platform) before the task gives up.
STEP_ATTEMPTS = 5


class Freelancer(BaseModel):
    """A person to onboard (the fields of a payroll row, without the amount), each field checked and
    normalised by the payroll's own rules (lingong_payroll.payees): whoever builds one, nothing unchecked
    reaches the platform, and a broken rule is named with the value masked."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    name: str = Field(description="Legal name (姓名)")
    id_card_no: str = Field(description="18-character resident ID number (身份证号)")
    mobile: str = Field(description="Mobile number (手机号)")
    bank_card_no: str = Field(description="Debit card to be paid into (银行卡号)")

    @field_validator("name", "id_card_no", "mobile", "bank_card_no", mode="before")
    @classmethod
    def _check(cls, value: Any, info: ValidationInfo) -> str:
        return person_field(str(info.field_name), value)

    def __repr_args__(self):  # type: ignore[no-untyped-def]
        yield "name", mask_name(self.name)
        yield "id_card_no", mask_id(self.id_card_no)
        yield "mobile", mask_mobile(self.mobile)
        yield "bank_card_no", mask_card(self.bank_card_no)


def stored_people(people_ref: str) -> list[Freelancer]:
    """The people stored under ``people_ref`` in the payee store — a list of people (``PP…``) or the payees
    of a stored payroll (``PR…``, as the upload page stores it) — read in the flow's process, never a
    parameter or a result Prefect keeps."""
    with payee_store() as store:
        found = store.payroll(people_ref) if people_ref.startswith("PR") else store.people(people_ref)
        return [
            Freelancer(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no)
            for p in found
        ]


def store_people(people: Sequence[Freelancer], *, source: str = "") -> str:
    """Put ``people`` into the payee store; the reference (``PP…``) a flow passes instead of them."""
    with payee_store() as store:
        return store.put_people(people, source=source)


class OnboardingState(StrEnum):
    READY = "READY"  # verified, card bound, contract signed: can be paid
    SIGNING = "SIGNING"  # contract sent for signing; waiting for 8001 / SFT0106
    REFUSED = "REFUSED"  # the platform refused a step; reason says which and why


class OnboardingResult(BaseModel):
    id_card_no: str = Field(description="masked")
    name: str = Field(description="masked")
    state: OnboardingState
    freelancer_no: str = ""
    contract_no: str = ""
    code: int | None = None
    reason: str = ""
    skipped: bool = Field(False, description="already onboarded before this run")


def _result(person: Freelancer, state: OnboardingState, **fields: object) -> OnboardingResult:
    return OnboardingResult.model_validate(
        {"id_card_no": mask_id(person.id_card_no), "name": mask_name(person.name), "state": state, **fields}
    )


def _refused(person: Freelancer, step: str, exc: Exception) -> OnboardingResult:
    code = exc.code if isinstance(exc, ApiError) else None
    return _result(person, OnboardingState.REFUSED, code=code, reason=f"{step}: {exc}")


async def _already_ready(client: AsyncLingongClient, person: Freelancer, tax_base_code: str) -> OnboardingResult | None:
    """One query (SFT0103) tells whether the person is verified, has this card bound and a signed contract."""
    try:
        info = await client.freelancer.query(id_card_no=person.id_card_no)
    except NotFoundError:
        return None
    if info.verify_status != VerifyStatus.VERIFIED:
        return None
    masked = mask_card(person.bank_card_no)
    if not any(card.bank_card_no == masked for card in info.bank_cards):
        return None
    signed = [c for c in info.contracts if c.tax_base_code == tax_base_code and c.status == ContractStatus.SIGNED]
    if not signed:
        return None
    return _result(
        person, OnboardingState.READY, freelancer_no=info.freelancer_no, contract_no=signed[0].contract_no, skipped=True
    )


async def _step(call: Callable[[], Awaitable[T]]) -> T:
    """One naturally idempotent step, repeated when its answer was lost or the platform was busy.

    The platform answers a repeat with the record the first attempt made, so asking again is how a lost
    answer is learnt. Repeating here, per person and per step, keeps one lost answer from failing (and
    Prefect from retrying) the onboarding of everyone in the chunk.
    """
    for attempt in range(STEP_ATTEMPTS):
        try:
            return await call()
        except RETRYABLE:
            if attempt == STEP_ATTEMPTS - 1:
                raise
            await asyncio.sleep(min(0.1 * 2**attempt, 2.0))
    raise AssertionError("unreachable")  # pragma: no cover


async def onboard_one(
    client: AsyncLingongClient,
    person: Freelancer,
    tax_base_code: str,
    precheck: bool = True,
    on_contract: Callable[[str, str], None] | None = None,
) -> OnboardingResult:
    """Take one person as far as the platform allows now; never raises for a refusal.

    ``precheck``: ask SFT0103 first whether the person is onboarded already (a re-run is then one call per
    person). Off when the caller knows they are not — the platform has just refused their orders for want
    of onboarding: the query would be one more call for nothing (every step after it is idempotent anyway).
    ``on_contract(contractNo, freelancerNo)`` is told of a contract as soon as SFT0109 has opened it, before any
    other call (tasks/links.py): SFT0109 starts the signing, and the contract's 8001 must find the link.
    """
    step = "query (SFT0103)"
    try:
        ready = await _already_ready(client, person, tax_base_code) if precheck else None
        if ready is not None:
            return ready
        step = "card check (SFT0202)"  # first: a card that cannot be paid into leaves nothing behind
        card = await client.freelancer.card_bin(bank_card_no=person.bank_card_no)
        if card.card_type != CardType.DEBIT:
            return _result(
                person,
                OnboardingState.REFUSED,
                code=4203,
                reason=f"{step}: {card.bank_name or 'the bank'} card is {card.card_type}, payouts need DEBIT",
            )
        # SFT0109: SFT0101's verification, SFT0104's contract and SFT0105's signing in one call (the live
        # contract if there is one): one call for three, and the same records on the platform
        step = "verify and contract (SFT0109)"
        verified = await _step(
            lambda: client.freelancer.verify_with_contract(
                name=person.name, id_card_no=person.id_card_no, mobile=person.mobile, tax_base_code=tax_base_code
            )
        )
        contract_no, status = verified.contract_no, verified.contract_status
        if on_contract is not None and status in (ContractStatus.CREATED, ContractStatus.SIGNING):
            # at once, before the next call: SFT0109 has started the signing, and its 8001 can come soon after
            on_contract(f"lingong.contract.{contract_no}", verified.freelancer_no)
        step = "card bind (SFT0203)"  # the person must be verified before a card is bound to them
        await _step(
            lambda: client.freelancer.bind_card(
                id_card_no=person.id_card_no, name=person.name, bank_card_no=person.bank_card_no, mobile=person.mobile
            )
        )
        if status == ContractStatus.CREATED:
            step = "signing (SFT0105)"
            status = (await _step(lambda: client.contract.sign(contract_no=contract_no))).status
        if status == ContractStatus.SIGNED:
            return _result(person, OnboardingState.READY, freelancer_no=verified.freelancer_no, contract_no=contract_no)
        if status == ContractStatus.SIGNING:
            return _result(
                person, OnboardingState.SIGNING, freelancer_no=verified.freelancer_no, contract_no=contract_no
            )
        return _result(
            person,
            OnboardingState.REFUSED,
            freelancer_no=verified.freelancer_no,
            contract_no=contract_no,
            reason=f"contract {contract_no} is {status}",
        )
    except (ApiError, InputError) as exc:
        if isinstance(exc, ApiError) and exc.code in (429, 500, 503):
            raise  # busy, not a refusal: the task retries
        return _refused(person, step, exc)


@task(name="onboard-people", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def onboard_people(
    people: Sequence[Freelancer],
    tax_base_code: str,
    concurrency: int = 8,
    credentials_block: str | None = None,
    precheck: bool = True,
) -> list[OnboardingResult]:
    """Onboard a chunk of people, ``concurrency`` at a time (``precheck``: :func:`onboard_one`'s). Results
    come back in the order given."""
    limit = asyncio.Semaphore(max(1, concurrency))
    # The 8001s of the contracts generated here carry this run, one onboarding batch (tasks/links.py).
    async with open_client(credentials_block) as client, LinkBuffer(role="onboarding", group=True) as links:

        async def one(person: Freelancer) -> OnboardingResult:
            async with limit:
                return await onboard_one(client, person, tax_base_code, precheck, links.add)

        return list(await asyncio.gather(*(one(p) for p in people)))


@task(name="wait-contracts-signed", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def wait_contracts_signed(
    contract_nos: Sequence[str],
    timeout_seconds: float = 300.0,
    credentials_block: str | None = None,
    max_poll_seconds: float = 10.0,
    concurrency: int = 16,
) -> dict[str, str]:
    """Poll SFT0106 with backoff until every contract is SIGNED or EXPIRED; returns contractNo → state.

    A contract-signed notification (8001) recorded by the receiver ends a pause between polls early.
    """
    pending = set(contract_nos)
    states: dict[str, str] = {}
    if not pending:
        return states
    async with open_client(credentials_block) as client:

        async def state(contract_no: str) -> tuple[str, str]:
            return contract_no, str((await client.contract.query(contract_no=contract_no)).status)

        async def read() -> dict[str, str]:
            for contract_no, status in await fan_out(state, sorted(pending), concurrency):
                states[contract_no] = status
                if status in (ContractStatus.SIGNED, ContractStatus.EXPIRED):
                    pending.discard(contract_no)
            return states

        return await poll_until(
            read,
            lambda _: not pending,
            timeout_seconds=timeout_seconds,
            watch=lambda _: [f"lingong.contract.{c}" for c in pending],
            final={"SIGNED", "EXPIRED"},
            max_delay=max_poll_seconds,
            factor=2,
        )
