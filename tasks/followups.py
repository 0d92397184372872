"""Follow-ups to the platform's notifications: read the authoritative state, record it, tell the operator.

A notification only says that something changed. Every task here asks the platform what the state *is*
(SFT0106/SFT0103, SFT0503/0504/0505, SFT0403/SFT0303, SFT0607) and works from that answer, so a late, a
repeated or an out-of-order notification leads to the same result as a timely one. What the tasks
return carries personal data only masked, exactly as the platform's queries answer it.

Running a follow-up twice changes nothing more: the journal is written only where the platform's state
differs from what it holds, and :func:`publish_once` adds an artifact version only when its text changed.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from prefect import task
from prefect.artifacts import Artifact, acreate_markdown_artifact
from pydantic import BaseModel, Field

from lingong_core.errors import NotFoundError
from lingong_core.masking import scrub
from lingong_core.models.common import BatchStatus, BindStatus, CardType, ContractStatus, VerifyStatus
from lingong_core.models.settlement import SettlementOrder
from lingong_core.money import fmt_yuan
from lingong_core.timeutil import format_datetime
from lingong_payroll.journal import Journal, JournalOrder
from lingong_payroll.keys import REF_RE

from .artifacts import artifact_key
from .common import PLATFORM_TASK, open_client, retry_if_busy

#: The journal's outcome for each final order state on the platform (lingong_payroll.report.Outcome).
JOURNAL_OUTCOME = {"SUCCESS": "PAID", "FAILED": "FAILED", "BOUNCED": "BOUNCED"}


def _text(value: object) -> str:
    if value is None:
        return ""
    return format_datetime(value) if isinstance(value, datetime) else str(value)


# --- contracts (8001) ------------------------------------------------------------------------------


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
            sign_time=_text(contract.sign_time),
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


# --- settlement (3001, 5001) -----------------------------------------------------------------------


class OrderFacts(BaseModel):
    """One settlement order as SFT0505/SFT0504 answer it (name, ID and card masked by the platform)."""

    order_no: str
    out_order_no: str
    batch_no: str
    out_batch_no: str
    name: str
    id_card_no: str
    bank_card_no: str
    amount: Decimal
    service_amount: Decimal
    status: str
    fail_msg: str = ""
    create_time: str = ""
    complete_time: str = ""

    @property
    def final(self) -> bool:
        return self.status in JOURNAL_OUTCOME


class BatchFacts(BaseModel):
    batch_no: str
    out_batch_no: str
    tax_base_code: str
    status: str
    order_count: int
    success_count: int = 0
    fail_count: int = 0
    processing_count: int = 0
    bounced_count: int = 0
    total_amount: Decimal = Decimal("0.00")
    success_amount: Decimal = Decimal("0.00")
    service_amount: Decimal = Decimal("0.00")


class Settlement(BaseModel):
    """A batch and the orders read with it: all of them once the batch is COMPLETED, else the one asked about."""

    batch: BatchFacts
    orders: list[OrderFacts] = Field(default_factory=list)


def _order(order: SettlementOrder) -> OrderFacts:
    return OrderFacts(
        order_no=order.order_no,
        out_order_no=order.out_order_no,
        batch_no=order.batch_no,
        out_batch_no=order.out_batch_no,
        name=order.name,
        id_card_no=order.id_card_no,
        bank_card_no=order.bank_card_no,
        amount=order.amount,
        service_amount=order.service_amount,
        status=str(order.status),
        fail_msg=scrub(order.fail_msg or ""),
        create_time=_text(order.create_time),
        complete_time=_text(order.complete_time),
    )


@task(name="read-settlement", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def read_settlement(
    batch_no: str, out_order_no: str = "", order_no: str = "", credentials_block: str | None = None
) -> Settlement:
    """SFT0503 for the batch; SFT0504 for all its orders once it is COMPLETED, else SFT0505 for the one order."""
    async with open_client(credentials_block) as client:
        answer = await client.settlement.batch(batch_no=batch_no)
        batch = BatchFacts.model_validate(answer.model_dump(include=set(BatchFacts.model_fields)))
        batch = batch.model_copy(update={"status": str(answer.status)})
        if answer.status == BatchStatus.COMPLETED:
            orders = [_order(o) async for o in client.settlement.batch_orders.iter(batch_no=batch_no, page_size=1000)]
        elif out_order_no or order_no:
            key = {"out_order_no": out_order_no} if out_order_no else {"order_no": order_no}
            orders = [_order(await client.settlement.order(**key))]
        else:
            orders = []
    for order in orders:
        if order.batch_no != batch.batch_no:
            raise NotFoundError(f"order {order.out_order_no} is not in batch {batch_no}", api_code="SFT0505")
    return Settlement(batch=batch, orders=orders)


@task(name="read-order", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def read_order(
    order_no: str = "", out_order_no: str = "", credentials_block: str | None = None
) -> tuple[OrderFacts, str]:
    """SFT0505 for one order, and its batch's service provider (SFT0503): (order, taxBaseCode)."""
    if not (order_no or out_order_no):
        raise ValueError("give order_no or out_order_no")
    async with open_client(credentials_block) as client:
        key = {"order_no": order_no} if order_no else {"out_order_no": out_order_no}
        order = _order(await client.settlement.order(**key))
        batch = await client.settlement.batch(batch_no=order.batch_no)
    return order, batch.tax_base_code


