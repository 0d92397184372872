"""The stack end to end: deployments run by a process worker, the platform's signed notifications reaching
the receiver, and each one starting its follow-up deployment with the numbers it carried — while a forged,
a stale and a duplicate notification start nothing."""

from __future__ import annotations

import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect.client.schemas.objects import FlowRun

from lingong_cli.stack import Stack, StackConfig, lingong_env, up
from lingong_core.signing import generate_key_pair, load_private_key
from lingong_core.timeutil import now
from lingong_receiver.events import payload_of
from lingong_sandbox.people import card_number, team
from lingong_store.db import Database
from lingong_store.payees import PayeeStore
from tests.integration.stack_helpers import (
    FOLLOW_UPS,
    admin,
    eventually,
    notification_body,
    notifications,
    notify,
    platform_client,
    runs_of,
    start_run,
    triggered,
    wait_run,
    wait_run_approving,
)

pytestmark = pytest.mark.integration_slow

PERIOD = "2026-11"
FOLLOW_UPS_PARAMS = {name: list(fields) for name, fields in FOLLOW_UPS.values()}


def starts_follow_up(notification: dict[str, Any]) -> bool:
    """A 3001 starts the settlement follow-up only when it completes its batch (one run per batch); the
    8001s of one onboarding batch start one contract-signed run together (checked on their own)."""
    if notification["notifyType"] == "8001":
        return False
    if notification["notifyType"] != "3001":
        return notification["notifyType"] in FOLLOW_UPS
    return notification["biz"].get("batchStatus") == "COMPLETED"


