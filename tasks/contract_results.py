"""Following a contract notification (8001): the contract and its person as the platform answers now.

A notification only says that something changed: the task asks the platform what the state *is*
(SFT0106, SFT0103), so a late, repeated or out-of-order notification leads to the same result.
"""

from __future__ import annotations

from prefect import task
from pydantic import BaseModel, Field

from lingong_core.errors import NotFoundError
from lingong_core.models.common import BindStatus, CardType, ContractStatus, VerifyStatus

from .common import PLATFORM_TASK, open_client, retry_if_busy
from .notices import as_text


class ContractFacts(BaseModel):
    """A contract and its person as the platform answers now (personal fields masked by the platform)."""

    contract_no: str
    tax_base_code: str
    status: str
    sign_time: str = ""
    freelancer_no: str = ""
    name: str = Field("", description="masked")
    id_card_no: str = Field("", description="masked")
    verified: bool = False
    debit_card_bound: bool = False

    @property
    def ready(self) -> bool:
        """Verified, a debit card bound and this contract signed: the person can be paid."""
        return self.status == ContractStatus.SIGNED and self.verified and self.debit_card_bound


@task(name="read-contract", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def read_contract(
    contract_no: str, freelancer_no: str = "", credentials_block: str | None = None
) -> ContractFacts:
    """SFT0106 for the contract, and SFT0103 for the person (verification, cards) when their number is known."""
    async with open_client(credentials_block) as client:
        contract = await client.contract.query(contract_no=contract_no)
        facts = ContractFacts(
            contract_no=contract.contract_no,
            tax_base_code=contract.tax_base_code,
            status=str(contract.status),
            sign_time=as_text(contract.sign_time),
            freelancer_no=freelancer_no,
        )
        if not freelancer_no:
            return facts
        person = await client.freelancer.query(freelancer_no=freelancer_no)
    if not any(c.contract_no == contract_no for c in person.contracts):
        raise NotFoundError(f"contract {contract_no} is not freelancer {freelancer_no}'s", api_code="SFT0103")
    return facts.model_copy(
        update={
            "name": person.name,
            "id_card_no": person.id_card_no,
            "verified": person.verify_status == VerifyStatus.VERIFIED,
            "debit_card_bound": any(
                card.bind_status == BindStatus.BOUND and card.card_type in (CardType.DEBIT, None)
                for card in person.bank_cards
            ),
        }
    )
