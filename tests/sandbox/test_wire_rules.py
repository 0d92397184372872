"""The sandbox rules issue 16 added, each with its 4xxx code (docs/error-codes.md): SFT0705's confirmation
sheet, SFT0510's pay time and service fee, SFT0404's recharge time, and the marketing batch's 3001."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from lingong_core.timeutil import format_datetime
from lingong_sandbox.engine import codes

from .factories import PROVIDER_A, PROVIDER_B, Person, Rig

D = Decimal


@pytest.fixture
def rig() -> Rig:
    return Rig()


def paid_batch(rig: Rig, p: Person, out_batch_no: str, code: str = PROVIDER_A, **header: Any) -> str:
    batch = rig.call(
        "SFT0502", {"outBatchNo": out_batch_no, "taxBaseCode": code, "orders": [p.order(f"{out_batch_no}-1", "10.00")],
                    **header},
    )  # fmt: skip
    rig.run(minutes=5)
    return str(batch["batchNo"])


def sheet(project_no: str, batch_no: str, confirm_date: str) -> dict[str, Any]:
    return {"projectNo": project_no, "batchNo": batch_no, "confirmDate": confirm_date, "confirmContent": "验收通过"}


def test_a_confirmation_sheet_needs_a_paid_batch_of_the_project_and_a_date_inside_its_life(rig: Rig) -> None:
    p = rig.person(1)
    rig.onboard(p)
    rig.onboard(p, PROVIDER_B)
    rig.fund("1000")
    rig.fund("1000", PROVIDER_B)
    a = rig.call("SFT0703", {"outProjectNo": "PA", "projectName": "配送", "taxBaseCode": PROVIDER_A})["projectNo"]
    b = rig.call("SFT0703", {"outProjectNo": "PB", "projectName": "仓储", "taxBaseCode": PROVIDER_B})["projectNo"]
    under_a = paid_batch(rig, p, "BA", projectNo=a)
    unnamed = paid_batch(rig, p, "BX")
    under_b = paid_batch(rig, p, "BB", PROVIDER_B, projectNo=b)
    today = str(rig.clock.now.date())

    assert rig.refused("SFT0705", sheet(a, under_b, today)).code == codes.PROJECT_PROVIDER_MISMATCH.code
    assert rig.refused("SFT0705", sheet(a, unnamed, today)).code == codes.BATCH_NOT_UNDER_PROJECT.code
    day_before = str(rig.clock.now.date() - timedelta(days=2))
    tomorrow = str(rig.clock.now.date() + timedelta(days=1))
    assert rig.refused("SFT0705", sheet(a, under_a, day_before)).code == codes.CONFIRM_DATE_BEFORE_PROJECT.code
    assert rig.refused("SFT0705", sheet(a, under_a, tomorrow)).code == codes.CONFIRM_DATE_BEFORE_PROJECT.code
    rig.script(id_card_no=p.id_card_no, outcome="FAIL")
    failed = paid_batch(rig, p, "BF", projectNo=a)
    assert rig.refused("SFT0705", sheet(a, failed, today)).code == codes.CONFIRM_AMOUNT_ZERO.code
    confirmed = rig.call("SFT0705", sheet(a, under_a, today))
    assert (confirmed["amount"], confirmed["status"]) == (D("10.00"), "CONFIRMED")


def sync(p: Person, out_order_no: str, **changes: Any) -> dict[str, Any]:
    return {"outOrderNo": out_order_no, "taxBaseCode": PROVIDER_A, "name": p.name, "idCardNo": p.id_card_no,
            "amount": D("100.00"), "serviceAmount": D("6.00"), "payTime": "2024-03-04 10:00:00", **changes}  # fmt: skip


def test_a_settlement_sync_refuses_a_pay_time_ahead_and_a_fee_the_provider_does_not_charge(rig: Rig) -> None:
    p = rig.person(1)
    rig.onboard(p)
    rig.fund("1000")
    ahead = format_datetime(rig.clock.now + timedelta(minutes=6))
    refused = rig.refused("SFT0510", sync(p, "S1", payTime=ahead))
    assert refused.code == codes.PAY_TIME_IN_FUTURE.code
    skewed = format_datetime(rig.clock.now + timedelta(minutes=4))  # within the clock skew
    assert rig.call("SFT0510", sync(p, "S2", payTime=skewed))["status"] == "SUCCESS"
    wrong = rig.refused("SFT0510", sync(p, "S3", serviceAmount=D("5.99")))
    assert wrong.code == codes.SERVICE_AMOUNT_MISMATCH.code
    assert wrong.fields["expectedServiceAmount"] == D("6.00")
    assert rig.balance() == D("894.00")  # only S2 moved money


def test_a_recharge_time_ahead_of_the_clock_is_refused(rig: Rig) -> None:
    biz = {"outOrderNo": "R1", "taxBaseCode": PROVIDER_A, "amount": D("10.00"), "serviceAmount": D("0.00"),
           "payChannelCode": "3000003"}  # fmt: skip
    ahead = format_datetime(rig.clock.now + timedelta(hours=1))
    assert rig.refused("SFT0404", {**biz, "rechargeTime": ahead}).code == codes.RECHARGE_TIME_IN_FUTURE.code
    skewed = format_datetime(rig.clock.now + timedelta(minutes=4))
    assert rig.call("SFT0404", {**biz, "rechargeTime": skewed})["outOrderNo"] == "R1"


def test_a_marketing_batch_3001_carries_the_campaign_and_the_settle_type(rig: Rig) -> None:
    p = rig.person(1)
    rig.onboard(p)
    rig.fund("1000")
    campaign = rig.call("SFT1101", {"outCampaignNo": "M1", "campaignName": "拉新", "taxBaseCode": PROVIDER_A,
                                    "startDate": "2024-03-01", "endDate": "2024-03-31"})["campaignNo"]  # fmt: skip
    rig.call("SFT0502", {"campaignNo": campaign, "outBatchNo": "MB", "taxBaseCode": PROVIDER_A,
                         "orders": [p.order("MO", "10.00")]})  # fmt: skip
    rig.call("SFT0502", {"outBatchNo": "CB", "taxBaseCode": PROVIDER_A, "orders": [p.order("CO", "10.00")]})
    rig.run(minutes=5)
    by_order = {n["outOrderNo"]: n for n in rig.outbox.of("3001")}
    assert (by_order["MO"]["campaignNo"], by_order["MO"]["settleType"]) == (campaign, "MARKETING")
    assert by_order["CO"]["settleType"] == "SETTLEMENT"
    assert "campaignNo" not in by_order["CO"]
