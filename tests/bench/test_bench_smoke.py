"""The benchmarks run and keep their record: signing and core_cost in quick mode, in process.

Not a timing test: the machine is shared, and a figure is a finding for bench/results.md, not a pass/fail.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import run_scenarios
from bench.flowrun import flow_missing
from bench.harness import (
    FIGURES_BEGIN,
    FIGURES_END,
    Context,
    Result,
    machine,
    merge_record,
    print_table,
    update_results_md,
    write_record,
)

FIELDS = {
    "scenario",
    "name",
    "status",
    "wall_s",
    "calls",
    "calls_per_s",
    "peak_rss_mb",
    "child_peak_rss_mb",
    "ratio",
    "ratio_to",
    "target",
    "met",
    "note",
    "details",
    "measured_at",
    "commit",
    "quick",
}


def test_signing_and_core_cost_quick_write_a_complete_record(tmp_path: Path) -> None:
    ctx = Context(quick=True, state=tmp_path, verbose=False)
    results = run_scenarios(["signing", "core_cost"], ctx)

    names = {r.name for r in results}
    assert {"signing/rsa2048-sign", "signing/rsa2048-verify", "core_cost/envelope+sign+parse"} <= names
    assert all(r.status in ("ok", "skipped") for r in results), [(r.name, r.note) for r in results]
    core = next(r for r in results if r.name == "core_cost/envelope+sign+parse")
    assert core.ratio is not None
    assert core.ratio > 0
    assert core.ratio_to == "raw RSA-2048 sign"
    assert core.met is not None
    sign = next(r for r in results if r.name == "signing/rsa2048-sign")
    assert sign.calls
    assert sign.wall_s
    assert sign.calls_per_s
    assert sign.peak_rss_mb

    record = merge_record({}, results, {"at": "now", "commit": "abc", "quick": True, "argv": "test"})
    path = tmp_path / "quick.json"
    write_record(path, record)
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert {"nproc", "cpu_model"} <= set(saved["machine"])
    for row in saved["results"]:
        assert set(row) >= FIELDS, FIELDS - set(row)
        assert row["quick"] is True
        assert "loadavg_1m" in row["details"]


def test_results_page_keeps_the_analysis_around_the_figures(tmp_path: Path) -> None:
    page = tmp_path / "results.md"
    page.write_text(
        f"# Benchmarks\n\nbefore\n\n{FIGURES_BEGIN}\nold\n{FIGURES_END}\n\nanalysis after\n", encoding="utf-8"
    )
    row = Result("floor", "floor/x", wall_s=2.0, calls=10, ratio=1.5, ratio_to="floor", target="≤ 2×", met=True)
    update_results_md({"machine": machine(), "run": {"at": "t", "commit": "c"}, "results": [row.as_dict()]}, page)
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nbefore\n")
    assert text.endswith("analysis after\n")
    assert "old" not in text
    assert "`floor/x`" in text
    assert "1.50× floor" in text


def test_a_skipped_row_keeps_the_last_figure() -> None:
    measured = Result("payroll", "payroll/10000-server", wall_s=20.0, calls=50, measured_at="then").as_dict()
    later = merge_record(
        {"results": [measured]},
        [Result("payroll", "payroll/10000-server", status="skipped", note="flows not available yet")],
        {"at": "now", "commit": "c", "quick": False, "argv": ""},
    )
    (row,) = later["results"]
    assert row["status"] == "ok"
    assert row["wall_s"] == 20.0
    assert "not re-measured" in row["note"]


def test_a_scenario_run_again_drops_its_stale_rows() -> None:
    stale = Result("payroll", "payroll/error", status="failed", note="ImportError").as_dict()
    other = Result("signing", "signing/rsa2048-sign", wall_s=1.0, calls=10).as_dict()
    later = merge_record(
        {"results": [stale, other]},
        [Result("payroll", "payroll/10000-server", wall_s=12.0, calls=51)],
        {"at": "now", "commit": "c", "quick": False, "argv": ""},
    )
    assert [r["name"] for r in later["results"]] == ["signing/rsa2048-sign", "payroll/10000-server"]


def test_flow_scenarios_know_when_a_flow_is_missing() -> None:
    assert flow_missing("no_such_flow", "no_such_flow") == "flows not available yet"
    print_table([Result("payroll", "payroll/x", status="skipped", note="flows not available yet")])
