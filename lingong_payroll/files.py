"""Payroll files as Chinese payroll clerks make them: CSV, Excel's "Unicode text", .xlsx and .xls.

Formats: CSV in UTF-8 (with or without BOM) or GB18030 (Excel's default in China), UTF-16 with a BOM
and tabs (Excel's "Unicode text"), .xlsx/.xlsm and legacy .xls (lingong_payroll.sheets).

What is read, in order:

1. **The sheet.** ``--sheet NAME`` if given. Otherwise the one visible worksheet holding a payroll header
   (the active one, when a workbook has a cover or notes sheet besides); hidden sheets are never read
   unless named. Two or more visible sheets holding a payroll are refused: which month is meant is the
   operator's choice (``--sheet``), not the last sheet someone looked at. The sheet read is always said
   (:attr:`ParsedPayroll.source`).
2. **The header row**, the first of the first :data:`HEADER_SCAN` rows naming every required column
   (title rows above it are fine). Headers are matched after normalisation (full-width forms folded,
   units in brackets dropped: ``金额（元）`` is ``金额``) against :data:`HEADERS`. Two columns that could
   both be the amount (``应发金额`` and ``实发金额``) are refused unless ``--amount-column`` names one.
3. **The lines.** Every cell is normalised (lingong_payroll.normalise) and validated (lingong_payroll.payees).
   Blank lines of a file are skipped; a blank line of a typed payee list is an error. A 合计/总计 row
   (or 小计) is recognised, not paid, and checked: a total that differs from the sum of the lines above
   refuses the whole file, since then the file is not what the clerk meant. Hidden (filtered) rows are
   refused unless ``--include-hidden-rows``. Optional columns (备注) take blanks, numbers and dates.

A file with invalid lines is refused as a whole, one line per problem (row, column, rule, masked value),
unless the operator asks to skip invalid lines; nothing is paid from a refused file.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lingong_core.errors import InputError
from lingong_core.money import fmt_yuan

from .normalise import DEFAULT_MAX_AMOUNT, cell, header_key, is_blank, normalise_text, optional_text, parse_amount
from .payees import Payee
from .sheets import Workbook, WorkbookError, open_xls, open_xlsx

#: Column → accepted header spellings (matched by :func:`lingong_payroll.normalise.header_key`).
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("name", "姓名", "名字", "收款人", "收款人姓名", "收款户名", "户名", "真实姓名", "realname", "fullname"),
    "id_card_no": (
        "idcardno",
        "idcard",
        "idno",
        "id",
        "身份证号",
        "身份证号码",
        "身份证",
        "证件号码",
        "证件号",
        "身份证件号码",
    ),
    "mobile": ("mobile", "phone", "mobileno", "手机号", "手机号码", "手机", "电话", "联系电话", "联系方式"),
    "bank_card_no": (
        "bankcardno",
        "bankcard",
        "cardno",
        "card",
        "银行卡号",
        "银行卡",
        "卡号",
        "收款账号",
        "银行账号",
        "收款卡号",
        "银行卡账号",
    ),
    "amount": (
        "amount",
        "金额",
        "实发金额",
        "应发金额",
        "发放金额",
        "税前金额",
        "佣金",
        "劳务费",
        "实发",
        "应发",
        "打款金额",
        "付款金额",
        "结算金额",
        "报酬",
    ),
    "remark": ("remark", "note", "memo", "备注", "说明", "用途", "摘要"),
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
#: Words of a total row, compared with every space removed (合 计, 总 计).
TOTAL_WORDS = frozenset({"合计", "总计", "合计金额", "总金额", "共计", "total", "grandtotal", "sum"})
SUBTOTAL_WORDS = frozenset({"小计", "subtotal"})
#: The header must be within the first rows (title rows above it).
HEADER_SCAN = 10
MAX_ROWS = 100_000
MAX_BYTES = 50 * 1024 * 1024
_ALIAS = {header_key(alias): col for col, aliases in HEADERS.items() for alias in aliases}
_DIGIT_COLUMNS = ("id_card_no", "bank_card_no", "mobile")
#: Excel keeps 15 significant digits of a number: a longer number stored as a number was rounded.
_EXACT_DIGITS = 15


class PayrollFileError(ValueError):
    """The file as a whole cannot be read or trusted (format, sheet, headers, totals). Nothing is paid."""


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How to read a file: the operator's choices (``lingong payroll run`` options)."""

    sheet: str | None = None  # --sheet: which sheet of a workbook
    amount_column: str | None = None  # --amount-column: which header is the amount, when two could be
    max_amount: Decimal | None = DEFAULT_MAX_AMOUNT  # --max-amount: the per-line ceiling (None: none)
    include_hidden_rows: bool = False  # --include-hidden-rows: pay hidden (filtered) rows too


