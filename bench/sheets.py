"""Scenario: reading a 10,000-row payroll workbook (issue 13) — target under 2 s on this machine.

The workbook is what a clerk sends: a title row, the header (金额（元）), 10,000 lines with text IDs and
cards, numeric amounts and a remark, and a 合计 row; saved by openpyxl (a normal workbook, with its
``<dimension>``). Rows:

- ``sheets/xlsx-10000-read``: :func:`lingong_payroll.files.read_payroll_file` end to end — workbook
  structure (openpyxl's workbook parser), the cells (python-calamine), the hidden-row scan, header and
  total detection, normalisation and every line's validation. The figure the target is about.
- ``sheets/xlsx-10000-calamine-cells`` and ``sheets/xlsx-10000-openpyxl-cells``: only reading the
  cells, by each library (openpyxl in read-only mode, values only), to show why calamine reads them.
- ``sheets/xlsx-10000-openpyxl-hidden-rows``: what openpyxl would need to tell hidden rows (a full,
  not read-only, load), against the scan the reader does.
"""

from __future__ import annotations

import io
import os
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from .harness import Context, Result, measure

NAME = "sheets"
TARGET_S = 2.0


def _workbook(path: Path, rows: int) -> Path:
    from openpyxl import Workbook

    from lingong_sandbox.people import team

    people = team(min(rows, 1000), seed=13)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "11月"
    sheet.append(["2026年11月劳务费发放表"])
    sheet.append(["序号", "姓名", "身份证号", "手机号", "银行卡号", "金额（元）", "备注"])
    total = Decimal("0.00")
    for i in range(rows):
        p = people[i % len(people)]
        amount = Decimal(100 + i % 4900) + Decimal(i % 100) / 100
        total += amount
        sheet.append([i + 1, p.name, p.id_card_no, p.mobile, p.bank_card_no, float(amount), "十一月劳务费"])
    sheet.append(["合计", "", "", "", "", float(total), ""])
    book.save(path)
    return path


def _best(fn: Any, repeat: int) -> tuple[float, float, Any]:
    """(best wall s, best CPU s of this process, the value) over ``repeat`` runs."""
    best, best_cpu, value = float("inf"), float("inf"), None
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        value = fn()
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best, best_cpu, value


def run(ctx: Context) -> list[Result]:
    from openpyxl import load_workbook
    from python_calamine import CalamineWorkbook

    from lingong_payroll.files import read_payroll_file

    rows = ctx.size(1000, 10_000)
    folder = ctx.state / "sheets"
    folder.mkdir(parents=True, exist_ok=True)
    ctx.log(f"sheets: writing a {rows:,}-row workbook")
    path = _workbook(folder / f"payroll-{rows}.xlsx", rows)
    data = path.read_bytes()
    repeat = 3
    results: list[Result] = []

    with measure() as m:
        wall, cpu, parsed = _best(lambda: read_payroll_file(path), repeat)
    assert not parsed.errors, parsed.report()[:500]
    assert len(parsed.payees) == rows
    results.append(
        Result(
            NAME,
            f"sheets/xlsx-{rows}-read",
            wall_s=wall,
            calls=rows,
            peak_rss_mb=m.peak_rss_mb,
            target=f"< {TARGET_S:g} s wall for 10,000 rows",
            met=wall < TARGET_S if rows >= 10_000 else None,
            note=f"best of {repeat}: {wall:.2f} s wall, {cpu:.2f} s CPU of this process, load average "
            f"{os.getloadavg()[0]:.1f} on 2 cores; {len(data) // 1024} KiB workbook; structure + cells + hidden rows "
            f"+ validation of every line ({parsed.source}; 合计 checked)",
            details={"cpu_s": round(cpu, 3)},
        )
    )

    def calamine_cells() -> int:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            return len(book.get_sheet_by_name("11月").to_python(skip_empty_area=False))
        finally:
            book.close()

    def openpyxl_cells() -> int:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            return sum(1 for _ in book["11月"].iter_rows(values_only=True))
        finally:
            book.close()

    def openpyxl_hidden() -> int:
        book = load_workbook(io.BytesIO(data), data_only=True)
        return sum(1 for d in book["11月"].row_dimensions.values() if d.hidden)

    for label, fn, note in (
        ("calamine-cells", calamine_cells, "python-calamine: the cells only (what the reader uses)"),
        ("openpyxl-cells", openpyxl_cells, "openpyxl read-only, values only: the cells only (the reader before)"),
        ("openpyxl-hidden-rows", openpyxl_hidden, "openpyxl full load: what it takes openpyxl to tell hidden rows"),
    ):
        with measure() as m:
            wall, cpu, _ = _best(fn, 1 if label.startswith("openpyxl") else repeat)
        ratio = wall / results[0].wall_s if results[0].wall_s else None
        results.append(
            Result(
                NAME,
                f"sheets/xlsx-{rows}-{label}",
                wall_s=wall,
                calls=rows,
                peak_rss_mb=m.peak_rss_mb,
                ratio=ratio,
                ratio_to="the full read",
                note=f"{note}; {cpu:.2f} s CPU",
                details={"cpu_s": round(cpu, 3)},
            )
        )
    return results
