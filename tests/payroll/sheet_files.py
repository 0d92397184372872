"""Payroll workbooks and text files as Chinese payroll clerks make them, generated for the tests.

Each builder writes one real file (openpyxl for .xlsx, xlwt for .xls, bytes for CSV and UTF-16 text)
and returns its path; the cases are the ones of issue 13.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from lingong_sandbox.people import Person

ZH_HEADER = ["序号", "姓名", "身份证号", "手机号", "银行卡号", "金额", "备注"]
TITLE = "2025年11月劳务费发放表"


def line(n: int, p: Person, amount: Any, remark: Any = "十一月劳务费") -> list[Any]:
    return [n, p.name, p.id_card_no, p.mobile, p.bank_card_no, amount, remark]


def table(people: Sequence[Person], amounts: Sequence[Any], remarks: Sequence[Any] | None = None) -> list[list[Any]]:
    remarks = remarks if remarks is not None else ["十一月劳务费"] * len(people)
    return [line(i, p, a, r) for i, (p, a, r) in enumerate(zip(people, amounts, remarks, strict=True), start=1)]


def xlsx(
    path: Path,
    sheets: dict[str, list[list[Any]]],
    *,
    active: str | None = None,
    hidden_sheets: Sequence[str] = (),
    hidden_rows: dict[str, Sequence[int]] | None = None,
) -> Path:
    """A workbook with these sheets (rows from row 1), this active sheet, hidden sheets and hidden rows."""
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if name in hidden_sheets:
            sheet.sheet_state = "hidden"
        for number in (hidden_rows or {}).get(name, ()):
            sheet.row_dimensions[number].hidden = True
    book.active = list(sheets).index(active) if active is not None else 0
    for sheet in book.worksheets:  # openpyxl marks the first sheet selected; Excel selects only the active one
        sheet.sheet_view.tabSelected = sheet.title == (active or next(iter(sheets)))
    book.save(path)
    return path


def payroll_sheet(people: Sequence[Person], amounts: Sequence[Any], **kw: Any) -> list[list[Any]]:
    """The clerk's usual sheet: a title row, the header, the lines and a 合计 row."""
    rows = [[TITLE], ZH_HEADER, *table(people, amounts)]
    total = kw.get("total")
    if total is not None:
        rows.append(["合计", "", "", "", "", total, ""])
    return rows


def xls(path: Path, sheets: dict[str, list[list[Any]]], *, hidden_sheets: Sequence[str] = ()) -> Path:
    """A legacy .xls workbook (BIFF8, as old WPS and Excel 2003 save it)."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    for name, rows in sheets.items():
        sheet = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                sheet.write(r, c, value)
        if name in hidden_sheets:
            sheet.visibility = 1
    book.save(str(path))
    return path


def csv_text(rows: list[list[Any]]) -> str:
    def show(value: Any) -> str:
        text = "" if value is None else value.isoformat() if isinstance(value, date) else str(value)
        return f'"{text}"' if ("," in text or '"' in text) else text

    return "".join(",".join(show(v) for v in row) + "\r\n" for row in rows)


def unicode_text(path: Path, rows: list[list[Any]]) -> Path:
    """Excel's "Unicode text" (文本文件(制表符分隔)/Unicode 文本): UTF-16 LE with a BOM, tab-separated."""
    body = "".join("\t".join("" if v is None else str(v) for v in row) + "\r\n" for row in rows)
    path.write_bytes(b"\xff\xfe" + body.encode("utf-16-le"))
    return path
