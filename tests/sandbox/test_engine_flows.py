"""Contracts, recharges, invoices, withdrawals and projects in the engine, called directly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lingong_sandbox.engine import codes
from lingong_sandbox.settings import Outcomes, SandboxSettings

from .factories import PROVIDER_A, PROVIDER_B, Person, Rig

D = Decimal


@pytest.fixture
def rig() -> Rig:
    return Rig()


def paid_batch(rig: Rig, out_batch_no: str = "B1", amounts: tuple[str, ...] = ("1000.00", "500.00")) -> str:
    """A COMPLETED batch with every order paid; returns its batchNo."""
    people: list[Person] = []
    for i in range(len(amounts)):
        p = rig.person(100 + len(rig.outbox.sent) + i)
        rig.onboard(p)
        people.append(p)
    rig.fund("100000")
    answer = rig.call(
        "SFT0502",
        {
            "outBatchNo": out_batch_no,
            "taxBaseCode": PROVIDER_A,
            "orders": [p.order(f"{out_batch_no}-{i}", a) for i, (p, a) in enumerate(zip(people, amounts, strict=True))],
        },
    )
    rig.run()
    return str(answer["batchNo"])


# -- contracts ------------------------------------------------------------------------------------------


def test_contract_state_machine(rig: Rig) -> None:
    p = rig.person(1)
    assert rig.refused("SFT0104", {"idCardNo": p.id_card_no, "taxBaseCode": PROVIDER_A}).code == 4106
    verified = rig.call("SFT0101", p.verify_biz())
    made = rig.call("SFT0104", {"idCardNo": p.id_card_no, "taxBaseCode": PROVIDER_A})
    assert made["status"] == "CREATED"
    dup = rig.refused("SFT0104", {"freelancerNo": verified["freelancerNo"], "taxBaseCode": PROVIDER_A})
    assert (dup.code, dup.fields["contractNo"]) == (409, made["contractNo"])
    assert rig.call("SFT0104", {"idCardNo": p.id_card_no, "taxBaseCode": PROVIDER_B})["status"] == "CREATED"
    assert rig.call("SFT0105", {"contractNo": made["contractNo"]})["status"] == "SIGNING"
    assert rig.call("SFT0105", {"contractNo": made["contractNo"]})["status"] == "SIGNING"  # asking again is harmless
    assert rig.outbox.of("8001") == []
    rig.run(seconds=6)
    query = rig.call("SFT0106", {"contractNo": made["contractNo"]})
    assert query["status"] == "SIGNED"
    assert query["signTime"]
    assert query["expireTime"]
    signed = rig.outbox.of("8001")
    assert len(signed) == 1
    assert signed[0]["contractNo"] == made["contractNo"]
    assert signed[0]["freelancerNo"] == verified["freelancerNo"]
    assert "*" in signed[0]["idCardNo"]
    assert rig.call("SFT0105", {"contractNo": made["contractNo"]})["status"] == "SIGNED"
    by_person = rig.call("SFT0106", {"idCardNo": p.id_card_no, "taxBaseCode": PROVIDER_A})
    assert by_person["contractNo"] == made["contractNo"]
    listed = rig.call("SFT0111", {"idCardNo": p.id_card_no})
    assert listed["total"] == 2
    assert rig.call("SFT0103", {"idCardNo": p.id_card_no})["contracts"][0]["status"] == "SIGNED"
    assert rig.call("SFT0107", {"idCardNo": p.id_card_no, "taxBaseCode": PROVIDER_A})["previewUrl"]
    rig.run(days=366)
    assert rig.call("SFT0106", {"contractNo": made["contractNo"]})["status"] == "EXPIRED"
    assert rig.refused("SFT0105", {"contractNo": made["contractNo"]}).code == codes.CONTRACT_EXPIRED.code
    renewed = rig.call("SFT0104", {"idCardNo": p.id_card_no, "taxBaseCode": PROVIDER_A})
    assert renewed["contractNo"] != made["contractNo"]
    assert rig.refused("SFT0105", {"contractNo": "HT000"}).code == 404


def test_verify_with_contract_in_one_call(rig: Rig) -> None:
    p = rig.person(1)
    first = rig.call("SFT0109", p.verify_biz(taxBaseCode=PROVIDER_A))
    assert (first["verifyStatus"], first["contractStatus"]) == ("VERIFIED", "SIGNING")
    again = rig.call("SFT0109", p.verify_biz(taxBaseCode=PROVIDER_A))
    assert (again["freelancerNo"], again["contractNo"]) == (first["freelancerNo"], first["contractNo"])
    rig.run(minutes=1)
    assert rig.call("SFT0109", p.verify_biz(taxBaseCode=PROVIDER_A))["contractStatus"] == "SIGNED"
    assert len(rig.outbox.of("8001")) == 1


# -- recharges ------------------------------------------------------------------------------------------


def seed_recharge(**overrides: object) -> dict[str, object]:
    """The seed page's example bizModel (amount 200021 read as yuan, rechargeTime in epoch ms)."""
    return {
        "amount": 200021,
        "outOrderNo": "T202403040000001",
        "payChannelCode": "3000003",
        "rechargeTime": 1709540429621,
        "serviceAmount": 0,
        "taxBaseCode": "2000064001",
        **overrides,
    }


