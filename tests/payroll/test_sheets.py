"""Payroll sheets as clerks make them (issue 13): the reader on generated workbooks and text files.

The same cases go through the real CLI against the sandbox in tests/flows/test_payroll_sheets.py.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from lingong_core.text import normalise_name, normalise_text
from lingong_payroll.files import PayrollFileError, ReadOptions, read_payroll_file, validate_rows
from lingong_payroll.normalise import parse_amount
from lingong_payroll.payees import PayeeRow
from lingong_sandbox.people import team
from tests.payroll.sheet_files import ZH_HEADER, csv_text, payroll_sheet, table, unicode_text, xls, xlsx

P = team(6, seed=1313)
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def amounts(path: Path, options: ReadOptions | None = None) -> list[Decimal]:
    parsed = read_payroll_file(path, options)
    assert parsed.errors == [], parsed.report()
    return [p.amount for p in parsed.payees]


# --- normalisation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("张\u00a0三", "张三"),  # no-break space inside
        ("\u3000李四\u3000", "李四"),  # ideographic spaces around
        ("王\u200b五", "王五"),  # zero-width space
        ("\ufeff赵 六 ", "赵六"),
        ("买买提·艾力", "买买提·艾力"),
        ("买买提 • 艾力", "买买提·艾力"),  # a bullet typed for the middle dot
        ("买买提・艾力", "买买提·艾力"),  # katakana middle dot (Japanese IME)
        ("买买提．艾力", "买买提·艾力"),  # full-width full stop
        ("John\u00a0 Smith", "John Smith"),  # a Latin name keeps one space
    ],
)
def test_names_are_normalised_the_way_the_platform_compares_them(typed: str, expected: str) -> None:
    assert normalise_name(typed) == expected


def test_every_invisible_format_character_is_removed() -> None:
    import sys
    import unicodedata

    invisible = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    assert normalise_text("a" + "".join(invisible) + "b") == "ab"
    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    assert normalise_text("".join(spaces) + "张" + "".join(spaces) + "三") == "张 三"
    assert normalise_name("".join(spaces) + "张" + "".join(spaces) + "三") == "张三"


def test_full_width_digits_brackets_and_spaces_fold() -> None:
    assert normalise_text("１１０１０１１９９００３０７１２３Ｘ") == "11010119900307123X"
    assert normalise_text("金额（元）") == "金额(元)"
    assert normalise_text("\u00a0 ¥１，２３４．５０ ") == "¥1,234.50"


@pytest.mark.parametrize(
    "text",
    ["abc", "张三丰", "１２３", "ＡＢＣ", "ﬁ", "Ⅻ", "²", "x\u200by", "ab c", " ab", "", "买买提·艾力", "Ａ\u3000Ｂ"],
)
def test_text_already_normal_is_taken_as_it_is_and_everything_else_folds(text: str) -> None:
    # the short cut for letters and digits already in NFKC gives what the full rule gives
    full = " ".join(unicodedata.normalize("NFKC", text).replace("\u200b", "").split())
    assert normalise_text(text) == full


@pytest.mark.parametrize("plain", ["1", "0.5", "007.50", "1234.5", "123456789.99", "50000"])
def test_a_plain_amount_reads_as_the_general_rule_reads_it(plain: str) -> None:
    # " 1234.5" takes the general path (spaces trimmed, currency words, separators, identifiers)
    assert parse_amount(plain, max_amount=None) == parse_amount(f" {plain}", max_amount=None)
    assert parse_amount(plain, max_amount=None).as_tuple().exponent == -2


# --- amounts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1234.4999999999, "1234.50"),  # a formula's binary-float noise
        (0.30000000000000004, "0.30"),
        (100, "100.00"),
        ("100元", "100.00"),
        ("¥ 1,234.50", "1234.50"),
        ("￥12,345.67 元", "12345.67"),
        ("１２３．４５", "123.45"),
        (" 88 ", "88.00"),
        (Decimal("9.9"), "9.90"),
    ],
)
def test_amounts_clerks_type_are_read_exactly(value: object, expected: str) -> None:
    assert parse_amount(value) == Decimal(expected)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (12.3456, "is not a whole number of fen"),
        (99.994999, "is not a whole number of fen"),
        ("1,2,3", "thousands separators must group three digits"),
        ("12,34.50", "thousands separators must group three digits"),
        ("1234,567", "thousands separators must group three digits"),
        ("100块", "must be a number of yuan"),
        ("0.001", "at most 2 decimal places"),
        (18977624569, "looks like a mobile number"),
        (18977624569.0, "looks like a mobile number"),
        ("18977624569", "looks like a mobile number"),
        ("110101199003071237", "looks like an ID number"),
        ("6222021234567890123", "looks like a bank card number"),
        (60000, "above the per-line ceiling of 50000.00"),
        ("-5", "must not be negative"),
        (0, "must be more than 0"),
        (date(2026, 11, 30), "not a date"),
        (True, "not TRUE/FALSE"),
        ("", "is required"),
        # beyond Decimal's 28 digits once taken to the fen: a message, not InvalidOperation (found by hypothesis)
        ("100000000000000000000000000", "far too large"),
        (10**26, "far too large"),
        (1e300, "far too large"),
    ],
)
def test_amounts_that_are_not_what_they_seem_are_refused(value: object, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        parse_amount(value)


def test_an_amount_cell_holding_a_persons_number_never_shows_it(tmp_path: Path) -> None:
    # A number pasted into the amount column with something around it is refused as "not a number", "far too
    # large", "negative"...: the error goes into the report, the artifacts and Prefect's state message, so the
    # cell is shown masked, never whole (the identifier rules catch only a cell that is just the number).
    p = P[0]
    cells = [
        p.id_card_no + "元abc",
        p.id_card_no.translate(FULL_WIDTH) + "元",
        p.bank_card_no + "x",
        "tel " + p.mobile,
        p.id_card_no[:17] + p.bank_card_no,  # two numbers run together
        "-" + p.id_card_no[:17],
        p.id_card_no[:15] + ".5",
        p.id_card_no[:15] + ".555",
    ]
    path = tmp_path / "pasted.csv"
    path.write_text(csv_text([ZH_HEADER, *table([p] * len(cells), cells)]), encoding="utf-8")
    parsed = read_payroll_file(path)
    assert parsed.invalid_rows == list(range(2, 10)), parsed.report()
    shown = parsed.report()
    for number in (p.id_card_no, p.id_card_no[:17], p.id_card_no[:15], p.bank_card_no, p.mobile):
        assert number not in shown
    assert "元abc]" in shown  # what else the clerk typed is still shown, to find the cell by


def test_the_ceiling_is_the_operators() -> None:
    assert parse_amount("60000", max_amount=Decimal("80000")) == Decimal("60000.00")
    assert parse_amount("60000", max_amount=None) == Decimal("60000.00")


# --- sheets -----------------------------------------------------------------------------------------


def test_the_visible_active_sheet_is_read_not_a_hidden_first_one(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "book.xlsx",
        {"10月": payroll_sheet(P[:2], ["999.00", "999.00"]), "11月": payroll_sheet(P[:2], ["100.00", "200.00"])},
        active="11月",
        hidden_sheets=["10月"],
    )
    parsed = read_payroll_file(path)
    assert [p.amount for p in parsed.payees] == [Decimal("100.00"), Decimal("200.00")]
    assert "sheet “11月”" in parsed.source
    assert any("hidden sheets not read: “10月”" in n for n in parsed.notes)


def test_a_cover_sheet_beside_the_payroll_is_not_a_candidate(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "book.xlsx",
        {"说明": [["填表说明"], ["金额单位：元"]], "发放表": payroll_sheet(P[:1], [50])},
        active="说明",
    )
    parsed = read_payroll_file(path)
    assert "sheet “发放表”" in parsed.source
    assert [p.amount for p in parsed.payees] == [Decimal("50.00")]


def test_several_visible_payroll_sheets_are_refused_unless_one_is_named(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "book.xlsx",
        {"10月": payroll_sheet(P[:1], [10]), "11月": payroll_sheet(P[:1], [20])},
        active="11月",
    )
    with pytest.raises(PayrollFileError, match=r"2 visible sheets hold a payroll: “10月”, “11月”.*--sheet"):
        read_payroll_file(path)
    assert amounts(path, ReadOptions(sheet="10月")) == [Decimal("10.00")]
    with pytest.raises(PayrollFileError, match=r"no sheet named '12月'.*10月, 11月"):
        read_payroll_file(path, ReadOptions(sheet="12月"))


def test_a_hidden_sheet_is_read_only_when_named(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "book.xlsx",
        {"11月": payroll_sheet(P[:1], [20]), "补发": payroll_sheet(P[1:2], [30])},
        hidden_sheets=["补发"],
    )
    parsed = read_payroll_file(path, ReadOptions(sheet="补发"))
    assert [p.amount for p in parsed.payees] == [Decimal("30.00")]
    assert "hidden, read as asked" in parsed.source


# --- headers and totals -----------------------------------------------------------------------------


AMOUNT_HEADERS = ["金额", "金额(元)", "金额（元）", "实发金额", "应发金额（元）", "金额【元】", "*金额:"]


@pytest.mark.parametrize("amount_header", AMOUNT_HEADERS)
def test_a_title_row_a_total_row_and_headers_with_units(tmp_path: Path, amount_header: str) -> None:
    rows = payroll_sheet(P[:3], [1000, "2,500.50", 88.8], total=3589.3)
    rows[1] = [*ZH_HEADER[:5], amount_header, "备注"]
    parsed = read_payroll_file(xlsx(tmp_path / "p.xlsx", {"Sheet1": rows}))
    assert parsed.errors == []
    assert [p.amount for p in parsed.payees] == [Decimal("1000.00"), Decimal("2500.50"), Decimal("88.80")]
    assert parsed.rows == [3, 4, 5]
    assert parsed.total_rows == [6]
    assert "header row 2" in parsed.source


def test_a_total_that_differs_from_the_lines_refuses_the_file(tmp_path: Path) -> None:
    rows = payroll_sheet(P[:2], [100, 200], total=400)
    with pytest.raises(PayrollFileError, match=r"row 5, amount: the 合计 row says ¥400.00 but the lines.*¥300.00"):
        read_payroll_file(xlsx(tmp_path / "p.xlsx", {"Sheet1": rows}))


def test_subtotals_and_a_grand_total(tmp_path: Path) -> None:
    rows = [
        ZH_HEADER,
        *table(P[:2], [10, 20]),
        ["小 计", "", "", "", "", 30, ""],
        *table(P[2:3], [5]),
        ["小计", "", "", "", "", 5, ""],
        ["总计", "", "", "", "", 35, ""],
        ["制表人：", "", "", "", "", "", "审核："],  # signature line, in columns not read
    ]
    parsed = read_payroll_file(xlsx(tmp_path / "p.xlsx", {"Sheet1": rows}))
    assert parsed.errors == []
    assert parsed.total_rows == [4, 6, 7]
    assert sum(p.amount for p in parsed.payees) == Decimal("35.00")


def test_two_amount_columns_are_refused_and_one_is_chosen_by_name(tmp_path: Path) -> None:
    header = [*ZH_HEADER[:5], "应发金额", "实发金额", "备注"]
    rows = [header, *[[*r[:5], 120, 100, r[6]] for r in table(P[:2], [0, 0])]]
    path = xlsx(tmp_path / "p.xlsx", {"Sheet1": rows})
    with pytest.raises(PayrollFileError, match=r"2 columns could be the amount: 应发金额 \(column F\), 实发金额"):
        read_payroll_file(path)
    assert amounts(path, ReadOptions(amount_column="实发金额")) == [Decimal("100.00")] * 2
    assert amounts(path, ReadOptions(amount_column="应发金额（元）")) == [Decimal("120.00")] * 2


def test_amount_column_may_name_an_unusual_header(tmp_path: Path) -> None:
    header = [*ZH_HEADER[:5], "金额", "本月实付", "备注"]
    rows = [header, *[[*r[:5], 120, 99, r[6]] for r in table(P[:1], [0])]]
    assert amounts(xlsx(tmp_path / "p.xlsx", {"S": rows}), ReadOptions(amount_column="本月实付")) == [Decimal("99.00")]


def test_no_header_in_the_first_rows_is_named(tmp_path: Path) -> None:
    rows = [["标题"], ["姓名", "身份证号", "手机号", "金额"], *[[p.name, p.id_card_no, p.mobile, 1] for p in P[:1]]]
    with pytest.raises(PayrollFileError, match=r"row 2 comes closest but lacks bankCardNo"):
        read_payroll_file(xlsx(tmp_path / "p.xlsx", {"S": rows}))


# --- cells ------------------------------------------------------------------------------------------


def test_blank_number_and_date_remarks_are_fine(tmp_path: Path) -> None:
    rows = [ZH_HEADER, *table(P[:4], [1, 2, 3, 4], [None, 42, date(2026, 11, 30), datetime(2026, 11, 30, 9, 30)])]
    parsed = read_payroll_file(xlsx(tmp_path / "p.xlsx", {"S": rows}))
    assert parsed.errors == []
    assert [p.remark for p in parsed.payees] == ["", "42", "2026-11-30", "2026-11-30 09:30:00"]


def test_float_noise_is_rounded_and_a_real_fraction_of_a_fen_is_refused_naming_the_cell(tmp_path: Path) -> None:
    rows = [ZH_HEADER, *table(P[:3], [1234.4999999999, 12.3456, 18977624569])]
    parsed = read_payroll_file(xlsx(tmp_path / "p.xlsx", {"S": rows}))
    assert [(p.amount, r) for p, r in zip(parsed.payees, parsed.rows, strict=True)] == [(Decimal("1234.50"), 2)]
    report = parsed.report()
    assert "row 3, amount: is not a whole number of fen (0.01 yuan): round it in the sheet [12.3456]" in report
    assert "row 4, amount: looks like a mobile number, not an amount [189****4569]" in report
    assert "18977624569" not in report


def test_names_and_numbers_typed_with_an_input_method(tmp_path: Path) -> None:
    p = P[0]
    rows = [
        ZH_HEADER,
        [
            1,
            p.name[0] + "\u00a0" + p.name[1:],
            p.id_card_no.translate(FULL_WIDTH),
            p.mobile.translate(FULL_WIDTH),
            " " + p.bank_card_no.translate(FULL_WIDTH) + "\u3000",
            "１００元",
            "\u200b",
        ],
    ]
    parsed = read_payroll_file(xlsx(tmp_path / "p.xlsx", {"S": rows}))
    assert parsed.errors == [], parsed.report()
    (payee,) = parsed.payees
    assert (payee.name, payee.id_card_no, payee.mobile, payee.bank_card_no) == (
        p.name,
        p.id_card_no,
        p.mobile,
        p.bank_card_no,
    )
    assert (payee.amount, payee.remark) == (Decimal("100.00"), "")


def test_numbers_excel_may_have_rounded_are_refused_short_ones_taken(tmp_path: Path) -> None:
    p = P[0]
    rows = [ZH_HEADER, [1, p.name, float(p.id_card_no[:17] + "0"), int(p.mobile), p.bank_card_no, 10, ""]]
    parsed = read_payroll_file(xlsx(tmp_path / "p.xlsx", {"S": rows}))
    (error,) = parsed.errors
    assert (error.row, error.column) == (2, "idCardNo")
    assert "stored as text" in error.reason
    rows[1][2] = p.id_card_no
    assert read_payroll_file(xlsx(tmp_path / "q.xlsx", {"S": rows})).payees[0].mobile == p.mobile


def test_hidden_filtered_rows_are_refused_unless_included(tmp_path: Path) -> None:
    rows = payroll_sheet(P[:3], [10, 20, 30], total=60)
    path = xlsx(tmp_path / "p.xlsx", {"S": rows}, hidden_rows={"S": [4]})
    parsed = read_payroll_file(path)
    assert [str(e) for e in parsed.errors] == [
        "row 4, row: is hidden (filtered) in the sheet: unhide or delete it, or pass --include-hidden-rows to pay it"
    ]
    assert parsed.rows == [3, 5]
    included = read_payroll_file(path, ReadOptions(include_hidden_rows=True))
    assert included.errors == []
    assert [p.amount for p in included.payees] == [Decimal("10.00"), Decimal("20.00"), Decimal("30.00")]
    assert any("hidden rows read as asked" in n for n in included.notes)


def test_a_blank_typed_payee_line_is_an_error_never_dropped() -> None:
    p = P[0]
    good = PayeeRow(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no, amount="5")
    parsed = validate_rows((i, r.model_dump()) for i, r in enumerate([good, PayeeRow(), good], start=1))
    assert [str(e) for e in parsed.errors] == ["row 2, row: is blank: fill it in or remove it"]
    assert parsed.rows == [1, 3]


# --- formats ----------------------------------------------------------------------------------------


def test_utf16_tab_separated_unicode_text(tmp_path: Path) -> None:
    rows = payroll_sheet(P[:2], ["1,000.00", "20元"], total="1,020.00")
    path = unicode_text(tmp_path / "payroll.txt", rows)
    assert amounts(path) == [Decimal("1000.00"), Decimal("20.00")]


def test_csv_with_title_row_units_and_total(tmp_path: Path) -> None:
    rows = payroll_sheet(P[:2], ["100", "200.5"], total="300.50")
    rows[1][5] = "金额（元）"
    path = tmp_path / "p.csv"
    path.write_bytes(csv_text(rows).encode("gb18030"))
    assert amounts(path) == [Decimal("100.00"), Decimal("200.50")]


def test_legacy_xls_is_read_only_when_hidden_rows_are_accepted(tmp_path: Path) -> None:
    path = xls(
        tmp_path / "p.xls",
        {"旧表": payroll_sheet(P[:1], [999]), "11月": payroll_sheet(P[:2], [100, 250.5], total=350.5)},
        hidden_sheets=["旧表"],
    )
    with pytest.raises(PayrollFileError, match=r"does not show this reader which rows are hidden.*--include-hidden"):
        read_payroll_file(path)
    parsed = read_payroll_file(path, ReadOptions(include_hidden_rows=True))
    assert [p.amount for p in parsed.payees] == [Decimal("100.00"), Decimal("250.50")]
    assert "sheet “11月” of p.xls" in parsed.source


def test_damaged_workbooks_are_refused_with_a_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xls"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(PayrollFileError, match=r"cannot read the \.xls file"):
        read_payroll_file(bad)
