"""What operators do between runs, through the real command line (`lingong payroll run`) against the sandbox:
fix a bad row, reorder and re-export, add, change or drop a project, rename the batch, change an amount
after payment, drop a line, run a second file for the same period, pay a bonus on purpose. After each
sequence, every person's total for the period comes from the sandbox's own audit: nobody is paid more than
the final payroll says, and a person whose paid amount the payroll no longer accounts for is HELD."""

from __future__ import annotations

import asyncio
import csv
import os
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import Result
from openpyxl import Workbook
from typer.testing import CliRunner

from flows.fund_account import fund_account
from lingong_cli.main import app
from lingong_sandbox.engine.audit import person_digest
from lingong_sandbox.people import Person
from tests.flows.conftest import Platform
from tests.flows.people import team

pytestmark = pytest.mark.usefixtures("prefect")

Line = tuple[Person, str]
HEAD = ["姓名", "身份证号", "手机号", "银行卡号", "金额", "备注"]
#: Order states whose money left the account and stayed out (paid, or still being paid).
HOLDING = {"SUCCESS", "ACCEPTED", "PROCESSING"}


@pytest.fixture(scope="module", autouse=True)
def _funded(prefect: None, platform: Platform) -> None:
    asyncio.run(fund_account(amount="500000.00", recharge_time="2026-11-01 09:00:00", reference="operator-sequences"))


def csv_file(path: Path, lines: list[Line], *, mobile: dict[int, str] | None = None) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEAD)
        for i, (p, amount) in enumerate(lines):
            writer.writerow([p.name, p.id_card_no, (mobile or {}).get(i, p.mobile), p.bank_card_no, amount, ""])
    return path