class RunState(BaseModel):
    """A payroll run's orders as the journal holds them after an update."""

    run: str
    period: str
    tax_base_code: str
    counts: dict[str, int]
    amounts: dict[str, Decimal]

    @property
    def settled(self) -> bool:
        return all(outcome in JOURNAL_OUTCOME.values() for outcome in self.counts)


class JournalUpdate(BaseModel):
    updated: list[str] = Field(default_factory=list, description="outOrderNos whose outcome changed now")
    unchanged: list[str] = Field(default_factory=list, description="outOrderNos the journal already had right")
    unknown: list[str] = Field(default_factory=list, description="outOrderNos no payroll run here submitted")
    runs: list[RunState] = Field(default_factory=list)


def _changed(held: JournalOrder, order: OrderFacts) -> JournalOrder | None:
    outcome = JOURNAL_OUTCOME[order.status]
    fresh = JournalOrder(
        held.out_order_no,
        held.run,
        held.period,
        held.tax_base_code,
        order.out_batch_no,
        order.batch_no,
        order.order_no,
        order.amount,
        order.service_amount,
        outcome,
    )
    same = (held.outcome, held.batch_no, held.order_no, held.service_amount) == (
        outcome,
        order.batch_no,
        order.order_no,
        order.service_amount,
    )
    return None if same else fresh


def _runs(rows: Iterable[JournalOrder], wanted: set[str]) -> list[RunState]:
    by_run: dict[str, list[JournalOrder]] = {}
    for row in rows:
        if row.run in wanted:
            by_run.setdefault(row.run, []).append(row)
    states = []
    for run, orders in sorted(by_run.items()):
        amounts: dict[str, Decimal] = {}
        for o in orders:
            amounts[o.outcome] = amounts.get(o.outcome, Decimal("0.00")) + o.amount
        states.append(
            RunState(
                run=run,
                period=orders[0].period,
                tax_base_code=orders[0].tax_base_code,
                counts=dict(Counter(o.outcome for o in orders)),
                amounts=amounts,
            )
        )
    return states


@task(name="record-outcomes")
async def record_outcomes(orders: Sequence[OrderFacts], tax_base_code: str) -> JournalUpdate:
    """Write the platform's final states into the run journal, for orders a payroll run here submitted.

    Orders not final yet are left as the journal has them; orders the journal does not know are reported,
    not added (``reconcile`` reports them as the platform's extras).
    """
    journal = Journal()
    try:
        held = {row.out_order_no: row for row in journal.orders(tax_base_code)}
        update = JournalUpdate()
        writes: list[JournalOrder] = []
        for order in orders:
            row = held.get(order.out_order_no)
            if row is None:
                update.unknown.append(order.out_order_no)
                continue
            fresh = _changed(row, order) if order.final else None
            if fresh is None:
                update.unchanged.append(order.out_order_no)
            else:
                writes.append(fresh)
                update.updated.append(order.out_order_no)
        if writes:
            journal.record(writes)
        touched = {held[k].run for k in update.updated + update.unchanged}
        if touched:
            update.runs = _runs(journal.orders(tax_base_code), touched)
        return update
    finally:
        journal.close()


