"""Payroll files: CSV (UTF-8, UTF-8 with BOM, or GB18030 as Excel in China saves it) and ``.xlsx``.

Headers may be English or Chinese (姓名, 身份证号, 手机号, 银行卡号, 金额, 备注). Every row is
validated; a file with invalid rows is refused as a whole with one line per bad row (row number,
column, reason, masked value) unless the operator asks to skip invalid rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .payees import Payee

#: Column → accepted header spellings (compared without case, spaces, underscores or the trailing ":").
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("name", "姓名", "名字", "收款人", "收款人姓名", "realname", "fullname"),
    "id_card_no": ("idcardno", "idcard", "idno", "id", "身份证号", "身份证号码", "身份证", "证件号码", "证件号"),
    "mobile": ("mobile", "phone", "mobileno", "手机号", "手机号码", "手机", "电话", "联系电话"),
    "bank_card_no": ("bankcardno", "bankcard", "cardno", "card", "银行卡号", "银行卡", "卡号", "收款账号", "银行账号"),
    "amount": ("amount", "金额", "实发金额", "应发金额", "发放金额", "税前金额", "佣金"),
    "remark": ("remark", "note", "memo", "备注", "说明"),
}
REQUIRED = ("name", "id_card_no", "mobile", "bank_card_no", "amount")
WIRE_NAMES = {
    "name": "name",
    "id_card_no": "idCardNo",
    "mobile": "mobile",
    "bank_card_no": "bankCardNo",
    "amount": "amount",
    "remark": "remark",
}
MAX_ROWS = 100_000
MAX_BYTES = 50 * 1024 * 1024


class PayrollFileError(ValueError):
    """The file as a whole cannot be read (format, encoding, headers). Nothing is paid."""


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # the row number as the operator sees it in the sheet (the header is row 1)
    column: str
    reason: str
    value: str | None = None  # masked

    def __str__(self) -> str:
        shown = f" [{self.value}]" if self.value else ""
        return f"row {self.row}, {self.column}: {self.reason}{shown}"


@dataclass(slots=True)
class ParsedPayroll:
    payees: list[Payee] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # the sheet row of each payee
    errors: list[RowError] = field(default_factory=list)
    luhn_flags: list[int] = field(default_factory=list)  # rows whose card fails the Luhn check (flagged only)

    @property
    def invalid_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})

    def report(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def _norm(header: Any) -> str:
    text = str(header or "").strip().lower().rstrip(":：")
    return "".join(ch for ch in text if ch not in " _-*\ufeff")


def map_headers(headers: Sequence[Any]) -> dict[str, int]:
    """Column name → index; raise :class:`PayrollFileError` naming what is missing or repeated."""
    lookup = {_norm(alias): col for col, aliases in HEADERS.items() for alias in aliases}
    found: dict[str, int] = {}
    for index, header in enumerate(headers):
        column = lookup.get(_norm(header))
        if column is None:
            continue
        if column in found:
            raise PayrollFileError(f"header row: column {header!r} appears twice")
        found[column] = index
    missing = [WIRE_NAMES[c] for c in REQUIRED if c not in found]
    if missing:
        raise PayrollFileError(
            "header row: missing column(s) "
            + ", ".join(missing)
            + " — expected 姓名/name, 身份证号/idCardNo, 手机号/mobile, 银行卡号/bankCardNo, 金额/amount"
        )
    return found


def validate_rows(records: Iterable[tuple[int, dict[str, Any]]]) -> ParsedPayroll:
    """Validate (sheet row, raw values) pairs into payees and row errors."""
    parsed = ParsedPayroll()
    for row, raw in records:
        if all(v is None or str(v).strip() == "" for v in raw.values()):
            continue  # blank line
        try:
            payee = Payee.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                column = WIRE_NAMES.get(str(err["loc"][0]), str(err["loc"][0])) if err["loc"] else "row"
                reason = str(err["msg"]).removeprefix("Value error, ")
                value = None
                if " (got " in reason:
                    reason, _, value = reason.rpartition(" (got ")
                    value = value.rstrip(")")
                parsed.errors.append(RowError(row, column, reason, value))
            continue
        parsed.payees.append(payee)
        parsed.rows.append(row)
        if not payee.luhn_valid:
            parsed.luhn_flags.append(row)
        if len(parsed.payees) > MAX_ROWS:
            raise PayrollFileError(f"more than {MAX_ROWS} rows: split the payroll")
    return parsed


def _records(rows: Iterator[Sequence[Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        headers = next(rows)
    except StopIteration:
        raise PayrollFileError("the file is empty: expected a header row and payees") from None
    columns = map_headers(headers)
    for number, values in enumerate(rows, start=2):
        yield number, {col: (values[i] if i < len(values) else None) for col, i in columns.items()}


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (Excel's default for Chinese locales)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise PayrollFileError("cannot decode the CSV: save it as UTF-8 or GB18030")


def parse_csv(data: bytes) -> ParsedPayroll:
    text = decode_csv(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        return validate_rows(_records(iter(reader)))
    except csv.Error as exc:
        raise PayrollFileError(f"the CSV is malformed: {exc}") from None


_UNSAFE = object()  # a number column that Excel stored as a number (and may have rounded)


def _xlsx_cell(column: str, value: Any) -> Any:
    """A cell as the payee model expects it; numbers Excel may have rounded are refused here."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float | int) and column in ("id_card_no", "bank_card_no", "mobile"):
        if isinstance(value, float) or abs(value) >= 10**15:
            return _UNSAFE
        return str(value)
    if isinstance(value, float):
        # openpyxl reads numeric cells as binary floats; their shortest text is the number Excel shows.
        return Decimal(repr(value)) if column == "amount" else repr(value)
    return value


def parse_xlsx(data: bytes) -> ParsedPayroll:
    try:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise PayrollFileError(f"cannot read the .xlsx file: {type(exc).__name__}") from None
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        parsed = ParsedPayroll()
        records: list[tuple[int, dict[str, Any]]] = []
        for row, raw in _records(iter(rows)):
            converted = {col: _xlsx_cell(col, v) for col, v in raw.items()}
            unsafe = [col for col, v in converted.items() if v is _UNSAFE]
            for col in unsafe:
                parsed.errors.append(
                    RowError(
                        row,
                        WIRE_NAMES[col],
                        "must be stored as text in the sheet (Excel rounds long numbers); format the column as Text",
                    )
                )
            if not unsafe:
                records.append((row, converted))
        result = validate_rows(records)
        result.errors = sorted(parsed.errors + result.errors, key=lambda e: e.row)
        return result
    finally:
        book.close()


def read_payroll_file(path: str | Path) -> ParsedPayroll:
    """Read and validate a payroll file (``.csv`` or ``.xlsx``)."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise PayrollFileError(f"{path}: {exc.strerror}") from None
    if size > MAX_BYTES:
        raise PayrollFileError(f"{path.name}: larger than {MAX_BYTES // (1024 * 1024)} MB")
    data = path.read_bytes()
    if path.suffix.lower() == ".xlsx" or data[:2] == b"PK":
        return parse_xlsx(data)
    if path.suffix.lower() in (".xls",):
        raise PayrollFileError(f"{path.name}: the old .xls format is not read; save as .xlsx or CSV")
    return parse_csv(data)