def xlsx_file(path: Path, lines: list[Line]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name", "idCardNo", "mobile", "bankCardNo", "amount", "remark"])
    for p, amount in lines:
        sheet.append([p.name, p.id_card_no, p.mobile, p.bank_card_no, float(amount), "re-exported"])
    book.save(path)
    return path


def pay(file: Path, period: str, *options: str) -> Result:
    return CliRunner().invoke(
        app, ["payroll", "run", str(file), "--period", period, "--wait", "120", *options], env=dict(os.environ)
    )


def totals(platform: Platform, period: str) -> dict[str, Decimal]:
    """Each person's money for the period, from the sandbox's audit (paid or still being paid)."""
    out: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for entry in platform.audit()["orders"].values():
        if entry["period"] == period and entry["statuses"][-1] in HOLDING:
            out[entry["person"]] += Decimal(str(entry["amount"]))
    return dict(out)


def requests_since(platform: Platform, since: int) -> list[dict[str, Any]]:
    """The sandbox's request log after request ``since``, every page."""
    out: list[dict[str, Any]] = []
    while True:
        page = httpx.get(
            f"{platform.server.admin_url}/requests", params={"sinceId": since, "limit": 1000}, timeout=30
        ).json()["list"]
        if not page:
            return out
        out += page
        since = page[-1]["id"]


def expect(platform: Platform, period: str, owed: dict[Person, str]) -> None:
    got = totals(platform, period)
    want = {person_digest(p.id_card_no): Decimal(a) for p, a in owed.items()}
    assert got == want, (got, want)
    assert platform.audit()["paid_twice"] == []


def test_fixing_a_bad_row_after_skip_invalid_pays_only_the_fixed_line(platform: Platform, workdir: Path) -> None:
    ann, bob = team(2, seed=1201)
    lines: list[Line] = [(ann, "100.00"), (ann, "50.00"), (bob, "20.00")]
    first = pay(csv_file(workdir / "a.csv", lines, mobile={0: "12345"}), "2025-01", "--skip-invalid")
    assert first.exit_code == 4, first.output  # the invalid row needs the operator
    assert "INVALID" in first.output
    expect(platform, "2025-01", {ann: "50.00", bob: "20.00"})
    fixed = pay(csv_file(workdir / "b.csv", lines), "2025-01")
    assert fixed.exit_code == 0, fixed.output
    again = pay(csv_file(workdir / "b.csv", lines), "2025-01")
    assert again.exit_code == 0, again.output
    expect(platform, "2025-01", {ann: "150.00", bob: "20.00"})


def test_reordering_re_exporting_projects_and_batch_names_pay_nobody_again(platform: Platform, workdir: Path) -> None:
    ann, bob, cat = team(3, seed=1202)
    lines: list[Line] = [(ann, "10.00"), (bob, "22.50"), (ann, "10.00"), (cat, "7.00")]  # Ann twice, same amount
    assert pay(csv_file(workdir / "p.csv", lines), "2025-02", "--batch-ref", "FIRST").exit_code == 0
    owed = {ann: "20.00", bob: "22.50", cat: "7.00"}
    expect(platform, "2025-02", owed)
    reordered = xlsx_file(workdir / "p.xlsx", list(reversed(lines)))
    for options in (
        (),
        ("--project", "PRJ-A"),
        ("--project", "PRJ-B"),
        ("--batch-ref", "SECOND"),
        ("--batch-ref", "THIRD", "--project", "PRJ-A"),
    ):
        result = pay(reordered, "2025-02", *options)
        assert result.exit_code == 0, (options, result.output)
        assert "| paid | 4 |" in result.output
    expect(platform, "2025-02", owed)
    assert sum(1 for e in platform.audit()["orders"].values() if e["period"] == "2025-02") == 4


def test_an_amount_changed_after_payment_is_held_and_paid_on_purpose_only(platform: Platform, workdir: Path) -> None:
    ann, bob = team(2, seed=1203)
    assert pay(csv_file(workdir / "a.csv", [(ann, "300.00"), (bob, "40.00")]), "2025-03").exit_code == 0
    edited = pay(csv_file(workdir / "b.csv", [(ann, "350.00"), (bob, "40.00")]), "2025-03")
    assert edited.exit_code == 4, edited.output
    assert "HELD" in edited.output
    assert "¥300.00 paid" in edited.output
    assert "350.00" in edited.output
    assert "--additional" in edited.output
    assert ann.id_card_no not in edited.output
    expect(platform, "2025-03", {ann: "300.00", bob: "40.00"})
    # the difference, on purpose, as an additional payment (and only once)
    bonus = csv_file(workdir / "c.csv", [(ann, "50.00")])
    for _ in range(2):
        result = pay(bonus, "2025-03", "--additional", "DIFF-ANN")
        assert result.exit_code == 0, result.output
    expect(platform, "2025-03", {ann: "350.00", bob: "40.00"})


def test_a_line_dropped_after_payment_holds_the_person(platform: Platform, workdir: Path) -> None:
    ann, bob = team(2, seed=1204)
    assert pay(csv_file(workdir / "a.csv", [(ann, "60.00"), (ann, "15.00"), (bob, "5.00")]), "2025-04").exit_code == 0
    dropped = pay(csv_file(workdir / "b.csv", [(ann, "60.00"), (bob, "5.00"), (bob, "9.00")]), "2025-04")
    assert dropped.exit_code == 4, dropped.output
    assert "HELD" in dropped.output
    # Ann is held (her ¥15 line is gone); Bob's new line is paid
    expect(platform, "2025-04", {ann: "75.00", bob: "14.00"})


def test_a_second_file_for_the_same_period_pays_only_what_it_adds(platform: Platform, workdir: Path) -> None:
    ann, bob, cat, dan = team(4, seed=1205)
    assert pay(csv_file(workdir / "a.csv", [(ann, "11.00"), (bob, "12.00")]), "2025-05").exit_code == 0
    second = pay(csv_file(workdir / "b.csv", [(ann, "11.00"), (cat, "13.00"), (dan, "14.00")]), "2025-05")
    assert second.exit_code == 0, second.output
    assert "have no line in this payroll" in second.output  # Bob: paid by the first file
    third = pay(csv_file(workdir / "c.csv", [(bob, "99.00")]), "2025-05")
    assert third.exit_code == 4, third.output  # Bob was paid 12.00 in this period: held, not paid 99 more
    expect(platform, "2025-05", {ann: "11.00", bob: "12.00", cat: "13.00", dan: "14.00"})


def test_a_dry_run_says_who_is_onboarded_held_and_the_balance_and_sends_only_reads(
    platform: Platform, workdir: Path
) -> None:
    ann, new = team(2, seed=1206)
    assert pay(csv_file(workdir / "a.csv", [(ann, "70.00")]), "2025-06").exit_code == 0
    mark = requests_since(platform, 0)[-1]["id"]
    dry = pay(csv_file(workdir / "b.csv", [(ann, "80.00"), (new, "8.00")]), "2025-06", "--dry-run")
    assert dry.exit_code == 4, dry.output  # Ann would be held
    assert "Dry run" in dry.output
    assert "would onboard first: 1 person(s)" in dry.output
    assert "HELD" in dry.output
    needed = re.search(r"balance needed ¥([\d,.]+)", dry.output)
    assert needed, dry.output  # the person onboarded first is paid by the same run: counted in what is needed
    assert Decimal(needed[1].replace(",", "")) > Decimal("8.00"), dry.output
    assert "available" in dry.output
    sent = {r["apiCode"] for r in requests_since(platform, mark)}
    assert sent
    assert sent <= {"SFT0501", "SFT0303", "SFT0503", "SFT0504", "SFT0505"}, sent
    expect(platform, "2025-06", {ann: "70.00"})