@task(name="journal-period")
async def journal_period(out_order_no: str, tax_base_code: str) -> str | None:
    """The period of the payroll run that submitted this order, when the journal knows it."""
    journal = Journal()
    try:
        return next((o.period for o in journal.orders(tax_base_code) if o.out_order_no == out_order_no), None)
    finally:
        journal.close()


def repay_ref(order_no: str) -> str:
    """The ``batch_ref`` of the re-payment of a bounced order: one per bounced order, so it is paid again once."""
    ref = f"RP-{order_no}"
    if REF_RE.match(ref):
        return ref
    return "RP-" + hashlib.blake2b(order_no.encode("utf-8"), digest_size=8).hexdigest().upper()


def consistent(masked: str, full: str) -> bool:
    """Whether ``full`` could be what the platform shows as ``masked`` (the visible ends agree)."""
    masked, full = "".join(masked.split()), "".join(full.split())
    if "*" not in masked:
        return masked.upper() == full.upper()
    head, tail = masked.split("*", 1)[0], masked.rsplit("*", 1)[1]
    return (
        len(full) >= len(head) + len(tail)
        and full.upper().startswith(head.upper())
        and full.upper().endswith(tail.upper())
    )


# --- recharges (1001) ------------------------------------------------------------------------------


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
        complete_time=_text(order.complete_time),
        fail_msg=scrub(order.fail_msg or ""),
        available_balance=balance,
    )


# --- invoices (9001) -------------------------------------------------------------------------------


class InvoiceFacts(BaseModel):
    apply_no: str
    out_apply_no: str
    status: str
    amount: Decimal
    invoice_type: str = ""
    category_code: str = ""
    invoice_nos: list[str] = Field(default_factory=list)
    issue_time: str = ""
    reject_reason: str = ""


@task(name="read-invoice", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def read_invoice(
    apply_no: str = "", out_apply_no: str = "", credentials_block: str | None = None
) -> InvoiceFacts:
    """SFT0607 for the invoice application."""
    if not (apply_no or out_apply_no):
        raise ValueError("give apply_no or out_apply_no")
    async with open_client(credentials_block) as client:
        key = {"apply_no": apply_no} if apply_no else {"out_apply_no": out_apply_no}
        detail = await client.invoice.detail(**key)
    return InvoiceFacts(
        apply_no=detail.apply_no,
        out_apply_no=detail.out_apply_no,
        status=str(detail.status),
        amount=detail.amount,
        invoice_type=detail.invoice_type,
        category_code=detail.category_code,
        invoice_nos=list(detail.invoice_nos),
        issue_time=_text(detail.issue_time),
        reject_reason=scrub(detail.reject_reason or ""),
    )


# --- telling the operator --------------------------------------------------------------------------


async def publish_once(key: str, markdown: str, description: str) -> bool:
    """A markdown artifact under ``key``, unless its latest version already says exactly this.

    Returns whether a new version was created. Personal data must be masked before it gets here.
    """
    key = artifact_key(key)
    latest = await Artifact.aget(key)
    if latest is not None and latest.data == markdown:
        return False
    await acreate_markdown_artifact(markdown, key=key, description=description)
    return True


def yuan(amount: Decimal | None) -> str:
    return "—" if amount is None else fmt_yuan(amount)


def cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return re.sub(r"[|\r\n]+", " ", text).strip()


__all__ = [
    "JOURNAL_OUTCOME",
    "BatchFacts",
    "ContractFacts",
    "InvoiceFacts",
    "JournalUpdate",
    "OrderFacts",
    "RechargeFacts",
    "RunState",
    "Settlement",
    "cell",
    "consistent",
    "journal_period",
    "publish_once",
    "read_contract",
    "read_invoice",
    "read_order",
    "read_recharge",
    "read_settlement",
    "record_outcomes",
    "repay_ref",
    "yuan",
]
