"""Payroll files: CSV in three encodings with English or Chinese headers, .xlsx, and row-level refusals."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from lingong_payroll.files import PayrollFileError, parse_csv, read_payroll_file
from lingong_sandbox.people import bad_checksum, team

PEOPLE = team(4, seed=7)
ZH = "姓名,身份证号,手机号,银行卡号,金额,备注\n"
EN = "name,idCardNo,mobile,bankCardNo,amount,remark\n"


def rows(people=PEOPLE, amounts=("1000.00", "2500.5", "88", "12,345.67")) -> str:
    return "".join(
        f'{p.name},{p.id_card_no},{p.mobile},{p.bank_card_no},"{a}",十一月佣金\n'
        for p, a in zip(people, amounts, strict=False)
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
@pytest.mark.parametrize("header", [ZH, EN])
def test_csv_in_every_encoding_excel_uses(tmp_path: Path, encoding: str, header: str) -> None:
    path = tmp_path / "payroll.csv"
    path.write_bytes((header + rows()).encode(encoding))
    parsed = read_payroll_file(path)
    assert parsed.errors == []
    assert [p.id_card_no for p in parsed.payees] == [p.id_card_no for p in PEOPLE]
    assert [p.amount for p in parsed.payees] == [
        Decimal("1000.00"),
        Decimal("2500.50"),
        Decimal("88.00"),
        Decimal("12345.67"),
    ]
    assert parsed.payees[0].remark == "十一月佣金"
    assert parsed.rows == [2, 3, 4, 5]


def test_gb18030_bytes_are_really_not_utf8(tmp_path: Path) -> None:
    data = (ZH + rows()).encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert len(parse_csv(data).payees) == len(PEOPLE)


def test_xlsx_with_chinese_headers(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "身份证号", "手机号", "银行卡号", "金额", "备注"])
    for p, amount in zip(PEOPLE, (1000, 2500.5, Decimal("88"), "99.99"), strict=True):
        sheet.append([p.name, p.id_card_no, p.mobile, p.bank_card_no, amount, "xlsx"])
    path = tmp_path / "payroll.xlsx"
    book.save(path)
    parsed = read_payroll_file(path)
    assert parsed.errors == []
    assert [p.amount for p in parsed.payees] == [
        Decimal("1000.00"),
        Decimal("2500.50"),
        Decimal("88.00"),
        Decimal("99.99"),
    ]


def test_xlsx_id_numbers_stored_as_numbers_are_refused_not_trusted(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name", "idCardNo", "mobile", "bankCardNo", "amount"])
    p = PEOPLE[0]
    sheet.append([p.name, float(p.id_card_no[:17] + "0"), p.mobile, p.bank_card_no, 100])
    path = tmp_path / "numbers.xlsx"
    book.save(path)
    parsed = read_payroll_file(path)
    assert parsed.payees == []
    (error,) = parsed.errors
    assert (error.row, error.column) == (2, "idCardNo")
    assert "stored as text" in error.reason


def test_a_file_with_bad_rows_is_reported_row_by_row_with_masked_values(tmp_path: Path) -> None:
    good = PEOPLE[0]
    text = (
        ZH
        + rows([good], ["100"])
        + (
            f"李四,{bad_checksum(PEOPLE[1].id_card_no)},{PEOPLE[1].mobile},{PEOPLE[1].bank_card_no},50,\n"
            f"王五,{PEOPLE[2].id_card_no},12345,{PEOPLE[2].bank_card_no},-3,\n"
            f"赵六,{PEOPLE[3].id_card_no},{PEOPLE[3].mobile},{PEOPLE[3].bank_card_no},0.001,\n"
            ",,,,,\n"
        )
    )
    parsed = parse_csv(text.encode())
    assert len(parsed.payees) == 1
    assert parsed.invalid_rows == [3, 4, 5]
    report = parsed.report()
    assert "row 3, idCardNo: check character does not match" in report
    assert "row 4, mobile:" in report
    assert "row 4, amount: must not be negative" in report
    assert "row 5, amount: must have at most 2 decimal places" in report
    # masked: the full ID number never appears in the report
    assert PEOPLE[1].id_card_no[:17] not in report
    assert PEOPLE[1].id_card_no[:6] + "********" in report


def test_missing_columns_are_named(tmp_path: Path) -> None:
    with pytest.raises(PayrollFileError, match=r"lacks bankCardNo"):
        parse_csv("姓名,身份证号,手机号,金额\n".encode())
    with pytest.raises(PayrollFileError, match="empty"):
        parse_csv(b"")


def test_undecodable_and_damaged_files_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(PayrollFileError, match=r"cannot read the \.xlsx"):
        read_payroll_file(bad)
    with pytest.raises(PayrollFileError, match="No such file"):
        read_payroll_file(tmp_path / "absent.csv")


def test_luhn_failures_are_flagged_not_refused() -> None:
    p = PEOPLE[0]
    card = p.bank_card_no[:-1] + str((int(p.bank_card_no[-1]) + 1) % 10)
    parsed = parse_csv((EN + f"{p.name},{p.id_card_no},{p.mobile},{card},10,\n").encode())
    assert len(parsed.payees) == 1
    assert parsed.luhn_flags == [2]


def test_random_garbage_never_crashes_the_reader() -> None:
    rng = random.Random(3)
    for _ in range(200):
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        try:
            parsed = parse_csv(EN.encode() + blob)
        except PayrollFileError:
            continue
        assert all(e.reason for e in parsed.errors)


def test_each_payee_is_told_of_every_valid_line_in_sheet_order_as_it_is_read(tmp_path: Path) -> None:
    """The listener sees exactly the payees the parse returns, with their rows, in order; invalid lines are
    not told (the file's errors are the caller's to weigh once it is read); outside the block nobody is told."""
    from lingong_payroll.files import each_payee

    text = (
        ZH
        + rows(PEOPLE[:2])
        + f"李四,{bad_checksum(PEOPLE[2].id_card_no)},{PEOPLE[2].mobile},x,5,\n"
        + rows(PEOPLE[3:], ["7.00"])
    )
    path = tmp_path / "payroll.csv"
    path.write_text(text, encoding="utf-8")
    told: list[tuple[int, str]] = []
    with each_payee(lambda row, payee: told.append((row, payee.id_card_no))):
        parsed = read_payroll_file(path)
    assert parsed.invalid_rows == [4]
    assert told == [(r, p.id_card_no) for r, p in zip(parsed.rows, parsed.payees, strict=True)]
    assert [r for r, _ in told] == [2, 3, 5]
    read_payroll_file(path)
    assert len(told) == 3


def test_a_csv_is_read_row_by_row_and_a_late_fault_is_still_refused() -> None:
    """The rows come one at a time (the cells of a 100,000-line file are never all held), so a fault far
    down is found when it is reached: the whole file is still refused, naming it."""
    from lingong_payroll.files import HEADER_SCAN, MAX_ROWS

    too_long = EN + rows() + ",,,,,\n" * (MAX_ROWS + HEADER_SCAN)
    with pytest.raises(PayrollFileError, match=f"more than {MAX_ROWS} rows"):
        parse_csv(too_long.encode())
    damaged = EN + rows() + '"' + "x" * 200_000 + '",1,2,3,4\n'  # a field past the csv module's limit
    with pytest.raises(PayrollFileError, match="the CSV is malformed"):
        parse_csv(damaged.encode())
    semicolons = (EN + rows()).replace(",", ";").replace('"12;345.67"', "12345.67")
    parsed = parse_csv(semicolons.encode())  # the delimiter is still the one its header is found under
    assert [p.amount for p in parsed.payees][-1] == Decimal("12345.67")
    assert not parsed.errors


def test_each_invalid_row_has_its_reasons_joined_once() -> None:
    text = EN + rows(PEOPLE[:1]) + f"李四,123,{PEOPLE[1].mobile},x,5,\n" + rows(PEOPLE[2:3]) + "王五,,12,,-1,\n"
    parsed = parse_csv(text.encode())
    reasons = parsed.reasons()
    assert list(reasons) == parsed.invalid_rows == [3, 5]
    assert reasons[3].startswith("idCardNo: ")
    assert "; bankCardNo: " in reasons[3]
    assert reasons[5].count("; ") == len([e for e in parsed.errors if e.row == 5]) - 1
