"""docs/api.md is generated from the models and must not drift from them; `lingong api` prints the catalogue."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from lingong_cli.main import app
from lingong_core.models.catalogue import CATALOGUE, MARKETING_CATALOGUE, NOTIFICATIONS
from lingong_core.models.docgen import render

API_MD = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_docs_api_md_matches_the_models() -> None:
    assert API_MD.read_text(encoding="utf-8") == render(), "docs/api.md is stale: run `make api-docs`"


def test_the_docs_have_one_section_per_api_code_and_notification() -> None:
    text = render()
    for code in CATALOGUE:
        assert f"\n### {code} — " in text, code
    for code in MARKETING_CATALOGUE:
        assert f"\n### {code} (marketing form) — " in text, code
    for notify_type in NOTIFICATIONS:
        assert f"\n### {notify_type} — " in text, notify_type


def test_the_docs_describe_sft0404_from_the_seed() -> None:
    text = render()
    section = text[text.index("### SFT0404 — ") :]
    section = section[: section.index("\n### ")]
    assert "| `amount` | number (money, > 0, yuan, 2 decimals) | yes |" in section
    assert "| `rechargeTime` | date-time `yyyy-MM-dd HH:mm:ss` | yes |" in section
    assert "| `openInvoiceModel` | enum: `0`, `1`, `2` | no, default `0` |" in section
    assert "`3000007`" in section
    assert "**Personal data**" in section  # the account numbers


def test_lingong_api_list_prints_the_whole_catalogue() -> None:
    result = CliRunner().invoke(app, ["api", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == len(CATALOGUE) + len(MARKETING_CATALOGUE)
    assert any(line.startswith("SFT0404") and "client.recharge.sync" in line for line in lines)
    assert any(line.startswith("SFT0402") and "待开发" in line for line in lines)
    assert any(line.startswith("SFT0502") and "client.marketing.submit" in line for line in lines)


def test_lingong_api_show_prints_one_entry() -> None:
    result = CliRunner().invoke(app, ["api", "show", "sft0404"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# SFT0404 — Recharge data sync (充值数据同步)")
    assert "`payChannelCode`" in result.output
    assert "Example bizModel" in result.output
    marketing = CliRunner().invoke(app, ["api", "show", "SFT0502", "--marketing"])
    assert marketing.exit_code == 0
    assert "`campaignNo`" in marketing.output


def test_lingong_api_show_refuses_an_unknown_code() -> None:
    result = CliRunner().invoke(app, ["api", "show", "SFT9999"])
    assert result.exit_code == 2
    assert "no apiCode SFT9999" in result.output
