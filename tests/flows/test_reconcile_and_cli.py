"""reconcile finds every difference between the runs' journal and the platform; `lingong payroll run`."""

from __future__ import annotations

import asyncio
import csv
import os
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import update
from typer.testing import CliRunner

from flows.fund_account import fund_account
from flows.payroll_run import payroll_run
from flows.reconcile import reconcile
from lingong_cli.main import app
from lingong_payroll.journal import Journal, JournalOrder, journal_order
from lingong_payroll.payees import PayeeRow
from lingong_payroll.report import Outcome
from lingong_sandbox.people import bad_checksum
from tests.flows.conftest import Platform
from tests.flows.people import team

pytestmark = pytest.mark.usefixtures("prefect")

TAX = "2000064002"  # the second provider: no other flow test pays through it


def test_reconcile_is_clean_after_runs_and_reports_what_differs(platform: Platform) -> None:
    people = team(3, seed=909)
    asyncio.run(
        fund_account(amount="5000.00", recharge_time="2026-11-02 10:00:00", tax_base_code=TAX, reference="reconcile")
    )
    payroll = [
        PayeeRow(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no, amount="100.00")
        for p in people
    ]
    paid = asyncio.run(payroll_run("2026-11", payees=payroll, tax_base_code=TAX, batch_ref="RECON"))
    assert [line.outcome for line in paid.lines] == [Outcome.PAID] * 3

    report = asyncio.run(reconcile(TAX))
    assert report.differences == []
    assert report.journal_orders == 3
    assert report.ledger_rows >= 7  # one recharge, then a payout and a fee for each order

    journal = Journal()
    journal.record(
        [JournalOrder("PO-NEVER-SENT", "manual", "2026-11", TAX, "", "", "", Decimal("1.00"), Decimal("0.06"), "PAID")]
    )
    first = paid.lines[0]
    # The journal keeps the first amount a key was recorded with (record() never rewrites it): a journal
    # that disagrees with the platform is made here by writing the table directly.
    with journal.db.begin() as conn:
        conn.execute(
            update(journal_order).where(journal_order.c.out_order_no == first.out_order_no).values(amount="999.00")
        )
    journal.close()
    kinds = {(d.kind, d.key) for d in asyncio.run(reconcile(TAX)).differences}
    assert ("missing on platform", "PO-NEVER-SENT") in kinds
    assert ("amount", first.out_order_no) in kinds


def _csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["姓名", "身份证号", "手机号", "银行卡号", "金额", "备注"])
        writer.writerows(rows)
    return path


def test_payroll_cli_pays_a_file_once_and_refuses_bad_rows(platform: Platform, workdir: Path) -> None:
    people = team(2, seed=808)
    asyncio.run(fund_account(amount="1000.00", recharge_time="2026-11-03 10:00:00", reference="cli"))
    good = _csv(
        workdir / "good.csv", [[p.name, p.id_card_no, p.mobile, p.bank_card_no, "12.30", "cli"] for p in people]
    )
    runner = CliRunner()
    args = ["payroll", "run", str(good), "--period", "2026-10", "--batch-ref", "CLI"]
    result = runner.invoke(app, args, env=dict(os.environ))
    assert result.exit_code == 0, result.output
    assert "paid | 2" in result.output
    again = runner.invoke(app, args, env=dict(os.environ))
    assert again.exit_code == 0, again.output
    assert "submitted by an earlier run" in again.output or "paid | 2" in again.output

    bad = _csv(
        workdir / "bad.csv",
        [[people[0].name, bad_checksum(people[0].id_card_no), people[0].mobile, people[0].bank_card_no, "12.30", ""]],
    )
    refused = runner.invoke(app, ["payroll", "run", str(bad), "--period", "2026-10"], env=dict(os.environ))
    assert refused.exit_code == 1
    assert "row 2, idCardNo: check character does not match" in refused.output
    assert people[0].id_card_no[6:14] not in refused.output  # the birth date part is masked


def test_an_xlsx_payroll_is_accepted_by_the_flow(platform: Platform, workdir: Path) -> None:
    people = team(2, seed=707)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name", "idCardNo", "mobile", "bankCardNo", "amount", "remark"])
    for p in people:
        sheet.append([p.name, p.id_card_no, p.mobile, p.bank_card_no, 45.6, "xlsx"])
    book.save(workdir / "payroll.xlsx")
    report = asyncio.run(
        payroll_run("2026-11", payroll_file=str(workdir / "payroll.xlsx"), dry_run=True, onboard_missing=False)
    )
    assert [line.amount for line in report.lines] == [Decimal("45.60")] * 2
    assert all(line.outcome == Outcome.REFUSED and "4106" in line.reason for line in report.lines)  # not onboarded


def test_lingong_call_makes_one_raw_signed_call(platform: Platform) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["call", "SFT0303", "--biz", '{"taxBaseCode":"2000064001"}'], env=dict(os.environ))
    assert ok.exit_code == 0, ok.output
    assert '"code":200' in ok.output
    assert '"availableAmount":' in ok.output
    refused = runner.invoke(app, ["call", "SFT0303", "--biz", '{"taxBaseCode":"9999999999"}'], env=dict(os.environ))
    assert refused.exit_code == 1
    assert '"code":4001' in refused.output
    bad = runner.invoke(app, ["call", "SFT0303", "--biz", "not json"], env=dict(os.environ))
    assert bad.exit_code != 0
    assert "--biz" in bad.output


def test_flows_can_take_their_credentials_from_a_block(platform: Platform) -> None:
    from tasks.credentials import LingongCredentials

    block = LingongCredentials(
        base_url=os.environ["LINGONG_BASE_URL"],
        merchant_no=os.environ["LINGONG_MERCHANT_NO"],
        private_key=os.environ["LINGONG_PRIVATE_KEY"],
        platform_public_key=os.environ["LINGONG_PLATFORM_PUBLIC_KEY"],
    )
    assert os.environ["LINGONG_PRIVATE_KEY"].splitlines()[1] not in repr(block)
    block.save("lingong-test", overwrite=True)
    loaded = LingongCredentials.load("lingong-test")
    assert loaded.private_key.get_secret_value() == os.environ["LINGONG_PRIVATE_KEY"]
    result = asyncio.run(
        fund_account(
            amount="1.00", recharge_time="2026-11-04 10:00:00", reference="block", credentials_block="lingong-test"
        )
    )
    assert result.status == "SUCCESS"