def expected(notification: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The follow-up deployment a notification must start, and its parameters from the event payload."""
    deployment, fields = FOLLOW_UPS[notification["notifyType"]]
    payload = payload_of(notification["biz"])  # what the receiver emits: masked, amounts as text
    return deployment, {param: payload.get(field, "") for param, field in fields.items()}


def follow_up_runs(stack: Stack) -> list[tuple[str, FlowRun]]:
    return [
        (name, r)
        for name, _ in FOLLOW_UPS.values()
        if name != "contract-signed"
        for r in runs_of(stack, name)
        if triggered(r)
    ]


def all_followed_up(stack: Stack) -> list[tuple[str, FlowRun]] | None:
    """Every follow-up run, once there is one per notification sent and every one is final; else None."""
    sent = [n for n in notifications(stack) if starts_follow_up(n) and n["status"] == "ACKED"]
    found = follow_up_runs(stack)
    if len(found) < len(sent) or any(not r.state or not r.state.is_final() for _, r in found):
        return None
    return found


def phase(what: str, _start: list[float] = []) -> None:  # noqa: B006 - the first call's time, on purpose
    _start.append(_start[0] if _start else time.monotonic())
    print(f"[scenario +{time.monotonic() - _start[0]:5.1f} s] {what}")


@dataclass
class Scenario:
    people: list[Any]
    payroll: FlowRun
    bounced: dict[str, Any]
    repay: FlowRun
    runs: list[tuple[str, FlowRun]]
    sent: list[dict[str, Any]]  # the platform's notifications once the month's work was done (tests run in any order)


@pytest.fixture(scope="module")
def scenario(stack_config: StackConfig) -> Scenario:
    """A month of work through the deployments: fund, pay two new people (one card bounces), invoice,
    and re-pay the bounced one once their card is fixed."""
    stack = up(stack_config)
    phase("stack up")
    people = team(2, seed=8101)
    admin(stack, "POST", "script-outcome", bankCardNo=people[1].bank_card_no, outcome="BOUNCE")
    funded = wait_run(
        stack,
        start_run(
            stack,
            "fund-account/fund-account",
            {"amount": "20000.00", "recharge_time": "2026-11-02 09:00:00", "reference": "IT-STACK"},
        ),
    )
    assert funded.state_name == "Completed"
    phase("funded")
    payees = [
        {
            "name": p.name,
            "id_card_no": p.id_card_no,
            "mobile": p.mobile,
            "bank_card_no": p.bank_card_no,
            "amount": amount,
        }
        for p, amount in zip(people, ["1200.00", "845.50"], strict=True)
    ]
    # The deployment takes a file the worker reads (people typed into parameters would rest in Prefect's database);
    # the file is the operator's, outside the stack's state.
    sheet = Path(tempfile.mkdtemp(prefix="lingong-it-")) / "payroll.csv"
    sheet.write_text(
        "name,idCardNo,mobile,bankCardNo,amount\n"
        + "".join(f"{r['name']},{r['id_card_no']},{r['mobile']},{r['bank_card_no']},{r['amount']}\n" for r in payees),
        encoding="utf-8",
    )
    payroll = wait_run_approving(  # every payment waits for a second person's approval (make up's threshold 0)
        stack,
        start_run(
            stack,
            "payroll-run/payroll-run",
            {"period": PERIOD, "payroll_file": str(sheet), "batch_ref": "IT-STACK", "invoice": True},
        ),
    )
    assert payroll.state_name == "Completed"

    phase("payroll paid")
    # The bounce arrives after the payment: its follow-up records it and pays nobody.
    bounce = eventually(lambda: notifications(stack, "5001"), bool, "notification 5001", timeout=60)[0]
    bounced_run = eventually(
        lambda: [r for r in runs_of(stack, "bounced-order") if triggered(r) and r.state and r.state.is_final()],
        bool,
        "the bounced-order run the 5001 started",
    )[0]
    assert bounced_run.state_name == "Completed"
    assert bounced_run.parameters.get("card_fixed", False) is False
    orders = admin(stack, "GET", "audit")["orders"]
    assert orders[bounce["biz"]["outOrderNo"]]["debited"] == 0  # refunded, not re-paid

    phase("bounce followed up")
    # The operator fixes the card and says so: paid once, however often it is asked.
    fixed = dict(payees[1], bank_card_no=card_number(random.Random(8102), "621700", 19))
    fixed.pop("amount")
    # The person with the new card goes into the stack's payee store (as `lingong payees add-person` does).
    env = lingong_env(stack.config)
    with Database(env["LINGONG_DATABASE_URL"]) as db:
        key = Path(env["LINGONG_PAYEE_KEY_FILE"]).read_text()
        payee_ref = PayeeStore(db, key=key).put_people([fixed], source="integration test")
    repay_parameters = {"order_no": bounce["biz"]["orderNo"], "card_fixed": True, "payee_ref": payee_ref}
    # Asked twice at once (a double click): both runs complete, the platform's keys let one payment through.
    asked = [start_run(stack, "bounced-order/bounced-order", repay_parameters) for _ in range(2)]
    repay, again = (wait_run_approving(stack, run_id) for run_id in asked)
    assert (repay.state_name, again.state_name) == ("Completed", "Completed")

    phase("re-paid twice")
    runs = eventually(lambda: all_followed_up(stack), bool, "a final follow-up run for every notification", timeout=180)
    assert runs is not None
    phase("every follow-up final")
    return Scenario(people, payroll, bounce, repay, runs, notifications(stack))


def test_each_notification_starts_its_follow_up_with_its_numbers(stack: Stack, scenario: Scenario) -> None:
    sent = [n for n in scenario.sent if n["notifyType"] in FOLLOW_UPS]
    assert Counter(n["notifyType"] for n in sent) == {"1001": 1, "8001": 2, "3001": 3, "5001": 1, "9001": 1}
    assert all(n["status"] == "ACKED" for n in sent)

    starting = [n for n in sent if starts_follow_up(n)]
    assert len([n for n in starting if n["notifyType"] == "3001"]) == 2  # the payroll's batch, the re-payment's
    want = sorted((deployment, sorted(params.items())) for deployment, params in map(expected, starting))
    got = sorted((name, sorted((k, r.parameters.get(k)) for k in FOLLOW_UPS_PARAMS[name])) for name, r in scenario.runs)
    assert got == want  # one run per notification that starts one (per completed batch for 3001), with its numbers
    assert {r.state_name for _, r in scenario.runs} == {"Completed"}

    # The payroll onboarded its two new people in one batch: their two 8001s started one contract-signed
    # run, which checked both contracts (lingong.signing-group, prefect.yaml).
    signed = {n["biz"]["contractNo"] for n in sent if n["notifyType"] == "8001"}
    (batch_run,) = [
        r for r in runs_of(stack, "contract-signed") if triggered(r) and r.parameters.get("contract_no") in signed
    ]
    assert batch_run.parameters["contract_no"] in signed
    assert batch_run.parameters["onboarding_run"]  # the onboarding run that generated both contracts
    assert wait_run(stack, batch_run.id).state_name == "Completed"

    # Two paid, one of them bounced (refunded), and its re-payment paid once.
    audit = admin(stack, "GET", "audit")
    assert audit["paid_twice"] == []
    assert audit["balanced"] is True
    debited = {
        n["biz"]["outOrderNo"]: audit["orders"][n["biz"]["outOrderNo"]]["debited"]
        for n in sent
        if n["notifyType"] == "3001"
    }
    assert sorted(debited.values()) == [0, 1, 1]
    assert debited[scenario.bounced["biz"]["outOrderNo"]] == 0


def test_a_forged_a_stale_and_a_duplicate_notification_start_nothing(stack: Stack, scenario: Scenario) -> None:
    signed = notifications(stack, "8001")[0]
    merchant_no = signed["merchantNo"]
    platform_key = load_private_key((stack.config.keys_dir / "platform_private.pem").read_text())
    before = {r.id for r in runs_of(stack, "contract-signed")}
    received = httpx.get(stack.config.receiver_url + "/healthz", timeout=10).json()["notifications"]

    forger, _ = generate_key_pair(2048)
    forged = notify(stack, notification_body(forger, "8001", "N-IT-FORGED-1", signed["bizModel"], merchant_no))
    assert forged.status_code == 401
    stale = notify(
        stack,
        notification_body(
            platform_key, "8001", "N-IT-STALE-1", signed["bizModel"], merchant_no, at=now() - timedelta(minutes=10)
        ),
    )
    assert stale.status_code == 408
    duplicate = notify(
        stack, notification_body(platform_key, "8001", signed["notifyNo"], signed["bizModel"], merchant_no)
    )
    assert (duplicate.status_code, duplicate.text) == (200, "success")
    assert httpx.get(stack.config.receiver_url + "/healthz", timeout=10).json()["notifications"] == received

    # A control: a genuine new notification after them does start a run, so waiting for it is long enough —
    # the platform's 8001 for a person signed up now, outside any onboarding batch (a new signing group; a
    # fresh 8001 about the scenario's contract would join its batch's group and start nothing by design).
    person = team(1, seed=8150)[0]
    with platform_client(stack) as client:
        client.freelancer.verify(name=person.name, id_card_no=person.id_card_no, mobile=person.mobile)
        client.freelancer.bind_card(
            id_card_no=person.id_card_no, name=person.name, bank_card_no=person.bank_card_no, mobile=person.mobile
        )
        contract_no = client.contract.generate(id_card_no=person.id_card_no, tax_base_code="2000064001").contract_no
        client.contract.sign(contract_no=contract_no)
    new = eventually(
        lambda: [r for r in runs_of(stack, "contract-signed") if r.id not in before],
        bool,
        "the control notification's run",
        timeout=120,
    )
    assert len(new) == 1
    assert new[0].parameters["contract_no"] == contract_no
    assert wait_run(stack, new[0].id).state_name == "Completed"
    assert len([r for r in runs_of(stack, "contract-signed") if r.id not in before]) == 1
