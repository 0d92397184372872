"""The whole menu through the engine: dispatch, 404s, answers that fit the core's response models, and
malformed input that never escapes as anything but a PlatformError."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lingong_core.models.catalogue import CATALOGUE, MARKETING_CATALOGUE
from lingong_core.operations import OPERATIONS
from lingong_sandbox.engine.base import HANDLERS
from lingong_sandbox.interface import PlatformError

from .factories import PROVIDER_A, Rig, card_no

D = Decimal


def test_every_offered_api_code_has_a_handler() -> None:
    offered = {code for code, op in OPERATIONS.items() if op.offered}
    assert offered <= set(HANDLERS)
    assert not {code for code, op in OPERATIONS.items() if not op.offered} & set(HANDLERS)


@pytest.mark.parametrize("api_code", ["SFT0402", "SFT0108"])
def test_not_yet_offered_is_404(api_code: str) -> None:
    refused = Rig().refused(api_code, {})
    assert refused.code == 404
    assert "待开发" in refused.msg


def test_unknown_api_code_and_non_object_biz() -> None:
    rig = Rig()
    assert rig.refused("SFT9999", {}).code == 404
    with rig.db.transaction() as conn, pytest.raises(PlatformError) as info:
        rig.platform.handle(conn, rig.merchant_no, "SFT0303", ["not", "an", "object"])  # type: ignore[arg-type]
    assert info.value.code == 400


class Walk:
    """Calls every apiCode once, in an order that makes each meaningful, checking each answer's shape."""

    def __init__(self) -> None:
        self.rig = Rig()
        self.seen: set[str] = set()

    def call(self, api_code: str, biz: dict[str, Any], *, marketing: bool = False) -> dict[str, Any]:
        answer = self.rig.call(api_code, biz)
        model = (MARKETING_CATALOGUE if marketing else CATALOGUE)[api_code].response
        model.model_validate({"code": 200, "msg": "成功", **answer})
        self.seen.add(api_code)
        return answer


