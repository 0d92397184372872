"""The typed models: the catalogue covers the menu, SFT0404 follows the seed, every model round-trips,
unknown states are kept, and validation errors name the field, the masked value and the rule."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from lingong_core import jsoncodec
from lingong_core.envelope import biz_model_text
from lingong_core.errors import InputError
from lingong_core.models.base import (
    ModelValidationError,
    PageResponse,
    RecordModel,
    RequestModel,
    ResponseModel,
    is_known,
)
from lingong_core.models.catalogue import CATALOGUE, MARKETING_CATALOGUE, NOTIFICATIONS, ApiSpec, spec
from lingong_core.models.common import (
    AcctType,
    OpenInvoiceModel,
    PayChannelCode,
    RechargeStatus,
    SettlementStatus,
)
from lingong_core.models.examples import EXAMPLE_PERSON, example
from lingong_core.models.marketing import MarketingSettlementRequest
from lingong_core.models.notification import SettlementNotification, parse_notification
from lingong_core.models.recharge import RechargeQueryResponse, RechargeSyncRequest, RechargeSyncResponse, RechargeWay
from lingong_core.models.settlement import SettlementRefusal, SettlementRequest
from lingong_core.operations import MARKETING_SETTLEMENT_CODES, NOTIFICATION_TYPES, OPERATIONS
from lingong_core.timeutil import SHANGHAI

SEED_BIZ = (
    '{"amount":200021,"outOrderNo":"T202403040000001","payChannelCode":"3000003",'
    '"rechargeTime":1709540429621,"serviceAmount":0,"taxBaseCode":"2000064001"}'
)
SEED_ANSWER = {"code": 200, "msg": "成功", "orderNo": "2024030400000003", "outOrderNo": "T202403040000001"}

ALL_SPECS: list[ApiSpec] = [*CATALOGUE.values(), *MARKETING_CATALOGUE.values()]
SPEC_IDS = [s.api_code + ("-marketing" if s.marketing else "") for s in ALL_SPECS]


def all_models() -> list[type[BaseModel]]:
    """Every model reachable from the catalogue and the notifications, nested ones included."""
    seen: dict[type[BaseModel], None] = {}
    todo: list[type[BaseModel]] = [m for s in ALL_SPECS for m in (s.request, s.response)]
    todo += list(NOTIFICATIONS.values())
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen[model] = None
        for info in model.model_fields.values():
            todo.extend(_nested(info.annotation))
    return list(seen)


def _nested(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _nested(arg)]


# --------------------------------------------------------------------------------------------------
# The catalogue covers the menu
# --------------------------------------------------------------------------------------------------


def test_every_api_code_of_the_menu_has_a_request_and_a_response_model() -> None:
    missing = sorted(set(OPERATIONS) - set(CATALOGUE))
    assert not missing, f"apiCodes without models: {missing}"
    assert set(CATALOGUE) == set(OPERATIONS)
    for code, entry in CATALOGUE.items():
        assert entry.operation is OPERATIONS[code]
        assert issubclass(entry.request, RequestModel), code
        assert issubclass(entry.response, ResponseModel), code


def test_the_marketing_form_covers_its_four_codes_and_differs_by_the_campaign() -> None:
    assert tuple(MARKETING_CATALOGUE) == MARKETING_SETTLEMENT_CODES
    for code, entry in MARKETING_CATALOGUE.items():
        plain = CATALOGUE[code]
        assert issubclass(entry.request, plain.request)
        extra = set(entry.request.model_fields) - set(plain.request.model_fields)
        assert extra == {"campaign_no"}, code
        assert entry.request.model_fields["campaign_no"].is_required(), code


def test_every_notification_type_has_a_model() -> None:
    assert set(NOTIFICATIONS) == set(NOTIFICATION_TYPES)
    for notify_type, model in NOTIFICATIONS.items():
        assert model.notify_type == notify_type


def test_spec_lookup_is_forgiving_about_case_and_strict_about_codes() -> None:
    assert spec(" sft0404 ").request is RechargeSyncRequest
    assert spec("SFT0502", marketing=True).request is MarketingSettlementRequest
    with pytest.raises(KeyError):
        spec("SFT9999")


# --------------------------------------------------------------------------------------------------
# Conventions every model follows
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", all_models(), ids=lambda m: m.__name__)
def test_model_conventions(model: type[BaseModel]) -> None:
    if issubclass(model, RequestModel):
        assert model.model_config.get("extra") == "forbid"
        assert model.model_config.get("frozen") is True
    else:
        assert issubclass(model, RecordModel)
        assert model.model_config.get("extra") == "allow"
    for name, info in model.model_fields.items():
        wire = info.alias or name
        if name == "items":
            assert wire == "list"
        else:
            assert re.fullmatch(r"[a-z][a-zA-Z0-9]*", wire), (model.__name__, wire)
        assert not re.search(r"[A-Z]", name), (model.__name__, name)


# --------------------------------------------------------------------------------------------------
# SFT0404 follows the seed page's field table exactly
# --------------------------------------------------------------------------------------------------

SEED_FIELDS = {
    # wire name: required per the seed's table
    "outOrderNo": True,
    "taxBaseCode": True,
    "amount": True,
    "serviceAmount": True,
    "payChannelCode": True,
    "rechargeTime": True,
    "rechargeWay": False,
    "openInvoiceModel": True,  # required, but absent from the seed's example: defaults to 0 (contract §8)
    "payeeAcctType": False,
    "payeeBankAcctName": False,
    "payeeBankAcctNo": False,
    "payeeBankName": False,
    "payerAcctType": False,
    "payerBankAcctName": False,
    "payerBankAcctNo": False,
    "payerBankName": False,
    "remark": False,
}


def test_sft0404_has_the_seed_tables_fields_and_nothing_else() -> None:
    fields = {info.alias: info for info in RechargeSyncRequest.model_fields.values()}
    assert set(fields) == set(SEED_FIELDS)
    required = {name for name, info in fields.items() if info.is_required()}
    assert required == {name for name, req in SEED_FIELDS.items() if req} - {"openInvoiceModel"}
    assert fields["openInvoiceModel"].default is OpenInvoiceModel.NONE
    assert fields["rechargeWay"].default is RechargeWay.ACCT_TRANSFER_RECHARGE
    assert set(RechargeSyncResponse.model_fields) >= {"order_no", "out_order_no", "code", "msg"}


def test_sft0404_codes_are_the_seeds() -> None:
    assert {c.value for c in PayChannelCode} == {"3000001", "3000002", "3000003", "3000005", "3000007"}
    assert {w.value for w in RechargeWay} == {"ONLINE_RECHARGE", "ACCT_TRANSFER_RECHARGE"}
    assert {m.value for m in OpenInvoiceModel} == {0, 1, 2}
    assert {t.value for t in AcctType} == {"BANK", "ALI_PAY"}


def test_the_seeds_example_bizmodel_parses_as_contract_section_8_reads_it() -> None:
    request = RechargeSyncRequest.model_validate(jsoncodec.loads(SEED_BIZ))
    assert request.amount == Decimal("200021.00")
    assert request.service_amount == Decimal("0.00")
    assert request.pay_channel_code is PayChannelCode.CMB
    assert request.recharge_time == datetime(2024, 3, 4, 16, 20, 29, 621000, tzinfo=SHANGHAI)
    assert request.open_invoice_model is OpenInvoiceModel.NONE
    assert request.recharge_way is RechargeWay.ACCT_TRANSFER_RECHARGE
    assert biz_model_text(request) == (
        '{"outOrderNo":"T202403040000001","taxBaseCode":"2000064001","amount":200021,"serviceAmount":0,'
        '"payChannelCode":"3000003","rechargeTime":"2024-03-04 16:20:29",'
        '"rechargeWay":"ACCT_TRANSFER_RECHARGE","openInvoiceModel":0}'
    )
    answer = RechargeSyncResponse.model_validate(SEED_ANSWER)
    assert (answer.order_no, answer.out_order_no, answer.code) == ("2024030400000003", "T202403040000001", 200)


def test_sft0404_accepts_the_string_time_and_sends_two_decimal_numbers() -> None:
    request = RechargeSyncRequest(
        out_order_no="T1",
        tax_base_code="2000064001",
        amount="1,234.5",
        service_amount=Decimal("7.41"),
        pay_channel_code="3000007",
        recharge_time="2026-11-26 10:30:15",
        recharge_way="ONLINE_RECHARGE",
        open_invoice_model=2,
        payee_acct_type="ALI_PAY",
    )
    sent = jsoncodec.loads(biz_model_text(request))
    assert sent["amount"] == Decimal("1234.5")
    assert sent["serviceAmount"] == Decimal("7.41")
    assert sent["rechargeTime"] == "2026-11-26 10:30:15"
    assert sent["openInvoiceModel"] == 2
    assert sent["payeeAcctType"] == "ALI_PAY"


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("amount", 200021.5, "binary float"),
        ("amount", "1.234", "2 decimal places"),
        ("amount", 0, "more than 0"),
        ("serviceAmount", -1, "negative"),
        ("payChannelCode", "3000004", "3000001"),
        ("rechargeWay", "CASH", "ONLINE_RECHARGE"),
        ("openInvoiceModel", 3, "0, 1 or 2"),
        ("payeeAcctType", "WECHAT", "BANK"),
        ("rechargeTime", "yesterday", "yyyy-MM-dd HH:mm:ss"),
    ],
)
def test_sft0404_refuses_bad_values_naming_field_value_and_rule(field: str, value: Any, rule: str) -> None:
    data = {**jsoncodec.loads(SEED_BIZ), field: value}
    with pytest.raises(ModelValidationError) as caught:
        RechargeSyncRequest.model_validate(data)
    error = caught.value
    assert isinstance(error, InputError)
    assert error.field == field
    assert rule in error.rule or rule in str(error)
    assert str(value)[:4] in str(error)


def test_a_misspelt_field_is_refused_with_a_suggestion() -> None:
    data = {**jsoncodec.loads(SEED_BIZ), "outOrderNO": "T2"}
    with pytest.raises(
        ModelValidationError, match=r"outOrderNO: is not a field of this model; did you mean outOrderNo"
    ):
        RechargeSyncRequest.model_validate(data)


@settings(max_examples=60, deadline=None)
@given(cents=st.integers(min_value=1, max_value=10**13))
def test_any_amount_in_fen_survives_the_wire(cents: int) -> None:
    amount = Decimal(cents) / 100
    request = RechargeSyncRequest.model_validate({**jsoncodec.loads(SEED_BIZ), "amount": amount})
    text = biz_model_text(request)
    number = re.search(r'"amount":([0-9.]+)', text)
    assert number is not None
    assert re.fullmatch(r"\d+(\.\d{1,2})?", number.group(1))
    assert RechargeSyncRequest.model_validate(jsoncodec.loads(text)).amount == amount


# --------------------------------------------------------------------------------------------------
# Round trips: every request serialises as the gateway expects; every answer parses
# --------------------------------------------------------------------------------------------------


def _time_kind(annotation: Any) -> type | None:
    if annotation in (datetime, date):
        return annotation  # type: ignore[no-any-return]
    for arg in getattr(annotation, "__args__", ()):
        found = _time_kind(arg)
        if found is not None:
            return found
    return None


def _wire_values(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [v for item in value.values() for v in _wire_values(item)]
    if isinstance(value, list):
        return [v for item in value for v in _wire_values(item)]
    return [value]


@pytest.mark.parametrize("entry", ALL_SPECS, ids=SPEC_IDS)
def test_request_round_trip(entry: ApiSpec) -> None:
    data = example(entry.request)
    request = entry.request.model_validate(data)
    text = biz_model_text(request)
    assert "\\u" not in text  # Chinese is sent as is
    sent = jsoncodec.loads(text)
    for value in _wire_values(sent):
        assert not isinstance(value, float)
        if isinstance(value, Decimal):
            assert value == value.quantize(Decimal("0.01")), text
    for name, info in entry.request.model_fields.items():
        wire = info.alias or name
        kind = _time_kind(info.annotation)
        if kind is datetime:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", sent[wire]), wire
        elif kind is date:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", sent[wire]), wire
    assert entry.request.model_validate(sent) == request
    # keyword construction by attribute name gives the same model
    assert entry.request(**{name: getattr(request, name) for name in entry.request.model_fields}) == request


@pytest.mark.parametrize("entry", ALL_SPECS, ids=SPEC_IDS)
def test_response_parses_the_platforms_answer(entry: ApiSpec) -> None:
    answer = {**example(entry.response), "somethingNew": "kept"}
    parsed = entry.response.model_validate(jsoncodec.loads(jsoncodec.dumps(answer)))
    assert parsed.code == 200
    assert parsed.model_extra == {"somethingNew": "kept"}
    assert parsed.model_dump(mode="python", by_alias=True, exclude_none=True)["somethingNew"] == "kept"
    if isinstance(parsed, PageResponse):
        assert len(parsed.items) == parsed.total == 1


@pytest.mark.parametrize("notify_type", sorted(NOTIFICATIONS))
def test_notification_bizmodels_parse(notify_type: str) -> None:
    model = NOTIFICATIONS[notify_type]
    text = jsoncodec.dumps(example(model))
    parsed = parse_notification(notify_type, text)
    assert type(parsed) is model
    assert parse_notification(notify_type, jsoncodec.loads(text)) == parsed


def test_settlement_notification_allows_an_empty_fail_msg_and_batch_totals() -> None:
    data = example(SettlementNotification)
    data.pop("failMsg")
    for key in ("batchStatus", "successCount", "failCount", "successAmount", "failAmount"):
        data.pop(key)
    parsed = SettlementNotification.model_validate(data)
    assert parsed.fail_msg == ""
    assert parsed.batch_status is None


# --------------------------------------------------------------------------------------------------
# States: enums, and unknown values kept
# --------------------------------------------------------------------------------------------------


def test_known_states_become_members_and_unknown_ones_are_kept() -> None:
    base = example(RechargeQueryResponse)
    known = RechargeQueryResponse.model_validate({**base, "status": "SUCCESS"})
    assert known.status is RechargeStatus.SUCCESS
    assert is_known(known.status)
    novel = RechargeQueryResponse.model_validate({**base, "status": "REVERSED"})
    assert novel.status == "REVERSED"
    assert not is_known(novel.status)
    assert novel.status != RechargeStatus.SUCCESS
    assert jsoncodec.loads(biz_model_text(novel))["status"] == "REVERSED"


def test_request_state_filters_are_closed_enums() -> None:
    request_model = CATALOGUE["SFT0401"].request
    assert request_model(status="SUCCESS").status is RechargeStatus.SUCCESS  # type: ignore[call-arg]
    with pytest.raises(ModelValidationError, match="status"):
        request_model(status="REVERSED")  # type: ignore[call-arg]


def test_settlement_states_compare_with_plain_strings() -> None:
    assert SettlementStatus.BOUNCED == "BOUNCED"


# --------------------------------------------------------------------------------------------------
# Either/or keys and batch rules
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "fields"),
    [
        ("SFT0403", ("outOrderNo", "orderNo")),
        ("SFT0503", ("outBatchNo", "batchNo")),
        ("SFT0505", ("outOrderNo", "orderNo")),
        ("SFT0607", ("applyNo", "outApplyNo")),
        ("SFT0103", ("idCardNo", "freelancerNo")),
    ],
)
def test_queries_need_the_merchants_key_or_the_platforms_number(code: str, fields: tuple[str, str]) -> None:
    model = CATALOGUE[code].request
    data = example(model)
    model.model_validate({k: v for k, v in data.items() if k != fields[0]})
    model.model_validate({k: v for k, v in data.items() if k != fields[1]})
    with pytest.raises(ModelValidationError, match=f"one of {fields[0]}, {fields[1]} is required"):
        model.model_validate({k: v for k, v in data.items() if k not in fields})


def test_contract_query_takes_a_contract_number_or_person_and_provider() -> None:
    model = CATALOGUE["SFT0106"].request
    model.model_validate({"contractNo": "HT1"})
    model.model_validate({"idCardNo": EXAMPLE_PERSON["idCardNo"], "taxBaseCode": "2000064001"})
    with pytest.raises(ModelValidationError, match="contractNo"):
        model.model_validate({"idCardNo": EXAMPLE_PERSON["idCardNo"]})


def _batch(**overrides: Any) -> dict[str, Any]:
    data = example(SettlementRequest)
    data.update(overrides)
    return data


def test_a_batch_refuses_repeated_out_order_numbers() -> None:
    order = example(SettlementRequest)["orders"][0]
    with pytest.raises(ModelValidationError, match=r"orders\[1\]\.outOrderNo: repeats orders\[0\]"):
        SettlementRequest.model_validate(_batch(orders=[order, dict(order)]))


def test_a_batch_carries_one_to_a_thousand_orders() -> None:
    order = example(SettlementRequest)["orders"][0]
    with pytest.raises(ModelValidationError, match="orders"):
        SettlementRequest.model_validate(_batch(orders=[]))
    many = [{**order, "outOrderNo": f"T{i}"} for i in range(1001)]
    with pytest.raises(ModelValidationError, match="orders"):
        SettlementRequest.model_validate(_batch(orders=many))
    assert len(SettlementRequest.model_validate(_batch(orders=many[:1000])).orders) == 1000


def test_a_marketing_batch_needs_its_campaign() -> None:
    with pytest.raises(ModelValidationError, match="campaignNo: is required"):
        MarketingSettlementRequest.model_validate(_batch())
    assert MarketingSettlementRequest.model_validate(_batch(campaignNo="CP1")).campaign_no == "CP1"


def test_a_refused_batch_body_parses() -> None:
    body = {
        "code": 4003,
        "msg": "T2: freelancer not verified",
        "failures": [{"outOrderNo": "T2", "failCode": 4003, "failMsg": "not verified"}],
    }
    refusal = SettlementRefusal.model_validate(body)
    assert refusal.failures[0].out_order_no == "T2"
    assert refusal.failures[0].fail_code == 4003


# --------------------------------------------------------------------------------------------------
# Personal data: masked in errors and in repr
# --------------------------------------------------------------------------------------------------

RAW = ("110101199003071233", "13812345678", "6222021234567890128", "张三")


def test_validation_errors_show_personal_values_masked() -> None:
    order = {
        "outOrderNo": "T1",
        "name": "张三" * 30,  # too long
        "idCardNo": "11010119900307123",  # 17 characters
        "mobile": "23812345678",  # not a mobile
        "bankCardNo": "6222-0212-3456-789",  # 15 digits is fine; make it too short below
        "amount": "1234.567",
    }
    order["bankCardNo"] = "62220212"
    with pytest.raises(ModelValidationError) as caught:
        SettlementRequest.model_validate(_batch(orders=[order]))
    text = str(caught.value)
    fields = {issue.field for issue in caught.value.issues}
    assert fields == {
        "orders[0].name",
        "orders[0].idCardNo",
        "orders[0].mobile",
        "orders[0].bankCardNo",
        "orders[0].amount",
    }
    assert "110101*******7123" in text
    assert "238****5678" in text
    assert "张" + "*" * 59 in text
    for raw in ("11010119900307123", "23812345678", "62220212", "张三张三"):
        assert raw not in text
    assert "18-character ID card number" in text
    assert "1234.567" in text  # not personal: shown as is


def test_each_personal_shape_is_refused_in_its_own_words() -> None:
    """The shapes are pydantic's own constraints; a refusal still says the rule, never pydantic's pattern."""
    bad = {"name": "   ", "idCardNo": "11010119900307123", "mobile": "12812345678", "bankCardNo": "6222 0212"}
    with pytest.raises(ModelValidationError) as caught:
        SettlementRequest.model_validate(_batch(orders=[{"outOrderNo": "T1", "amount": "1.00", **bad}]))
    rules = {issue.field: issue.rule for issue in caught.value.issues}
    assert rules == {
        "orders[0].name": "must be a name (姓名) of 1–50 characters",
        "orders[0].idCardNo": "must be an 18-character ID card number (居民身份证号): 17 digits and a digit or X",
        "orders[0].mobile": "must be a mainland mobile number (手机号): 11 digits starting 13–19",
        "orders[0].bankCardNo": "must be a bank card number (银行卡号) of 12–19 digits",
    }
    assert "pattern" not in str(caught.value)
    good = {
        "name": " 张三 ",
        "idCardNo": " 11010119900307123x ",
        "mobile": " 13812345678",
        "bankCardNo": "6222-0212 3456",
    }
    order = SettlementRequest.model_validate(_batch(orders=[{"outOrderNo": "T1", "amount": "1.00", **good}])).orders[0]
    assert (order.name, order.id_card_no, order.mobile, order.bank_card_no) == (
        "张三",
        "11010119900307123X",
        "13812345678",
        "622202123456",
    )


def test_a_misspelt_personal_field_is_masked_too() -> None:
    with pytest.raises(ModelValidationError) as caught:
        CATALOGUE["SFT0101"].request.model_validate({**example(CATALOGUE["SFT0101"].request), "idcard": RAW[0]})
    assert RAW[0] not in str(caught.value)
    assert "110101********1233" in str(caught.value)


def test_repr_masks_personal_data_in_requests_responses_and_extras() -> None:
    request = SettlementRequest.model_validate(_batch())
    answer = CATALOGUE["SFT0103"].response.model_validate(
        {**example(CATALOGUE["SFT0103"].response), "idCardNo": RAW[0], "mobile": RAW[1], "cardNo": RAW[2]}
    )
    verify = CATALOGUE["SFT0101"].request.model_validate(example(CATALOGUE["SFT0101"].request))
    for model in (request, answer, verify):
        text = repr(model) + str(model)
        for raw in RAW:
            assert raw not in text, (type(model).__name__, raw)
    assert "张*" in repr(verify)
    assert "110101********1233" in repr(request)
    # the values themselves are intact: only their display is masked
    assert request.orders[0].id_card_no == RAW[0]
    assert biz_model_text(request).count(RAW[0]) == 1


def test_id_photos_are_never_shown() -> None:
    model = CATALOGUE["SFT0102"].request
    photo = "A" * 5000
    request = model.model_validate({"idCardNo": RAW[0], "frontImage": photo, "backImage": photo})
    assert photo not in repr(request)
    assert "<image, 5000 base64 chars>" in repr(request)


def test_request_ids_are_normalised() -> None:
    request = CATALOGUE["SFT0203"].request.model_validate(
        {"idCardNo": "11010119900307123x", "name": " 张三 ", "bankCardNo": "6222 0212 3456 7890 128"}
    )
    assert request.id_card_no == "11010119900307123X"  # type: ignore[attr-defined]
    assert request.name == "张三"  # type: ignore[attr-defined]
    assert request.bank_card_no == "6222021234567890128"  # type: ignore[attr-defined]


def test_requests_are_frozen_once_valid() -> None:
    request = RechargeSyncRequest.model_validate(jsoncodec.loads(SEED_BIZ))
    with pytest.raises(Exception, match="frozen"):
        request.amount = Decimal("1.00")  # type: ignore[misc]
