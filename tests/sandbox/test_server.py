"""The sandbox as a server: in process on a free loopback port, restartable on its database file without
losing anything, and as the ``lingong sandbox`` command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from lingong_core import jsoncodec
from lingong_core.signing import load_private_key
from lingong_sandbox.server import SandboxServer
from tests.sandbox.sandbox_http import (
    MERCHANT_NO,
    RawClient,
    Receiver,
    Running,
    make_settings,
    recharge_biz,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[2]


def test_port_zero_binds_a_free_loopback_port(start_sandbox: Callable[..., Running]) -> None:
    a, b = start_sandbox(), start_sandbox()
    assert a.server.port != b.server.port
    assert a.server.port > 0
    assert a.base_url == f"http://127.0.0.1:{a.server.port}"
    assert a.client.admin("GET", "health") == {"status": "ok"}
    assert "BEGIN PUBLIC KEY" in a.server.platform_public_key_pem


def test_a_restart_on_the_same_db_file_loses_nothing(
    start_sandbox: Callable[..., Running], tmp_path: Path, receiver: Receiver
) -> None:
    db = tmp_path / "sandbox.db"
    first = start_sandbox(db_path=db)
    biz = recharge_biz()
    env = first.client.envelope("SFT0404", biz)
    answer = first.client.send(env)
    assert jsoncodec.loads(answer.content)["code"] == 200
    # the recharge completes in the background and queues a notification (no notify URL yet)
    wait_for(lambda: first.client.admin("GET", "notifications?notifyType=1001")["list"])
    first.server.stop()

    second = start_sandbox(db_path=db)
    found = second.client.call("SFT0403", {"outOrderNo": biz["outOrderNo"]})
    assert found["code"] == 200
    assert found["orderNo"] == jsoncodec.loads(answer.content)["orderNo"]
    # the requestNo store survived: the same request gets the same bytes
    again = second.client.send(
        second.client.envelope("SFT0404", env["bizModel"], request_no=env["requestNo"], timestamp=env["timestamp"])
    )
    assert again.content == answer.content
    assert second.client.call("SFT0404", biz)["code"] == 409  # and so did the business key
    # the outbox survived: the notification queued before the restart is delivered after it
    second.client.admin("PUT", "settings", {"notifyUrl": receiver.url})
    delivered = wait_for(lambda: receiver.bodies())
    assert jsoncodec.loads(delivered[0]["bizModel"])["outOrderNo"] == biz["outOrderNo"]
    log = second.client.admin("GET", "requests")["list"]
    assert log[0]["requestNo"] == env["requestNo"]  # the request log kept the first server's calls


class _BuggyEngine:
    """An engine with a bug in it: the gateway must answer 500, log it, and remember nothing."""

    def __init__(self, settings: Any, *, notify: Any) -> None:
        pass

    def handle(self, conn: Any, merchant_no: str, api_code: str, biz: dict[str, Any]) -> dict[str, Any]:
        conn.execute("CREATE TABLE IF NOT EXISTS buggy_writes (x)")
        conn.execute("INSERT INTO buggy_writes VALUES (1)")
        raise RuntimeError("a bug in the engine")

    def run_due(self, conn: Any, now: Any) -> int:
        return 0

    def audit(self, conn: Any) -> dict[str, Any]:
        return {"writes": conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'buggy_writes'").fetchone()[0]}


def test_an_internal_bug_answers_500_is_logged_and_remembers_nothing(
    platform_key: Any, merchant_key: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with SandboxServer(
        make_settings(merchant_key), platform_private_key=platform_key, engine_factory=_BuggyEngine
    ) as server:
        client = RawClient(server.base_url, merchant_key)
        try:
            env = client.envelope("SFT0404", recharge_biz())
            for _ in range(2):  # not stored under the requestNo: the retry reaches the engine again
                response = client.send(env)
                assert response.status_code == 500
                assert jsoncodec.loads(response.content)["code"] == 500
            assert client.admin("GET", "audit") == {"writes": 0}  # the transaction rolled back
            assert [e["outcome"] for e in client.admin("GET", "requests")["list"]] == ["error", "error"]
        finally:
            client.close()
    assert any("internal error" in r.getMessage() and r.exc_info for r in caplog.records)


def _cli(args: list[str], cwd: Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lingong_cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        **kwargs,
    )


def test_the_cli_refuses_an_unknown_fault_key(tmp_path: Path) -> None:
    result = _cli(["sandbox", "serve", "--port", "0", "--faults", "error_afterr=0.1"], tmp_path)
    assert result.returncode != 0
    assert "'error_afterr'" in result.stderr


def test_the_cli_serves_with_generated_keys_and_reports_audit_and_faults(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "lingong_cli.main", "sandbox", "serve", "--port", "0", "--time-scale", "1000"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ) as process:
        url = _drive_the_cli(process, tmp_path)
        assert "sandbox stopped" in (process.stdout.read() if process.stdout else "")
    assert process.returncode == 0
    assert (tmp_path / ".state" / "sandbox" / "sandbox.db").is_file()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/sandbox/admin/health", trust_env=False)


def _drive_the_cli(process: subprocess.Popen[str], tmp_path: Path) -> str:
    try:
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while not any(line.startswith("admin") for line in lines):
            line = process.stdout.readline()
            assert line or process.poll() is None, process.stderr.read() if process.stderr else ""
            lines.append(line.strip())
            assert time.monotonic() < deadline
        exports = dict(line.removeprefix("export ").split("=", 1) for line in lines if line.startswith("export "))
        assert exports["LINGONG_MERCHANT_NO"] == MERCHANT_NO
        keys = tmp_path / ".state" / "sandbox" / "keys"
        assert Path(exports["LINGONG_PRIVATE_KEY_FILE"]) == (keys / "merchant_private.pem").resolve()
        assert Path(exports["LINGONG_PLATFORM_PUBLIC_KEY_FILE"]).is_file()
        url = exports["LINGONG_BASE_URL"]
        assert url.startswith("http://127.0.0.1:")

        client = RawClient(url, load_private_key(Path(exports["LINGONG_PRIVATE_KEY_FILE"]).read_text()))
        try:
            assert client.call("SFT0404", recharge_biz())["code"] == 200
        finally:
            client.close()
        audit = _cli(["sandbox", "audit", "--url", url], tmp_path)
        assert audit.returncode == 0, audit.stderr
        assert "balanced" in jsoncodec.loads(audit.stdout)
        faults = _cli(["sandbox", "faults", "--url", url, "--set", "error_after=0.5", "--seed", "3"], tmp_path)
        assert faults.returncode == 0, faults.stderr
        assert jsoncodec.loads(faults.stdout)["spec"] == "error_after=0.5"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    return url
