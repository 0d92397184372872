"""What ``lingong payroll run`` and ``lingong marketing run`` share once their options are checked: read the
file (or refuse it), refuse an approval nobody could give, run the flow, print its report and exit with the
code the README promises (0 paid; 1 refused, nothing paid; 2 the platform or network failed; 3 still being
paid; 4 the operator must act). One place, so the two commands cannot drift apart."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from .sheet_options import explained, say

if TYPE_CHECKING:
    from lingong_payroll.files import ReadOptions
    from lingong_payroll.report import PayrollReport

__all__ = ["console", "read_or_refuse", "refuse_unanswerable_approval", "run_and_report"]


def console() -> Console:
    """The commands' console: the terminal's width, or 140 columns when the output is a file or a pipe."""
    return Console(width=None if os.isatty(1) else 140)


def read_or_refuse(out: Console, file: Path, skip_invalid: bool, prepare: Callable[[], ReadOptions]) -> ReadOptions:
    """``prepare()`` checks the command's own options and returns how to read the file; then ``file`` is read
    once, before Prefect starts. Exit 1 (nothing paid) on a bad option, an unreadable file, or invalid rows
    without ``skip_invalid``; otherwise return the reading options for the run."""
    from lingong_core.errors import InputError
    from lingong_payroll.files import PayrollFileError, read_payroll_file
    from lingong_payroll.marketing import MarketingRefusedError

    try:
        options = prepare()
        parsed = read_payroll_file(file, options)
    except (InputError, PayrollFileError, MarketingRefusedError) as exc:
        say(out, "refused", f"{exc}; nothing was paid")
        raise typer.Exit(1) from None
    say(out, "read", parsed.source + "".join(f"\n  {note}" for note in parsed.notes), style="bold")
    if parsed.errors and not skip_invalid:
        say(out, "refused", f"{len(parsed.invalid_rows)} invalid row(s); nothing was paid\n" + parsed.report())
        raise typer.Exit(1)
    return options


def refuse_unanswerable_approval(out: Console) -> None:
    """Exit 1 when LINGONG_APPROVAL_THRESHOLD asks for an approval and no Prefect server is configured: the
    run's temporary server would wait for an answer nobody can give."""
    if not os.environ.get("LINGONG_APPROVAL_THRESHOLD", "").strip():
        return
    from prefect.settings import get_current_settings

    if not get_current_settings().api.url:
        say(
            out,
            "refused",
            "approval is asked (LINGONG_APPROVAL_THRESHOLD) but no PREFECT_API_URL is set, so nobody could "
            "approve this run: pass --approve, or run against a Prefect server; nothing was paid",
        )
        raise typer.Exit(1)


def run_and_report(
    out: Console,
    file: Path,
    options: ReadOptions,
    flow_call: Callable[[], Coroutine[Any, Any, PayrollReport]],
    refusals: tuple[type[Exception], ...],
) -> None:
    """Run the flow with the file read ``options``' way; print its report; exit with the README's code."""
    from lingong_core.errors import LingongError
    from lingong_payroll.files import PayrollFileError, reading_options

    refused: tuple[type[Exception], ...] = (*refusals, PayrollFileError)
    try:
        with reading_options(file, options), explained(*refused, LingongError):
            report = asyncio.run(flow_call())
    except refused as exc:
        say(out, "refused", str(exc))
        raise typer.Exit(1) from None
    except LingongError as exc:
        say(out, "platform", f"{type(exc).__name__}: {exc}")
        raise typer.Exit(2) from None
    out.print(report.markdown(), markup=False)
    if report.needs_operator:
        out.print(f"[yellow]{len(report.needs_operator)} line(s) need you: see their reasons above[/]")
        raise typer.Exit(4)
    if not report.complete and not report.dry_run:
        raise typer.Exit(3)
