"""Fault injection: the spec grammar, and each fault as a client sees it over HTTP, deterministic under a seed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx
import pytest

from lingong_core import jsoncodec
from lingong_sandbox.faults import FaultInjector, FaultSpec, FaultSpecError, parse_faults
from tests.sandbox.sandbox_http import Running, recharge_biz

# --- the grammar -------------------------------------------------------------------------------------------


def test_the_spec_grammar_reads_every_key_and_round_trips() -> None:
    text = (
        "latency=20ms,latency_jitter=0.01s,error_before=0.05,error_after=0.05,reset_after=0.02,"
        "rate_limit=0.1,rate_limit_burst=5,max_rps=50,notify_duplicate=0.2,notify_reorder=0.2,only=SFT0502+sft0404"
    )
    spec = parse_faults(text)
    assert spec == FaultSpec(
        latency=0.02,
        latency_jitter=0.01,
        error_before=0.05,
        error_after=0.05,
        reset_after=0.02,
        rate_limit=0.1,
        rate_limit_burst=5,
        max_rps=50,
        notify_duplicate=0.2,
        notify_reorder=0.2,
        only=frozenset({"SFT0502", "SFT0404"}),
    )
    assert parse_faults(spec.text()) == spec
    assert parse_faults("") == parse_faults("none") == parse_faults(None) == FaultSpec()
    assert parse_faults(" latency = 15 ") == FaultSpec(latency=0.015)
    assert spec.applies_to("SFT0404")
    assert not spec.applies_to("SFT0403")
    assert not spec.applies_to(None)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("error_befor=0.1", "'error_befor'"),
        ("chaos=1", "'chaos'"),
        ("error_after=1.5", "error_after"),
        ("reset_after=lots", "reset_after"),
        ("latency=fast", "latency"),
        ("latency=5min", "latency"),
        ("rate_limit_burst=0", "rate_limit_burst"),
        ("max_rps=0.5", "max_rps"),
        ("only=SFT 0404", "only"),
        ("error_after", "'error_after'"),
        ("error_after=0.1,error_after=0.2", "'error_after'"),
    ],
)
def test_a_bad_spec_is_refused_naming_the_key(text: str, named: str) -> None:
    with pytest.raises(FaultSpecError, match=named):
        parse_faults(text)


def test_draws_are_deterministic_under_the_seed() -> None:
    def pattern(seed: int) -> list[object]:
        faults = FaultInjector(
            "error_before=0.3,error_after=0.3,reset_after=0.1,rate_limit=0.1,rate_limit_burst=2", seed
        )
        return [(faults.before("SFT0404"), faults.after("SFT0404")) for _ in range(200)]

    assert pattern(1) == pattern(1)
    assert pattern(1) != pattern(2)
    faults = FaultInjector("error_before=0.5", 3)
    for _ in range(100):
        faults.before("SFT0404")
    counts = faults.counts()
    assert 30 < counts["error_before_500"] + counts["error_before_503"] < 70


# --- over HTTP --------------------------------------------------------------------------------------------


def _order_exists(sandbox: Running, out_order_no: str) -> bool:
    answer = sandbox.client.call("SFT0403", {"outOrderNo": out_order_no})
    assert answer["code"] in (200, 404), answer
    return bool(answer["code"] == 200)


def _set_faults(sandbox: Running, spec: str, seed: int = 11) -> dict[str, object]:
    state: dict[str, object] = sandbox.client.admin("PUT", "faults", {"spec": spec, "seed": seed})
    return state


def test_admin_endpoint_sets_faults_and_refuses_a_bad_spec(sandbox: Running) -> None:
    state = _set_faults(sandbox, "error_after=0.5,only=SFT0404", seed=5)
    assert state["spec"] == "error_after=0.5,only=SFT0404"
    assert state["seed"] == 5
    response = sandbox.client.http.put("/sandbox/admin/faults", json={"spec": "eror_after=0.5"})
    assert response.status_code == 400
    assert "'eror_after'" in response.json()["msg"]
    assert sandbox.client.admin("GET", "faults")["spec"] == "error_after=0.5,only=SFT0404"


def test_error_before_answers_500_or_503_and_writes_nothing(sandbox: Running) -> None:
    _set_faults(sandbox, "error_before=1,only=SFT0404")
    statuses = set()
    for _ in range(6):
        biz = recharge_biz()
        response = sandbox.client.send(sandbox.client.envelope("SFT0404", biz))
        assert response.status_code in (500, 503)
        assert jsoncodec.loads(response.content)["code"] == response.status_code
        statuses.add(response.status_code)
        assert not _order_exists(sandbox, biz["outOrderNo"])  # SFT0403 is not in `only`
    assert statuses == {500, 503}
    counts = sandbox.client.admin("GET", "faults")["counts"]
    assert counts["error_before_500"] + counts["error_before_503"] == 6


def test_error_after_answers_500_or_503_but_the_write_committed(sandbox: Running) -> None:
    _set_faults(sandbox, "error_after=1,only=SFT0404")
    biz = recharge_biz()
    env = sandbox.client.envelope("SFT0404", biz)
    response = sandbox.client.send(env)
    assert response.status_code in (500, 503)
    assert jsoncodec.loads(response.content)["code"] == response.status_code
    assert _order_exists(sandbox, biz["outOrderNo"])
    _set_faults(sandbox, "")
    # the answer was stored with the write: a retry under the same requestNo gets it
    again = sandbox.client.call("SFT0404", env["bizModel"], request_no=env["requestNo"])
    assert again["code"] == 200
    assert again["outOrderNo"] == biz["outOrderNo"]


def test_reset_after_drops_the_connection_once_the_write_committed(sandbox: Running) -> None:
    _set_faults(sandbox, "reset_after=1,only=SFT0404")
    biz = recharge_biz()
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        sandbox.client.send(sandbox.client.envelope("SFT0404", biz))
    assert _order_exists(sandbox, biz["outOrderNo"])
    assert sandbox.client.admin("GET", "faults")["counts"]["reset_after"] == 1
    log = sandbox.client.admin("GET", "requests?apiCode=SFT0404")["list"]
    assert log[-1]["outcome"] == "fault:reset_after"
    assert log[-1]["code"] == 200  # what the platform did, though the caller never heard it


def test_rate_limit_bursts_answer_429_with_retry_after(sandbox: Running) -> None:
    _set_faults(sandbox, "rate_limit=1,rate_limit_burst=3,only=SFT0404")
    response = sandbox.client.send(sandbox.client.envelope("SFT0404", recharge_biz()))
    assert response.status_code == 200
    assert jsoncodec.loads(response.content)["code"] == 429
    assert float(response.headers["retry-after"]) > 0
    _set_faults(sandbox, "rate_limit=0.2,rate_limit_burst=3", seed=4)
    codes = [sandbox.client.call("SFT0403", {"outOrderNo": "none"})["code"] for _ in range(40)]
    runs = "".join("x" if c == 429 else "." for c in codes).split(".")
    assert {len(r) for r in runs if r} <= {3, 6, 9}  # whole bursts (back to back at most)
    assert codes.count(429) >= 3


def test_max_rps_throttles_within_one_second(sandbox: Running) -> None:
    _set_faults(sandbox, "max_rps=5,only=SFT0403")
    codes = [sandbox.client.call("SFT0403", {"outOrderNo": "none"})["code"] for _ in range(12)]
    assert codes[:5] == [404] * 5
    assert 429 in codes  # twelve calls take well under a second, so the sixth or a later one is throttled
    assert sandbox.client.admin("GET", "faults")["counts"]["max_rps"] == codes.count(429)
    time.sleep(1.05)
    assert sandbox.client.call("SFT0403", {"outOrderNo": "none"})["code"] == 404


def test_latency_delays_only_the_named_api_codes(sandbox: Running) -> None:
    _set_faults(sandbox, "latency=250ms,only=SFT0404")
    started = time.perf_counter()
    sandbox.client.call("SFT0403", {"outOrderNo": "none"})
    fast = time.perf_counter() - started
    started = time.perf_counter()
    sandbox.client.call("SFT0404", recharge_biz())
    slow = time.perf_counter() - started
    assert slow >= 0.25
    assert fast < 0.2


def test_the_same_seed_injects_the_same_faults(start_sandbox: Callable[..., Running]) -> None:
    def run() -> list[int]:
        sandbox = start_sandbox(faults="error_before=0.25,error_after=0.25")
        statuses = []
        for i in range(30):
            biz = recharge_biz(f"SEED{i:04d}")
            statuses.append(
                sandbox.client.send(sandbox.client.envelope("SFT0404", biz, request_no=f"r{i}")).status_code
            )
        return statuses

    first, second = run(), run()
    assert first == second
    assert {200, 500, 503} <= set(first)


def test_faults_hit_only_the_listed_api_codes(sandbox: Running) -> None:
    _set_faults(sandbox, "error_before=1,only=SFT0502")
    assert sandbox.client.call("SFT0404", recharge_biz())["code"] == 200
    assert sandbox.client.admin("GET", "faults")["counts"] == {}


def test_envelope_refusals_are_not_stored_so_a_fault_retry_goes_through(sandbox: Running) -> None:
    _set_faults(sandbox, "error_before=1,only=SFT0404")
    request_no = str(uuid.uuid4())
    biz = recharge_biz()
    assert sandbox.client.send(sandbox.client.envelope("SFT0404", biz, request_no=request_no)).status_code >= 500
    _set_faults(sandbox, "")
    assert sandbox.client.call("SFT0404", biz, request_no=request_no)["code"] == 200