def test_every_answer_fits_the_response_model() -> None:
    w = Walk()
    rig = w.rig
    p, q = rig.person(1), rig.person(2)
    image = base64.b64encode(b"\x89PNG not really").decode()
    verified = w.call("SFT0101", p.verify_biz())
    w.call("SFT0109", q.verify_biz(taxBaseCode=PROVIDER_A))
    w.call("SFT0102", {"idCardNo": p.id_card_no, "frontImage": image, "backImage": image})
    w.call("SFT0110", {"freelancerNo": verified["freelancerNo"]})
    w.call("SFT0202", {"bankCardNo": p.bank_card_no})
    bound = w.call("SFT0203", p.bind_biz())
    rig.call("SFT0203", q.bind_biz())
    w.call("SFT0201", {"idCardNo": p.id_card_no})
    contract = w.call("SFT0104", {"idCardNo": p.id_card_no, "taxBaseCode": PROVIDER_A})
    w.call("SFT0107", {"idCardNo": p.id_card_no, "taxBaseCode": PROVIDER_A})
    w.call("SFT0105", {"contractNo": contract["contractNo"]})
    rig.run(minutes=1)
    w.call("SFT0106", {"contractNo": contract["contractNo"]})
    w.call("SFT0111", {"idCardNo": p.id_card_no})
    w.call("SFT0103", {"idCardNo": p.id_card_no})
    for code in ("SFT0301", "SFT0302", "SFT0310", "SFT0401", "SFT0609", "SFT0606", "SFT0701", "SFT0801", "SFT0411"):
        w.call(code, {})
    w.call("SFT0303", {"taxBaseCode": PROVIDER_A})
    w.call("SFT0304", {"taxBaseCode": PROVIDER_A})
    w.call("SFT0404", {"outOrderNo": "T1", "taxBaseCode": PROVIDER_A, "amount": D(20000), "serviceAmount": D(0),
                       "payChannelCode": "3000003", "rechargeTime": "2024-03-04 16:00:00"})  # fmt: skip
    rig.run(minutes=1)
    w.call("SFT0403", {"outOrderNo": "T1"})
    w.call("SFT0305", {"taxBaseCode": PROVIDER_A})
    w.call("SFT0501", {"taxBaseCode": PROVIDER_A, "orders": [{"idCardNo": p.id_card_no, "amount": D("100.00")}]})
    batch = w.call("SFT0502", {"outBatchNo": "B1", "taxBaseCode": PROVIDER_A, "period": "2024-03",
                               "orders": [p.order("O1", "100.00"), q.order("O2", "200.00")]})  # fmt: skip
    rig.script(bank_card_no=q.bank_card_no, outcome="BOUNCE")
    rig.run()
    w.call("SFT0503", {"outBatchNo": "B1"})
    w.call("SFT0504", {"batchNo": batch["batchNo"]})
    w.call("SFT0505", {"outOrderNo": "O1"})
    w.call("SFT0506", {"outOrderNo": "O1"})
    w.call("SFT0510", {"outOrderNo": "S1", "taxBaseCode": PROVIDER_A, "name": p.name, "idCardNo": p.id_card_no,
                       "amount": D("50.00"), "serviceAmount": D("3.00"), "payTime": "2024-03-05 10:00:00"})  # fmt: skip
    refunds = w.call("SFT0801", {"outBatchNo": "B1"})
    w.call("SFT0802", {"refundNo": refunds["list"][0]["refundNo"]})
    w.call("SFT0601", {"taxBaseCode": PROVIDER_A})
    w.call("SFT0602", {"taxBaseCode": PROVIDER_A})
    w.call("SFT0603", {"taxBaseCode": PROVIDER_A})
    invoice = {"outApplyNo": "I1", "taxBaseCode": PROVIDER_A, "batchNos": [batch["batchNo"]]}
    applied = w.call("SFT0605", {**invoice, "invoiceType": "VAT_SPECIAL", "categoryCode": "C01", "amount": D("50.00")})
    w.call("SFT0607", {"applyNo": applied["applyNo"]})
    w.call("SFT0608", {"outApplyNo": "I1"})
    quota = w.call("SFT0610", {"taxBaseCode": PROVIDER_A})
    w.call("SFT0610", {"quotaAcctNo": quota["quotaAcctNo"]})
    w.call("SFT0611", {"outApplyNo": "I1"})
    project = w.call("SFT0703", {"outProjectNo": "P1", "projectName": "外卖配送", "taxBaseCode": PROVIDER_A})
    w.call("SFT0702", {"outProjectNo": "P1"})
    paid = rig.call("SFT0502", {"outBatchNo": "B-P1", "taxBaseCode": PROVIDER_A, "projectNo": project["projectNo"],
                                "orders": [p.order("O-P1", "10.00")]})  # fmt: skip
    rig.run(minutes=5)
    w.call("SFT0705", {"projectNo": project["projectNo"], "batchNo": paid["batchNo"],
                       "confirmDate": str(rig.clock.now.date()), "confirmContent": "验收通过"})  # fmt: skip
    spare = rig.call("SFT0703", {"outProjectNo": "P2", "projectName": "仓储", "taxBaseCode": PROVIDER_A})
    w.call("SFT0704", {"projectNo": spare["projectNo"]})
    account = w.call("SFT0311", {"bankAcctName": "灵工示例科技有限公司", "bankAcctNo": "6226090000000001",
                                 "bankName": "招商银行"})  # fmt: skip
    w.call("SFT0412", {"outWithdrawNo": "W1", "taxBaseCode": PROVIDER_A, "amount": D("100.00"),
                       "bindNo": account["bindNo"]})  # fmt: skip
    rig.run()
    w.call("SFT0413", {"outWithdrawNo": "W1"})
    w.call("SFT0312", {"bindNo": account["bindNo"]})
    w.call("SFT0901", {})
    w.call("SFT1001", {})
    today = str(rig.clock.now.date())
    campaign = w.call("SFT1101", {"outCampaignNo": "M1", "campaignName": "春季拉新", "taxBaseCode": PROVIDER_A,
                                  "startDate": today, "endDate": today, "budgetAmount": D("1000.00")})  # fmt: skip
    cno = campaign["campaignNo"]
    w.call("SFT0502", {"campaignNo": cno, "outBatchNo": "MB1", "taxBaseCode": PROVIDER_A,
                       "orders": [p.order("MO1", "10.00")]}, marketing=True)  # fmt: skip
    w.call("SFT0503", {"campaignNo": cno, "outBatchNo": "MB1"}, marketing=True)
    w.call("SFT0504", {"campaignNo": cno, "outBatchNo": "MB1"}, marketing=True)
    w.call("SFT0510", {"campaignNo": cno, "outOrderNo": "MS1", "taxBaseCode": PROVIDER_A, "name": p.name,
                       "idCardNo": p.id_card_no, "amount": D("5.00"), "serviceAmount": D("0.30"),
                       "payTime": "2024-03-05 10:00:00"}, marketing=True)  # fmt: skip
    w.call("SFT0204", {"bindNo": bound["bindNo"]})
    assert w.seen == set(HANDLERS)
    audit = rig.audit()
    assert audit["balanced"] is True
    assert audit["paid_twice"] == []
    assert audit["inconsistent"] == []


