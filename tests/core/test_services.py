"""Service methods on both clients, against a platform played by an httpx.MockTransport handler.

The handler verifies the signature, parses the bizModel with the catalogue's request model (as the
platform would) and answers the response model's example, so every endpoint is exercised end to end.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from lingong_core import jsoncodec
from lingong_core.client import AsyncLingongClient, LingongClient
from lingong_core.errors import ConflictError, NotOfferedError, SignatureError
from lingong_core.models.base import ModelValidationError, PageResponse
from lingong_core.models.catalogue import CATALOGUE, MARKETING_CATALOGUE, spec
from lingong_core.models.examples import example
from lingong_core.models.notification import SettlementNotification
from lingong_core.models.recharge import RechargeSyncRequest, RechargeSyncResponse
from lingong_core.models.settlement import SettlementOrder, SettlementRequest, SettlementResponse
from lingong_core.operations import MARKETING_SETTLEMENT_CODES, OPERATIONS, Group
from lingong_core.retry import RetryPolicy
from lingong_core.services import SERVICE_CLASSES, Endpoint, PagedEndpoint
from lingong_core.signing import generate_key_pair, sign_envelope, verify_envelope

BASE = "http://platform.test"
MERCHANT = "1088202103120003"
NO_RETRY = RetryPolicy(max_attempts=1)

Answer = Mapping[str, Any] | Callable[[dict[str, Any]], Mapping[str, Any]]


@pytest.fixture(scope="module")
def keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey]:
    return generate_key_pair(1024)


@pytest.fixture(scope="module")
def platform_keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey]:
    return generate_key_pair(1024)


class Platform:
    """Verifies, parses with the catalogue, records, and answers (an override per apiCode, or the example)."""

    def __init__(self, public_key: rsa.RSAPublicKey, answers: dict[str, Answer] | None = None) -> None:
        self.public_key = public_key
        self.answers = answers or {}
        self.seen: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        envelope = json.loads(request.content)
        verify_envelope(envelope, self.public_key)
        biz = jsoncodec.loads(envelope["bizModel"])
        code = envelope["apiCode"]
        self.seen.append({"apiCode": code, "requestNo": envelope["requestNo"], "biz": biz})
        marketing = code in MARKETING_SETTLEMENT_CODES and "campaignNo" in biz
        entry = spec(code, marketing=marketing)
        entry.request.model_validate(biz)  # the platform's own parse must accept what was sent
        answer = self.answers.get(code)
        if callable(answer):
            answer = answer(biz)
        body = dict(answer) if answer is not None else example(entry.response)
        return httpx.Response(200, content=jsoncodec.dumps(body).encode())


def sync_client(platform: Platform, keys: Any, **kwargs: Any) -> LingongClient:
    return LingongClient(BASE, MERCHANT, keys[0], transport=httpx.MockTransport(platform), retry=NO_RETRY, **kwargs)


def async_client(platform: Platform, keys: Any, **kwargs: Any) -> AsyncLingongClient:
    return AsyncLingongClient(
        BASE, MERCHANT, keys[0], transport=httpx.MockTransport(platform), retry=NO_RETRY, **kwargs
    )


def endpoints() -> list[tuple[str, str, Endpoint[Any, Any]]]:
    """(client attribute, method name, endpoint) for every endpoint of every service class."""
    found = []
    for attr, cls in SERVICE_CLASSES.items():
        for name, value in vars(cls).items():
            if isinstance(value, Endpoint):
                found.append((attr, name, value))
    return found


ENDPOINTS = endpoints()
IDS = [f"{attr}.{name}" for attr, name, _ in ENDPOINTS]


# --------------------------------------------------------------------------------------------------
# Coverage of the menu
# --------------------------------------------------------------------------------------------------


def test_every_api_code_of_the_menu_has_a_service_method() -> None:
    plain = {e.api_code for _, _, e in ENDPOINTS if not e.spec.marketing}
    marketing = {e.api_code for _, _, e in ENDPOINTS if e.spec.marketing}
    assert sorted(set(OPERATIONS) - plain) == []
    assert marketing == set(MARKETING_SETTLEMENT_CODES)
    assert len(ENDPOINTS) == len(CATALOGUE) + len(MARKETING_CATALOGUE)  # one method per entry


def test_each_menu_group_has_its_service_class_and_its_methods_live_there() -> None:
    assert set(SERVICE_CLASSES) == {g.value for g in Group}
    for attr, _name, endpoint in ENDPOINTS:
        group = "marketing" if endpoint.spec.marketing else endpoint.spec.operation.group.value
        assert group == attr, endpoint


def test_both_clients_carry_every_service_group(keys: Any) -> None:
    platform = Platform(keys[1])
    with sync_client(platform, keys) as client:
        for attr, cls in SERVICE_CLASSES.items():
            assert isinstance(getattr(client, attr), cls)
    aclient = async_client(platform, keys)
    for attr, cls in SERVICE_CLASSES.items():
        assert isinstance(getattr(aclient, attr), cls)
    asyncio.run(aclient.aclose())


def test_paged_queries_are_exactly_the_paged_endpoints() -> None:
    for _, _, endpoint in ENDPOINTS:
        assert isinstance(endpoint, PagedEndpoint) == issubclass(endpoint.response, PageResponse), endpoint


# --------------------------------------------------------------------------------------------------
# Every endpoint, end to end
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("attr", "name", "endpoint"), ENDPOINTS, ids=IDS)
def test_every_endpoint_on_the_sync_client(attr: str, name: str, endpoint: Endpoint[Any, Any], keys: Any) -> None:
    platform = Platform(keys[1])
    request = endpoint.request.model_validate(example(endpoint.request))
    with sync_client(platform, keys) as client:
        method = getattr(getattr(client, attr), name)
        if not endpoint.spec.operation.offered:
            with pytest.raises(NotOfferedError, match="not yet offered by the platform"):
                method(request)
            assert platform.seen == []
            return
        answer = method(request, request_no=f"req-{endpoint.api_code}")
    assert type(answer) is endpoint.response
    assert answer.code == 200
    assert platform.seen == [
        {
            "apiCode": endpoint.api_code,
            "requestNo": f"req-{endpoint.api_code}",
            "biz": jsoncodec.loads(jsoncodec.dumps(request.wire())),
        }
    ]


@pytest.mark.parametrize(("attr", "name", "endpoint"), ENDPOINTS, ids=IDS)
def test_every_endpoint_on_the_async_client(attr: str, name: str, endpoint: Endpoint[Any, Any], keys: Any) -> None:
    platform = Platform(keys[1])
    fields = endpoint.request.model_validate(example(endpoint.request)).model_dump()

    async def run() -> Any:
        async with async_client(platform, keys) as client:
            return await getattr(getattr(client, attr), name)(**fields)

    if not endpoint.spec.operation.offered:
        with pytest.raises(NotOfferedError):
            asyncio.run(run())
        assert platform.seen == []
        return
    answer = asyncio.run(run())
    assert type(answer) is endpoint.response
    assert [s["apiCode"] for s in platform.seen] == [endpoint.api_code]


# --------------------------------------------------------------------------------------------------
# How a method takes its input
# --------------------------------------------------------------------------------------------------

SYNC_FIELDS: dict[str, Any] = {
    "out_order_no": "T202611260001",
    "tax_base_code": "2000064001",
    "amount": Decimal("200021.00"),
    "service_amount": Decimal("0"),
    "pay_channel_code": "3000003",
    "recharge_time": 1709540429621,
}


def test_keyword_fields_and_a_model_send_the_same_bizmodel(keys: Any) -> None:
    platform = Platform(keys[1])
    with sync_client(platform, keys) as client:
        by_fields = client.recharge.sync(**SYNC_FIELDS)
        by_model = client.recharge.sync(RechargeSyncRequest(**SYNC_FIELDS))
        by_wire_names = client.recharge.sync(
            outOrderNo="T202611260001", **{k: v for k, v in SYNC_FIELDS.items() if k != "out_order_no"}
        )
    assert isinstance(by_fields, RechargeSyncResponse)
    assert by_fields == by_model == by_wire_names
    assert platform.seen[0]["biz"] == platform.seen[1]["biz"] == platform.seen[2]["biz"]
    assert platform.seen[0]["biz"]["rechargeTime"] == "2024-03-04 16:20:29"
    assert platform.seen[0]["requestNo"] != platform.seen[1]["requestNo"]


def test_a_bad_field_is_refused_before_anything_is_signed_or_sent(keys: Any) -> None:
    platform = Platform(keys[1])
    with sync_client(platform, keys) as client:
        with pytest.raises(ModelValidationError, match=r"amount: must not be a binary float"):
            client.recharge.sync(**{**SYNC_FIELDS, "amount": 200021.0})
        with pytest.raises(ModelValidationError, match="did you mean"):
            client.recharge.sync(**SYNC_FIELDS, out_order_n0="x")
        with pytest.raises(TypeError, match="not both"):
            client.recharge.sync(RechargeSyncRequest(**SYNC_FIELDS), remark="x")
        with pytest.raises(TypeError, match="expected RechargeSyncRequest"):
            client.recharge.sync(SettlementRequest.model_validate(example(SettlementRequest)))  # type: ignore[arg-type]
    assert platform.seen == []


@pytest.mark.parametrize(("group", "method"), [("recharge", "apply"), ("contract", "upload")])
def test_the_two_operations_marked_unfinished_send_nothing(keys: Any, group: str, method: str) -> None:
    platform = Platform(keys[1])
    with sync_client(platform, keys) as client, pytest.raises(NotOfferedError) as caught:
        getattr(getattr(client, group), method)()  # even without fields: nothing is validated or sent
    assert "待开发" in str(caught.value)
    assert platform.seen == []


def test_errors_from_the_platform_come_through_unchanged(keys: Any) -> None:
    platform = Platform(keys[1], {"SFT0502": {"code": 409, "msg": "outBatchNo already used", "batchNo": "B-1"}})
    with sync_client(platform, keys) as client, pytest.raises(ConflictError) as caught:
        client.settlement.submit(SettlementRequest.model_validate(example(SettlementRequest)))
    assert caught.value.existing_no == "B-1"


def test_an_answer_that_does_not_fit_the_model_says_which_field(keys: Any) -> None:
    platform = Platform(keys[1], {"SFT0404": {"code": 200, "msg": "ok", "outOrderNo": "T1"}})
    refused = r"RechargeSyncResponse: 1 field refused: orderNo: is required"
    with sync_client(platform, keys) as client, pytest.raises(ModelValidationError, match=refused):
        client.recharge.sync(**SYNC_FIELDS)


def test_the_marketing_form_sends_the_campaign_on_the_settlement_code(keys: Any) -> None:
    platform = Platform(keys[1])
    batch = {**example(SettlementRequest), "campaignNo": "CP1"}
    with sync_client(platform, keys) as client:
        answer = client.marketing.submit(**batch)
        plain = client.settlement.submit(**example(SettlementRequest))
    assert [s["apiCode"] for s in platform.seen] == ["SFT0502", "SFT0502"]
    assert platform.seen[0]["biz"]["campaignNo"] == "CP1"
    assert "campaignNo" not in platform.seen[1]["biz"]
    assert type(answer).__name__ == "MarketingSettlementResponse"
    assert type(plain) is SettlementResponse


# --------------------------------------------------------------------------------------------------
# Paged queries
# --------------------------------------------------------------------------------------------------


def _orders_platform(keys: Any, count: int) -> Platform:
    record = example(SettlementOrder)

    def page(biz: dict[str, Any]) -> dict[str, Any]:
        start = (biz["pageNo"] - 1) * biz["pageSize"]
        rows = [{**record, "outOrderNo": f"T{i}"} for i in range(start, min(start + biz["pageSize"], count))]
        return {
            "code": 200,
            "msg": "成功",
            "pageNo": biz["pageNo"],
            "pageSize": biz["pageSize"],
            "total": count,
            "list": rows,
        }

    return Platform(keys[1], {"SFT0504": page})


def test_iter_walks_every_page_of_a_paged_query(keys: Any) -> None:
    platform = _orders_platform(keys, 45)
    with sync_client(platform, keys) as client:
        first = client.settlement.batch_orders(batch_no="2026112600000101")
        orders = list(client.settlement.batch_orders.iter(batch_no="2026112600000101"))
        pages = list(client.settlement.batch_orders.pages(batch_no="2026112600000101", page_size=40))
    assert len(first.items) == 20
    assert first.total == 45
    assert [o.out_order_no for o in orders] == [f"T{i}" for i in range(45)]
    assert all(isinstance(o, SettlementOrder) for o in orders)
    assert [len(p.items) for p in pages] == [40, 5]
    assert [s["biz"]["pageNo"] for s in platform.seen[1:4]] == [1, 2, 3]


def test_iter_stops_on_an_empty_query_and_on_an_empty_page(keys: Any) -> None:
    empty = _orders_platform(keys, 0)
    with sync_client(empty, keys) as client:
        assert list(client.settlement.batch_orders.iter(batch_no="B")) == []
    assert len(empty.seen) == 1
    # a platform whose total overstates its records must not make the walk endless
    liar = Platform(
        keys[1], {"SFT0504": {"code": 200, "msg": "", "pageNo": 1, "pageSize": 20, "total": 999, "list": []}}
    )
    with sync_client(liar, keys) as client:
        assert list(client.settlement.batch_orders.iter(batch_no="B")) == []
    assert len(liar.seen) == 1


def test_async_iter_walks_every_page(keys: Any) -> None:
    platform = _orders_platform(keys, 25)

    async def run() -> list[SettlementOrder]:
        async with async_client(platform, keys) as client:
            return [o async for o in client.settlement.batch_orders.iter(batch_no="B", page_size=10)]

    orders = asyncio.run(run())
    assert len(orders) == 25
    assert [s["biz"]["pageNo"] for s in platform.seen] == [1, 2, 3]


# --------------------------------------------------------------------------------------------------
# Notifications
# --------------------------------------------------------------------------------------------------


def _notification(platform_private: rsa.RSAPrivateKey, **overrides: Any) -> dict[str, Any]:
    envelope = {
        "notifyType": "3001",
        "notifyNo": "N-1",
        "merchantNo": MERCHANT,
        "version": "2.0",
        "timestamp": "20261126103015",
        "bizModel": jsoncodec.dumps(example(SettlementNotification)),
    }
    envelope.update(overrides)
    envelope["sign"] = sign_envelope(envelope, platform_private)
    return envelope


def test_a_signed_notification_is_verified_and_parsed(keys: Any, platform_keys: Any) -> None:
    platform = Platform(keys[1])
    with sync_client(platform, keys, platform_public_key=platform_keys[1]) as client:
        parsed = client.notification.parse(_notification(platform_keys[0]))
        assert isinstance(parsed, SettlementNotification)
        assert parsed.out_order_no == "T202611260001"
        tampered = _notification(platform_keys[0])
        tampered["bizModel"] = tampered["bizModel"].replace("1234.5", "9234.5")
        with pytest.raises(SignatureError):
            client.notification.parse(tampered)
        with pytest.raises(ValueError, match="notifyType"):
            client.notification.parse(_notification(platform_keys[0], notifyType="7777"))
    assert platform.seen == []
