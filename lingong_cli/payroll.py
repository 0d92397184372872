"""``lingong payroll run FILE --period yyyy-MM``: an ad-hoc, parameterised payroll run from the command line.

It runs the ``payroll_run`` flow against whatever the environment configures (``LINGONG_*``: the
sandbox or a real merchant account). The file is validated first, before Prefect starts: a file with
invalid rows is refused with one line per bad row, and nothing is paid.

Exit codes (README, "Paying a payroll"): 0 every line paid (or already paid); 1 refused as a whole,
nothing paid (invalid rows, short balance, a bad option); 2 the platform or the network failed — run
again, nobody is paid twice; 3 some lines were still being paid when the run stopped waiting — run again
to pick up the results; 4 some lines need the operator (HELD, CONFLICT, REFUSED, FAILED, BOUNCED,
INVALID), each listed with its reason. A dry run exits 0 or 4 the same way.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from .sheet_options import DEFAULT_MAX, AmountColumnOption, IncludeHiddenOption, MaxAmountOption, SheetOption

app = typer.Typer(help="Pay a payroll file.", no_args_is_help=True)


@app.command("run")
def run(
    file: Annotated[
        Path,
        typer.Argument(
            help="The payroll: .xlsx, .xls, .csv (UTF-8 or GB18030) or Unicode text (UTF-16).",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    period: Annotated[str, typer.Option("--period", help="The month paid for, yyyy-MM.")],
    project: Annotated[str | None, typer.Option("--project", help="Project number (SFT0703).")] = None,
    tax_base_code: Annotated[str, typer.Option("--tax-base-code", help="Service provider.")] = "2000064001",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and pre-calculate; pay nothing.")] = False,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Pay the valid rows, report the rest.")] = False,
    invoice: Annotated[bool, typer.Option("--invoice", help="Apply for the invoice when all is final.")] = False,
    additional: Annotated[
        str | None,
        typer.Option(
            "--additional",
            help="Pay on purpose on top of the period's payroll (a bonus, 补发): REF names the additional payment.",
        ),
    ] = None,
    batch_ref: Annotated[
        str | None,
        typer.Option("--batch-ref", help="A label for the run, shown in the report; it pays nobody again."),
    ] = None,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait for the platform.")] = 900.0,
    sheet: SheetOption = None,
    amount_column: AmountColumnOption = None,
    max_amount: MaxAmountOption = DEFAULT_MAX,
    include_hidden_rows: IncludeHiddenOption = False,
    approve: Annotated[
        bool,
        typer.Option(
            "--approve", help="Approve in advance (unattended runs) when LINGONG_APPROVAL_THRESHOLD asks for approval."
        ),
    ] = False,
    approver: Annotated[
        str | None, typer.Option("--approver", help="Who approves with --approve (default: your login name).")
    ] = None,
) -> None:
    """Pay every line of FILE for PERIOD, each person no more than the file says; re-running pays nobody again."""
    from lingong_payroll.files import ReadOptions
    from lingong_payroll.keys import check_batch_ref, check_period, check_ref

    from .runs import console, read_or_refuse, refuse_unanswerable_approval, run_and_report
    from .sheet_options import read_options

    def prepare() -> ReadOptions:
        check_period(period)
        check_batch_ref(batch_ref)
        check_ref(additional, "--additional")
        return read_options(sheet, amount_column, max_amount, include_hidden_rows)

    out = console()
    options = read_or_refuse(out, file, skip_invalid, prepare)
    if not approve and not dry_run:
        refuse_unanswerable_approval(out)

    from flows.payroll_run import PayrollRefusedError, payroll_run

    run_and_report(
        out,
        file,
        options,
        lambda: payroll_run(
            period,
            payroll_file=str(file.resolve()),
            tax_base_code=tax_base_code,
            project_no=project,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            invoice=invoice,
            additional_ref=additional,
            batch_ref=batch_ref,
            wait_timeout_seconds=wait,
            approved_by=(approver or getpass.getuser()) if approve else None,
        ),
        (PayrollRefusedError,),
    )
