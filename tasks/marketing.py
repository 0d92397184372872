"""Marketing-fund settlement (营销金结算): the campaign (SFT1101), and its batches paid and followed through the
marketing form of SFT0502/SFT0503/SFT0504 (every request carries the campaign's ``campaignNo``).

What is not marketing-specific is ``tasks.settlement``'s: fee pre-calculation (SFT0501), the balance
(SFT0303), single orders (SFT0505) and the platform's order as the payroll's one type
(:func:`tasks.settlement.platform_order`). As there, each batch goes in exactly once: its ``outBatchNo``
derives from its orders (lingong_payroll.keys), a lost answer is reconciled by querying the batch before
anything is sent again (lingong_core.reconcile), and a refused batch creates nothing on the platform.

The platform has no query of campaigns: a campaign is created under its ``outCampaignNo``
(lingong_payroll.marketing) and found again by sending SFT1101 once more — the platform answers 409 with
its ``campaignNo``, which is also how a creation whose answer was lost is settled.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from prefect import task
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact

from lingong_core.client import AsyncLingongClient
from lingong_core.errors import ConflictError, NotFoundError, OutcomeUnknownError
from lingong_core.models.common import BatchStatus
from lingong_core.reconcile import StillUnknownError
from lingong_payroll.marketing import CampaignRef, MarketingReport
from lingong_payroll.orders import PlannedOrder, PlatformOrder

from .artifacts import artifact_key
from .calls import found_or_none
from .common import PLATFORM_TASK, Nudge, open_client, retry_if_busy
from .settlement import MAX_PER_CALL, Submission, lookup_orders, order_inputs, place_batch, platform_order

ATTEMPTS = 5


def _code(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


@task(name="ensure-campaign", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def ensure_campaign(
    out_campaign_no: str,
    campaign_name: str,
    tax_base_code: str,
    start_date: date,
    end_date: date,
    budget: Decimal | None = None,
    description: str | None = None,
    credentials_block: str | None = None,
) -> CampaignRef:
    """The campaign keyed ``out_campaign_no``: created once (SFT1101), or the one created before (409)."""
    async with open_client(credentials_block) as client:
        for _ in range(ATTEMPTS):
            try:
                made = await client.marketing.create_campaign(
                    out_campaign_no=out_campaign_no,
                    campaign_name=campaign_name,
                    tax_base_code=tax_base_code,
                    start_date=start_date,
                    end_date=end_date,
                    budget_amount=budget,
                    description=description,
                )
            except ConflictError as exc:  # created before (by an earlier run, or by this one's lost answer)
                if not exc.existing_no:
                    raise
                return CampaignRef(
                    campaign_no=exc.existing_no, out_campaign_no=out_campaign_no, campaign_name=campaign_name
                )
            except OutcomeUnknownError:
                continue  # sent again (a new requestNo): the platform answers 409 if the first got through
            return CampaignRef(
                campaign_no=made.campaign_no,
                out_campaign_no=out_campaign_no,
                campaign_name=campaign_name,
                status=str(made.status),
                created=True,
            )
    raise StillUnknownError(f"campaign {out_campaign_no}: no answer from SFT1101 after {ATTEMPTS} attempts")


@task(name="submit-campaign-batch", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def submit_campaign_batch(
    campaign_no: str,
    out_batch_no: str,
    orders: Sequence[PlannedOrder],
    tax_base_code: str,
    period: str | None = None,
    credentials_block: str | None = None,
) -> Submission:
    """SFT0502 in its marketing form, exactly once per ``out_batch_no``. A refusal comes back as ``refused``
    (per order) or ``reason`` (the whole batch: the campaign's budget, its dates, the balance); nothing was
    created either way."""
    async with open_client(credentials_block) as client:
        return await place_batch(
            out_batch_no,
            lambda: client.marketing.submit(
                campaign_no=campaign_no,
                out_batch_no=out_batch_no,
                tax_base_code=tax_base_code,
                period=period,
                orders=order_inputs(orders),
            ),
            lambda: found_or_none(client.marketing.batch(campaign_no=campaign_no, out_batch_no=out_batch_no)),
            role="marketing-payout",
            whole_refusal=lambda exc: Submission(
                out_batch_no=out_batch_no, accepted=False, reason=f"[{exc.code}] {exc.msg}"
            ),
        )


async def _orders(client: AsyncLingongClient, campaign_no: str, out_batch_no: str) -> list[PlatformOrder]:
    pages = client.marketing.batch_orders.iter(
        campaign_no=campaign_no, out_batch_no=out_batch_no, page_size=MAX_PER_CALL
    )
    return [platform_order(o) async for o in pages]


@task(name="wait-campaign-batches", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def wait_campaign_batches(
    campaign_no: str,
    out_batch_nos: Sequence[str],
    timeout_seconds: float = 600.0,
    credentials_block: str | None = None,
    max_poll_seconds: float = 10.0,
) -> dict[str, str]:
    """Poll SFT0503 (marketing form) with backoff until every batch is COMPLETED or the timeout passes:
    outBatchNo → status. A settlement notification (3001) the receiver recorded ends a pause early."""
    pending = set(out_batch_nos)
    states: dict[str, str] = {}
    delay, deadline = 0.05, time.monotonic() + timeout_seconds
    nudge = Nudge()
    try:
        async with open_client(credentials_block) as client:
            while pending:
                answers = await asyncio.gather(
                    *(client.marketing.batch(campaign_no=campaign_no, out_batch_no=b) for b in sorted(pending))
                )
                for answer in answers:
                    states[answer.out_batch_no] = str(answer.status)
                    if answer.status == BatchStatus.COMPLETED:
                        pending.discard(answer.out_batch_no)
                if not pending or time.monotonic() > deadline:
                    break
                await nudge.pause(delay, [f"lingong.settlement.{b}" for b in pending], {"COMPLETED"})
                delay = min(delay * 1.6, max_poll_seconds)
    finally:
        nudge.close()
    return states


@task(name="collect-campaign-orders", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def collect_campaign_orders(
    campaign_no: str, out_batch_nos: Sequence[str], credentials_block: str | None = None
) -> list[PlatformOrder]:
    """Every order of these campaign batches (SFT0504, marketing form, 1,000 a page)."""
    async with open_client(credentials_block) as client:
        chunks = await asyncio.gather(*(_orders(client, campaign_no, b) for b in out_batch_nos))
    return [o for chunk in chunks for o in chunk]


@task(name="read-campaign-orders", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def read_campaign_orders(
    campaign_no: str,
    out_batch_nos: Sequence[str],
    out_order_nos: Sequence[str],
    credentials_block: str | None = None,
) -> list[PlatformOrder]:
    """What the platform holds for a campaign's run: every order of these batches (SFT0503/SFT0504 in the
    marketing form; a batch the platform does not know was never created), and each of these keys not found
    in them (SFT0505). The by-person guard's input; the batches come from the run journal, an index only."""
    found: dict[str, PlatformOrder] = {}
    async with open_client(credentials_block) as client:

        async def batch(out_batch_no: str) -> list[PlatformOrder]:
            try:
                await client.marketing.batch(campaign_no=campaign_no, out_batch_no=out_batch_no)
            except NotFoundError:
                return []
            return await _orders(client, campaign_no, out_batch_no)

        for chunk in await asyncio.gather(*(batch(b) for b in sorted(set(out_batch_nos)))):
            found.update((o.out_order_no, o) for o in chunk)
    rest = [k for k in out_order_nos if k not in found]
    if rest:
        found.update((o.out_order_no, o) for o in await lookup_orders.fn(rest, credentials_block=credentials_block))
    return [found[k] for k in sorted(found)]


async def publish_marketing_report(report: MarketingReport) -> None:
    """The table (one masked line per participant) and the markdown summary of a campaign's payout."""
    key = artifact_key(f"marketing-{report.period}-{report.tax_base_code}-{report.run}")
    await acreate_table_artifact(report.table(), key=key + "-payees", description="Result per participant (masked)")
    await acreate_markdown_artifact(report.markdown(), key=key + "-summary", description="Marketing payout summary")
