"""Regression tests for the bugs the chaos suite found, one each, small and deterministic: the sandbox's
faults are drawn from a fixed seed and the requests that draw them go one at a time."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from lingong_sandbox.people import team
from tests.chaos.kit import TAX, ChaosSandbox, Keys, lingong_env

pytestmark = [pytest.mark.chaos]


@pytest.fixture
def sandbox(prefect_api: str, chaos_keys: Keys, tmp_path: Path) -> Iterator[ChaosSandbox]:
    """A fresh sandbox, the flows pointed at it (the Prefect harness is up)."""
    with ChaosSandbox(chaos_keys, tmp_path) as platform, lingong_env(platform, tmp_path / "journal.db"):
        yield platform


def test_onboarding_repeats_a_step_whose_answer_was_lost_instead_of_the_whole_chunk(sandbox: ChaosSandbox) -> None:
    """Found by ``errors_after``: one lost answer (a 500/503 after the platform committed) of any person's
    verification, card bind or contract failed the whole onboarding task, whose Prefect retries began every
    person again — with a few percent of answers lost, a chunk of people almost never got through, and each
    retry waited 2, 10, then 30 s. Every onboarding step is naturally idempotent, so the step is repeated."""
    from flows.onboard_freelancers import onboard_freelancers
    from tasks.onboarding import Freelancer, OnboardingState, store_people

    people = team(5, seed=71)
    sandbox.set_faults("error_after=0.35,only=SFT0109+SFT0203", seed=4)  # verify and contract, card bind
    report = asyncio.run(
        onboard_freelancers(
            store_people(
                [
                    Freelancer(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no)
                    for p in people
                ]
            ),
            TAX,
            concurrency=1,  # one request at a time: the same fault draws every time
            publish=False,
        )
    )
    assert [r.state for r in report.results] == [OnboardingState.READY] * 5
    assert sandbox.faults_injected() >= 3
    # Each person was looked up once (SFT0103): no retry of the whole chunk started everyone again.
    assert len(sandbox.requests_since(0, "SFT0103")) == 5


def test_a_bounced_payee_is_reported_with_a_reason(sandbox: ChaosSandbox) -> None:
    """Found by ``notifications``: the platform's order view of a bounced order carries no ``failMsg`` (the
    reason travels in notification 5001), and the run reported the payee BOUNCED with an empty reason."""
    from flows.fund_account import fund_account
    from flows.payroll_run import payroll_run
    from lingong_payroll.keys import RunKey
    from lingong_payroll.payees import PayeeRow
    from lingong_payroll.report import Outcome
    from tests.chaos.kit import MERCHANT_NO

    asyncio.run(fund_account(amount="1000.00", recharge_time="2026-11-01 09:00:00", tax_base_code=TAX, reference="b"))
    people = team(2, seed=72)
    bounced = RunKey(MERCHANT_NO, TAX, "2026-11", "BOUNCE").order_no(people[1].id_card_no, Decimal("10.00"), 1)
    sandbox.script(businessKey=bounced, outcome="BOUNCE")
    rows = [
        PayeeRow(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no, amount="10.00")
        for p in people
    ]
    sandbox.settle()
    for _ in range(20):  # the bounce comes after the payment
        report = asyncio.run(payroll_run("2026-11", payees=rows, additional_ref="BOUNCE"))
        if report.lines[1].outcome == Outcome.BOUNCED:
            break
        sandbox.settle()
    line = report.lines[1]
    assert (line.out_order_no, line.outcome) == (bounced, Outcome.BOUNCED)
    assert "退票" in line.reason
    assert "refunded" in line.reason


@pytest.mark.parametrize(
    ("field", "value"),
    [("notifyType", "\\ud800"), ("bizModel.outOrderNo", "\\ud83d")],
)
def test_a_notification_with_a_lone_surrogate_is_refused_not_a_500(
    chaos_keys: Keys, tmp_path: Path, field: str, value: str
) -> None:
    """Found by the hostile notifications: a JSON escape of half a surrogate pair (``\\ud800``) in an envelope
    field made the signature check raise UnicodeEncodeError (HTTP 500, and the platform would deliver it again
    and again); inside a correctly signed bizModel it reached the store's SQLite insert. Such text is not
    Unicode: the receiver refuses it as malformed (400)."""
    import httpx

    from lingong_core.signing import sign_envelope
    from lingong_core.timeutil import format_timestamp, now
    from tests.chaos.kit import MERCHANT_NO, running_receiver

    biz = '{"batchNo":"B1","outBatchNo":"OB1","orderNo":"O1","outOrderNo":"%s","amount":1.00,"serviceAmount":0.06,'
    biz += '"status":"SUCCESS","failMsg":"","completeTime":"2026-11-26 10:30:15"}'
    env = {
        "notifyType": "3001",
        "notifyNo": "N202611260001",
        "merchantNo": MERCHANT_NO,
        "version": "2.0",
        "timestamp": format_timestamp(now()),
        "bizModel": biz % (value if field == "bizModel.outOrderNo" else "PO1"),
    }
    env["sign"] = sign_envelope(env, chaos_keys.platform_private)  # the escape is plain ASCII until parsed
    text = "{" + ",".join(f'"{k}":"{v}"' if k != "bizModel" else f'"{k}":{_quoted(v)}' for k, v in env.items()) + "}"
    if field == "notifyType":
        text = text.replace('"3001"', f'"{value}"', 1)
    with running_receiver(chaos_keys, tmp_path) as (receiver, url), httpx.Client(trust_env=False) as http:
        answer = http.post(url, content=text.encode("ascii"))
        assert answer.status_code == 400, answer.text
        assert answer.json()["msg"].strip()
        assert receiver.store.list(limit=None) == []


def _quoted(text: str) -> str:
    import json

    return json.dumps(text)


@pytest.fixture
def bare_sandbox(chaos_keys: Keys, tmp_path: Path) -> Iterator[ChaosSandbox]:
    """A sandbox on its own, spoken to with raw signed requests."""
    with ChaosSandbox(chaos_keys, tmp_path) as platform:
        yield platform


@pytest.mark.parametrize("api_code", ["SFT0305", "SFT1001", "SFT0504"])
def test_a_page_number_past_any_data_answers_an_empty_page_not_a_500(bare_sandbox: ChaosSandbox, api_code: str) -> None:
    """Found by the hostile bizModels: ``pageNo`` 2⁶³−1 made the page's OFFSET overflow SQLite's integer and
    the sandbox answered 500 for SFT0305, SFT1001 and every other paged query."""
    biz = {
        "SFT0305": '{"taxBaseCode":"2000064001","pageNo":9223372036854775807,"pageSize":20}',
        "SFT1001": '{"taxBaseCode":"2000064001","period":"2026-11","pageNo":9223372036854775807,"pageSize":20}',
        "SFT0504": '{"outBatchNo":"NOSUCH","pageNo":9223372036854775807,"pageSize":1000}',
    }[api_code]
    answer = bare_sandbox.call_signed(api_code, biz)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["code"] in (200, 404), body
    if body["code"] == 200:
        assert body["list"] == []


@pytest.mark.parametrize(
    ("api_code", "biz"),
    [
        ("SFT0702", '{"projectNo":"\\ud800"}'),
        ("SFT0403", '{"outOrderNo":"T\\udfff"}'),
        ("SFT0103", '{"freelancerNo":"\\ud83d"}'),
    ],
)
def test_a_biz_model_holding_a_lone_surrogate_is_refused_not_a_500(
    bare_sandbox: ChaosSandbox, api_code: str, biz: str
) -> None:
    """Found by the hostile bizModels: a JSON escape of half a surrogate pair in a field that no model
    constraint looked at reached SQLite, which cannot encode it: 500. It is not Unicode text: 400."""
    answer = bare_sandbox.call_signed(api_code, biz)
    assert answer.status_code == 200, answer.text
    assert answer.json()["code"] == 400, answer.json()


def _twin_runs(
    sandbox: ChaosSandbox,
    prefect_api: str,
    tmp_path: Path,
    size: int,
    first_batch: int,
    second_batch: int,
    latency: str = "4s",
) -> tuple[Any, Any]:
    """One payroll run twice at once: first in a subprocess (cut into batches of ``first_batch``), then here
    (``second_batch``). Every SFT0502 waits ``latency`` at the platform, so the second run passes its pre-calculation
    before the first run's batches are in, then meets them with its own (409 on their ``outOrderNo``)."""
    from flows.fund_account import fund_account
    from flows.onboard_freelancers import onboard_freelancers
    from flows.payroll_run import payroll_run
    from lingong_payroll.payees import PayeeRow
    from tasks.onboarding import Freelancer, store_people
    from tests.chaos.scenarios import Runners

    asyncio.run(fund_account(amount="1000.00", recharge_time="2026-11-01 09:00:00", tax_base_code=TAX, reference="t"))
    rows = [
        PayeeRow(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no, amount="10.00")
        for p in team(size, seed=73)
    ]
    people = [
        Freelancer(name=r.name, id_card_no=r.id_card_no, mobile=r.mobile, bank_card_no=r.bank_card_no) for r in rows
    ]
    # both runs find everyone ready to be paid
    asyncio.run(onboard_freelancers(store_people(people), TAX, publish=False))
    runners = Runners(tmp_path, prefect_api)
    try:
        first = runners.take()
        sandbox.set_faults(f"latency={latency},only=SFT0502", seed=1)
        mark = sandbox.last_request_id()
        first.send(
            {
                "env": dict(os.environ),
                "period": "2026-11",
                "payees": [r.model_dump() for r in rows],
                "additional_ref": "TWIN",
                "batch_ref": "TWIN",
                "max_batch": first_batch,
                "wait": 60,
            }
        )
        for _ in range(600):  # the first run has pre-calculated: it is about to submit
            if sandbox.requests_since(mark, "SFT0501"):
                break
            time.sleep(0.02)
        second = asyncio.run(payroll_run("2026-11", payees=rows, additional_ref="TWIN", max_batch=second_batch))
        first.proc.wait(120)
        report = first.report()
        assert report is not None, first.text()[-3000:]
    finally:
        runners.close()
    if not any(r["code"] == 409 for r in sandbox.requests_since(mark, "SFT0502")):
        pytest.skip("the two runs did not overlap on this loaded machine: no SFT0502 met the other run's orders")
    return report, second