def test_a_broken_job_is_parked_and_the_rest_carry_on() -> None:
    rig = Rig()
    with rig.db.transaction() as conn:
        conn.execute(
            "INSERT INTO eng_job (merchant_no, kind, ref, due_at) VALUES (?, 'no_such_kind', 'x', 0)",
            (rig.merchant_no,),
        )
    rig.fund("10.00")
    assert rig.balance() == D("10.00")
    assert rig.audit()["jobs_failed"][0]["kind"] == "no_such_kind"


# -- malformed input: only PlatformError, never a crash -------------------------------------------------


def _field_names(api_code: str) -> list[str]:
    names = {"orders", "amount", "idCardNo", "bankCardNo", "campaignNo", "pageNo", "pageSize", "taxBaseCode"}
    for table in (CATALOGUE, MARKETING_CATALOGUE):
        spec = table.get(api_code)
        if spec is not None and spec.request is not None:
            names |= {f.alias or n for n, f in spec.request.model_fields.items()}
    return sorted(names)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.decimals(allow_nan=True, allow_infinity=True, places=None),
    st.text(max_size=30),
    st.sampled_from(["", "2000064001", "2024-03-04 16:20:30", "1709540429621", "ACCEPTED", "3000003", "C01", "x" * 70]),
    st.sampled_from([Rig().person(1).id_card_no, card_no(), card_no("CMB", "CREDIT"), "13812345678", "1.234", "-5"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=8,
)
_RIG = Rig()
_CODES = [*sorted(HANDLERS), "SFT0402", "SFT0108", "SFT0000"]


@st.composite
def _requests(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    api_code = draw(st.sampled_from(_CODES))
    names = _field_names(api_code) if api_code in HANDLERS else ["x"]
    keys = draw(st.lists(st.sampled_from(names) | st.text(max_size=10), max_size=6, unique=True))
    biz = {k: draw(_VALUES) for k in keys}
    if "orders" in biz and draw(st.booleans()):
        biz["orders"] = [
            draw(
                st.dictionaries(
                    st.sampled_from(["outOrderNo", "name", "idCardNo", "bankCardNo", "amount", "mobile"]),
                    _VALUES,
                    max_size=6,
                )
            )
        ]
    return api_code, biz


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(_requests())
def test_malformed_input_is_always_a_platform_error(request: tuple[str, dict[str, Any]]) -> None:
    api_code, biz = request
    outcome: dict[str, Any] | PlatformError
    try:
        outcome = _RIG.call(api_code, biz)
    except PlatformError as exc:  # anything else propagates and fails the test
        outcome = exc
    if isinstance(outcome, PlatformError):
        assert outcome.code in (400, 404, 409) or 4000 <= outcome.code <= 4999, outcome
        assert outcome.msg
    else:
        assert isinstance(outcome, dict)


def test_every_notification_fits_its_model() -> None:
    from lingong_core.models.catalogue import NOTIFICATIONS

    rig = Rig()
    p, q = rig.person(1), rig.person(2)
    rig.onboard(p)
    rig.onboard(q)
    rig.fund("1000")
    rig.script(id_card_no=p.id_card_no, outcome="BOUNCE")
    rig.script(id_card_no=q.id_card_no, outcome="FAIL")
    rig.call(
        "SFT0502", {"outBatchNo": "B1", "taxBaseCode": PROVIDER_A, "orders": [p.order("O1", "10"), q.order("O2", "10")]}
    )
    account = rig.call(
        "SFT0311", {"bankAcctName": "示例公司", "bankAcctNo": "6226090000000001", "bankName": "招商银行"}
    )
    rig.call(
        "SFT0412", {"outWithdrawNo": "W1", "taxBaseCode": PROVIDER_A, "amount": D("1.00"), "bindNo": account["bindNo"]}
    )
    rig.call("SFT0502", {"outBatchNo": "B2", "taxBaseCode": PROVIDER_A, "orders": [q.order("O3", "10")]})
    rig.run()
    b2 = rig.call("SFT0503", {"outBatchNo": "B2"})["batchNo"]
    invoice = {"outApplyNo": "I1", "taxBaseCode": PROVIDER_A, "batchNos": [b2], "amount": D("1.00")}
    rig.call("SFT0605", {**invoice, "invoiceType": "VAT_SPECIAL", "categoryCode": "C01"})
    rig.run()
    for _, notify_type, biz in rig.outbox.sent:
        NOTIFICATIONS[notify_type].model_validate(biz)
    assert {t for _, t, _ in rig.outbox.sent} == {"1001", "2001", "3001", "5001", "8001", "9001"}
