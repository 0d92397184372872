"""The client over httpx.MockTransport: envelope, answers, error mapping and the retry rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from lingong_core import errors
from lingong_core.client import AsyncLingongClient, LingongClient
from lingong_core.retry import RetryPolicy
from lingong_core.signing import SignAlgorithm, verify_envelope
from lingong_core.timeutil import SHANGHAI

BASE = "http://platform.test"
MERCHANT = "1088202103120003"
FAST = RetryPolicy(max_attempts=4, initial_wait=0.001, max_wait=0.01)
FIXED_NOW = datetime(2026, 11, 26, 10, 30, 15, tzinfo=SHANGHAI)

Handler = Callable[[httpx.Request], httpx.Response]


class Platform:
    """A scripted platform: answers in order, records every request it saw."""

    def __init__(self, *answers: httpx.Response | Exception | dict[str, Any]) -> None:
        self.answers = list(answers)
        self.seen: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(json.loads(request.content))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, dict):
            return httpx.Response(200, json=answer)
        return answer


def client_for(platform: Handler, keys, **kwargs: Any) -> LingongClient:
    private, _public = keys
    kwargs.setdefault("retry", FAST)
    return LingongClient(BASE, MERCHANT, private, transport=httpx.MockTransport(platform), **kwargs)


OK = {"code": 200, "msg": "成功", "orderNo": "2026112600000001", "outOrderNo": "T1"}


def test_envelope_is_signed_stamped_and_compact(small_keys) -> None:
    platform = Platform(OK)
    client = client_for(platform, small_keys, clock=lambda: FIXED_NOW)
    answer = client.call(
        "SFT0404",
        {"outOrderNo": "T1", "amount": Decimal("200021.50"), "remark": "十一月", "payerBankName": None},
        request_no="req-1",
    )
    assert answer == OK
    (sent,) = platform.seen
    assert sent["apiCode"] == "SFT0404"
    assert sent["merchantNo"] == MERCHANT
    assert sent["requestNo"] == "req-1"
    assert sent["version"] == "2.0"
    assert sent["timestamp"] == "20261126103015"
    assert sent["bizModel"] == '{"outOrderNo":"T1","amount":200021.5,"remark":"十一月"}'
    verify_envelope(sent, small_keys[1])


def test_request_no_is_generated_when_not_given(small_keys) -> None:
    platform = Platform(OK)
    client = client_for(platform, small_keys)
    client.call("SFT0303", {"taxBaseCode": "2000064001"})
    client.call("SFT0303", {"taxBaseCode": "2000064001"})
    first, second = (s["requestNo"] for s in platform.seen)
    assert first != second
    assert len(first) <= 64


def test_sha1_merchants_sign_with_sha1(small_keys) -> None:
    platform = Platform(OK)
    client_for(platform, small_keys, sign_algorithm="SHA1withRSA").call("SFT0303", {})
    verify_envelope(platform.seen[0], small_keys[1], SignAlgorithm.SHA1_WITH_RSA)


def test_answers_keep_amounts_as_decimal(small_keys) -> None:
    platform = Platform(httpx.Response(200, content=b'{"code":200,"msg":"ok","balance":1234.56,"count":3}'))
    answer = client_for(platform, small_keys).call("SFT0303", {})
    assert answer["balance"] == Decimal("1234.56")
    assert isinstance(answer["balance"], Decimal)
    assert answer["count"] == 3


def test_a_float_in_the_biz_model_is_refused_before_sending(small_keys) -> None:
    platform = Platform(OK)
    with pytest.raises(TypeError, match="float"):
        client_for(platform, small_keys).call("SFT0404", {"amount": 0.1})
    assert platform.seen == []


# --- error mapping: every code of contract §3 ---------------------------------------------------


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (400, errors.InvalidRequestError),
        (401, errors.SignatureError),
        (403, errors.ForbiddenError),
        (404, errors.NotFoundError),
        (408, errors.TimestampError),
        (409, errors.ConflictError),
        (429, errors.RateLimitedError),
        (500, errors.ServerError),
        (503, errors.ServerError),
        (4000, errors.BusinessError),
        (4101, errors.BusinessError),
        (4999, errors.BusinessError),
    ],
)
def test_every_code_maps_to_its_error(code: int, cls: type[errors.ApiError]) -> None:
    error = errors.error_from_response({"code": code, "msg": "m"}, api_code="SFT0502", request_no="r")
    assert type(error) is cls
    assert error.code == code
    assert "SFT0502" in str(error)


def test_conflict_carries_the_existing_number() -> None:
    error = errors.error_from_response({"code": 409, "msg": "dup", "orderNo": "2026"})
    assert isinstance(error, errors.ConflictError)
    assert error.existing_no == "2026"
    batch = errors.error_from_response({"code": 409, "msg": "dup", "batchNo": "B1"})
    assert isinstance(batch, errors.ConflictError)
    assert batch.existing_no == "B1"


def test_business_refusal_is_raised_with_its_code_and_not_retried(small_keys) -> None:
    platform = Platform({"code": 4201, "msg": "余额不足"})
    with pytest.raises(errors.BusinessError) as caught:
        client_for(platform, small_keys).call("SFT0502", {"outBatchNo": "B1"})
    assert caught.value.code == 4201
    assert len(platform.seen) == 1


@pytest.mark.parametrize("code", [400, 401, 403, 404, 409])
def test_refusals_are_not_retried(small_keys, code: int) -> None:
    platform = Platform({"code": code, "msg": "no"})
    with pytest.raises(errors.ApiError):
        client_for(platform, small_keys).call("SFT0303", {})
    assert len(platform.seen) == 1


# --- retries -------------------------------------------------------------------------------------


def test_a_write_that_times_out_is_attempted_exactly_once(small_keys) -> None:
    platform = Platform(httpx.ReadTimeout("slow"))
    with pytest.raises(errors.OutcomeUnknownError) as caught:
        client_for(platform, small_keys).call("SFT0502", {"outBatchNo": "B1"}, request_no="r-502")
    assert len(platform.seen) == 1
    assert caught.value.request_no == "r-502"
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


@pytest.mark.parametrize(
    "failure",
    [
        httpx.RemoteProtocolError("reset"),
        httpx.ReadError("reset"),
        httpx.WriteTimeout("w"),
        httpx.Response(500, json={"code": 500, "msg": "boom"}),
        httpx.Response(503, text="busy"),
        httpx.Response(200, json={"code": 503, "msg": "busy"}),
        httpx.Response(200, text="<html>"),
    ],
)
def test_a_write_whose_answer_is_lost_is_not_retried(small_keys, failure) -> None:
    platform = Platform(failure, OK)
    with pytest.raises(errors.OutcomeUnknownError):
        client_for(platform, small_keys).call("SFT0404", {"outOrderNo": "T1"})
    assert len(platform.seen) == 1


def test_a_429_is_retried_with_the_same_request_no(small_keys) -> None:
    limited = httpx.Response(200, json={"code": 429, "msg": "slow down"})
    platform = Platform(limited, limited, OK)
    answer = client_for(platform, small_keys).call("SFT0502", {"outBatchNo": "B1"}, request_no="r-429")
    assert answer == OK
    assert [s["requestNo"] for s in platform.seen] == ["r-429"] * 3
    assert len({s["bizModel"] for s in platform.seen}) == 1


def test_retry_after_is_honoured(small_keys) -> None:
    limited = httpx.Response(429, headers={"Retry-After": "0.01"}, text="")
    platform = Platform(limited, OK)
    assert client_for(platform, small_keys).call("SFT0303", {}) == OK
    assert len(platform.seen) == 2


def test_429_gives_up_after_the_policy_attempts(small_keys) -> None:
    platform = Platform({"code": 429, "msg": "slow down"})
    with pytest.raises(errors.RateLimitedError):
        client_for(platform, small_keys).call("SFT0502", {})
    assert len(platform.seen) == FAST.max_attempts


def test_a_408_is_restamped_and_resigned_with_the_same_request_no(small_keys) -> None:
    moments = iter(
        [datetime(2026, 11, 26, 10, 0, 0, tzinfo=SHANGHAI), datetime(2026, 11, 26, 10, 0, 7, tzinfo=SHANGHAI)]
    )
    platform = Platform({"code": 408, "msg": "stale"}, OK)
    client_for(platform, small_keys, clock=lambda: next(moments)).call("SFT0404", {"a": 1}, request_no="r-408")
    first, second = platform.seen
    assert first["requestNo"] == second["requestNo"] == "r-408"
    assert (first["timestamp"], second["timestamp"]) == ("20261126100000", "20261126100007")
    assert first["sign"] != second["sign"]
    verify_envelope(second, small_keys[1])


def test_a_connection_never_made_is_retried_for_writes(small_keys) -> None:
    platform = Platform(httpx.ConnectError("refused"), OK)
    assert client_for(platform, small_keys).call("SFT0502", {"outBatchNo": "B1"}) == OK
    assert len(platform.seen) == 2
    assert platform.seen[0]["requestNo"] == platform.seen[1]["requestNo"]


def test_a_connection_never_made_surfaces_as_not_received_after_the_attempts(small_keys) -> None:
    platform = Platform(httpx.ConnectError("refused"))
    with pytest.raises(errors.TransportError) as caught:
        client_for(platform, small_keys).call("SFT0502", {})
    assert caught.value.may_have_been_received is False
    assert len(platform.seen) == FAST.max_attempts


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("reset"),
        httpx.Response(500, json={"code": 500, "msg": "boom"}),
        httpx.Response(200, json={"code": 503, "msg": "busy"}),
    ],
)
def test_reads_retry_on_5xx_and_lost_answers(small_keys, failure) -> None:
    platform = Platform(failure, OK)
    assert client_for(platform, small_keys).call("SFT0503", {"outBatchNo": "B1"}) == OK
    assert len(platform.seen) == 2


def test_read_5xx_surfaces_as_server_error_after_the_attempts(small_keys) -> None:
    platform = Platform({"code": 500, "msg": "boom"})
    with pytest.raises(errors.ServerError):
        client_for(platform, small_keys).call("SFT0503", {})
    assert len(platform.seen) == FAST.max_attempts


def test_an_unknown_api_code_counts_as_a_write(small_keys) -> None:
    platform = Platform(httpx.ReadTimeout("slow"), OK)
    with pytest.raises(errors.OutcomeUnknownError):
        client_for(platform, small_keys).call("SFT9999", {})
    assert len(platform.seen) == 1


def test_should_retry_predicate_covers_every_outcome() -> None:
    from lingong_core.retry import should_retry

    def api(code: int) -> errors.ApiError:
        return errors.error_from_response({"code": code, "msg": "m"})

    retried = {code for code in (400, 401, 403, 404, 408, 409, 429, 500, 503, 4001) if should_retry(api(code))}
    assert retried == {408, 429, 500, 503}
    assert should_retry(errors.TransportError("x", may_have_been_received=False))
    assert not should_retry(errors.OutcomeUnknownError("x", api_code="SFT0502", request_no="r"))
    assert not should_retry(errors.InputError("amount", "must be more than 0"))


# --- the async client follows the same rules ------------------------------------------------------


async def _async_call(platform: Handler, keys, api_code: str, **kwargs: Any) -> dict[str, Any]:
    private, _ = keys
    async with AsyncLingongClient(
        BASE, MERCHANT, private, transport=httpx.MockTransport(platform), retry=FAST
    ) as client:
        return await client.call(api_code, {"outBatchNo": "B1"}, **kwargs)


def test_async_client_retries_429_and_keeps_request_no(small_keys) -> None:
    import asyncio

    platform = Platform({"code": 429, "msg": "slow"}, OK)
    assert asyncio.run(_async_call(platform, small_keys, "SFT0502", request_no="a-1")) == OK
    assert [s["requestNo"] for s in platform.seen] == ["a-1", "a-1"]


def test_async_client_write_timeout_is_attempted_once(small_keys) -> None:
    import asyncio

    platform = Platform(httpx.ReadTimeout("slow"), OK)
    with pytest.raises(errors.OutcomeUnknownError):
        asyncio.run(_async_call(platform, small_keys, "SFT0502"))
    assert len(platform.seen) == 1


def test_clients_share_the_process_ssl_context_unless_given_their_own(small_keys, monkeypatch) -> None:
    from lingong_core.client import SSL_CONTEXTS, SSLContexts

    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    shared = SSL_CONTEXTS.get()
    assert SSL_CONTEXTS.get() is shared  # built once per CA setting, not once per client
    own = SSLContexts()
    assert len(own) == 0
    with LingongClient("https://gateway.invalid", "M1", small_keys[0], ssl_contexts=own):
        assert len(own) == 1
    with LingongClient("https://gateway.invalid", "M1", small_keys[0], ssl_contexts=own):
        assert len(own) == 1
    assert own.get() is not shared
