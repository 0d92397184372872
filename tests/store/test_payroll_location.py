"""A payroll file the worker reads by location: a path, a file:// URL, or an fsspec URL (memory:// here;
s3://… and the like where their filesystem package is installed), read into memory only."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import fsspec
import pytest

from lingong_payroll.files import PayrollFileError
from lingong_sandbox.people import team
from tasks.payees import read_payroll_location


def _csv(n: int) -> bytes:
    people = team(n, seed=5151)
    lines = ["姓名,身份证号,手机号,银行卡号,金额"] + [
        f"{p.name},{p.id_card_no},{p.mobile},{p.bank_card_no},{10 + i}.00" for i, p in enumerate(people)
    ]
    return ("\n".join(lines) + "\n").encode()


def test_a_path_a_file_url_and_an_fsspec_url_read_the_same_payroll(tmp_path: Path) -> None:
    data = _csv(3)
    (tmp_path / "p.csv").write_bytes(data)
    with fsspec.open("memory://lingong-test/p.csv", "wb") as out:
        out.write(data)
    for location in (str(tmp_path / "p.csv"), f"file://{tmp_path / 'p.csv'}", "memory://lingong-test/p.csv"):
        parsed = read_payroll_location(location)
        assert [str(p.amount) for p in parsed.payees] == ["10.00", "11.00", "12.00"], location
        assert parsed.rows == [2, 3, 4]


def test_an_unreadable_location_is_a_clear_refusal() -> None:
    with pytest.raises(PayrollFileError, match="cannot be read"):
        read_payroll_location("memory://lingong-test/missing.csv")
    with pytest.raises(PayrollFileError, match="Protocol not known"):
        read_payroll_location("nosuchproto9://bucket/p.csv")
    if importlib.util.find_spec("s3fs") is None:  # a known filesystem whose package the worker lacks
        with pytest.raises(PayrollFileError, match="not installed on the worker"):
            read_payroll_location("s3://bucket/p.csv")
