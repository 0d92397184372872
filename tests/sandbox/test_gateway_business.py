"""Business refusals and a whole pay run through the gateway over HTTP: each documented 4xxx code as the
caller sees it, and a settlement batch that leaves the ledger balanced to the cent with every key paid once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from lingong_core import jsoncodec
from lingong_core.signing import load_public_key, verify_envelope
from lingong_sandbox.engine import codes
from tests.sandbox.factories import Person, card_no, person, with_bad_check
from tests.sandbox.sandbox_http import TAX_BASE, RawClient, Receiver, Running, recharge_biz, wait_for

pytestmark = pytest.mark.timeout(60)


def onboard(client: RawClient, p: Person) -> None:
    """Verify, bind the card, generate and sign the contract, and wait until it is SIGNED."""
    assert client.call("SFT0101", p.verify_biz())["code"] == 200
    assert client.call("SFT0203", p.bind_biz())["code"] == 200
    contract = client.call("SFT0104", {"idCardNo": p.id_card_no, "taxBaseCode": TAX_BASE})
    assert contract["code"] == 200, contract
    assert client.call("SFT0105", {"contractNo": contract["contractNo"]})["code"] == 200
    wait_for(lambda: client.call("SFT0106", {"contractNo": contract["contractNo"]})["status"] == "SIGNED")


def fund(client: RawClient, amount: str) -> None:
    biz = recharge_biz(amount=amount)
    assert client.call("SFT0404", biz)["code"] == 200
    wait_for(lambda: client.call("SFT0403", {"outOrderNo": biz["outOrderNo"]})["status"] == "SUCCESS")


def settle(client: RawClient, out_batch_no: str, orders: list[dict[str, Any]]) -> dict[str, Any]:
    return client.call("SFT0502", {"outBatchNo": out_batch_no, "taxBaseCode": TAX_BASE, "orders": orders})


def test_a_bad_id_checksum_is_refused_with_its_code(sandbox: Running) -> None:
    p = person(1)
    answer = sandbox.client.call("SFT0101", {**p.verify_biz(), "idCardNo": with_bad_check(p.id_card_no)})
    assert answer["code"] == codes.ID_CARD_INVALID.code, answer
    assert p.id_card_no[6:14] not in answer["msg"]  # no personal data in clear


def test_a_credit_card_is_refused_with_its_code(sandbox: Running) -> None:
    p = person(2)
    assert sandbox.client.call("SFT0101", p.verify_biz())["code"] == 200
    credit = card_no("ICBC", "CREDIT", seq=77)
    lookup = sandbox.client.call("SFT0202", {"bankCardNo": credit})
    assert lookup["code"] == 200
    assert lookup["cardType"] == "CREDIT"
    answer = sandbox.client.call("SFT0203", {**p.bind_biz(), "bankCardNo": credit})
    assert answer["code"] == codes.CARD_NOT_DEBIT.code, answer


def test_over_limit_and_overdrawn_batches_are_refused_and_change_nothing(sandbox: Running) -> None:
    client = sandbox.client
    a, b = person(3), person(4)
    onboard(client, a)
    onboard(client, b)
    fund(client, "1000.00")
    before = client.call("SFT0303", {"taxBaseCode": TAX_BASE})

    over = settle(client, "B-OVER", [a.order("O-OVER-1", "50000.01")])
    assert over["code"] == codes.PER_ORDER_LIMIT_EXCEEDED.code, over
    assert "O-OVER-1" in over["msg"]

    overdrawn = settle(client, "B-SHORT", [a.order("O-SHORT-1", "600.00"), b.order("O-SHORT-2", "400.00")])
    assert overdrawn["code"] == codes.INSUFFICIENT_BALANCE.code, overdrawn  # 1,000 + fee > 1,000

    assert client.call("SFT0303", {"taxBaseCode": TAX_BASE}) == before
    assert client.call("SFT0503", {"outBatchNo": "B-SHORT"})["code"] == 404
    # a refused batch key is not used up: the same outBatchNo goes through once it fits
    assert settle(client, "B-SHORT", [a.order("O-SHORT-1", "600.00")])["code"] == 200


def test_a_settlement_batch_leaves_the_ledger_balanced_and_pays_every_key_once(sandbox: Running) -> None:
    client = sandbox.client
    people = [person(10 + i) for i in range(4)]
    for p in people:
        onboard(client, p)
    fund(client, "20000.00")
    amounts = ["1234.56", "0.01", "999.99", "3000.00"]
    orders = [p.order(f"PAY-{i}", amount) for i, (p, amount) in enumerate(zip(people, amounts, strict=True))]
    env = client.envelope("SFT0502", {"outBatchNo": "BATCH-1", "taxBaseCode": TAX_BASE, "orders": orders})
    accepted = client.send(env)
    answer = jsoncodec.loads(accepted.content)
    assert answer["code"] == 200, answer
    total = sum(Decimal(a) for a in amounts)
    assert Decimal(str(answer["totalAmount"])) == total

    # a retry of the same request is the same answer; a new request with the same key is a 409
    assert client.send(client.envelope("SFT0502", env["bizModel"], request_no=env["requestNo"])).content == (
        accepted.content
    )
    again = settle(client, "BATCH-1", orders)
    assert again["code"] == 409
    assert again["batchNo"] == answer["batchNo"]

    batch = wait_for(lambda: (r := client.call("SFT0503", {"outBatchNo": "BATCH-1"}))["status"] == "COMPLETED" and r)
    assert batch["successCount"] == 4
    assert Decimal(str(batch["successAmount"])) == total

    fee = Decimal(str(answer["serviceAmount"]))
    balance = client.call("SFT0303", {"taxBaseCode": TAX_BASE})
    assert Decimal(str(balance["balance"])) == Decimal("20000.00") - total - fee
    ledger = client.call("SFT0305", {"taxBaseCode": TAX_BASE, "pageNo": 1, "pageSize": 100})
    assert sum(Decimal(str(row["amount"])) for row in ledger["list"]) == Decimal(str(balance["balance"]))

    audit = client.admin("GET", "audit")
    assert audit["balanced"] is True
    assert audit["paid_twice"] == []
    assert audit["inconsistent"] == []
    assert {key: audit["orders"][key]["paid"] for key in (o["outOrderNo"] for o in orders)} == {
        f"PAY-{i}": 1 for i in range(4)
    }
    account = audit["ledger"][TAX_BASE]
    assert Decimal(str(account["balance"])) == Decimal(str(balance["balance"]))
    assert Decimal(str(account["payouts"])) == total


def test_a_scripted_failure_refunds_and_notifies_signed_results(sandbox: Running, receiver: Receiver) -> None:
    client = sandbox.client
    client.admin("PUT", "settings", {"notifyUrl": receiver.url})
    good, bad = person(20), person(21)
    onboard(client, good)
    onboard(client, bad)
    fund(client, "5000.00")
    client.admin("POST", "script-outcome", {"bankCardNo": bad.bank_card_no, "outcome": "FAIL"})
    answer = settle(client, "BATCH-F", [good.order("F-1", "100.00"), bad.order("F-2", "200.00")])
    assert answer["code"] == 200, answer
    batch = wait_for(lambda: (r := client.call("SFT0503", {"outBatchNo": "BATCH-F"}))["status"] == "COMPLETED" and r)
    assert (batch["successCount"], batch["failCount"]) == (1, 1)

    results = wait_for(lambda: len(r := [b for b in receiver.bodies() if b["notifyType"] == "3001"]) >= 2 and r)
    platform_key = load_public_key(sandbox.server.platform_public_key_pem)
    by_key = {}
    for body in results:
        verify_envelope(body, platform_key)
        biz = jsoncodec.loads(body["bizModel"])
        by_key[biz["outOrderNo"]] = biz["status"]
    assert by_key == {"F-1": "SUCCESS", "F-2": "FAILED"}

    audit = client.admin("GET", "audit")
    assert audit["balanced"] is True
    assert (audit["orders"]["F-1"]["paid"], audit["orders"]["F-2"]["paid"]) == (1, 0)
    fee = Decimal(str(audit["orders"]["F-1"]["amount"])) * Decimal("0.06")
    balance = Decimal(str(client.call("SFT0303", {"taxBaseCode": TAX_BASE})["balance"]))
    assert balance == Decimal("5000.00") - Decimal("100.00") - fee  # the failed order's money came back