class SheetReading(BaseModel):
    """The same choices as a deployment's form offers them (the ``reading`` parameter of ``payroll_run`` and
    ``marketing_payout``), for a file read by a worker, where no command line gave them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sheet: str | None = Field(
        None,
        description="The workbook's sheet to pay, when several visible sheets hold a payroll (--sheet).",
        examples=["十一月"],
    )
    amount_column: str | None = Field(
        None,
        description="The header of the amount column, when two could be meant (--amount-column).",
        examples=["实发金额"],
    )
    max_amount: str = Field(
        f"{DEFAULT_MAX_AMOUNT}",
        description="Refuse a file with a line above this many yuan: guards against a pasted column (--max-amount).",
        pattern=r"^\d{1,10}(\.\d{1,2})?$",
        examples=[f"{DEFAULT_MAX_AMOUNT}"],
    )
    include_hidden_rows: bool = Field(
        False,
        description="Pay hidden (filtered) rows too; otherwise a hidden row refuses the file (--include-hidden-rows).",
    )

    def options(self) -> ReadOptions:
        from lingong_core.money import to_money

        return ReadOptions(
            sheet=self.sheet or None,
            amount_column=self.amount_column or None,
            max_amount=to_money(self.max_amount, field="reading.max_amount", allow_zero=False),
            include_hidden_rows=self.include_hidden_rows,
        )


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # the row number as the operator sees it in the sheet (1 is the sheet's first row)
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
    source: str = ""  # what was read: "sheet “11月” of payroll.xlsx, header row 2"
    total_rows: list[int] = field(default_factory=list)  # 合计/小计 rows recognised (checked, not paid)
    notes: list[str] = field(default_factory=list)

    @property
    def invalid_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})

    def reasons(self) -> dict[int, str]:
        """Each invalid row (in order) → what is wrong with it, every field's rule joined."""
        by_row: dict[int, list[str]] = {}
        for e in sorted(self.errors, key=lambda e: e.row):
            by_row.setdefault(e.row, []).append(f"{e.column}: {e.reason}")
        return {row: "; ".join(reasons) for row, reasons in by_row.items()}

    def report(self) -> str:
        return "\n".join(str(e) for e in self.errors)


@dataclass(frozen=True, slots=True)
class Header:
    row: int  # sheet row number of the header
    columns: dict[str, int]  # column → index
    labels: dict[str, str]  # column → the header as written
    amount_candidates: tuple[tuple[int, str], ...]  # (index, header) of every column that could be the amount


