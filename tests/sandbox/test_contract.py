r"""The menu-wide wire contract: the core's models and the sandbox's handlers say the same thing.

For every offered apiCode (55) and the marketing form of SFT0502/0503/0504/0510, one scenario on the
engine (:class:`~tests.sandbox.factories.Rig`):

- every field of the apiCode's request model is sent in an accepted call, and read by its handler
  (``Platform.fields_read``); a handler reading a field its model lacks raises ``NotAField`` at the read;
- every list filter changes the answer (a value that matches nothing empties the page);
- every answer fits its response model with extra fields forbidden and only known states
  (``Rig.call`` checks each answer of every engine test the same way, :mod:`tests.sandbox.contract`),
  and every field of the response model is sent in some answer.

It fails if a field is added to a handler or a model alone. Demonstration, from the project's root
(a request field in the model only, then one in the handler only; each run fails, naming the field)::

    sed -i 's/^    refund_no: RefundNo | None = None$/&\n    memo: str | None = None/' lingong_core/models/refund.py
    .venv/bin/python -m pytest tests/sandbox/test_contract.py -q -k SFT0802  # memo never sent, never read
    sed -i "/memo/d" lingong_core/models/refund.py  # undo
    sed -i '/^def refund_detail/a\    biz.text("memo", required=False)' lingong_sandbox/engine/refund.py
    .venv/bin/python -m pytest tests/sandbox/test_contract.py -q -k SFT0802  # NotAField: the handler read memo
    sed -i "/memo/d" lingong_sandbox/engine/refund.py  # undo

An answer field in the handler only fails ``Rig.call`` (not a field of the response model); one in
the response model only fails ``test_every_response_field_is_sent``.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest

from lingong_core.models.catalogue import CATALOGUE, MARKETING_CATALOGUE
from lingong_core.operations import OPERATIONS
from lingong_sandbox.interface import PlatformError

from .contract import data_paths, spec_for, wire_paths
from .factories import PROVIDER_A, PROVIDER_B, Rig

D = Decimal
OFFERED = sorted(code for code, op in OPERATIONS.items() if op.offered)
FORMS = [(code, False) for code in OFFERED] + [(code, True) for code in sorted(MARKETING_CATALOGUE)]


class Contract:
    """A rig that remembers, per (apiCode, form), the request fields it sent in accepted calls and the
    answer fields it received."""

    def __init__(self) -> None:
        self.rig = Rig()
        self.sent: dict[tuple[str, bool], set[str]] = defaultdict(set)
        self.answered: dict[tuple[str, bool], set[str]] = defaultdict(set)

    def __call__(self, api_code: str, biz: dict[str, Any]) -> dict[str, Any]:
        answer = self.rig.call(api_code, biz)  # checked strictly against the response model
        form = (api_code, spec_for(api_code, biz).marketing)
        self.sent[form] |= data_paths(biz)
        self.answered[form] |= data_paths(answer)
        return answer


def scenario() -> Contract:
    c = Contract()
    rig = c.rig
    p, q, r, s = rig.person(1), rig.person(2), rig.person(3), rig.person(4)
    image = base64.b64encode(b"\x89PNG not really").decode()
    today = str(rig.clock.now.date())
    # -- freelancers, cards, contracts
    fp = c("SFT0101", p.verify_biz(taxBaseCode=PROVIDER_A))["freelancerNo"]
    c("SFT0109", q.verify_biz(taxBaseCode=PROVIDER_A, templateNo="TPL-Q"))
    c("SFT0102", {"idCardNo": p.id_card_no, "frontImage": image, "backImage": image})
    c("SFT0102", {"freelancerNo": fp, "frontImage": image, "backImage": image})
    c("SFT0110", {"idCardNo": p.id_card_no})
    c("SFT0110", {"freelancerNo": fp})
    c("SFT0103", {"idCardNo": p.id_card_no})
    c("SFT0103", {"freelancerNo": fp})
    c("SFT0202", {"bankCardNo": p.bank_card_no})
    bound = c("SFT0203", {**p.bind_biz(), "mobile": p.mobile})
    c("SFT0203", {"freelancerNo": c("SFT0101", q.verify_biz())["freelancerNo"], "name": q.name,
                  "bankCardNo": q.bank_card_no})  # fmt: skip
    c("SFT0201", {"idCardNo": p.id_card_no, "bindStatus": "BOUND"})
    c("SFT0201", {"freelancerNo": fp})
    c("SFT0107", {"idCardNo": p.id_card_no, "taxBaseCode": PROVIDER_A, "templateNo": "TPL-P"})
    c("SFT0107", {"freelancerNo": fp, "taxBaseCode": PROVIDER_A})
    contract = c("SFT0104", {"idCardNo": p.id_card_no, "taxBaseCode": PROVIDER_A, "templateNo": "TPL-P"})
    c("SFT0105", {"contractNo": contract["contractNo"]})
    rig.run(minutes=1)
    c("SFT0106", {"contractNo": contract["contractNo"]})
    c("SFT0106", {"idCardNo": p.id_card_no, "taxBaseCode": PROVIDER_A})
    c("SFT0106", {"freelancerNo": fp, "taxBaseCode": PROVIDER_A})
    c("SFT0111", {"idCardNo": p.id_card_no, "taxBaseCode": PROVIDER_A, "pageNo": 1, "pageSize": 10})
    c("SFT0111", {"freelancerNo": fp})
    rig.onboard(r)
    t = rig.person(5)
    ft = c("SFT0101", t.verify_biz())["freelancerNo"]
    c("SFT0104", {"freelancerNo": ft, "taxBaseCode": PROVIDER_A})
    # -- accounts, recharges
    for code in ("SFT0301", "SFT0302", "SFT0901"):
        c(code, {})
    for code in ("SFT0302", "SFT0303", "SFT0304"):
        c(code, {"taxBaseCode": PROVIDER_A})
    recharge = {
        "outOrderNo": "R1", "taxBaseCode": PROVIDER_A, "amount": D("50000.00"), "serviceAmount": D("0.00"),
        "payChannelCode": "3000003", "rechargeTime": "2024-03-04 16:00:00", "rechargeWay": "ACCT_TRANSFER_RECHARGE",
        "openInvoiceModel": 0, "payeeAcctType": "BANK", "payeeBankAcctName": "某某税源地服务商",
        "payeeBankAcctNo": "755912345610802", "payeeBankName": "招商银行海口分行", "payerAcctType": "BANK",
        "payerBankAcctName": "灵工示例科技有限公司", "payerBankAcctNo": "6226090000000001",
        "payerBankName": "招商银行", "remark": "充值",
    }  # fmt: skip
    recharged = c("SFT0404", recharge)
    rig.run(minutes=1)
    c("SFT0403", {"outOrderNo": "R1"})
    c("SFT0403", {"orderNo": recharged["orderNo"]})
    rig.script(business_key="R2", outcome="FAIL")
    c("SFT0404", {**recharge, "outOrderNo": "R2", "amount": D("1.00")})
    rig.run(minutes=1)
    c("SFT0403", {"outOrderNo": "R2"})  # FAILED, with failMsg
    # -- settlement, with one order failing and one bouncing
    project = c("SFT0703", {"outProjectNo": "P1", "projectName": "外卖配送", "taxBaseCode": PROVIDER_A,
                            "projectType": "配送", "description": "城区配送", "startDate": today,
                            "endDate": today, "budgetAmount": D("9000.00")})  # fmt: skip
    c("SFT0703", {"outProjectNo": "P2", "projectName": "仓储", "taxBaseCode": PROVIDER_A, "projectDesc": "分拣"})
    c("SFT0501", {"taxBaseCode": PROVIDER_A, "orders": [{**p.order("O1", "100.00"), "mobile": p.mobile,
                                                          "remark": "三月"}]})  # fmt: skip
    c("SFT0501", {"taxBaseCode": PROVIDER_A, "orders": [{"idCardNo": s.id_card_no, "amount": D("20.00")}]})  # REJECT
    rig.script(bank_card_no=q.bank_card_no, outcome="BOUNCE")
    rig.script(bank_card_no=r.bank_card_no, outcome="FAIL")
    batch = c("SFT0502", {"outBatchNo": "B1", "taxBaseCode": PROVIDER_A, "projectNo": project["projectNo"],
                          "period": "2024-03", "remark": "三月佣金",
                          "orders": [{**p.order("O1", "100.00"), "mobile": p.mobile, "remark": "三月"},
                                     q.order("O2", "200.00"), r.order("O3", "300.00")]})  # fmt: skip
    rig.run()
    c("SFT0503", {"outBatchNo": "B1"})
    c("SFT0503", {"batchNo": batch["batchNo"]})
    c("SFT0504", {"batchNo": batch["batchNo"], "status": "SUCCESS", "pageNo": 1, "pageSize": 10})
    c("SFT0504", {"outBatchNo": "B1"})
    o1 = c("SFT0505", {"outOrderNo": "O1"})
    c("SFT0505", {"orderNo": o1["orderNo"]})
    c("SFT0505", {"outOrderNo": "O2"})  # bounced: bounceTime, refundNo
    c("SFT0505", {"outOrderNo": "O3"})  # failed: failCode, failMsg
    c("SFT0506", {"outOrderNo": "O1"})
    c("SFT0506", {"orderNo": o1["orderNo"]})
    sync = {"outOrderNo": "S1", "taxBaseCode": PROVIDER_A, "outBatchNo": "SB1", "projectNo": project["projectNo"],
            "name": p.name, "idCardNo": p.id_card_no, "mobile": p.mobile, "bankCardNo": p.bank_card_no,
            "amount": D("50.00"), "serviceAmount": D("3.00"), "period": "2024-03", "payChannelCode": "3000003",
            "payTime": "2024-03-05 10:00:00", "openInvoiceModel": 0, "remark": "线下发放"}  # fmt: skip
    c("SFT0510", sync)
    # -- refunds
    refunds = c("SFT0801", {"taxBaseCode": PROVIDER_A, "batchNo": batch["batchNo"], "outBatchNo": "B1",
                            "refundType": "FAILED", "startTime": "2024-03-01 00:00:00",
                            "endTime": "2024-12-31 00:00:00", "pageNo": 1, "pageSize": 10})  # fmt: skip
    c("SFT0801", {"orderNo": refunds["list"][0]["orderNo"], "outOrderNo": "O3"})
    c("SFT0802", {"refundNo": refunds["list"][0]["refundNo"]})
    c("SFT0802", {"orderNo": refunds["list"][0]["orderNo"]})
    c("SFT0802", {"outOrderNo": "O2"})
    # -- invoices
    c("SFT0601", {"taxBaseCode": PROVIDER_A})
    c("SFT0602", {"taxBaseCode": PROVIDER_A})
    c("SFT0603", {"taxBaseCode": PROVIDER_A, "pageNo": 1, "pageSize": 10})
    applied = c("SFT0605", {"outApplyNo": "I1", "taxBaseCode": PROVIDER_A, "batchNos": [batch["batchNo"]],
                            "invoiceType": "VAT_SPECIAL", "categoryCode": "C01", "amount": D("50.00"),
                            "remark": "三月服务费"})  # fmt: skip
    c("SFT0605", {"outApplyNo": "I2", "taxBaseCode": PROVIDER_A, "batchNos": [batch["batchNo"]],
                  "invoiceType": "VAT_SPECIAL", "categoryCode": "C01", "amount": D("10.00")})  # fmt: skip
    c("SFT0606", {"taxBaseCode": PROVIDER_A, "status": "APPLIED", "startTime": "2024-03-01 00:00:00",
                  "endTime": "2024-12-31 00:00:00", "pageNo": 1, "pageSize": 10})  # fmt: skip
    c("SFT0607", {"applyNo": applied["applyNo"]})
    c("SFT0607", {"outApplyNo": "I1"})
    c("SFT0608", {"applyNo": applied["applyNo"], "pageNo": 1, "pageSize": 10})
    c("SFT0608", {"outApplyNo": "I1"})
    c("SFT0609", {})
    quota = c("SFT0609", {"taxBaseCode": PROVIDER_A})["list"][0]
    c("SFT0610", {"taxBaseCode": PROVIDER_A})
    c("SFT0610", {"quotaAcctNo": quota["quotaAcctNo"]})
    c("SFT0611", {"outApplyNo": "I1", "reason": "金额有误"})
    c("SFT0611", {"applyNo": c("SFT0607", {"outApplyNo": "I2"})["applyNo"]})
    more = {"taxBaseCode": PROVIDER_A, "batchNos": [batch["batchNo"]], "invoiceType": "VAT_SPECIAL",
            "categoryCode": "C01", "amount": D("5.00")}  # fmt: skip
    c("SFT0605", {**more, "outApplyNo": "I3"})
    rig.script(business_key="I4", outcome="FAIL")
    c("SFT0605", {**more, "outApplyNo": "I4"})
    rig.run()
    c("SFT0606", {})  # issued, rejected and cancelled ones
    for key in ("I1", "I3", "I4"):
        c("SFT0607", {"outApplyNo": key})
    # -- projects
    c("SFT0701", {"taxBaseCode": PROVIDER_A, "status": "ACTIVE", "projectName": "配送", "pageNo": 1, "pageSize": 10})
    c("SFT0702", {"projectNo": project["projectNo"]})
    c("SFT0702", {"outProjectNo": "P1"})
    c("SFT0705", {"projectNo": project["projectNo"], "batchNo": batch["batchNo"], "confirmDate": "2024-03-05",
                  "confirmContent": "验收通过", "attachmentUrl": "https://files.example.com/p1.pdf"})  # fmt: skip
    c("SFT0705", {"projectNo": project["projectNo"], "outBatchNo": "SB1", "confirmDate": "2024-03-05",
                  "confirmContent": "验收通过"})  # fmt: skip
    spare = c("SFT0703", {"outProjectNo": "P3", "projectName": "备用", "taxBaseCode": PROVIDER_A})
    c("SFT0704", {"projectNo": spare["projectNo"]})
    c("SFT0704", {"outProjectNo": "P2"})
    c("SFT0702", {"outProjectNo": "P2"})  # deleted: deleteTime
    c("SFT0701", {"status": "DELETED"})
    # -- enterprise accounts, withdrawals
    first = c("SFT0311", {"bankAcctName": "灵工示例科技有限公司", "bankAcctNo": "6226090000000001",
                          "bankName": "招商银行", "bankBranch": "海口分行"})  # fmt: skip
    c("SFT0311", {"bankAcctName": "灵工示例科技有限公司", "bankAcctNo": "6226090000000002",
                  "bankName": "招商银行", "bankCode": "308100005019"})  # fmt: skip
    c("SFT0412", {"outWithdrawNo": "W1", "taxBaseCode": PROVIDER_A, "amount": D("100.00"), "bindNo": first["bindNo"],
                  "remark": "提现"})  # fmt: skip
    c("SFT0412", {"outWithdrawNo": "W2", "taxBaseCode": PROVIDER_A, "amount": D("1.00"),
                  "bankAcctNo": "6226090000000002"})  # fmt: skip
    rig.script(business_key="W3", outcome="FAIL")
    c("SFT0412", {"outWithdrawNo": "W3", "taxBaseCode": PROVIDER_A, "amount": D("1.00"), "bindNo": first["bindNo"]})
    rig.run()
    c("SFT0413", {"outWithdrawNo": "W3"})  # FAILED, with failMsg
    c("SFT0411", {})
    w1 = c("SFT0413", {"outWithdrawNo": "W1"})
    c("SFT0413", {"withdrawNo": w1["withdrawNo"]})
    c("SFT0411", {"taxBaseCode": PROVIDER_A, "status": "SUCCESS", "startTime": "2024-03-01 00:00:00",
                  "endTime": "2024-12-31 00:00:00", "pageNo": 1, "pageSize": 10})  # fmt: skip
    c("SFT0312", {"bindNo": first["bindNo"]})
    c("SFT0312", {"bankAcctNo": "6226090000000002"})
    c("SFT0310", {"bindStatus": "UNBOUND"})
    c("SFT0310", {})
    # -- ledger, recharges, certificates (lists)
    c("SFT0305", {"taxBaseCode": PROVIDER_A, "changeType": "PAYOUT", "startTime": "2024-03-01 00:00:00",
                  "endTime": "2024-12-31 00:00:00", "pageNo": 1, "pageSize": 10})  # fmt: skip
    c("SFT0401", {})
    c("SFT0401", {"taxBaseCode": PROVIDER_A, "status": "SUCCESS", "startTime": "2024-03-01 00:00:00",
                  "endTime": "2024-12-31 00:00:00", "pageNo": 1, "pageSize": 10})  # fmt: skip
    c("SFT1001", {"taxBaseCode": PROVIDER_A, "idCardNo": p.id_card_no, "freelancerNo": fp, "period": "2024-03",
                  "pageNo": 1, "pageSize": 10})  # fmt: skip
    # -- marketing
    campaign = c("SFT1101", {"outCampaignNo": "M1", "campaignName": "春季拉新", "taxBaseCode": PROVIDER_A,
                             "startDate": "2024-03-01", "endDate": "2024-12-31",
                             "budgetAmount": D("1000.00"), "description": "拉新奖励"})  # fmt: skip
    cno = campaign["campaignNo"]
    mb = c("SFT0502", {"campaignNo": cno, "outBatchNo": "MB1", "taxBaseCode": PROVIDER_A,
                       "projectNo": project["projectNo"], "period": "2024-03", "remark": "拉新",
                       "orders": [{**p.order("MO1", "10.00"), "mobile": p.mobile, "remark": "拉新"}]})  # fmt: skip
    rig.run()
    c("SFT0503", {"campaignNo": cno, "outBatchNo": "MB1"})
    c("SFT0503", {"campaignNo": cno, "batchNo": mb["batchNo"]})
    c("SFT0504", {"campaignNo": cno, "outBatchNo": "MB1", "status": "SUCCESS", "pageNo": 1, "pageSize": 10})
    c("SFT0504", {"campaignNo": cno, "batchNo": mb["batchNo"]})
    c("SFT0510", {**sync, "campaignNo": cno, "outOrderNo": "MS1", "outBatchNo": "MSB1", "amount": D("5.00"),
                  "serviceAmount": D("0.30")})  # fmt: skip
    # -- last: unbind cards three ways
    c("SFT0204", {"bindNo": bound["bindNo"]})
    c("SFT0204", {"idCardNo": q.id_card_no, "bankCardNo": q.bank_card_no})
    c("SFT0204", {"freelancerNo": c("SFT0103", {"idCardNo": r.id_card_no})["freelancerNo"],
                  "bankCardNo": r.bank_card_no})  # fmt: skip
    c("SFT0103", {"idCardNo": p.id_card_no})  # an unbound card: unbindTime
    c("SFT0201", {"idCardNo": p.id_card_no})
    rig.run(days=31)
    c("SFT1001", {})  # March is closed by April: issued, with issueTime and fileUrl
    assert s  # a fourth person stays unknown to the platform (filters below)
    return c


#: Response fields the scenario cannot provoke, with the state that would.
CONDITIONAL: dict[tuple[str, bool], set[str]] = {
    ("SFT0203", False): {"unbindTime"},  # binding answers a bound card: unbindTime only while it is unbound
    ("SFT0311", False): {"unbindTime"},  # the same for an enterprise account
    # the scenario's marketing order is paid; the commission form's B1 shows failed and bounced orders
    ("SFT0504", True): {"list[].bounceTime", "list[].failCode", "list[].failMsg", "list[].refundNo"},
}


@pytest.fixture(scope="module")
def contract() -> Contract:
    return scenario()


def _spec(code: str, marketing: bool) -> Any:
    return (MARKETING_CATALOGUE if marketing else CATALOGUE)[code]


def test_the_scenario_covers_every_offered_api_code_and_the_marketing_forms(contract: Contract) -> None:
    assert len(OFFERED) == 55
    assert set(contract.sent) == set(FORMS)


@pytest.mark.parametrize(("api_code", "marketing"), FORMS, ids=[f"{c}{'-marketing' * m}" for c, m in FORMS])
def test_every_request_field_is_accepted_and_read(contract: Contract, api_code: str, marketing: bool) -> None:
    model = _spec(api_code, marketing).request
    fields = wire_paths(model)
    assert fields - contract.sent[(api_code, marketing)] == set(), "request fields never sent in an accepted call"
    read = contract.rig.platform.fields_read.get((api_code, marketing), set())
    assert fields - read == set(), "request fields the handler never read"
    assert read - fields == set()  # (a read outside the model raises NotAField before it gets here)


@pytest.mark.parametrize(("api_code", "marketing"), FORMS, ids=[f"{c}{'-marketing' * m}" for c, m in FORMS])
def test_every_response_field_is_sent(contract: Contract, api_code: str, marketing: bool) -> None:
    model = _spec(api_code, marketing).response
    missing = wire_paths(model) - {"code", "msg"} - contract.answered[(api_code, marketing)]
    missing -= CONDITIONAL.get((api_code, marketing), set())
    assert missing == set(), "response fields the sandbox never sends"


#: apiCode → its base request, and each filter with a value that matches nothing in the scenario.
FILTERS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "SFT0111": ({"outKey": "idCardNo"}, {"taxBaseCode": PROVIDER_B}),
    "SFT0201": ({"outKey": "idCardNo"}, {"bindStatus": "BOUND"}),  # the person's one card is unbound by then
    "SFT0302": ({}, {"taxBaseCode": PROVIDER_B}),
    "SFT0305": (
        {"taxBaseCode": PROVIDER_A},
        {"changeType": "RECHARGE", "startTime": "2030-01-01 00:00:00", "endTime": "2000-01-01 00:00:00"},
    ),
    "SFT0310": ({}, {"bindStatus": "BOUND"}),
    "SFT0401": (
        {},
        {
            "taxBaseCode": PROVIDER_B,
            "status": "FAILED",
            "startTime": "2030-01-01 00:00:00",
            "endTime": "2000-01-01 00:00:00",
        },
    ),
    "SFT0411": (
        {},
        {
            "taxBaseCode": PROVIDER_B,
            "status": "FAILED",
            "startTime": "2030-01-01 00:00:00",
            "endTime": "2000-01-01 00:00:00",
        },
    ),
    "SFT0504": ({"outBatchNo": "B1"}, {"status": "PROCESSING"}),
    "SFT0606": (
        {},
        {
            "taxBaseCode": PROVIDER_B,
            "status": "ISSUED",
            "startTime": "2030-01-01 00:00:00",
            "endTime": "2000-01-01 00:00:00",
        },
    ),
    "SFT0609": ({}, {"taxBaseCode": PROVIDER_B}),
    "SFT0701": ({}, {"taxBaseCode": PROVIDER_B, "status": "FINISHED", "projectName": "没有这个"}),
    "SFT0801": (
        {},
        {
            "taxBaseCode": PROVIDER_B,
            "batchNo": "NOPE",
            "outBatchNo": "NOPE",
            "orderNo": "NOPE",
            "outOrderNo": "NOPE",
            "refundType": "BOUNCED_X",
            "startTime": "2030-01-01 00:00:00",
            "endTime": "2000-01-01 00:00:00",
        },
    ),
    "SFT1001": ({}, {"taxBaseCode": PROVIDER_B, "idCardNo": "FOURTH", "freelancerNo": "NOPE", "period": "2030-01"}),
}


@pytest.mark.parametrize("api_code", sorted(FILTERS))
def test_every_list_filter_changes_the_answer(contract: Contract, api_code: str) -> None:
    rig = contract.rig
    p, s = rig.person(1), rig.person(4)
    base, filters = FILTERS[api_code]
    base = {k: v for k, v in base.items() if k != "outKey"} | ({"idCardNo": p.id_card_no} if "outKey" in base else {})
    everything = rig.call(api_code, base)["list"]
    assert everything, f"{api_code}: the scenario left nothing to filter"
    if api_code == "SFT0801":  # a bounced and a failed order: both types are there
        filters = {**filters, "refundType": "BOUNCED" if everything[0]["refundType"] == "FAILED" else "FAILED"}
        assert {r["refundType"] for r in everything} == {"FAILED", "BOUNCED"}
    for field, nothing in filters.items():
        value = s.id_card_no if nothing == "FOURTH" else nothing
        if field == "refundType" and api_code == "SFT0801":
            narrowed = rig.call(api_code, {**base, field: value})["list"]
            assert 0 < len(narrowed) < len(everything), f"{api_code}.{field} does not filter"
            continue
        try:
            narrowed = rig.call(api_code, {**base, field: value})["list"]
        except PlatformError as exc:  # a filter may also refuse a value (e.g. an unknown provider)
            pytest.fail(f"{api_code}.{field}={value!r} refused: {exc}")
        assert len(narrowed) < len(everything), f"{api_code}.{field} does not change the answer"
