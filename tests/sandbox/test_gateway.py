"""The gateway over HTTP: envelope checks in order, signatures, the timestamp window, requestNo replay and
conflict, business-key conflicts, and malformed input that must be a 400 and never a 500."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from lingong_core import jsoncodec
from lingong_core.signing import generate_key_pair, public_key_to_pem
from tests.sandbox.sandbox_http import MERCHANT_NO, RawClient, Running, make_settings, minutes_ago, recharge_biz


def code_of(response: Any) -> int:
    assert response.status_code == 200, (response.status_code, response.text)
    code: int = jsoncodec.loads(response.content)["code"]
    return code


def test_a_valid_call_answers_200_with_flat_fields(sandbox: Running) -> None:
    biz = recharge_biz()
    answer = sandbox.client.call("SFT0404", biz)
    assert answer["code"] == 200, answer
    assert answer["outOrderNo"] == biz["outOrderNo"]
    assert answer["orderNo"]


def test_a_tampered_biz_model_answers_401(sandbox: Running) -> None:
    env = sandbox.client.envelope("SFT0404", recharge_biz(amount="100.00"))
    env["bizModel"] = env["bizModel"].replace('"amount":100', '"amount":900')
    answer = jsoncodec.loads(sandbox.client.send(env).content)
    assert answer["code"] == 401
    assert "sign" in answer["msg"]


def test_a_signature_by_another_key_or_algorithm_answers_401(sandbox: Running) -> None:
    other = generate_key_pair(1024)[0]
    assert code_of(sandbox.client.send(sandbox.client.envelope("SFT0404", recharge_biz(), key=other))) == 401
    assert code_of(sandbox.client.send(sandbox.client.envelope("SFT0404", recharge_biz(), sha1=True))) == 401
    env = sandbox.client.envelope("SFT0404", recharge_biz())
    env["sign"] = "not base64!"
    assert code_of(sandbox.client.send(env)) == 401


def test_sha1_merchants_and_1024_bit_keys_are_accepted(
    start_sandbox: Callable[..., Running], merchant_key: rsa.RSAPrivateKey
) -> None:
    small = generate_key_pair(1024)[0]
    settings = make_settings(merchant_key)
    settings.merchant.public_key_pem = public_key_to_pem(small.public_key())
    running = start_sandbox(settings=settings)
    client = RawClient(running.base_url, small)
    try:
        assert client.call("SFT0404", recharge_biz())["code"] == 200
        running.client.admin("PUT", "settings", {"signAlgorithm": "SHA1withRSA"})
        assert client.call("SFT0404", recharge_biz(), sha1=True)["code"] == 200
        assert client.call("SFT0404", recharge_biz())["code"] == 401
    finally:
        client.close()


def test_the_timestamp_window_is_five_minutes_and_a_restamped_retry_goes_through(sandbox: Running) -> None:
    request_no = str(uuid.uuid4())
    biz = recharge_biz()
    stale = sandbox.client.call("SFT0404", biz, request_no=request_no, timestamp=minutes_ago(6))
    assert stale["code"] == 408
    assert sandbox.client.call("SFT0404", recharge_biz(), timestamp=minutes_ago(-6))["code"] == 408
    # the 408 was not remembered: the same requestNo, re-stamped and re-signed, is handled
    assert sandbox.client.call("SFT0404", biz, request_no=request_no)["code"] == 200
    assert sandbox.client.call("SFT0404", recharge_biz(), timestamp=minutes_ago(4))["code"] == 200
    assert sandbox.client.call("SFT0404", recharge_biz(), timestamp="2024-03-04 16:20")["code"] == 400


def test_a_replayed_request_no_gets_the_identical_answer(sandbox: Running) -> None:
    env = sandbox.client.envelope("SFT0404", recharge_biz())
    first = sandbox.client.send(env)
    # a retry is stamped and signed afresh but carries the same requestNo, apiCode and bizModel
    again = sandbox.client.send(
        sandbox.client.envelope("SFT0404", env["bizModel"], request_no=env["requestNo"], timestamp=minutes_ago(1))
    )
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    log = sandbox.client.admin("GET", "requests")["list"]
    assert [e["outcome"] for e in log if e["requestNo"] == env["requestNo"]] == ["handled", "replayed"]


def test_a_reused_request_no_with_other_content_answers_409(sandbox: Running) -> None:
    request_no = str(uuid.uuid4())
    assert sandbox.client.call("SFT0404", recharge_biz(), request_no=request_no)["code"] == 200
    answer = sandbox.client.call("SFT0404", recharge_biz(), request_no=request_no)
    assert answer["code"] == 409
    assert "requestNo" in answer["msg"]
    other_api = sandbox.client.call("SFT0403", {"outOrderNo": "x"}, request_no=request_no)
    assert other_api["code"] == 409


def test_a_request_no_is_remembered_for_its_time_to_live_only(
    start_sandbox: Callable[..., Running], merchant_key: rsa.RSAPrivateKey
) -> None:
    sandbox = start_sandbox(settings=make_settings(merchant_key, request_no_ttl_seconds=1))
    request_no = str(uuid.uuid4())
    assert sandbox.client.call("SFT0404", recharge_biz(), request_no=request_no)["code"] == 200
    assert sandbox.client.call("SFT0404", recharge_biz(), request_no=request_no)["code"] == 409
    time.sleep(1.1)
    assert sandbox.client.call("SFT0404", recharge_biz(), request_no=request_no)["code"] == 200


def test_a_duplicate_out_order_no_answers_409_with_the_existing_order_no(sandbox: Running) -> None:
    biz = recharge_biz()
    first = sandbox.client.call("SFT0404", biz)
    second = sandbox.client.call("SFT0404", biz)  # a new requestNo: a second create with the same key
    assert second["code"] == 409
    assert second["orderNo"] == first["orderNo"]
    found = sandbox.client.call("SFT0403", {"outOrderNo": biz["outOrderNo"]})
    assert found["code"] == 200
    assert found["orderNo"] == first["orderNo"]


def test_envelope_refusals_in_order(sandbox: Running) -> None:
    c = sandbox.client
    assert c.call("SFT0404", recharge_biz(), version="1.0")["code"] == 400
    unknown = RawClient(sandbox.base_url, c.private_key, merchant_no="1088000000000000")
    try:
        assert unknown.call("SFT0404", recharge_biz())["code"] == 403
        # 403 comes before the timestamp and the signature
        assert unknown.call("SFT0404", recharge_biz(), timestamp=minutes_ago(60))["code"] == 403
    finally:
        unknown.close()
    # 408 comes before the signature
    env = c.envelope("SFT0404", recharge_biz(), timestamp=minutes_ago(60))
    env["sign"] = env["sign"][::-1]
    assert code_of(c.send(env)) == 408
    assert c.call("SFT9999", {})["code"] == 404
    c.admin("PUT", "settings", {"merchantEnabled": False})
    assert c.call("SFT0404", recharge_biz())["code"] == 403
    c.admin("PUT", "settings", {"merchantEnabled": True})
    assert c.call("SFT0404", recharge_biz())["code"] == 200


def test_a_malformed_biz_model_answers_400_naming_it(sandbox: Running) -> None:
    for text in ("not json", "[1,2]", "123", "null", '"text"', '{"amount": NaN}', "[" * 5000):
        answer = sandbox.client.call("SFT0404", text)
        assert answer["code"] == 400, (text[:20], answer)
        assert answer["msg"].startswith("bizModel"), answer


def _malformed_bodies(client: RawClient) -> list[bytes]:
    good = client.envelope("SFT0404", recharge_biz())
    bodies: list[bytes] = [
        b"",
        b"   ",
        b"not json",
        b"[1, 2, 3]",
        b"null",
        b"42",
        b'"a string"',
        b"{",
        b'{"apiCode": "SFT0404",}',
        b"\xff\xfe{\x00}\x00",
        b'{"apiCode": "\xc3\x28"}',
        b"\xef\xbb\xbf" + json.dumps(good).encode(),
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b'{"apiCode": 1e999999}',
        b'{"apiCode": NaN}',
        b'{"requestNo": ' + b"9" * 5000 + b"}",
        json.dumps({**good, "requestNo": "r" * 65}).encode(),
        json.dumps({**good, "requestNo": "r" * 100_000}).encode(),
        json.dumps({**good, "bizModel": "x" * 2_000_000}).encode(),
        json.dumps({**good, "apiCode": "../../etc/passwd"}).encode(),
        json.dumps({**good, "requestNo": "a\nb"}).encode(),
        json.dumps({**good, "sign": "\ud800"}).encode(),
        json.dumps({**good, "\udfff": "x"}).encode(),
        json.dumps({**good, "bizModel": {"amount": 1}}).encode(),
        json.dumps({**good, "extra": {"nested": True}}).encode(),
        json.dumps({**good, "timestamp": 20240304162030}).encode(),
        json.dumps({**good, "timestamp": "20241340250000"}).encode(),
        json.dumps({**good, "timestamp": "２０２４０３０４１６２０３０"}).encode(),
        b"x" * (9 * 1024 * 1024),
    ]
    for name in ("apiCode", "merchantNo", "requestNo", "timestamp", "version", "bizModel", "sign"):
        bodies.append(json.dumps({k: v for k, v in good.items() if k != name}).encode())
        for wrong in (None, "", 1, 1.5, True, [], {}):
            bodies.append(json.dumps({**good, name: wrong}).encode())
    return bodies


def test_malformed_bodies_answer_400_and_never_500(sandbox: Running) -> None:
    bodies = _malformed_bodies(sandbox.client)
    assert len(bodies) > 60
    for body in bodies:
        response = sandbox.client.post(body)
        assert response.status_code == 200, (body[:60], response.status_code, response.text[:200])
        answer = jsoncodec.loads(response.content)
        assert answer["code"] in (400, 401), (body[:60], answer)
        assert isinstance(answer["msg"], str)
        assert answer["msg"]
    log = sandbox.client.admin("GET", "requests?limit=100000")["list"]
    assert len(log) == len(bodies)
    assert not [e for e in log if e["httpStatus"] >= 500 or e["outcome"] == "error"]


def test_a_missing_field_is_named(sandbox: Running) -> None:
    good = sandbox.client.envelope("SFT0404", recharge_biz())
    for name in ("apiCode", "requestNo", "bizModel", "sign"):
        answer = jsoncodec.loads(sandbox.client.post(json.dumps({k: v for k, v in good.items() if k != name})).content)
        assert answer == {"code": 400, "msg": f"{name}: missing"}


def test_only_post_reaches_the_gateway(sandbox: Running) -> None:
    response = sandbox.client.http.get("/open/api/gateway.do")
    assert response.status_code == 405
    assert response.json()["code"] == 400


def test_the_request_log_records_every_call(sandbox: Running) -> None:
    sandbox.client.call("SFT0404", recharge_biz(), request_no="log-1")
    sandbox.client.call("SFT0404", recharge_biz(), timestamp=minutes_ago(10), request_no="log-2")
    entries = sandbox.client.admin("GET", "requests?apiCode=SFT0404")["list"]
    assert [(e["requestNo"], e["code"], e["merchantNo"]) for e in entries] == [
        ("log-1", 200, MERCHANT_NO),
        ("log-2", 408, MERCHANT_NO),
    ]
    assert all(e["time"] and e["apiCode"] == "SFT0404" for e in entries)
    later = sandbox.client.admin("GET", f"requests?sinceId={entries[0]['id']}")["list"]
    assert [e["requestNo"] for e in later] == ["log-2"]
