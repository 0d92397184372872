"""``python -m bench [--quick] [--only NAME ...]``: run the benchmarks, print a table, keep the record."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from pathlib import Path
from types import ModuleType

from . import SCENARIOS
from .harness import (
    LATEST,
    QUICK,
    RESULTS_MD,
    Context,
    Result,
    commit,
    load_record,
    merge_record,
    now_text,
    print_table,
    uncommitted,
    update_results_md,
    write_record,
)


def scenario_module(name: str) -> ModuleType:
    return importlib.import_module(f"bench.{name}")


def run_scenarios(names: list[str], ctx: Context) -> list[Result]:
    """Run the named scenarios in order; a scenario that raises becomes one failed row, the rest go on."""
    results: list[Result] = []
    for name in names:
        load_before = os.getloadavg()[0]
        try:
            rows = scenario_module(name).run(ctx)
        except Exception as exc:  # a benchmark's failure is a finding, not a reason to lose the others
            traceback.print_exc()
            rows = [Result(name, f"{name}/error", status="failed", note=f"{type(exc).__name__}: {exc}")]
        # The machine is shared: the 1-minute load average around each scenario says how quiet it was.
        load = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
        for row in rows:
            row.details.setdefault("loadavg_1m", load)
            results.append(ctx.stamp(row))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run; figures not kept)")
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, metavar="NAME", help=f"some of: {' '.join(SCENARIOS)}")
    parser.add_argument("--record", type=Path, help="where to write the JSON record (default .state/bench/…)")
    parser.add_argument("--profile", action="store_true", help="also run the largest payroll under cProfile")
    parser.add_argument("--no-results-md", action="store_true", help="do not regenerate bench/results.md")
    args = parser.parse_args(argv)

    names = [n for n in SCENARIOS if not args.only or n in args.only]
    ctx = Context(quick=args.quick)
    ctx.shared["profile"] = args.profile
    run: dict[str, object] = {
        "at": now_text(),
        "commit": commit(),
        "uncommitted": sorted({path.split("/")[0] + "/" for path in uncommitted()}),
        "quick": args.quick,
        "argv": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    results = run_scenarios(names, ctx)
    print()
    print_table(results)

    path = args.record or (QUICK if args.quick else LATEST)
    previous = {} if args.quick else load_record(path)
    record = merge_record(previous, results, run)
    write_record(path, record)
    print(f"\nrecord: {path}")
    if not args.quick and not args.no_results_md:
        update_results_md(record, RESULTS_MD)
        print(f"figures: {RESULTS_MD}")
    return 1 if any(r.status == "failed" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
