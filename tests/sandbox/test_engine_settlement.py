"""Settlement in the engine: fees, all-or-nothing batches, limits, keys, background processing, bounces."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from lingong_sandbox.engine import codes
from lingong_sandbox.settings import Outcomes, SandboxSettings

from .factories import PROVIDER_A, PROVIDER_B, Person, Rig, card_no

D = Decimal


@pytest.fixture
def rig() -> Rig:
    return Rig()


def crew(rig: Rig, n: int, code: str = PROVIDER_A, *, start: int = 1) -> list[Person]:
    people = [rig.person(i) for i in range(start, start + n)]
    for p in people:
        rig.onboard(p, code)
    return people


def batch(
    out_batch_no: str, orders: list[dict[str, object]], code: str = PROVIDER_A, **extra: object
) -> dict[str, object]:
    return {"outBatchNo": out_batch_no, "taxBaseCode": code, "orders": orders, **extra}


# -- fees -------------------------------------------------------------------------------------------


def test_fees_agree_between_precalculation_settlement_and_ledger(rig: Rig) -> None:
    people = crew(rig, 4)
    amounts = [D("0.25"), D("100.05"), D("333.33"), D("19999.99")]  # half-up cases on the fen
    rig.fund("30000")
    pre = rig.call(
        "SFT0501",
        {
            "taxBaseCode": PROVIDER_A,
            "orders": [{"idCardNo": p.id_card_no, "amount": a} for p, a in zip(people, amounts, strict=True)],
        },
    )
    assert [i["serviceAmount"] for i in pre["list"]] == [D("0.02"), D("6.00"), D("20.00"), D("1200.00")]
    assert pre["serviceAmount"] == sum(i["serviceAmount"] for i in pre["list"])
    assert pre["payAmount"] == pre["totalAmount"] + pre["serviceAmount"]
    assert all(i["checkResult"] == "PASS" for i in pre["list"])
    paid = rig.call(
        "SFT0502", batch("B1", [p.order(f"O{i}", a) for i, (p, a) in enumerate(zip(people, amounts, strict=True))])
    )
    assert (paid["totalAmount"], paid["serviceAmount"]) == (pre["totalAmount"], pre["serviceAmount"])
    ledger = rig.call("SFT0305", {"taxBaseCode": PROVIDER_A, "pageSize": 100})["list"]
    fees = [e["amount"] for e in ledger if e["changeType"] == "SERVICE_FEE"]
    assert -sum(fees) == pre["serviceAmount"]
    assert rig.balance() == D("30000") - pre["payAmount"]


def test_precalculation_reports_bad_orders_without_refusing(rig: Rig) -> None:
    ok = crew(rig, 1)[0]
    stranger = rig.person(9)
    rig.call("SFT0101", stranger.verify_biz())  # verified, but no contract
    unknown = rig.person(10)
    answer = rig.call(
        "SFT0501",
        {
            "taxBaseCode": PROVIDER_A,
            "orders": [
                {"outOrderNo": "A", "idCardNo": ok.id_card_no, "amount": D("10.00")},
                {"outOrderNo": "B", "idCardNo": stranger.id_card_no, "amount": D("10.00")},
                {"outOrderNo": "C", "idCardNo": unknown.id_card_no, "amount": D("10.00")},
                {"outOrderNo": "D", "idCardNo": ok.id_card_no, "amount": D("50000.01")},
            ],
        },
    )
    results = {i["outOrderNo"]: (i["checkResult"], i.get("failCode")) for i in answer["list"]}
    assert results == {
        "A": ("PASS", None),
        "B": ("REJECT", codes.CONTRACT_NOT_SIGNED.code),
        "C": ("REJECT", codes.FREELANCER_NOT_VERIFIED.code),
        "D": ("REJECT", codes.PER_ORDER_LIMIT_EXCEEDED.code),
    }
    assert answer["orderCount"] == 4
    assert "*" in answer["list"][0]["idCardNo"]
    assert rig.count("eng_batch") == 0


# -- refusals: all or nothing -----------------------------------------------------------------------


def test_overdrawn_batch_is_refused_and_nothing_debited(rig: Rig) -> None:
    people = crew(rig, 2)
    rig.fund("200.00")
    refused = rig.refused("SFT0502", batch("B1", [people[0].order("O1", "100.00"), people[1].order("O2", "100.00")]))
    assert refused.code == codes.INSUFFICIENT_BALANCE.code
    assert refused.fields["requiredAmount"] == D("212.00")
    assert refused.fields["availableAmount"] == D("200.00")
    assert rig.balance() == D("200.00")
    assert rig.count("eng_batch") == rig.count("eng_order") == 0
    assert rig.refused("SFT0503", {"outBatchNo": "B1"}).code == 404
    exact = rig.call("SFT0502", batch("B1", [people[0].order("O1", "100.00"), people[1].order("O2", "88.67")]))
    assert exact["status"] == "ACCEPTED"  # 188.67 + 11.32 fee... within 200.00
    assert rig.balance() == D("200.00") - D("188.67") - D("11.32")


@pytest.mark.parametrize(
    ("breaker", "expected"),
    [
        (lambda p, rig: p.order("O2", "50000.01"), codes.PER_ORDER_LIMIT_EXCEEDED),
        (lambda p, rig: {**p.order("O2", "1.00"), "name": "张冒名"}, codes.NAME_MISMATCH),
        (lambda p, rig: {**p.order("O2", "1.00"), "bankCardNo": card_no("ICBC", seq=777)}, codes.CARD_NOT_BOUND),
        (lambda p, rig: {**p.order("O2", "1.00"), "bankCardNo": card_no("CMB", "CREDIT", seq=7)}, codes.CARD_NOT_DEBIT),
        (lambda p, rig: rig.person(50).order("O2", "1.00"), codes.FREELANCER_NOT_VERIFIED),
    ],
)
def test_one_bad_order_refuses_the_batch(rig: Rig, breaker: object, expected: codes.Code) -> None:
    good, other = crew(rig, 2)
    rig.fund("100000")
    assert callable(breaker)
    refused = rig.refused("SFT0502", batch("B1", [good.order("O1", "10.00"), breaker(other, rig)]))
    assert refused.code == expected.code
    assert "outOrderNo O2" in refused.msg
    assert refused.fields["failures"] == [{"outOrderNo": "O2", "failCode": expected.code, "failMsg": refused.msg}]
    assert rig.count("eng_order") == 0
    assert rig.balance() == D("100000.00")


def test_contract_is_required_before_the_first_payout(rig: Rig) -> None:
    p = rig.person(1)
    rig.onboard(p, sign=False)
    rig.fund("1000")
    assert rig.refused("SFT0502", batch("B1", [p.order("O1", "10.00")])).code == codes.CONTRACT_NOT_SIGNED.code
    # a contract with the other provider does not count
    q = rig.person(2)
    rig.onboard(q, PROVIDER_B)
    assert rig.refused("SFT0502", batch("B2", [q.order("O2", "10.00")])).code == codes.CONTRACT_NOT_SIGNED.code


def test_expired_contract(rig: Rig) -> None:
    p = crew(rig, 1)[0]
    rig.run(days=366)
    rig.fund("1000")
    assert rig.refused("SFT0502", batch("B1", [p.order("O1", "10.00")])).code == codes.CONTRACT_EXPIRED.code


# -- business keys ------------------------------------------------------------------------------------


def test_duplicate_out_batch_no_is_409_with_the_existing_batch(rig: Rig) -> None:
    p = crew(rig, 1)[0]
    rig.fund("1000")
    first = rig.call("SFT0502", batch("B1", [p.order("O1", "10.00")]))
    balance = rig.balance()
    again = rig.refused("SFT0502", batch("B1", [p.order("O9", "20.00")]))
    assert again.code == 409
    assert again.fields["batchNo"] == first["batchNo"]
    assert rig.balance() == balance
    assert rig.count("eng_order") == 1


def test_duplicate_out_order_no_is_409_with_the_existing_order(rig: Rig) -> None:
    p = crew(rig, 1)[0]
    rig.fund("1000")
    rig.call("SFT0502", batch("B1", [p.order("O1", "10.00")]))
    existing = rig.call("SFT0505", {"outOrderNo": "O1"})["orderNo"]
    again = rig.refused("SFT0502", batch("B2", [p.order("O1", "10.00")]))
    assert again.code == 409
    assert again.fields["orderNo"] == existing
    assert rig.count("eng_batch") == 1
    within = rig.refused("SFT0502", batch("B3", [p.order("O7", "1.00"), p.order("O7", "2.00")]))
    assert within.code == 400
    assert "outOrderNo" in within.msg


def test_recharge_key_is_its_own_namespace(rig: Rig) -> None:
    rig.fund("10.00", out_order_no="K1")
    p = crew(rig, 1)[0]
    assert rig.call("SFT0502", batch("B1", [p.order("K1", "1.00")]))["status"] == "ACCEPTED"


# -- limits ---------------------------------------------------------------------------------------------


def test_monthly_limit_across_batches_and_months(rig: Rig) -> None:
    p = crew(rig, 1, PROVIDER_B)[0]  # provider B: ¥20,000 per order, ¥98,000 per month
    rig.fund("200000", PROVIDER_B)
    four = [p.order(f"O{i}", "20000.00") for i in range(4)]
    rig.call("SFT0502", batch("B1", four, PROVIDER_B))
    over = rig.refused("SFT0502", batch("B2", [p.order("O5", "18000.01")], PROVIDER_B))
    assert over.code == codes.MONTHLY_LIMIT_EXCEEDED.code
    inside = rig.refused("SFT0502", batch("B2", [p.order("O5", "9000.00"), p.order("O6", "9000.01")], PROVIDER_B))
    assert inside.code == codes.MONTHLY_LIMIT_EXCEEDED.code  # this batch's own orders count too
    assert "O6" in inside.msg
    rig.call("SFT0502", batch("B2", [p.order("O5", "18000.00")], PROVIDER_B))  # exactly at the limit
    rig.clock.advance(days=28)  # 2024-04-01: a new calendar month
    rig.call("SFT0502", batch("B3", [p.order("O7", "20000.00")], PROVIDER_B))


def test_failed_orders_give_their_room_back(rig: Rig) -> None:
    p = crew(rig, 1, PROVIDER_B)[0]
    rig.fund("300000", PROVIDER_B)
    rig.script(id_card_no=p.id_card_no, outcome="FAIL", times=5)
    rig.call("SFT0502", batch("B1", [p.order(f"O{i}", "19600.00") for i in range(5)], PROVIDER_B))
    assert rig.refused("SFT0502", batch("B2", [p.order("X", "0.01")], PROVIDER_B)).code == 4502
    rig.run()
    assert rig.call("SFT0503", {"outBatchNo": "B1"})["failCount"] == 5
    rig.call("SFT0502", batch("B2", [p.order("X", "19600.00")], PROVIDER_B))


# -- processing in the background -------------------------------------------------------------------------


def test_batch_moves_forward_with_notifications(rig: Rig) -> None:
    people = crew(rig, 3)
    rig.fund("10000")
    accepted = rig.call("SFT0502", batch("B1", [p.order(f"O{i}", "100.00") for i, p in enumerate(people)]))
    assert accepted["status"] == "ACCEPTED"
    assert rig.call("SFT0505", {"outOrderNo": "O0"})["status"] == "ACCEPTED"
    rig.run(seconds=3)  # settlement_start is 2 s
    assert rig.call("SFT0503", {"outBatchNo": "B1"})["status"] == "PROCESSING"
    assert rig.call("SFT0505", {"outOrderNo": "O0"})["status"] == "PROCESSING"
    rig.run(seconds=10)
    state = rig.call("SFT0503", {"outBatchNo": "B1"})
    assert (state["status"], state["successCount"], state["processingCount"]) == ("COMPLETED", 3, 0)
    assert state["successAmount"] == D("300.00")
    results = rig.outbox.of("3001")
    assert [r["outOrderNo"] for r in results] == ["O0", "O1", "O2"]
    assert all(r["status"] == "SUCCESS" and r["failMsg"] == "" for r in results)
    assert "batchStatus" not in results[0]
    assert results[-1]["batchStatus"] == "COMPLETED"
    assert (results[-1]["successCount"], results[-1]["failCount"]) == (3, 0)
    assert rig.run() == 0  # nothing left; states never move back
    assert len(rig.outbox.of("3001")) == 3
    orders = rig.call("SFT0504", {"batchNo": accepted["batchNo"], "pageSize": 2})
    assert (orders["total"], len(orders["list"])) == (3, 2)
    assert orders["list"][0]["name"].endswith("*")
    receipt = rig.call("SFT0506", {"outOrderNo": "O0"})
    assert receipt["receiptUrl"].endswith(".pdf")


def test_failure_and_bounce_refund_amount_and_fee(rig: Rig) -> None:
    good, failing, bouncing = crew(rig, 3)
    rig.fund("10000")
    rig.script(bank_card_no=failing.bank_card_no, outcome="FAIL")
    rig.script(id_card_no=bouncing.id_card_no, outcome="BOUNCE")
    rig.call(
        "SFT0502",
        batch("B1", [good.order("G", "1000.00"), failing.order("F", "1000.00"), bouncing.order("X", "1000.00")]),
    )
    assert rig.balance() == D("10000") - 3 * D("1060.00")
    rig.run()
    assert rig.balance() == D("10000") - D("1060.00")
    statuses = {o["outOrderNo"]: o["status"] for o in rig.call("SFT0504", {"outBatchNo": "B1"})["list"]}
    assert statuses == {"G": "SUCCESS", "F": "FAILED", "X": "BOUNCED"}
    failed = rig.call("SFT0505", {"outOrderNo": "F"})
    assert failed["failCode"]
    assert failed["failMsg"]
    assert rig.refused("SFT0506", {"outOrderNo": "F"}).code == codes.RECEIPT_NOT_AVAILABLE.code
    bounced = rig.outbox.of("5001")
    assert len(bounced) == 1
    assert bounced[0]["outOrderNo"] == "X"
    refunds = rig.call("SFT0801", {"outBatchNo": "B1"})["list"]
    assert {(r["outOrderNo"], r["refundType"], r["refundAmount"]) for r in refunds} == {
        ("F", "FAILED", D("1060.00")),
        ("X", "BOUNCED", D("1060.00")),
    }
    detail = rig.call("SFT0802", {"refundNo": bounced[0]["refundNo"]})
    assert (detail["orderNo"], detail["refundType"]) == (bounced[0]["orderNo"], "BOUNCED")
    audit = rig.audit()
    assert {k: v["paid"] for k, v in audit["orders"].items()} == {"G": 1, "F": 0, "X": 0}
    # paid again, under a new key, to a fixed card: one payment in all
    fixed = card_no("CCB", seq=4242)
    rig.call("SFT0203", {**bouncing.bind_biz(), "bankCardNo": fixed})
    rig.call("SFT0502", batch("B2", [{**bouncing.order("X-2", "1000.00"), "bankCardNo": fixed}]))
    rig.run()
    audit = rig.audit()
    assert audit["orders"]["X-2"]["paid"] == 1
    assert audit["paid_twice"] == []
    assert audit["balanced"] is True


def test_mixed_batch_leaves_the_ledger_balanced_to_the_cent() -> None:
    settings = SandboxSettings(outcomes=Outcomes(settlement_fail_rate=0.3, bounce_rate=0.2), seed=1)
    rig = Rig(settings)
    people = crew(rig, 12)
    rig.fund("123456.78")
    amounts = [D("1234.56"), D("0.01"), D("99.99"), D("4321.09"), D("17.17"), D("8000.00")]
    orders = [p.order(f"O{i}", amounts[i % len(amounts)]) for i, p in enumerate(people)]
    rig.call("SFT0502", batch("B1", orders))
    rig.run()
    audit = rig.audit()
    assert audit["balanced"] is True
    assert audit["paid_twice"] == []
    assert audit["inconsistent"] == []
    assert audit["jobs_pending"] == 0
    assert audit["jobs_failed"] == []
    by_status = audit["orders_by_status"]
    assert sum(by_status.values()) == 12
    assert set(by_status) <= {"SUCCESS", "FAILED", "BOUNCED"}
    assert by_status.get("FAILED")
    assert by_status.get("BOUNCED")
    paid = [o for o in rig.call("SFT0504", {"outBatchNo": "B1"})["list"] if o["status"] == "SUCCESS"]
    expected = D("123456.78") - sum(o["amount"] + o["serviceAmount"] for o in paid)
    assert rig.balance() == expected
    totals = audit["ledger"][PROVIDER_A]
    assert totals["balance"] == expected
    assert (
        totals["balance"]
        == totals["recharges"] - totals["payouts"] - totals["fees"] + totals["refunds"] - totals["withdrawals"]
    )
    entries = rig.call("SFT0305", {"taxBaseCode": PROVIDER_A, "pageSize": 1000})["list"]
    running = D("0.00")
    for entry in entries:
        running += entry["amount"]
        assert entry["balanceAfter"] == running
    assert running == expected


def test_outcomes_are_deterministic_in_the_seed() -> None:
    def outcome(seed: int) -> dict[str, str]:
        rig = Rig(SandboxSettings(outcomes=Outcomes(settlement_fail_rate=0.5), seed=seed))
        people = crew(rig, 6)
        rig.fund("10000")
        rig.call("SFT0502", batch("B1", [p.order(f"O{i}", "10.00") for i, p in enumerate(people)]))
        rig.run()
        return {o["outOrderNo"]: o["status"] for o in rig.call("SFT0504", {"outBatchNo": "B1"})["list"]}

    assert outcome(3) == outcome(3)
    assert len({tuple(outcome(s).values()) for s in (1, 2, 3, 4)}) > 1


def test_time_scale_compresses_delays() -> None:
    rig = Rig(SandboxSettings(time_scale=1000))
    p = crew(rig, 1)[0]  # onboarding runs a minute ahead, plenty at this scale
    rig.fund("100")
    rig.call("SFT0502", batch("B1", [p.order("O1", "10.00")]))
    rig.run(seconds=0.013)  # 2 s + 10 s simulated, plus a fen of slack
    assert rig.call("SFT0505", {"outOrderNo": "O1"})["status"] == "SUCCESS"


# -- marketing and sync -----------------------------------------------------------------------------------


def test_marketing_batches_respect_the_campaign(rig: Rig) -> None:
    p, q = crew(rig, 2)
    rig.fund("10000")
    today = str(rig.clock.now.date())
    campaign = rig.call(
        "SFT1101",
        {
            "outCampaignNo": "M1",
            "campaignName": "春季拉新",
            "taxBaseCode": PROVIDER_A,
            "startDate": today,
            "endDate": today,
            "budgetAmount": D("100.00"),
        },
    )
    again = rig.refused(
        "SFT1101",
        {"outCampaignNo": "M1", "campaignName": "x", "taxBaseCode": PROVIDER_A, "startDate": today, "endDate": today},
    )
    assert (again.code, again.fields["campaignNo"]) == (409, campaign["campaignNo"])
    cno = campaign["campaignNo"]
    ok = rig.call("SFT0502", batch("MB1", [p.order("M-1", "60.00")], campaignNo=cno))
    assert ok["campaignNo"] == cno
    over = rig.refused("SFT0502", batch("MB2", [q.order("M-2", "40.01")], campaignNo=cno))
    assert over.code == codes.CAMPAIGN_BUDGET_EXCEEDED.code
    unknown = rig.refused("SFT0502", batch("MB2", [q.order("M-2", "1.00")], campaignNo="MC000"))
    assert unknown.code == codes.CAMPAIGN_NOT_FOUND.code
    assert rig.call("SFT0503", {"outBatchNo": "MB1", "campaignNo": cno})["settleType"] == "MARKETING"
    assert rig.refused("SFT0503", {"outBatchNo": "B-none", "campaignNo": cno}).code == 404
    rig.clock.advance(days=1)
    late = rig.refused("SFT0502", batch("MB3", [q.order("M-3", "1.00")], campaignNo=cno))
    assert late.code == codes.CAMPAIGN_NOT_ACTIVE.code


def test_a_campaigns_status_follows_its_dates_and_one_already_over_is_not_created(rig: Rig) -> None:
    (p,) = crew(rig, 1)
    rig.fund("100")
    today = rig.clock.now.date()

    def create(key: str, start: object, end: object) -> Any:
        fields = {"outCampaignNo": key, "campaignName": "秋季", "taxBaseCode": PROVIDER_A}
        return {**fields, "startDate": str(start), "endDate": str(end)}

    soon = rig.call("SFT1101", create("M-SOON", today + timedelta(days=2), today + timedelta(days=9)))
    assert soon["status"] == "CREATED"
    early = rig.refused("SFT0502", batch("MB-SOON", [p.order("MS-1", "1.00")], campaignNo=soon["campaignNo"]))
    assert early.code == codes.CAMPAIGN_NOT_ACTIVE.code
    assert rig.call("SFT1101", create("M-NOW", today - timedelta(days=1), today))["status"] == "ACTIVE"
    over = rig.refused("SFT1101", create("M-OVER", today - timedelta(days=9), today - timedelta(days=1)))
    assert over.code == 400
    assert "endDate" in over.msg


def test_settlement_sync_records_a_paid_order(rig: Rig) -> None:
    p = crew(rig, 1)[0]
    rig.fund("1000")
    biz = {
        "outOrderNo": "S1",
        "outBatchNo": "SB",
        "taxBaseCode": PROVIDER_A,
        "name": p.name,
        "idCardNo": p.id_card_no,
        "amount": D("100.00"),
        "serviceAmount": D("6.00"),
        "payTime": 1709540429621,
    }
    synced = rig.call("SFT0510", biz)
    assert synced["status"] == "SUCCESS"
    assert rig.call("SFT0505", {"outOrderNo": "S1"})["status"] == "SUCCESS"
    assert rig.balance() == D("894.00")
    again = rig.refused("SFT0510", biz)
    assert (again.code, again.fields["orderNo"]) == (409, synced["orderNo"])
    rig.call("SFT0510", {**biz, "outOrderNo": "S2"})
    assert rig.call("SFT0503", {"outBatchNo": "SB"})["orderCount"] == 2
    assert rig.outbox.of("3001") == []
    assert rig.audit()["balanced"] is True