def _followed(sandbox: ChaosSandbox, *reports: Any) -> None:
    from lingong_payroll.report import FINAL

    audit = sandbox.settle()
    assert audit["paid_twice"] == []
    for report in reports:
        for line in report.lines:
            assert line.outcome in FINAL, (line.out_order_no, line.outcome, line.reason)
            assert audit["orders"][line.out_order_no]["statuses"] == ["SUCCESS"]


def test_a_payee_another_run_submitted_meanwhile_is_followed_not_left_pending(
    sandbox: ChaosSandbox, prefect_api: str, tmp_path: Path
) -> None:
    """Found by twin runs: two workers run one payroll at once, cut into batches differently (``max_batch``);
    both pass the pre-calculation, and the second one's SFT0502 meets the first one's orders (409 on an
    ``outOrderNo``). It left those payees PENDING with no reason and no batch to wait for; it must follow the
    orders the other run created, as it does for orders an earlier run created."""
    _followed(sandbox, *_twin_runs(sandbox, prefect_api, tmp_path, size=4, first_batch=1000, second_batch=1))


@pytest.mark.chaos_full
def test_a_batch_whose_orders_another_run_took_is_followed_whole(
    sandbox: ChaosSandbox, prefect_api: str, tmp_path: Path
) -> None:
    _followed(
        sandbox, *_twin_runs(sandbox, prefect_api, tmp_path, size=8, first_batch=1, second_batch=1000, latency="6s")
    )
