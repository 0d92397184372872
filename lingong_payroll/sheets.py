"""Workbooks as grids of cells, with what the clerk sees: which sheets are visible, which one is active,
which rows are hidden (filtered).

Cells are read by python-calamine (Rust; .xlsx and .xls), ten to twenty times faster than openpyxl on a
10,000-row sheet (bench/sheets.py). calamine does not tell the active sheet or hidden rows, so for .xlsx
the workbook's structure comes from openpyxl's workbook parser (xl/workbook.xml and its relations only,
not the cells) and hidden rows from one pass over the chosen sheet's ``<row hidden="1">`` tags. A
legacy .xls tells calamine its sheets' visibility but neither the active sheet nor hidden rows:
:attr:`Workbook.hidden_rows_known` is False for it.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any


class WorkbookError(ValueError):
    """The workbook cannot be read at all (damaged, encrypted, not a workbook)."""


@dataclass(frozen=True, slots=True)
class SheetInfo:
    name: str
    visible: bool
    active: bool
    worksheet: bool = True  # False for chart sheets and macro sheets: never payrolls


@dataclass(slots=True)
class Workbook:
    kind: str  # "xlsx" or "xls"
    sheets: list[SheetInfo]
    hidden_rows_known: bool
    _book: Any = None
    _archive: zipfile.ZipFile | None = None
    _paths: dict[str, str] = field(default_factory=dict)

    def rows(self, name: str) -> list[list[Any]]:
        """The sheet's cells, row 1 first (index 0 is the sheet's row 1; empty cells are "")."""
        try:
            return list(self._book.get_sheet_by_name(name).to_python(skip_empty_area=False))
        except Exception as exc:  # calamine raises its own kinds for damaged parts
            raise WorkbookError(f"cannot read sheet {name!r}: {type(exc).__name__}: {exc}") from None

    def hidden_rows(self, name: str) -> set[int]:
        """The sheet's hidden rows (1-based sheet row numbers); empty when unknown (see hidden_rows_known)."""
        if self._archive is None or name not in self._paths:
            return set()
        return _hidden_rows(self._archive, self._paths[name])

    def close(self) -> None:
        if self._book is not None:
            self._book.close()
        if self._archive is not None:
            self._archive.close()


def _calamine(data: bytes) -> Any:
    try:
        from python_calamine import CalamineWorkbook

        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises many kinds for a damaged or encrypted file
        raise WorkbookError(f"{type(exc).__name__}") from None


def open_xlsx(data: bytes) -> Workbook:
    """An .xlsx (or .xlsm) workbook: structure from openpyxl's workbook parser, cells from calamine."""
    try:
        from openpyxl.reader.excel import ExcelReader

        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
        reader.read_manifest()
        reader.read_workbook()
        archive, parser = reader.archive, reader.parser
        active = int(parser.wb._active_sheet_index or 0)
        listed = list(parser.find_sheets())
    except Exception as exc:  # a damaged archive raises any of zipfile's, openpyxl's or lxml's kinds
        raise WorkbookError(f"{type(exc).__name__}") from None
    book = _calamine(data)
    sheets: list[SheetInfo] = []
    paths: dict[str, str] = {}
    for index, (sheet, rel) in enumerate(listed):
        paths[sheet.name] = str(rel.target).lstrip("/")
        worksheet = "/worksheet" in str(rel.Type)
        sheets.append(SheetInfo(sheet.name, (sheet.state or "visible") == "visible", index == active, worksheet))
    return Workbook("xlsx", sheets, True, book, archive, paths)


def open_xls(data: bytes) -> Workbook:
    """A legacy .xls workbook (BIFF8): calamine reads cells and the sheets' visibility."""
    from python_calamine import SheetTypeEnum, SheetVisibleEnum

    book = _calamine(data)
    sheets = [
        SheetInfo(m.name, m.visible == SheetVisibleEnum.Visible, False, m.typ == SheetTypeEnum.WorkSheet)
        for m in book.sheets_metadata
    ]
    return Workbook("xls", sheets, False, book)


def _hidden_rows(archive: zipfile.ZipFile, path: str) -> set[int]:
    """Rows with ``hidden="1"`` in a worksheet's XML.

    One regular-expression pass over the row start tags: in SpreadsheetML a ``<row`` can only be an
    element (text and attribute values escape ``<``) and row attributes are numbers and booleans, so this
    is exact, and fifty times faster than an XML parser visiting every cell element of a large sheet."""
    try:
        xml = archive.read(path)
    except (KeyError, zipfile.BadZipFile, OSError) as exc:
        raise WorkbookError(f"cannot read the rows of {path}: {type(exc).__name__}") from None
    hidden: set[int] = set()
    counter = 0
    for match in _ROW_TAG.finditer(xml):
        attrs = match["attrs"]
        number = _ROW_NUMBER.search(attrs)
        counter = int(number[1]) if number else counter + 1
        if _HIDDEN.search(attrs):
            hidden.add(counter)
    return hidden


_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row(?P<attrs>(?:\s[^>]*)?)/?>")
_ROW_NUMBER = re.compile(rb"""\sr\s*=\s*["'](\d+)["']""")
_HIDDEN = re.compile(rb"""\shidden\s*=\s*["'](?:1|true)["']""")