def _letter(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _header_of(values: Sequence[Any], number: int) -> Header | None:
    """The row as a payroll header, or None when it names fewer than every required column."""
    columns: dict[str, int] = {}
    labels: dict[str, str] = {}
    amounts: list[tuple[int, str]] = []
    for index, value in enumerate(values):
        if is_blank(value):
            continue
        column = _ALIAS.get(header_key(value))
        if column is None:
            continue
        label = normalise_text(str(value))
        if column == "amount":
            amounts.append((index, label))
            continue
        if column in columns:
            raise PayrollFileError(
                f"header row {number}: {labels[column]!r} and {label!r} both name the {WIRE_NAMES[column]} column"
            )
        columns[column], labels[column] = index, label
    if not amounts or any(c not in columns for c in REQUIRED if c != "amount"):
        return None
    return Header(number, columns, labels, tuple(amounts))


def _missing(values: Sequence[Any]) -> list[str]:
    found = {_ALIAS.get(header_key(v)) for v in values if not is_blank(v)}
    return [WIRE_NAMES[c] for c in REQUIRED if c not in found]


def find_header(rows: Sequence[Sequence[Any]]) -> Header:
    """The header within the first :data:`HEADER_SCAN` rows; raise naming what is missing."""
    for number, values in enumerate(rows[:HEADER_SCAN], start=1):
        header = _header_of(values, number)
        if header is not None:
            return header
    scanned = [(len(_missing(v)), n, v) for n, v in enumerate(rows[:HEADER_SCAN], start=1) if any(map(_filled, v))]
    if not scanned:
        raise PayrollFileError("the file is empty: expected a header row and payees")
    _, number, values = min(scanned, key=lambda x: (x[0], x[1]))
    raise PayrollFileError(
        f"no header row in the first {HEADER_SCAN} rows: row {number} comes closest but lacks "
        + ", ".join(_missing(values))
        + " — expected 姓名/name, 身份证号/idCardNo, 手机号/mobile, 银行卡号/bankCardNo, 金额/amount"
    )


def _filled(value: Any) -> bool:
    return not is_blank(value)


def _choose_amount(header: Header, amount_column: str | None) -> Header:
    """The header with one amount column: the only candidate, or the one ``--amount-column`` names."""
    if amount_column is not None:
        wanted = header_key(amount_column)
        return _with_amount(header, wanted, amount_column)
    if len(header.amount_candidates) > 1:
        shown = ", ".join(f"{label} (column {_letter(i)})" for i, label in header.amount_candidates)
        raise PayrollFileError(
            f"header row {header.row}: {len(header.amount_candidates)} columns could be the amount: {shown}; "
            f"choose one with --amount-column, e.g. --amount-column {header.amount_candidates[-1][1]}"
        )
    index, label = header.amount_candidates[0]
    return Header(header.row, {**header.columns, "amount": index}, {**header.labels, "amount": label}, ())


def _with_amount(header: Header, wanted: str, asked: str) -> Header:
    found = [(i, label) for i, label in header.amount_candidates if header_key(label) == wanted]
    if len(found) != 1:
        names = ", ".join(label for _, label in header.amount_candidates)
        problem = "no amount column is named" if not found else "more than one column is named"
        raise PayrollFileError(f"header row {header.row}: {problem} {asked!r} (--amount-column); the sheet has {names}")
    index, label = found[0]
    return Header(header.row, {**header.columns, "amount": index}, {**header.labels, "amount": label}, ())


def _header_for_sheet(rows: Sequence[Sequence[Any]], options: ReadOptions) -> Header:
    header = find_header(rows)
    if options.amount_column is not None:
        # --amount-column may name any header of that row, not only a known alias of the amount.
        values = rows[header.row - 1]
        wanted = header_key(options.amount_column)
        extra = tuple(
            (i, normalise_text(str(v)))
            for i, v in enumerate(values)
            if not is_blank(v) and header_key(v) == wanted and i not in {c for c, _ in header.amount_candidates}
        )
        header = Header(header.row, header.columns, header.labels, header.amount_candidates + extra)
    return _choose_amount(header, options.amount_column)


def _total_kind(values: Sequence[Any], header: Header) -> str | None:
    """ "total" or "subtotal" for a 合计/总计/小计 row (a label and no ID number), else None."""
    if not is_blank(_at(values, header.columns["id_card_no"])):
        return None
    for value in values:
        if isinstance(value, str):
            word = "".join(normalise_text(value).split()).lower().rstrip(":")
            if word in TOTAL_WORDS:
                return "total"
            if word in SUBTOTAL_WORDS:
                return "subtotal"
    return None


def _at(values: Sequence[Any], index: int) -> Any:
    return values[index] if index < len(values) else None


def _digit_cell(column: str, value: Any) -> Any:
    """An ID, card or mobile cell: a number is taken only when Excel cannot have rounded it."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float | int):
        if isinstance(value, float) and not value.is_integer():
            raise InputError(WIRE_NAMES[column], "must be stored as text in the sheet (it holds a fraction)")
        number = int(value)
        if len(str(abs(number))) > _EXACT_DIGITS:
            raise InputError(
                WIRE_NAMES[column],
                "must be stored as text in the sheet (Excel rounds numbers longer than 15 digits); "
                "format the column as Text and type the number again",
            )
        return str(number)
    return cell(value) if isinstance(value, str) else value


def _cell_for(column: str, value: Any) -> Any:
    if column in _DIGIT_COLUMNS:
        return _digit_cell(column, value)
    if column == "remark":
        return optional_text(value)
    if column == "name" and not isinstance(value, str) and value is not None:
        return str(value)
    return cell(value)


def _payee_or_errors(row: int, raw: dict[str, Any], max_amount: Decimal | None) -> Payee | list[RowError]:
    try:
        return Payee.validate(raw, max_amount)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            column = WIRE_NAMES.get(str(err["loc"][0]), str(err["loc"][0])) if err["loc"] else "row"
            reason = str(err["msg"]).removeprefix("Value error, ")
            value = None
            if " (got " in reason:
                reason, _, value = reason.rpartition(" (got ")
                value = value.rstrip(")")
            errors.append(RowError(row, column, reason, value))
        return errors


def validate_rows(
    records: Iterable[tuple[int, dict[str, Any]]],
    *,
    max_amount: Decimal | None = None,
    blank_lines: bool = False,
) -> ParsedPayroll:
    """Validate (row, raw values) pairs — a typed payee list, a form's lines — into payees and row errors.

    A blank line is an error naming the row, never dropped: a line blanked by mistake is a person not
    paid (``blank_lines=True`` skips them). Typed lines have no per-line ceiling unless ``max_amount``
    is given (a file's ceiling guards against pasted columns; the platform's per-order limit applies to
    all)."""
    parsed = ParsedPayroll()
    for row, raw in records:
        if all(is_blank(v) for v in raw.values()):
            if not blank_lines:
                parsed.errors.append(RowError(row, "row", "is blank: fill it in or remove it"))
            continue
        _add(parsed, row, _payee_or_errors(row, raw, max_amount))
    return parsed


#: Told of each valid line as it is read (:func:`each_payee`).
_ON_PAYEE: ContextVar[Callable[[int, Payee], None] | None] = ContextVar("lingong_on_payee", default=None)


@contextmanager
def each_payee(listener: Callable[[int, Payee], None]) -> Iterator[None]:
    """Call ``listener(row, payee)`` for each valid line as it is read, in sheet order, while any payroll is
    read here (in this context): the payroll run prices the first lines with the platform while the rest of
    a large file is still being validated. The :class:`ParsedPayroll` read is the same; whether it may be
    paid (its errors) is known only at the end."""
    token = _ON_PAYEE.set(listener)
    try:
        yield
    finally:
        _ON_PAYEE.reset(token)


def _add(parsed: ParsedPayroll, row: int, result: Payee | list[RowError]) -> None:
    if isinstance(result, list):
        parsed.errors.extend(result)
        return
    parsed.payees.append(result)
    parsed.rows.append(row)
    listener = _ON_PAYEE.get()
    if listener is not None:
        listener(row, result)
    if not result.luhn_valid:
        parsed.luhn_flags.append(row)
    if len(parsed.payees) > MAX_ROWS:
        raise PayrollFileError(f"more than {MAX_ROWS} rows: split the payroll")


def parse_grid(
    rows: Iterable[Sequence[Any]],
    options: ReadOptions | None = None,
    *,
    hidden: set[int] | None = None,
    source: str = "the file",
) -> ParsedPayroll:
    """A sheet's rows (row 1 first) into a validated payroll: header, lines, totals, hidden rows.

    ``rows`` is read once, row by row: only the first :data:`HEADER_SCAN` rows are held together (to find
    the header), so a CSV's cells are never all in memory at once (at 100,000 payees they were 44 MB)."""
    options = options or ReadOptions()
    hidden = hidden or set()
    rest = iter(rows)
    head = list(itertools.islice(rest, HEADER_SCAN))
    header = _header_for_sheet(head, options)
    parsed = ParsedPayroll(source=f"{source}, header row {header.row}")
    running = Decimal("0.00")  # every line's amount that could be read, for the totals
    since_subtotal = Decimal("0.00")
    for number, values in enumerate(itertools.chain(head[header.row :], rest), start=header.row + 1):
        if number > MAX_ROWS + HEADER_SCAN:
            raise PayrollFileError(f"more than {MAX_ROWS} rows: split the payroll")
        if not any(map(_filled, values)):
            continue  # a blank line
        raw_values = {col: _at(values, i) for col, i in header.columns.items()}
        kind = _total_kind(values, header)
        if kind is not None:
            parsed.total_rows.append(number)
            expected = running if kind == "total" else since_subtotal
            _check_total(parsed, number, _at(values, header.columns["amount"]), expected, kind)
            if kind == "subtotal":
                since_subtotal = Decimal("0.00")
            continue
        if all(is_blank(v) for c, v in raw_values.items() if c in REQUIRED):
            # No name, ID, mobile, card or amount: a note under the table (制表人, 审核), not a payee.
            parsed.notes.append(f"row {number}: no payee fields, read as a note (not paid)")
            continue
        if number in hidden and not options.include_hidden_rows:
            parsed.errors.append(
                RowError(
                    number,
                    "row",
                    "is hidden (filtered) in the sheet: unhide or delete it, or pass --include-hidden-rows to pay it",
                )
            )
            amount = _amount_or_none(raw_values.get("amount"))
            running += amount or 0
            since_subtotal += amount or 0
            continue
        raw: dict[str, Any] = {}
        problems: list[RowError] = []
        for col, value in raw_values.items():
            try:
                raw[col] = _cell_for(col, value)
            except InputError as exc:
                problems.append(RowError(number, exc.field, exc.rule, exc.value))
        if problems:
            parsed.errors.extend(problems)
            amount = _amount_or_none(raw_values.get("amount"))
        else:
            payee = _payee_or_errors(number, raw, options.max_amount)
            _add(parsed, number, payee)
            # a valid line's amount is the one its validation read (the same rule): not read a second time
            amount = payee.amount if isinstance(payee, Payee) else _amount_or_none(raw_values.get("amount"))
        running += amount or 0
        since_subtotal += amount or 0
    if hidden and options.include_hidden_rows:
        paid_hidden = sorted(r for r in parsed.rows if r in hidden)
        if paid_hidden:
            parsed.notes.append(f"hidden rows read as asked (--include-hidden-rows): {paid_hidden}")
    parsed.errors.sort(key=lambda e: e.row)
    return parsed


def _amount_or_none(value: Any) -> Decimal | None:
    try:
        return parse_amount(value, max_amount=None)
    except InputError:
        return None


def _check_total(parsed: ParsedPayroll, row: int, value: Any, expected: Decimal, kind: str) -> None:
    label = "合计" if kind == "total" else "小计"
    if is_blank(value):
        parsed.notes.append(f"row {row}: a {label} row without an amount (not paid, nothing to check)")
        return
    try:
        stated = parse_amount(value, max_amount=None)
    except InputError as exc:
        raise PayrollFileError(f"row {row}, amount: the {label} row's amount {exc.rule}; nothing was paid") from None
    if stated != expected:
        raise PayrollFileError(
            f"row {row}, amount: the {label} row says {fmt_yuan(stated)} but the lines above it add up to "
            f"{fmt_yuan(expected)} — the file is not what it says; nothing was paid"
        )
    parsed.notes.append(f"row {row}: {label} {fmt_yuan(stated)} matches the lines (not paid)")


# --- CSV and text ---------------------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """UTF-16 with a BOM (Excel's "Unicode text"), UTF-8 (with or without BOM), else GB18030."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise PayrollFileError("cannot decode the UTF-16 text: the file is damaged") from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise PayrollFileError("cannot decode the CSV: save it as UTF-8, GB18030 or Unicode text")


decode_csv = decode_text  # the name earlier callers know


def _split(text: str, delimiter: str) -> Iterator[list[str]]:
    """The rows of ``text``, one at a time; a malformed one is refused when it is reached."""
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as exc:
        raise PayrollFileError(f"the CSV is malformed: {exc}") from None


def _text_rows(data: bytes) -> Iterator[list[str]]:
    """The rows of a text file: UTF-16 is Excel's "Unicode text" (tabs); otherwise the delimiter among
    comma, tab and semicolon under which a header row is found in the first :data:`HEADER_SCAN` rows (a
    sniffer guesses wrong on "1,020.00"). The rows come one at a time (:func:`parse_grid`)."""
    text = decode_text(data)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return _split(text, "\t")
    try:
        sniffed = csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
    except csv.Error:
        sniffed = ","
    delimiters = list(dict.fromkeys((sniffed, ",", "\t", ";")))
    for delimiter in delimiters:
        head = itertools.islice(_split(text, delimiter), HEADER_SCAN)
        if any(_header_of(values, n) for n, values in enumerate(head, start=1)):
            return _split(text, delimiter)
    return _split(text, delimiters[0])


def parse_csv(data: bytes, options: ReadOptions | None = None, *, source: str = "the CSV") -> ParsedPayroll:
    return parse_grid(_text_rows(data), options, source=source)


# --- workbooks ------------------------------------------------------------------------------------


def _choose_sheet(book: Workbook, options: ReadOptions, filename: str) -> tuple[str, list[list[Any]], str]:
    """(sheet name, its rows, a note) by the rule in the module's docstring."""
    names = [s.name for s in book.sheets]
    if options.sheet is not None:
        wanted = normalise_text(options.sheet)
        match = [s for s in book.sheets if s.name == options.sheet] or [
            s for s in book.sheets if normalise_text(s.name) == wanted
        ]
        if not match:
            raise PayrollFileError(
                f"{filename}: no sheet named {options.sheet!r} (--sheet); its sheets: " + ", ".join(names)
            )
        sheet = match[0]
        note = " (hidden, read as asked with --sheet)" if not sheet.visible else ""
        return sheet.name, book.rows(sheet.name), note
    visible = [s for s in book.sheets if s.visible and s.worksheet]
    if not visible:
        raise PayrollFileError(f"{filename}: no visible worksheet; name one with --sheet (sheets: {', '.join(names)})")
    candidates: list[tuple[str, list[list[Any]]]] = []
    for sheet in visible:
        rows = book.rows(sheet.name)
        try:
            find_header(rows)
        except PayrollFileError:
            continue
        candidates.append((sheet.name, rows))
    if len(candidates) > 1:
        active = next((s.name for s in book.sheets if s.active), None)
        shown = ", ".join(f"“{n}”" for n, _ in candidates)
        hint = f" (the active sheet is “{active}”)" if active else ""
        raise PayrollFileError(
            f"{filename}: {len(candidates)} visible sheets hold a payroll: {shown}{hint}; "
            f"choose one with --sheet NAME, e.g. --sheet {candidates[0][0]}"
        )
    if candidates:
        return candidates[0][0], candidates[0][1], ""
    # No sheet holds a header: explain with the sheet the clerk sees first.
    sheet = next((s for s in visible if s.active), visible[0])
    return sheet.name, book.rows(sheet.name), ""


def parse_workbook(
    book: Workbook, options: ReadOptions | None = None, *, filename: str = "the workbook"
) -> ParsedPayroll:
    options = options or ReadOptions()
    name, rows, note = _choose_sheet(book, options, filename)
    if not book.hidden_rows_known and not options.include_hidden_rows:
        raise PayrollFileError(
            f"{filename}: an .xls file does not show this reader which rows are hidden (filtered), so hidden rows "
            "could be paid unseen — save it as .xlsx, or pass --include-hidden-rows to pay every row of "
            f"sheet “{name}”"
        )
    hidden = book.hidden_rows(name) if book.hidden_rows_known else set()
    parsed = parse_grid(rows, options, hidden=hidden, source=f"sheet “{name}”{note} of {filename}")
    skipped = [s.name for s in book.sheets if not s.visible and s.name != name]
    if skipped:
        parsed.notes.append("hidden sheets not read: " + ", ".join(f"“{n}”" for n in skipped))
    return parsed


def _parse_book(
    opener: Callable[[bytes], Workbook], data: bytes, options: ReadOptions | None, filename: str, kind: str
) -> ParsedPayroll:
    """Open a workbook with ``opener`` and parse it; the reader's own failures become one clear line."""
    try:
        book = opener(data)
    except WorkbookError as exc:
        raise PayrollFileError(f"cannot read the {kind} file: {exc}") from None
    try:
        return parse_workbook(book, options, filename=filename)
    except WorkbookError as exc:
        raise PayrollFileError(f"cannot read the {kind} file: {exc}") from None
    finally:
        book.close()


def parse_xlsx(data: bytes, options: ReadOptions | None = None, *, filename: str = "the .xlsx file") -> ParsedPayroll:
    return _parse_book(open_xlsx, data, options, filename, ".xlsx")


def parse_xls(data: bytes, options: ReadOptions | None = None, *, filename: str = "the .xls file") -> ParsedPayroll:
    return _parse_book(open_xls, data, options, filename, ".xls")


# --- files ----------------------------------------------------------------------------------------

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound-file signature of .xls (and encrypted .xlsx)
_REMEMBERED: dict[str, ReadOptions] = {}


@contextmanager
def reading_options(path: str | Path, options: ReadOptions) -> Iterator[None]:
    """Read ``path`` with ``options`` wherever this process reads it without options of its own.

    ``lingong payroll run`` validates the file with the operator's options and then runs the
    ``payroll_run`` flow in the same process, which reads the file again by path; this makes that
    second reading the same as the first. Elsewhere (a deployment's worker) no options are remembered
    and the defaults apply, which refuse every ambiguity rather than guess."""
    key = str(Path(path).resolve())
    _REMEMBERED[key] = options
    try:
        yield
    finally:
        _REMEMBERED.pop(key, None)


def read_payroll_file(path: str | Path, options: ReadOptions | None = None) -> ParsedPayroll:
    """Read and validate a payroll file (.csv/.txt in UTF-8, GB18030 or UTF-16; .xlsx/.xlsm; .xls)."""
    path = Path(path)
    if options is None:
        options = _REMEMBERED.get(str(path.resolve()), ReadOptions())
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise PayrollFileError(f"{path}: {exc.strerror}") from None
    if size > MAX_BYTES:
        raise PayrollFileError(f"{path.name}: larger than {MAX_BYTES // (1024 * 1024)} MB")
    return parse_payroll_bytes(path.read_bytes(), path.name, options)


def parse_payroll_bytes(data: bytes, name: str, options: ReadOptions | None = None) -> ParsedPayroll:
    """A payroll file's bytes, by what they are (a zip is .xlsx, an OLE2 file .xls) or else by ``name``'s
    suffix; anything else is read as text (CSV, Excel's "Unicode text")."""
    suffix = Path(name).suffix.lower()
    if data[:2] == b"PK" or suffix in (".xlsx", ".xlsm"):
        return parse_xlsx(data, options, filename=name)
    if data[:8] == _OLE2 or suffix == ".xls":
        return parse_xls(data, options, filename=name)
    return parse_csv(data, options, source=name)


def map_headers(headers: Sequence[Any]) -> dict[str, int]:
    """Column name → index of one header row; raise :class:`PayrollFileError` naming what is missing."""
    header = _header_of(headers, 1)
    if header is None:
        raise PayrollFileError(
            "header row: missing column(s) "
            + ", ".join(_missing(headers))
            + " — expected 姓名/name, 身份证号/idCardNo, 手机号/mobile, 银行卡号/bankCardNo, 金额/amount"
        )
    return _choose_amount(header, None).columns
