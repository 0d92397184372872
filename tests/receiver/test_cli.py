"""``lingong notify list|state|serve`` (typer's CliRunner; configuration through the environment)."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner

from lingong_cli.main import app
from lingong_receiver import Store, verify_notification
from tests.receiver.receiver_helpers import BIZ_BY_TYPE, CARD, ID_CARD, MERCHANT_NO, MOBILE, NOW, body, settlement_biz

Keys = tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey]
runner = CliRunner()


def fill(db_path: Path, keys: Keys) -> None:
    with Store(db_path) as store:
        for notify_no, notify_type, biz in (
            ("N1", "8001", {**BIZ_BY_TYPE["8001"], "mobile": MOBILE}),
            ("N2", "3001", settlement_biz(status="FAILED", failMsg=f"卡 {CARD} 已冻结")),
        ):
            raw = body(keys[0], notify_no=notify_no, notify_type=notify_type, biz=biz)
            n = verify_notification(raw, merchant_no=MERCHANT_NO, public_key=keys[1], now=NOW)
            store.record(n, received_at=NOW)


def test_list_prints_recent_notifications_masked(db_path: Path, platform_keys: Keys) -> None:
    fill(db_path, platform_keys)
    result = runner.invoke(app, ["notify", "list", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    for secret in (ID_CARD, MOBILE, CARD):
        assert secret not in result.output
    assert result.output.index("N2") < result.output.index("N1")  # newest first
    assert "110101********1234" in result.output
    assert "event pending" in result.output


def test_list_as_json_filtered_by_type(db_path: Path, platform_keys: Keys) -> None:
    fill(db_path, platform_keys)
    result = runner.invoke(app, ["notify", "list", "--db", str(db_path), "--type", "3001", "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["notifyNo"] for r in rows] == ["N2"]
    assert rows[0]["resource"] == "lingong.settlement.B202403040001"
    assert rows[0]["bizModel"]["amount"] == "1234.00"


def test_list_refuses_a_bad_since(db_path: Path, platform_keys: Keys) -> None:
    fill(db_path, platform_keys)
    result = runner.invoke(app, ["notify", "list", "--db", str(db_path), "--since", "last week"])
    assert result.exit_code == 2


def test_state_prints_the_latest_state_or_exits_1(db_path: Path, platform_keys: Keys) -> None:
    fill(db_path, platform_keys)
    found = runner.invoke(app, ["notify", "state", "lingong.order.O202403040000001", "--db", str(db_path)])
    assert found.exit_code == 0, found.output
    answer = json.loads(found.output)
    assert (answer["resource"], answer["state"]) == ("lingong.order.PAY-2024-03-A-0001", "FAILED")
    assert CARD not in found.output
    missing = runner.invoke(app, ["notify", "state", "lingong.contract.NOPE", "--db", str(db_path)])
    assert missing.exit_code == 1
    bad = runner.invoke(app, ["notify", "state", "order.X", "--db", str(db_path)])
    assert bad.exit_code == 2


def test_serve_refuses_to_start_without_merchant_or_platform_key(tmp_path: Path) -> None:
    # None unsets a variable for the run, whatever the developer's shell exports
    env: dict[str, str | None] = {
        "LINGONG_MERCHANT_NO": None,
        "LINGONG_PLATFORM_PUBLIC_KEY": None,
        "LINGONG_PLATFORM_PUBLIC_KEY_FILE": None,
    }
    result = runner.invoke(app, ["notify", "serve", "--db", str(tmp_path / "n.db")], env=env)
    assert result.exit_code == 2
    assert "LINGONG_MERCHANT_NO" in result.output
    result = runner.invoke(
        app, ["notify", "serve", "--db", str(tmp_path / "n.db")], env={**env, "LINGONG_MERCHANT_NO": MERCHANT_NO}
    )
    assert result.exit_code == 2
    assert "LINGONG_PLATFORM_PUBLIC_KEY_FILE (a PEM file) or LINGONG_PLATFORM_PUBLIC_KEY" in result.output
