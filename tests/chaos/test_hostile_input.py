"""Hostile input never crashes a flow, the sandbox or the receiver with an unhandled error: each is refused with
a clear message, and nothing is paid for a refused payroll file.

Every property runs twice: with a few examples in the small profile (``make test``) and many in the full one
(``make chaos``). The sandbox and the receiver are real servers on loopback; bizModels and notifications are
signed correctly, so that they get past the signature to the code that reads them.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lingong_core import jsoncodec
from lingong_core.signing import sign_envelope
from lingong_core.timeutil import format_timestamp, now
from lingong_payroll.files import PayrollFileError, parse_csv, parse_xlsx
from lingong_sandbox.people import team
from tests.chaos.hostile import (
    API_CODES,
    FULL,
    JSON_VALUES,
    SCALARS,
    SMALL,
    TEXT,
    biz_models,
    encodable,
    notification_models,
    to_json,
)
from tests.chaos.kit import MERCHANT_NO, TAX, ChaosSandbox, Keys, lingong_env, running_receiver

HEADER = ["姓名", "身份证号", "手机号", "银行卡号", "金额", "备注"]
COLUMNS = ("name", "id_card_no", "mobile", "bank_card_no", "amount", "remark")
PEOPLE = team(6, seed=9001)
pytestmark = [
    # The servers and the Prefect harness run threads in this process that may touch the global ``random``
    # while hypothesis draws (the strategies here never do), and a failure's report may hold a 70,000-character
    # draw: neither is a finding.
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
    pytest.mark.filterwarnings("ignore:Generating overly large repr"),
]
_numbers = itertools.count(1)


def both_profiles(
    make: Callable[[], Callable[..., None]], small: settings = SMALL, full: settings = FULL
) -> tuple[Callable[..., None], Callable[..., None]]:
    """The same property (``make`` returns it wrapped by ``given``) as a small-profile and a full-profile test."""
    return pytest.mark.chaos(small(make())), pytest.mark.chaos_full(full(make()))


def _row(person: Any, amount: str = "12.34") -> list[str]:
    return [person.name, person.id_card_no, person.mobile, person.bank_card_no, amount, ""]


# --- payroll files --------------------------------------------------------------------------------------


@st.composite
def hostile_tables(draw: st.DrawFn) -> list[list[Any]]:
    """A payroll table: the real header (or a hostile one), valid rows, and hostile cells, rows and shapes."""
    header: list[Any] = list(HEADER) if draw(st.integers(0, 4)) else draw(st.lists(TEXT, max_size=8))
    if draw(st.booleans()) and header:
        del header[draw(st.integers(0, len(header) - 1))]  # a missing column
    rows = [_row(p, str(Decimal(draw(st.integers(1, 99_999))) / 100)) for p in PEOPLE[: draw(st.integers(0, 4))]]
    for _ in range(draw(st.integers(1, 3))):
        if rows and draw(st.booleans()):
            row = list(rows[draw(st.integers(0, len(rows) - 1))])
            if row:
                row[draw(st.integers(0, len(row) - 1))] = draw(SCALARS)  # one hostile cell in a real row
        else:
            row = draw(st.lists(SCALARS, max_size=9))  # a row of any shape
        rows.insert(draw(st.integers(0, len(rows))), row)
    return [header, *rows]


def _csv_bytes(table: list[list[Any]], encoding: str) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([["" if c is None else str(c) for c in row] for row in table])
    # A lone surrogate goes into the file as the bytes a careless encoder writes: not valid UTF-8.
    return out.getvalue().encode(encoding, errors="surrogatepass" if encoding.startswith("utf-") else "replace")


def _check_parsed(parse: Callable[[bytes], Any], data: bytes) -> None:
    try:
        parsed = parse(data)
    except PayrollFileError as exc:
        message = str(exc)
    else:
        message = None
    if message is not None:
        assert message.strip(), "a refused file must say why"
        return
    for error in parsed.errors:
        assert error.row >= 2
        assert error.column
        assert error.reason.strip()
    assert len(parsed.payees) == len(parsed.rows)


def _csv_property(table: list[list[Any]], encoding: str) -> None:
    try:
        data = _csv_bytes(table, encoding)
    except UnicodeEncodeError:
        data = _csv_bytes(table, "utf-8")
    _check_parsed(parse_csv, data)


test_a_hostile_csv_is_read_or_refused_with_a_message, test_a_hostile_csv_full = both_profiles(
    lambda: given(hostile_tables(), st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "latin-1"]))(
        _csv_property
    )
)


def _bytes_property(data: bytes) -> None:
    _check_parsed(parse_csv, data)
    _check_parsed(parse_xlsx, b"PK\x03\x04" + data)


test_random_bytes_are_refused_with_a_message, test_random_bytes_full = both_profiles(
    lambda: given(st.binary(max_size=2000))(_bytes_property)
)


def _xlsx_value(cell: Any) -> Any:
    """A hostile value as a spreadsheet can hold it (binary floats, 64-bit integers, encodable text)."""
    if isinstance(cell, Decimal):
        return float(cell) if cell.is_finite() and abs(cell) < 10**300 else str(cell)
    if isinstance(cell, int) and not isinstance(cell, bool) and abs(cell) >= 2**63:
        return str(cell)
    if isinstance(cell, str) and not encodable(cell):
        return cell.encode("utf-8", "replace").decode("utf-8")
    return cell


def _xlsx_property(table: list[list[Any]]) -> None:
    from openpyxl import Workbook
    from openpyxl.utils.exceptions import IllegalCharacterError

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in table:
        cells = [_xlsx_value(cell) for cell in row]
        try:
            sheet.append(cells)
        except IllegalCharacterError:
            sheet.append(["" if isinstance(c, str) else c for c in cells])
    out = io.BytesIO()
    book.save(out)
    _check_parsed(parse_xlsx, out.getvalue())


test_a_hostile_xlsx_is_read_or_refused_with_a_message, test_a_hostile_xlsx_full = both_profiles(
    lambda: given(hostile_tables())(_xlsx_property)
)


# --- the flow on hostile payroll files ----------------------------------------------------------------


@pytest.fixture(scope="module")
def paying_sandbox(
    prefect_api: str, chaos_keys: Keys, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ChaosSandbox, Path]]:
    """A funded sandbox with the flows pointed at it, and a folder for payroll files."""
    from flows.fund_account import fund_account

    workdir = tmp_path_factory.mktemp("hostile-flow")
    with ChaosSandbox(chaos_keys, workdir) as sandbox, lingong_env(sandbox, workdir / "journal.db"):
        asyncio.run(
            fund_account(amount="100000.00", recharge_time="2026-11-01 09:00:00", tax_base_code=TAX, reference="h")
        )
        yield sandbox, workdir


def _flow_property(paying_sandbox: tuple[ChaosSandbox, Path], table: list[list[Any]], suffix: str) -> None:
    from flows.payroll_run import PayrollRefusedError, payroll_run

    sandbox, workdir = paying_sandbox
    path = workdir / f"payroll-{next(_numbers)}{suffix}"
    path.write_bytes(_csv_bytes(table, "utf-8"))
    before = sandbox.audit()["orders"]
    refusal = None
    try:
        report = asyncio.run(payroll_run("2026-11", payroll_file=str(path), additional_ref=f"H{next(_numbers)}"))
    except (PayrollRefusedError, PayrollFileError) as exc:
        refusal = str(exc)
    if refusal is not None:
        assert refusal.strip(), "a refused payroll file must say why"
        assert sandbox.audit()["orders"] == before, "a refused payroll file paid something"
        return
    # The file was good after all (the hostile values happened to be valid): every payee is accounted for.
    after = sandbox.settle()["orders"]
    paid = {line.out_order_no for line in report.lines if line.out_order_no}
    assert set(after) - set(before) <= paid
    assert all(line.reason.strip() for line in report.lines if line.outcome not in ("PAID", "PENDING"))


test_a_hostile_payroll_file_pays_nothing, test_a_hostile_payroll_file_pays_nothing_full = both_profiles(
    lambda: given(table=hostile_tables(), suffix=st.sampled_from([".csv", ".txt", ".xlsx"]))(_flow_property),
    small=settings(SMALL, max_examples=8),
    full=settings(FULL, max_examples=60),
)


# --- hostile bizModels at the sandbox's gateway ---------------------------------------------------------


@pytest.fixture(scope="module")
def gateway(chaos_keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ChaosSandbox, httpx.Client]]:
    with (
        ChaosSandbox(chaos_keys, tmp_path_factory.mktemp("hostile-gateway")) as sandbox,
        httpx.Client(base_url=sandbox.base_url, trust_env=False, timeout=30) as http,
    ):
        yield sandbox, http


def _gateway_property(
    gateway: tuple[ChaosSandbox, httpx.Client], api_code: str, data: st.DataObject, ascii_only: bool
) -> None:
    biz = data.draw(biz_models(api_code), label="bizModel")
    text = to_json(biz, ascii_only=ascii_only)
    if not encodable(text):
        text = to_json(biz, ascii_only=True)
    tamper = data.draw(st.dictionaries(st.sampled_from(["apiCode", "version", "merchantNo", "x"]), SCALARS, max_size=1))
    answer = gateway[0].call_signed(api_code, text, **tamper)
    assert answer.status_code == 200, answer.text[:500]
    body = jsoncodec.loads(answer.content)
    assert isinstance(body, dict)
    assert body["code"] != 500, body
    assert body["code"] == 200 or str(body.get("msg", "")).strip(), body


test_a_hostile_biz_model_gets_a_refusal_never_a_500 = pytest.mark.chaos(
    settings(SMALL, max_examples=60)(
        given(api_code=st.sampled_from(API_CODES), data=st.data(), ascii_only=st.booleans())(_gateway_property)
    )
)
test_a_hostile_biz_model_full = pytest.mark.chaos_full(
    pytest.mark.parametrize("api_code", API_CODES)(
        settings(FULL, max_examples=40)(given(data=st.data(), ascii_only=st.booleans())(_gateway_property))
    )
)


@pytest.mark.chaos
def test_the_gateway_ledger_still_balances_after_the_hostile_calls(gateway: tuple[ChaosSandbox, httpx.Client]) -> None:
    audit = gateway[0].audit()
    assert audit["balanced"] is True
    assert audit["inconsistent"] == []
    assert audit["paid_twice"] == []


# --- hostile notifications at the receiver ------------------------------------------------------------------


@pytest.fixture(scope="module")
def receiver(chaos_keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Keys, httpx.Client, str]]:
    with (
        running_receiver(chaos_keys, tmp_path_factory.mktemp("hostile-receiver")) as (_, url),
        httpx.Client(trust_env=False, timeout=30) as http,
    ):
        yield chaos_keys, http, url


NOTIFY_TYPES = st.one_of(st.sampled_from(["1001", "2001", "3001", "5001", "8001", "9001"]), SCALARS)


def _receiver_property(receiver: tuple[Keys, httpx.Client, str], data: st.DataObject) -> None:
    keys, http, url = receiver
    shape = data.draw(st.sampled_from(["bytes", "json", "signed"]), label="shape")
    if shape == "bytes":
        body = data.draw(st.binary(max_size=3000), label="body")
    elif shape == "json":
        body = to_json(data.draw(JSON_VALUES, label="envelope"), ascii_only=True).encode()
    else:
        notify_type = data.draw(NOTIFY_TYPES, label="notifyType")
        biz = data.draw(notification_models(str(notify_type)), label="bizModel")
        env: dict[str, Any] = {
            "notifyType": notify_type,
            "notifyNo": data.draw(st.one_of(st.just(f"H{uuid.uuid4().hex}"), TEXT), label="notifyNo"),
            "merchantNo": MERCHANT_NO,
            "version": "2.0",
            "timestamp": format_timestamp(now()),
            "bizModel": to_json(biz, ascii_only=True),
        }
        try:
            env["sign"] = sign_envelope(env, keys.platform_private)
        except (TypeError, ValueError, UnicodeEncodeError):
            env["sign"] = "x"
        body = to_json(env, ascii_only=True).encode()
    answer = http.post(url, content=body, headers={"content-type": "application/json"})
    assert answer.status_code < 500, answer.text[:500]
    if answer.status_code == 200:
        assert answer.text == "success"
    else:
        assert 400 <= answer.status_code < 500
        assert str(answer.json().get("msg", "")).strip()


test_a_hostile_notification_gets_a_refusal_never_a_500, test_a_hostile_notification_full = both_profiles(
    lambda: given(data=st.data())(_receiver_property),
    small=settings(SMALL, max_examples=40),
    full=settings(FULL, max_examples=1000),
)