def test_recharge_sync_as_the_seed_sends_it(rig: Rig) -> None:
    answer = rig.call("SFT0404", seed_recharge())
    assert answer["outOrderNo"] == "T202403040000001"
    order = rig.call("SFT0403", {"outOrderNo": "T202403040000001"})
    assert (order["status"], order["amount"], order["rechargeTime"]) == (
        "PROCESSING",
        D("200021.00"),
        "2024-03-04 16:20:29",
    )
    assert order["openInvoiceModel"] == 0
    dup = rig.refused("SFT0404", seed_recharge(amount=5))
    assert (dup.code, dup.fields["orderNo"]) == (409, answer["orderNo"])
    assert rig.balance() == D("0.00")
    rig.run(seconds=6)
    assert rig.call("SFT0403", {"orderNo": answer["orderNo"]})["status"] == "SUCCESS"
    assert rig.balance() == D("200021.00")
    note = rig.outbox.of("1001")
    assert note == [
        {
            "orderNo": answer["orderNo"],
            "outOrderNo": "T202403040000001",
            "taxBaseCode": PROVIDER_A,
            "amount": D("200021.00"),
            "status": "SUCCESS",
            "completeTime": note[0]["completeTime"],
        }
    ]
    assert rig.call("SFT0401", {"status": "SUCCESS"})["total"] == 1


def test_recharge_failures(rig: Rig) -> None:
    rig.script(business_key="T-FAIL", outcome="FAIL")
    rig.call("SFT0404", seed_recharge(outOrderNo="T-FAIL"))
    rig.run()
    failed = rig.call("SFT0403", {"outOrderNo": "T-FAIL"})
    assert failed["status"] == "FAILED"
    assert failed["failMsg"]
    assert rig.outbox.of("1001")[0]["status"] == "FAILED"
    assert rig.balance() == D("0.00")
    assert rig.refused("SFT0404", seed_recharge(outOrderNo="T2", taxBaseCode="2000060000")).code == 4001
    assert rig.refused("SFT0404", seed_recharge(outOrderNo="T3", amount="1.234")).code == 400
    every = Rig(SandboxSettings(outcomes=Outcomes(recharge_fail_rate=1.0)))
    every.call("SFT0404", seed_recharge())
    every.run()
    assert every.call("SFT0403", {"outOrderNo": "T202403040000001"})["status"] == "FAILED"


# -- invoices -----------------------------------------------------------------------------------------------


def invoice_biz(out_apply_no: str, batch_nos: list[str], amount: str, **extra: object) -> dict[str, object]:
    return {
        "outApplyNo": out_apply_no,
        "taxBaseCode": PROVIDER_A,
        "batchNos": batch_nos,
        "invoiceType": "VAT_SPECIAL",
        "categoryCode": "C01",
        "amount": D(amount),
        **extra,
    }


