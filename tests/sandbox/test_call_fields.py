"""``lingong call`` accepts every request field issue 16 named against the sandbox, and the sandbox honours it.

Each field used to be refused by the core's request model although the sandbox read it (SFT0305
``changeType``, SFT0504 ``status``, SFT0801 ``refundType``, SFT0802 ``orderNo``/``outOrderNo``,
SFT0201/SFT0310 ``bindStatus``, SFT0109 ``templateNo``, SFT0311 ``bankBranch``, SFT0312/SFT0412
``bankAcctNo``, SFT0703 ``projectType``/``projectDesc``), or required by the model although the sandbox
did not need it (SFT0602 ``taxBaseCode``). The command runs in process (typer's runner) against a
started sandbox over HTTP, with the environment a user would set.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner

from lingong_cli.main import app
from lingong_core import jsoncodec
from lingong_core.signing import private_key_to_pem
from tests.sandbox.factories import person
from tests.sandbox.sandbox_http import MERCHANT_NO, TAX_BASE, Running, wait_for
from tests.sandbox.test_gateway_business import fund, onboard, settle

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def lingong(sandbox: Running, merchant_key: rsa.RSAPrivateKey) -> Any:
    env = {
        "LINGONG_BASE_URL": sandbox.base_url,
        "LINGONG_MERCHANT_NO": MERCHANT_NO,
        "LINGONG_PRIVATE_KEY": private_key_to_pem(merchant_key),
        "LINGONG_PLATFORM_PUBLIC_KEY": sandbox.server.platform_public_key_pem,
    }
    runner = CliRunner()

    def call(api_code: str, biz: dict[str, Any]) -> dict[str, Any]:
        result = runner.invoke(app, ["call", api_code, "--biz", jsoncodec.dumps(biz)], env=env)
        assert result.exit_code == 0, f"{api_code} {biz}: {result.output}"
        answer: dict[str, Any] = jsoncodec.loads(result.stdout)
        assert answer["code"] == 200, answer
        return answer

    return call


def test_lingong_call_accepts_every_field_the_issue_names(sandbox: Running, lingong: Any) -> None:
    client = sandbox.client
    paid, failed, third = person(61), person(62), person(63)
    onboard(client, paid)
    onboard(client, failed)
    fund(client, "1000.00")
    client.admin("POST", "script-outcome", {"bank_card_no": failed.bank_card_no, "outcome": "FAIL"})
    settle(client, "B-CALL", [paid.order("O-CALL-1", "10.00"), failed.order("O-CALL-2", "20.00")])
    wait_for(lambda: client.call("SFT0503", {"outBatchNo": "B-CALL"})["status"] == "COMPLETED")

    ledger = lingong("SFT0305", {"taxBaseCode": TAX_BASE, "changeType": "RECHARGE"})
    assert {e["changeType"] for e in ledger["list"]} == {"RECHARGE"}
    only_failed = lingong("SFT0504", {"outBatchNo": "B-CALL", "status": "FAILED"})
    assert [o["outOrderNo"] for o in only_failed["list"]] == ["O-CALL-2"]
    refunds = lingong("SFT0801", {"refundType": "FAILED"})
    assert [r["outOrderNo"] for r in refunds["list"]] == ["O-CALL-2"]
    assert lingong("SFT0801", {"refundType": "BOUNCED"})["list"] == []
    by_out = lingong("SFT0802", {"outOrderNo": "O-CALL-2"})
    assert lingong("SFT0802", {"orderNo": by_out["orderNo"]})["refundNo"] == by_out["refundNo"]
    assert [c["bindStatus"] for c in lingong("SFT0201", {"idCardNo": paid.id_card_no, "bindStatus": "BOUND"})["list"]]
    assert lingong("SFT0201", {"idCardNo": paid.id_card_no, "bindStatus": "UNBOUND"})["list"] == []
    both = lingong("SFT0109", {**third.verify_biz(), "taxBaseCode": TAX_BASE, "templateNo": "TPL-CALL"})
    assert lingong("SFT0106", {"contractNo": both["contractNo"]})["templateNo"] == "TPL-CALL"

    account = {"bankAcctName": "灵工示例科技有限公司", "bankName": "招商银行", "bankBranch": "海口分行"}
    first = lingong("SFT0311", {**account, "bankAcctNo": "6226090000000011"})
    assert first["bankBranch"] == "海口分行"
    lingong("SFT0311", {**account, "bankAcctNo": "6226090000000022"})
    withdrawn = lingong(
        "SFT0412",
        {
            "outWithdrawNo": "W-CALL",
            "taxBaseCode": TAX_BASE,
            "amount": Decimal("1.00"),
            "bankAcctNo": "6226090000000022",
        },
    )
    assert withdrawn["status"] == "PROCESSING"
    assert lingong("SFT0312", {"bankAcctNo": "6226090000000011"})["bindStatus"] == "UNBOUND"
    assert [a["bindNo"] for a in lingong("SFT0310", {"bindStatus": "UNBOUND"})["list"]] == [first["bindNo"]]

    project = lingong(
        "SFT0703",
        {"outProjectNo": "P-CALL", "projectName": "外卖配送", "taxBaseCode": TAX_BASE, "projectType": "配送",
         "projectDesc": "城区外卖配送"},
    )  # fmt: skip
    detail = lingong("SFT0702", {"projectNo": project["projectNo"]})
    assert (detail["projectType"], detail["description"]) == ("配送", "城区外卖配送")
    assert lingong("SFT0602", {})["list"]
