"""``lingong marketing run FILE --campaign NAME --period yyyy-MM``: pay a marketing campaign's participants.

It runs the ``marketing_payout`` flow (营销金结算) against whatever the environment configures. The file (the
payroll file's formats and columns: name, ID, mobile, card, amount) is validated first, before Prefect
starts; a file with invalid rows is refused with one line per bad row, and nothing is paid. The run's
parameters hold the file's path only, never the people in it.

Exit codes, as ``lingong payroll run``'s: 0 every line paid (or paid before); 1 refused as a whole, nothing
paid; 2 the platform or the network failed — run again, nobody is paid twice; 3 some lines were still being
paid when the run stopped waiting; 4 some lines need the operator (HELD, CONFLICT, REFUSED, FAILED, BOUNCED,
INVALID), each listed with its reason.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from .sheet_options import DEFAULT_MAX, AmountColumnOption, IncludeHiddenOption, MaxAmountOption, SheetOption

app = typer.Typer(help="Pay a marketing campaign's participants (营销金结算).", no_args_is_help=True)


@app.command("run")
def run(
    file: Annotated[
        Path,
        typer.Argument(
            help="The participants: .xlsx, .xls, .csv or Unicode text, with the payroll file's columns.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    campaign: Annotated[str, typer.Option("--campaign", help="The campaign's name: created once, then reused.")],
    period: Annotated[str, typer.Option("--period", help="The month the rewards are for, yyyy-MM.")],
    start: Annotated[str | None, typer.Option("--start", help="The campaign's first day (yyyy-MM-dd).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="The campaign's last day (yyyy-MM-dd).")] = None,
    budget: Annotated[str | None, typer.Option("--budget", help="The campaign's budget in yuan.")] = None,
    tax_base_code: Annotated[str, typer.Option("--tax-base-code", help="Service provider.")] = "2000064001",
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Pay the valid rows, report the rest.")] = False,
    additional: Annotated[
        str | None, typer.Option("--additional", help="Pay on purpose on top of what the campaign paid for the period.")
    ] = None,
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait for the platform.")] = 900.0,
    sheet: SheetOption = None,
    amount_column: AmountColumnOption = None,
    max_amount: MaxAmountOption = DEFAULT_MAX,
    include_hidden_rows: IncludeHiddenOption = False,
    approve: Annotated[
        bool, typer.Option("--approve", help="Approve in advance when LINGONG_APPROVAL_THRESHOLD asks for approval.")
    ] = False,
    approver: Annotated[
        str | None, typer.Option("--approver", help="Who approves with --approve (default: your login name).")
    ] = None,
) -> None:
    """Pay every line of FILE for the campaign and PERIOD, each person no more than it says; re-running pays
    nobody again."""
    from lingong_payroll.files import ReadOptions
    from lingong_payroll.keys import check_period, check_ref
    from lingong_payroll.marketing import MarketingRefusedError, check_campaign_name

    from .runs import console, read_or_refuse, refuse_unanswerable_approval, run_and_report
    from .sheet_options import read_options

    def prepare() -> ReadOptions:
        check_period(period)
        check_ref(additional, "--additional")
        check_campaign_name(campaign)
        return read_options(sheet, amount_column, max_amount, include_hidden_rows)

    out = console()
    options = read_or_refuse(out, file, skip_invalid, prepare)
    if not approve:
        refuse_unanswerable_approval(out)

    from flows.marketing_payout import marketing_payout

    run_and_report(
        out,
        file,
        options,
        lambda: marketing_payout(
            period,
            campaign_name=campaign,
            participants_file=str(file.resolve()),
            start_date=start,
            end_date=end,
            budget=budget,
            tax_base_code=tax_base_code,
            additional_ref=additional,
            skip_invalid=skip_invalid,
            wait_timeout_seconds=wait,
            approved_by=(approver or getpass.getuser()) if approve else None,
        ),
        (MarketingRefusedError,),
    )