def test_invoice_flow(rig: Rig) -> None:
    batch_no = paid_batch(rig)  # 1500.00 paid + 90.00 fee
    listed = rig.call("SFT0603", {"taxBaseCode": PROVIDER_A})["list"]
    assert [(b["batchNo"], b["invoiceableAmount"]) for b in listed] == [(batch_no, D("1590.00"))]
    assert rig.call("SFT0601", {"taxBaseCode": PROVIDER_A})["list"][0]["categoryCode"] == "C01"
    assert {t["invoiceType"] for t in rig.call("SFT0602", {"taxBaseCode": PROVIDER_A})["list"]} >= {"VAT_SPECIAL"}
    too_much = rig.refused("SFT0605", invoice_biz("I1", [batch_no], "1590.01"))
    assert too_much.code == codes.INVOICE_AMOUNT_EXCEEDED.code
    assert rig.refused("SFT0605", invoice_biz("I1", [batch_no], "1.00", categoryCode="C99")).code == 4604
    assert rig.refused("SFT0605", invoice_biz("I1", [batch_no], "1.00", invoiceType="PAPER")).code == 4605
    applied = rig.call("SFT0605", invoice_biz("I1", [batch_no], "1000.00"))
    assert applied["status"] == "APPLIED"
    dup = rig.refused("SFT0605", invoice_biz("I1", [batch_no], "1.00"))
    assert (dup.code, dup.fields["applyNo"]) == (409, applied["applyNo"])
    assert rig.call("SFT0603", {"taxBaseCode": PROVIDER_A})["list"][0]["invoiceableAmount"] == D("590.00")
    quota = rig.call("SFT0610", {"taxBaseCode": PROVIDER_A})
    assert (quota["totalQuota"], quota["frozenQuota"], quota["availableQuota"]) == (
        D("1590.00"),
        D("1000.00"),
        D("590.00"),
    )
    rig.run(seconds=31)
    detail = rig.call("SFT0607", {"outApplyNo": "I1"})
    assert detail["status"] == "ISSUED"
    assert len(detail["invoiceNos"]) == 1
    assert len(detail["invoiceNos"][0]) == 20
    note = rig.outbox.of("9001")[0]
    assert (note["applyNo"], note["status"], note["invoiceNos"]) == (applied["applyNo"], "ISSUED", detail["invoiceNos"])
    assert rig.refused("SFT0611", {"outApplyNo": "I1"}).code == codes.INVOICE_NOT_CANCELLABLE.code
    assert rig.call("SFT0608", {"outApplyNo": "I1"})["total"] == 2
    # the rest: one application cancelled, one rejected; both give their amount back
    rig.call("SFT0605", invoice_biz("I2", [batch_no], "590.00"))
    assert rig.refused("SFT0605", invoice_biz("I3", [batch_no], "0.01")).code == codes.BATCH_NOT_INVOICEABLE.code
    assert rig.call("SFT0611", {"outApplyNo": "I2", "reason": "抬头有误"})["status"] == "CANCELLED"
    rig.script(business_key="I3", outcome="FAIL")
    rig.call("SFT0605", invoice_biz("I3", [batch_no], "590.00"))
    rig.run()
    rejected = rig.call("SFT0607", {"outApplyNo": "I3"})
    assert (rejected["status"], bool(rejected["rejectReason"])) == ("REJECTED", True)
    assert rig.call("SFT0603", {"taxBaseCode": PROVIDER_A})["list"][0]["invoiceableAmount"] == D("590.00")
    assert rig.call("SFT0606", {"status": "ISSUED"})["total"] == 1


def test_only_completed_batches_invoice(rig: Rig) -> None:
    p = rig.person(1)
    rig.onboard(p)
    rig.fund("1000")
    accepted = rig.call("SFT0502", {"outBatchNo": "B1", "taxBaseCode": PROVIDER_A, "orders": [p.order("O1", "10.00")]})
    assert rig.call("SFT0603", {"taxBaseCode": PROVIDER_A})["total"] == 0
    refused = rig.refused("SFT0605", invoice_biz("I1", [accepted["batchNo"]], "1.00"))
    assert refused.code == codes.BATCH_NOT_INVOICEABLE.code


# -- withdrawals ------------------------------------------------------------------------------------------------


