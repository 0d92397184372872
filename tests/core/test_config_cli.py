"""Configuration from LINGONG_* variables, and the `lingong keys` / `lingong demo` commands."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from lingong_cli.main import app
from lingong_core.config import LingongSettings
from lingong_core.errors import ConfigurationError
from lingong_core.signing import SignAlgorithm, load_private_key, load_public_key, private_key_to_pem, public_key_to_pem


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, small_keys) -> None:
    private, public = small_keys
    (tmp_path / "k.pem").write_text(private_key_to_pem(private))
    monkeypatch.setenv("LINGONG_BASE_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("LINGONG_MERCHANT_NO", "M42")
    monkeypatch.setenv("LINGONG_PRIVATE_KEY_FILE", str(tmp_path / "k.pem"))
    monkeypatch.setenv("LINGONG_PLATFORM_PUBLIC_KEY", public_key_to_pem(public))
    monkeypatch.setenv("LINGONG_SIGN_ALGORITHM", "SHA1withRSA")
    settings = LingongSettings()
    assert settings.base_url == "http://127.0.0.1:9"
    assert settings.sign_algorithm is SignAlgorithm.SHA1_WITH_RSA
    with settings.client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"code": 200}))) as client:
        assert client.merchant_no == "M42"
        assert client.platform_public_key is not None
        assert client.call("SFT0303", {}) == {"code": 200}


def test_settings_explain_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What is missing is judged without whatever LINGONG_* the process has (a user's shell, or the flow tests'
    # sandbox environment, which stays set for the session once a flow test has run).
    for name in [n for n in os.environ if n.startswith("LINGONG_")]:
        monkeypatch.delenv(name)
    with pytest.raises(ConfigurationError, match="LINGONG_BASE_URL"):
        LingongSettings(base_url="", merchant_no="M").client()
    with pytest.raises(ConfigurationError, match="LINGONG_PRIVATE_KEY"):
        LingongSettings(base_url="http://x", merchant_no="M").client()
    with pytest.raises(ConfigurationError, match="cannot read"):
        LingongSettings(base_url="http://x", merchant_no="M", private_key_file=tmp_path / "nope.pem").client()


def test_the_private_key_never_shows_in_repr(small_keys) -> None:
    pem = private_key_to_pem(small_keys[0])
    settings = LingongSettings(base_url="http://x", merchant_no="M", private_key=pem)
    assert pem.splitlines()[1] not in repr(settings)


def test_keys_generate_writes_a_usable_pair(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["keys", "generate", "--out", str(tmp_path), "--bits", "1024"])
    assert result.exit_code == 0, result.output
    private = load_private_key((tmp_path / "merchant_private.pem").read_text())
    public = load_public_key((tmp_path / "merchant_public.pem").read_text())
    assert private.key_size == 1024
    assert public.public_numbers() == private.public_key().public_numbers()
    assert (tmp_path / "merchant_private.pem").stat().st_mode & 0o777 == 0o600


def test_keys_generate_refuses_odd_sizes(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["keys", "generate", "--out", str(tmp_path), "--bits", "1000"])
    assert result.exit_code != 0
    assert "--bits" in result.output
