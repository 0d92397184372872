"""Payroll sheets as clerks make them (issue 13), through the real CLI against the sandbox.

Each workbook or file is generated here (tests/payroll/sheet_files.py). Valid sheets are paid exactly as
the sheet says, judged from the sandbox's audit (new orders: masked ID → amount, all SUCCESS); invalid
ones are refused with one line naming row, column and rule, and the audit shows nothing paid.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from prefect.exceptions import ParameterTypeError
from typer.testing import CliRunner, Result

from flows.fund_account import fund_account
from flows.payroll_run import PayrollRefusedError, payroll_run, payroll_run_deployed
from lingong_cli.main import app
from lingong_core.masking import mask_id
from lingong_payroll.files import PayrollFileError
from lingong_payroll.payees import PayeeRow
from lingong_payroll.report import Outcome
from lingong_sandbox.people import Person
from tasks.settlement import available_balance
from tests.flows.conftest import Platform
from tests.flows.people import team
from tests.payroll.sheet_files import ZH_HEADER, csv_text, payroll_sheet, table, unicode_text, xls, xlsx

pytestmark = pytest.mark.usefixtures("prefect")

TAX = "2000064001"
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@pytest.fixture(scope="module", autouse=True)
def funded(platform: Platform) -> None:
    asyncio.run(fund_account(amount="50000.00", recharge_time="2026-11-04 10:00:00", tax_base_code=TAX, reference="s"))


def cli(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, ["payroll", "run", *args], env={**os.environ, **(env or {})})


def plain(result: Result) -> None:
    """What every answer of the command looks like: no traceback, no literal rich markup."""
    assert "Traceback" not in result.output
    assert "[red]" not in result.output
    assert "[/]" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


def paid(platform: Platform, run: Any) -> dict[str, Decimal]:
    """Run ``run`` (a CLI call); the orders it created, masked ID → amount, each paid (SUCCESS)."""
    before = set(platform.audit()["orders"])
    result = run()
    plain(result)
    assert result.exit_code == 0, result.output
    orders = {k: v for k, v in platform.audit()["orders"].items() if k not in before}
    assert all(v["statuses"] == ["SUCCESS"] for v in orders.values()), orders
    return {v["idCardNo"]: Decimal(str(v["amount"])) for v in orders.values()}


def refused(platform: Platform, result_of: Any, *lines: str, code: int = 1) -> str:
    before = platform.audit()["orders"]
    result = result_of()
    plain(result)
    assert result.exit_code == code, result.output
    for line in lines:
        assert line in result.output, result.output
    assert platform.audit()["orders"] == before, "a refused file paid something"
    return result.output


def expect(people: list[Person], amounts: list[str]) -> dict[str, Decimal]:
    return {mask_id(p.id_card_no): Decimal(a) for p, a in zip(people, amounts, strict=True)}


def test_a_clerks_workbook_is_paid_exactly_as_it_says(platform: Platform, workdir: Path) -> None:
    """Hidden last-month sheet first, this month's active; a title row, 金额（元）, a 合计 row, remarks blank,
    numeric and dated, a name with a no-break space, an ID in full-width digits, float noise, "100元"."""
    people = team(4, seed=1301)
    this_month = payroll_sheet(people, [1234.4999999999, "100元", "¥ 2,000.00", 88], total=3422.5)
    this_month[1] = [*ZH_HEADER[:5], "金额（元）", "备注"]
    this_month[2][1] = people[0].name[0] + "\u00a0" + people[0].name[1:]
    this_month[3][2] = people[1].id_card_no.translate(FULL_WIDTH)
    this_month[3][6], this_month[4][6], this_month[5][6] = None, 42, date(2026, 11, 30)
    book = xlsx(
        workdir / "劳务费.xlsx",
        {"10月": payroll_sheet(people, [999, 999, 999, 999]), "11月": this_month},
        active="11月",
        hidden_sheets=["10月"],
    )
    runs: list[Result] = []

    def run() -> Result:
        runs.append(cli(str(book), "--period", "2026-11", "--batch-ref", "SHEETS1"))
        return runs[-1]

    assert paid(platform, run) == expect(people, ["1234.50", "100.00", "2000.00", "88.00"])
    output = runs[0].output
    assert "read: sheet “11月” of 劳务费.xlsx, header row 2" in output
    assert "合计 ¥3,422.50 matches the lines (not paid)" in output
    assert "hidden sheets not read: “10月”" in output

    # Next month the same person, typed cleanly, is the same person to the platform.
    clean = xlsx(workdir / "12月.xlsx", {"12月": payroll_sheet(people[:1], [10])})
    assert paid(platform, lambda: cli(str(clean), "--period", "2026-12")) == expect(people[:1], ["10.00"])


def test_the_operators_choices_sheet_amount_column_hidden_rows(platform: Platform, workdir: Path) -> None:
    people = team(3, seed=1302)
    header = [*ZH_HEADER[:5], "应发金额", "实发金额", "备注"]
    sheet = [
        header,
        *[[*r[:5], 120, net, r[6]] for r, net in zip(table(people, [0, 0, 0]), [100, 90, 80], strict=True)],
    ]
    book = xlsx(
        workdir / "两张表.xlsx",
        {"11月": sheet, "11月补发": payroll_sheet(people[:1], [5])},
        hidden_rows={"11月": [3]},
    )
    name = str(book)
    refused(platform, lambda: cli(name, "--period", "2026-11"), "2 visible sheets hold a payroll", "--sheet")
    refused(
        platform,
        lambda: cli(name, "--period", "2026-11", "--sheet", "11月"),
        "2 columns could be the amount: 应发金额 (column F), 实发金额 (column G)",
        "--amount-column",
    )
    refused(
        platform,
        lambda: cli(name, "--period", "2026-11", "--sheet", "11月", "--amount-column", "实发金额"),
        "row 3, row: is hidden (filtered) in the sheet",
    )
    got = paid(
        platform,
        lambda: cli(
            name, "--period", "2026-11", "--sheet", "11月", "--amount-column", "实发金额", "--include-hidden-rows"
        ),
    )
    assert got == expect(people, ["100.00", "90.00", "80.00"])


def test_the_deployment_form_takes_the_same_choices_as_reading(platform: Platform, workdir: Path) -> None:
    """A workbook started from the Prefect UI (payroll_run_deployed, the payroll-run deployment's form) has no
    command line: its ``reading`` parameter carries the sheet, the amount column and hidden rows instead."""
    people = team(2, seed=1308)
    header = [*ZH_HEADER[:5], "应发金额", "实发金额", "备注"]
    sheet = [header, *[[*r[:5], 150, net, r[6]] for r, net in zip(table(people, [0, 0]), [70, 60], strict=True)]]
    book = str(xlsx(workdir / "表单.xlsx", {"11月": sheet, "说明": payroll_sheet(people[:1], [9])}, hidden_rows={}))

    def deployed(**reading: Any) -> Any:
        return asyncio.run(payroll_run_deployed("2026-11", payroll_file=book, reading=reading or None))

    before = platform.audit()["orders"]
    with pytest.raises(PayrollFileError, match="2 visible sheets hold a payroll"):
        deployed()
    with pytest.raises(PayrollFileError, match="2 columns could be the amount"):
        deployed(sheet="11月")
    with pytest.raises(ParameterTypeError, match=r"reading\.max_amount: String should match pattern"):
        deployed(sheet="11月", max_amount="lots")
    assert platform.audit()["orders"] == before, "a refused file paid something"
    report = deployed(sheet="11月", amount_column="实发金额")
    assert [(line.outcome, line.amount) for line in report.lines] == [
        (Outcome.PAID, Decimal("70.00")),
        (Outcome.PAID, Decimal("60.00")),
    ]


def test_files_that_are_not_what_they_say_are_refused_line_by_line(platform: Platform, workdir: Path) -> None:
    people = team(5, seed=1303)
    total_wrong = xlsx(workdir / "total.xlsx", {"S": payroll_sheet(people[:2], [100, 200], total=400)})
    refused(
        platform,
        lambda: cli(str(total_wrong), "--period", "2026-11"),
        "refused: row 5, amount: the 合计 row says ¥400.00 but the lines above it add up to ¥300.00",
    )
    amounts = xlsx(
        workdir / "amounts.xlsx",
        {"S": [ZH_HEADER, *table(people, [12.3456, "1,2,3", 18977624569, 60000, "100块"])]},
    )
    output = refused(
        platform,
        lambda: cli(str(amounts), "--period", "2026-11"),
        "refused: 5 invalid row(s); nothing was paid",
        "row 2, amount: is not a whole number of fen (0.01 yuan): round it in the sheet [12.3456]",
        "row 3, amount: thousands separators must group three digits (12,345.67) [1,2,3]",
        "row 4, amount: looks like a mobile number, not an amount [189****4569]",
        "row 5, amount: is above the per-line ceiling of 50000.00 (raise it with --max-amount if meant) [60000.00]",
        "row 6, amount: must be a number of yuan such as 1234.50 (¥ and 元 allowed) [100块]",
    )
    assert "18977624569" not in output
    small = xlsx(workdir / "small.xlsx", {"S": [ZH_HEADER, *table(people[:1], [20])]})
    refused(
        platform,
        lambda: cli(str(small), "--period", "2026-11", "--max-amount", "10"),
        "row 2, amount: is above the per-line ceiling of 10.00",
    )
    refused(platform, lambda: cli(str(small), "--period", "2026-11", "--max-amount", "ten"), "--max-amount")
    no_header = workdir / "no-header.csv"
    no_header.write_text(csv_text([["标题"], ["姓名", "金额"], ["张三", "1"]]), encoding="utf-8")
    refused(platform, lambda: cli(str(no_header), "--period", "2026-11"), "lacks idCardNo, mobile, bankCardNo")


def test_unicode_text_and_legacy_xls(platform: Platform, workdir: Path) -> None:
    people = team(3, seed=1304)
    text = unicode_text(workdir / "payroll.txt", payroll_sheet(people[:2], ["1,000.00", "20元"], total="1,020.00"))
    assert paid(platform, lambda: cli(str(text), "--period", "2026-11")) == expect(people[:2], ["1000.00", "20.00"])

    old = xls(
        workdir / "payroll.xls",
        {"旧": payroll_sheet(people, [9, 9, 9]), "11月": payroll_sheet(people[2:], [7])},
        hidden_sheets=["旧"],
    )
    refused(platform, lambda: cli(str(old), "--period", "2026-11"), "does not show this reader which rows are hidden")
    got = paid(platform, lambda: cli(str(old), "--period", "2026-11", "--sheet", "11月", "--include-hidden-rows"))
    assert got == expect(people[2:], ["7.00"])


def test_a_blank_line_in_the_typed_payee_list_is_an_error_naming_it(platform: Platform) -> None:
    p = team(1, seed=1305)[0]
    row = PayeeRow(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no, amount="5")
    before = platform.audit()["orders"]
    with pytest.raises(PayrollRefusedError, match=r"row 2, row: is blank: fill it in or remove it"):
        asyncio.run(payroll_run("2026-11", payees=[row, PayeeRow()], batch_ref="BLANK"))
    assert platform.audit()["orders"] == before


def test_a_short_balance_and_an_outage_are_one_plain_line_each(
    platform: Platform, workdir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    tax = "2000064002"  # its per-order limit is ¥20,000: lines of ¥19,000, one more than the balance holds
    balance = asyncio.run(available_balance.fn(tax))
    people = team(int(balance // 19000) + 1, seed=1306)
    book = xlsx(workdir / "big.xlsx", {"S": [ZH_HEADER, *table(people, [19000] * len(people))]})
    output = refused(
        platform,
        lambda: cli(str(book), "--period", "2026-11", "--tax-base-code", tax),
        f"refused: the account with {tax} holds",
        "nothing was paid",
    )
    assert output.count("refused:") == 1
    console = capfd.readouterr().err  # Prefect's console log goes to the process's stderr, not the runner's
    assert "Traceback" not in console
    assert "PayrollRefusedError" not in console

    down = {"LINGONG_BASE_URL": "http://127.0.0.1:9"}  # nothing listens on the discard port
    small = xlsx(workdir / "small.xlsx", {"S": [ZH_HEADER, *table(people[:1], [1])]})
    output = refused(
        platform, lambda: cli(str(small), "--period", "2026-11", "--wait", "5", env=down), "platform:", code=2
    )
    assert output.count("platform:") == 1
    console = capfd.readouterr().err
    assert "Traceback" not in console
    assert "TransportError" not in console


def test_the_platform_compares_names_as_the_sheet_reader_normalises_them(platform: Platform) -> None:
    """A name verified with a no-break space (as a form or another client may send it) is the same name
    typed cleanly next month: no 4105, one freelancer; a card bound under either spelling is theirs."""
    import json

    from lingong_core.config import LingongSettings

    p = team(1, seed=1307)[0]
    spaced = p.name[0] + "\u00a0" + p.name[1:] + "\u3000"
    with LingongSettings().client() as client:
        first = client.call("SFT0101", {"name": spaced, "idCardNo": p.id_card_no, "mobile": p.mobile})
        again = client.call("SFT0101", {"name": p.name, "idCardNo": p.id_card_no, "mobile": p.mobile})
        bound = client.call(
            "SFT0203",
            {"idCardNo": p.id_card_no, "name": "\u200b" + spaced, "bankCardNo": p.bank_card_no, "mobile": p.mobile},
        )
    assert first["freelancerNo"] == again["freelancerNo"] == bound["freelancerNo"], json.dumps(again)
    assert bound["bindStatus"] == "BOUND"


def _calls(platform: Platform, api_code: str) -> int:
    return int(platform.admin("GET", f"requests?apiCode={api_code}&limit=100000")["total"])


def test_a_file_is_priced_part_by_part_while_it_is_read_with_the_keys_of_the_whole(
    platform: Platform, workdir: Path
) -> None:
    """read_and_precalculate sends each part's SFT0501 as the part is validated. What it answers is what reading
    the whole file and pre-calculating it after gives: the same orders, keys (a person's repeated amount in a
    later part is still their second line) and checks, and the file's invalid line is reported, not priced."""
    from prefect import flow

    from lingong_payroll.files import read_payroll_file
    from lingong_payroll.keys import RunKey
    from lingong_payroll.plan import plan_orders
    from lingong_sandbox.people import bad_checksum
    from tasks.credentials import load_settings
    from tasks.settlement import Priced, precalculate, read_and_precalculate

    @flow
    async def price(location: str, part_size: int = 1000, credentials_block: str | None = None) -> Priced:
        return await read_and_precalculate(location, None, run, credentials_block, part_size=part_size)

    @flow
    async def price_after(location: str) -> list[tuple[str, bool, Decimal, int | None]]:
        """Read first, then pre-calculate the whole: as the run did before it priced while reading."""
        parsed = read_payroll_file(location)
        orders = plan_orders(run, parsed.payees, parsed.rows)
        return [(c.out_order_no, c.passed, c.service_amount, c.code) for c in await precalculate(orders, TAX)]

    people = team(3, seed=1311)
    who = [0, 1, 0, 2, 1, 0, 0]
    lines = table([people[i] for i in who], ["10.00", "20.00", "10.00", "30.00", "5.00", "10.00", "7.00"])
    grid = [ZH_HEADER, *lines]
    grid[5][2] = bad_checksum(grid[5][2])  # the fifth line (sheet row 6): an ID number that cannot be
    path = workdir / "parts.csv"
    path.write_text(csv_text(grid), encoding="utf-8")
    run = RunKey(load_settings(None).merchant_no, TAX, "2026-11", "PARTS")

    before = _calls(platform, "SFT0501")
    priced = asyncio.run(price(str(path), 2))
    assert _calls(platform, "SFT0501") - before == 3  # six valid lines, two a call

    parsed = read_payroll_file(path)
    assert priced.parsed.invalid_rows == parsed.invalid_rows == [6]
    whole = plan_orders(run, parsed.payees, parsed.rows)
    assert priced.planned == whole
    assert len({o.out_order_no for o in whole}) == 6
    checks = [(c.out_order_no, c.passed, c.service_amount, c.code) for c in priced.checks]
    assert checks == asyncio.run(price_after(str(path)))

    interval = sys.getswitchinterval()
    with pytest.raises(PayrollFileError, match=r"missing\.csv"):  # the reader's refusal, as reading first gave
        asyncio.run(price(str(workdir / "missing.csv")))
    # however it fails (here: no such credentials Block, before the file is opened), the process keeps its pace
    with pytest.raises(ValueError, match="no-such-block"):
        asyncio.run(price(str(path), credentials_block="no-such-block"))
    assert sys.getswitchinterval() == interval
