"""The upload page over HTTP (uvicorn on a loopback port): only operators get in, a sheet becomes a masked
preview and a stored payroll, the run starts with its reference, and bad uploads get a clear 4xx."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from lingong_sandbox.people import Person, bad_checksum, team
from lingong_store.db import Database, sqlite_url
from lingong_store.payees import PayeeStore, generate_key
from lingong_upload.app import create_app
from lingong_upload.settings import UploadConfigError, UploadSettings
from tests.receiver.receiver_helpers import serve_in_thread

TOKEN = "operator-test-token"
ROOT = Path(__file__).resolve().parents[2]


class Started:
    def __init__(self) -> None:
        self.runs: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, deployment: str, parameters: dict[str, Any]) -> tuple[str, str]:
        self.runs.append((deployment, parameters))
        return "0b6d3c1e-0000-4000-8000-000000000001", "brave-otter"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[PayeeStore]:
    db = Database(sqlite_url(tmp_path / "lingong.db"))
    yield PayeeStore(db, key=generate_key())
    db.dispose()


@pytest.fixture
def started() -> Started:
    return Started()


@pytest.fixture
def page(store: PayeeStore, started: Started) -> Iterator[httpx.Client]:
    settings = UploadSettings(
        token=TOKEN, max_bytes=200_000, ui_url="http://127.0.0.1:4299", store=lambda: store, starter=started
    )
    settings.store = lambda: _Borrowed(store)  # type: ignore[method-assign]
    with serve_in_thread(create_app(settings)) as url, httpx.Client(base_url=url, auth=("operator", TOKEN)) as client:
        yield client


class _Borrowed:
    """The test's store, lent to the page (closing it does not dispose of the test's database)."""

    def __init__(self, store: PayeeStore) -> None:
        self.store = store

    def __enter__(self) -> PayeeStore:
        return self.store

    def __exit__(self, *exc: object) -> None:
        return None

    def close(self) -> None:
        return None


def xlsx(people: list[Person], amounts: list[str], *, ids: list[str] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "身份证号", "手机号", "银行卡号", "金额", "备注"])
    for i, (p, amount) in enumerate(zip(people, amounts, strict=True)):
        sheet.append([p.name, (ids or [])[i] if ids else p.id_card_no, p.mobile, p.bank_card_no, amount, "佣金"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client: httpx.Client, name: str, data: bytes, period: str = "2026-12", **extra: str) -> httpx.Response:
    return client.post(
        "/preview",
        files={"sheet": (name, data, "application/octet-stream")},
        data={"period": period, "tax_base_code": "2000064001", **extra},
    )


def test_nobody_gets_in_without_the_operator_credential(page: httpx.Client) -> None:
    base = str(page.base_url)
    assert httpx.get(base + "/").status_code == 401
    assert "Basic" in httpx.get(base + "/").headers["www-authenticate"]
    assert httpx.get(base + "/", auth=("operator", "wrong")).status_code == 401
    assert httpx.post(base + "/preview", content=b"x").status_code == 401
    assert httpx.get(base + "/", headers={"Authorization": "Basic !!!"}).status_code == 401
    assert httpx.get(base + "/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert httpx.get(base + "/healthz").status_code == 200
    assert page.get("/").status_code == 200


def test_a_sheet_is_previewed_masked_stored_and_started_by_reference(
    page: httpx.Client, store: PayeeStore, started: Started
) -> None:
    people = team(3, seed=6101)
    answer = upload(page, "十二月工资.xlsx", xlsx(people, ["1000.00", "2000.50", "300"]), batch_ref="UP-1")
    assert answer.status_code == 200, answer.text
    text = answer.text
    assert "<b>3</b> payees, <b>¥3,300.50</b> in total" in text.replace("¥3300.50", "¥3,300.50") or "3,300.50" in text
    for p in people:
        assert p.id_card_no not in text
        assert p.mobile not in text
        assert p.bank_card_no not in text
        assert p.id_card_no[:6] + "********" + p.id_card_no[-4:] in text
    ref = re.search(r'id="ref">(PR[0-9A-F]+)<', text)
    assert ref is not None
    stored = store.payroll(ref.group(1))
    assert [(r.row, r.id_card_no, r.amount) for r in stored] == [
        (2, people[0].id_card_no, "1000.00"),
        (3, people[1].id_card_no, "2000.50"),
        (4, people[2].id_card_no, "300.00"),
    ]
    form = dict(re.findall(r'name="(\w+)" value="([^"]*)"', text))
    started_page = page.post("/start", data=form)
    assert started_page.status_code == 200, started_page.text
    assert started.runs == [
        (
            "payroll-run/payroll-run",
            {"period": "2026-12", "payroll_ref": ref.group(1), "tax_base_code": "2000064001", "batch_ref": "UP-1"},
        )
    ]
    assert 'href="http://127.0.0.1:4299/v2/runs/flow-run/0b6d3c1e-0000-4000-8000-000000000001"' in started_page.text
    forged = page.post("/start", data={**form, "csrf": "0" * 64})
    assert forged.status_code == 403
    assert len(started.runs) == 1


def test_refused_rows_are_listed_masked_and_only_valid_rows_are_stored(page: httpx.Client, store: PayeeStore) -> None:
    people = team(3, seed=6102)
    ids = [people[0].id_card_no, bad_checksum(people[1].id_card_no), people[2].id_card_no]
    answer = upload(page, "pay.xlsx", xlsx(people, ["10.00", "20.00", "-5"], ids=ids))
    assert answer.status_code == 200, answer.text
    assert "id='refusals'" in answer.text
    assert "check character does not match" in answer.text
    assert ids[1] not in answer.text
    assert 'name="skip_invalid"' in answer.text
    ref = re.search(r'id="ref">(PR[0-9A-F]+)<', answer.text)
    assert ref is not None
    assert [r.row for r in store.payroll(ref.group(1))] == [2]
    nothing = upload(page, "pay.csv", "姓名,身份证号,手机号,银行卡号,金额\n张三,123,1,2,x\n".encode())
    assert nothing.status_code == 422
    assert "No row can be paid" in nothing.text


@pytest.mark.parametrize(
    ("name", "data", "status", "says"),
    [
        ("big.xlsx", b"PK" + b"\0" * 300_000, 413, "larger than"),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, 415, "not a payroll sheet"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, 422, "cannot read the .xls"),
        ("broken.xlsx", b"PK\x03\x04garbage", 422, "cannot read the .xlsx"),
        ("cols.csv", "name,amount\n张三,1.00\n".encode(), 422, "lacks idCardNo, mobile, bankCardNo"),
        ("notes.csv", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, 422, "no header row"),
        ("empty.csv", b"", 400, "empty"),
    ],
)
def test_bad_uploads_get_a_clear_4xx(page: httpx.Client, name: str, data: bytes, status: int, says: str) -> None:
    answer = upload(page, name, data)
    assert answer.status_code == status, answer.text
    assert says in answer.text


def test_bad_forms_get_a_clear_4xx(page: httpx.Client) -> None:
    sheet = xlsx(team(1, seed=6103), ["1.00"])
    assert upload(page, "a.xlsx", sheet, period="2026-13x").status_code == 400
    assert upload(page, "a.xlsx", sheet, batch_ref="no spaces allowed").status_code == 400
    assert page.post("/preview", content=b"period=2026-12").status_code == 415
    garbled = page.post(
        "/preview", content=b"--x\r\nnot a part", headers={"Content-Type": "multipart/form-data; boundary=x"}
    )
    assert garbled.status_code == 400
    assert page.post("/preview", data={"period": "2026-12"}, files={}).status_code in (400, 415)
    assert page.post("/start", content=b"\xff\xfe", headers={"Content-Type": "x"}).status_code == 400
    assert page.post("/start", data={"payroll_ref": "PRX", "csrf": "y"}).status_code == 403


def test_the_page_does_not_start_without_a_credential(tmp_path: Path) -> None:
    with pytest.raises(UploadConfigError, match="no operator credential"):
        UploadSettings.from_env({})
    assert (
        UploadSettings.from_env({"LINGONG_UPLOAD_TRUSTED_USER_HEADER": "X-Forwarded-User"}).authenticate(
            {"x-forwarded-user": "li.lei@example.com"}
        )
        == "li.lei@example.com"
    )
    result = subprocess.run(
        [sys.executable, "-m", "lingong_cli.main", "upload", "serve", "--port", "1"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "PREFECT_HOME": str(tmp_path / "p")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "no operator credential" in result.stderr