def test_withdrawals(rig: Rig) -> None:
    rig.fund("1000")
    biz = {"outWithdrawNo": "W1", "taxBaseCode": PROVIDER_A, "amount": D("300.00"), "bindNo": "EA-none"}
    assert rig.refused("SFT0412", biz).code == codes.ENTERPRISE_ACCOUNT_NOT_BOUND.code
    account = rig.call(
        "SFT0311", {"bankAcctName": "灵工示例科技有限公司", "bankAcctNo": "6226090000000001", "bankName": "招商银行"}
    )
    assert account["bindStatus"] == "BOUND"
    biz["bindNo"] = account["bindNo"]
    assert rig.refused("SFT0412", {**biz, "amount": D("1000.01")}).code == codes.INSUFFICIENT_BALANCE.code
    applied = rig.call("SFT0412", biz)
    assert applied["status"] == "PROCESSING"
    held = rig.call("SFT0303", {"taxBaseCode": PROVIDER_A})  # frozen while the bank has not answered
    assert (held["balance"], held["frozenAmount"], held["availableAmount"]) == (D("1000.00"), D("300.00"), D("700.00"))
    assert rig.refused("SFT0412", {**biz, "outWithdrawNo": "W3", "amount": D("700.01")}).code == 4401
    assert rig.refused("SFT0412", biz).fields["withdrawNo"] == applied["withdrawNo"]
    rig.script(business_key="W2", outcome="FAIL")
    rig.call("SFT0412", {**biz, "outWithdrawNo": "W2", "amount": D("100.00")})
    assert rig.call("SFT0303", {"taxBaseCode": PROVIDER_A})["availableAmount"] == D("600.00")
    assert [r["changeType"] for r in rig.call("SFT0305", {"taxBaseCode": PROVIDER_A})["list"]] == ["RECHARGE"]
    rig.run()
    after = rig.call("SFT0303", {"taxBaseCode": PROVIDER_A})
    assert (after["frozenAmount"], after["availableAmount"]) == (D("0.00"), D("700.00"))
    rows = rig.call("SFT0305", {"taxBaseCode": PROVIDER_A})["list"]
    assert [(r["changeType"], r["amount"]) for r in rows] == [("RECHARGE", D("1000.00")), ("WITHDRAWAL", D("-300.00"))]
    assert rig.call("SFT0413", {"outWithdrawNo": "W1"})["status"] == "SUCCESS"
    assert rig.call("SFT0413", {"outWithdrawNo": "W2"})["status"] == "FAILED"
    assert rig.balance() == D("700.00")
    assert [n["status"] for n in rig.outbox.of("2001")] == ["SUCCESS", "FAILED"]
    assert rig.call("SFT0411", {})["total"] == 2
    audit = rig.audit()
    assert audit["ledger"][PROVIDER_A]["withdrawals"] == D("300.00")
    assert audit["balanced"] is True


# -- projects ---------------------------------------------------------------------------------------------------


def test_projects(rig: Rig) -> None:
    project = rig.call("SFT0703", {"outProjectNo": "P1", "projectName": "外卖配送", "taxBaseCode": PROVIDER_A})
    dup = rig.refused("SFT0703", {"outProjectNo": "P1", "projectName": "x", "taxBaseCode": PROVIDER_A})
    assert (dup.code, dup.fields["projectNo"]) == (409, project["projectNo"])
    p = rig.person(1)
    rig.onboard(p)
    rig.fund("1000")
    order = p.order("O1", "10.00")
    unknown = rig.refused(
        "SFT0502", {"outBatchNo": "B1", "taxBaseCode": PROVIDER_A, "projectNo": "P000", "orders": [order]}
    )
    assert unknown.code == codes.PROJECT_NOT_FOUND.code
    rig.call(
        "SFT0502", {"outBatchNo": "B1", "taxBaseCode": PROVIDER_A, "projectNo": project["projectNo"], "orders": [order]}
    )
    rig.run()
    confirm = {
        "projectNo": project["projectNo"],
        "outBatchNo": "B1",
        "confirmDate": "2024-03-05",
        "confirmContent": "验收通过",
    }
    sheet = rig.call("SFT0705", confirm)
    assert (sheet["status"], sheet["amount"]) == ("CONFIRMED", D("10.00"))
    assert rig.refused("SFT0705", confirm).fields["confirmNo"] == sheet["confirmNo"]
    assert rig.refused("SFT0704", {"projectNo": project["projectNo"]}).code == codes.PROJECT_IN_USE.code
    spare = rig.call("SFT0703", {"outProjectNo": "P2", "projectName": "仓储分拣", "taxBaseCode": PROVIDER_A})
    assert rig.call("SFT0704", {"outProjectNo": "P2"})["status"] == "DELETED"
    assert rig.call("SFT0702", {"projectNo": spare["projectNo"]})["status"] == "DELETED"
    assert rig.call("SFT0701", {"status": "ACTIVE"})["total"] == 1
