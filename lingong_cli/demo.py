"""``lingong demo``: the main job, end to end, on the embedded sandbox.

Starts the sandbox in process on a free loopback port with fresh keys, points the flows at it through
the ``LINGONG_*`` environment (as an operator would point them at a real merchant account), runs the
``end_to_end`` flow for a generated team in Prefect's local mode, prints a summary table and the
sandbox's own audit, and exits 0 only if everyone was paid exactly once and the ledger balances.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from lingong_core.money import fmt_yuan
from lingong_core.signing import generate_key_pair, private_key_to_pem, public_key_to_pem
from lingong_payroll.payees import PayeeRow
from lingong_sandbox.people import team

STATE = Path(".state") / "demo"


def demo(
    team_size: Annotated[int, typer.Option("--team-size", min=1, max=1000, help="How many freelancers.")] = 20,
    seed: Annotated[int, typer.Option("--seed", help="Which made-up team.")] = 0,
    time_scale: Annotated[float, typer.Option("--time-scale", help="Platform processing speed-up.")] = 50.0,
) -> None:
    """Run the end-to-end payroll demo against the embedded sandbox platform."""
    from lingong_sandbox.server import SandboxServer
    from lingong_sandbox.settings import SandboxSettings

    console = Console(width=None if os.isatty(1) else 140)
    started = time.monotonic()
    run_dir = STATE / time.strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    merchant_private, merchant_public = generate_key_pair(2048)
    settings = SandboxSettings(time_scale=time_scale)
    with SandboxServer(
        settings, merchant_public_key_pem=public_key_to_pem(merchant_public), db_path=run_dir / "sandbox.db"
    ) as sandbox:
        console.print(f"[bold]sandbox[/] platform on {sandbox.base_url} (state in {run_dir})")
        os.environ.update(
            {
                "LINGONG_BASE_URL": sandbox.base_url,
                "LINGONG_MERCHANT_NO": settings.merchant.merchant_no,
                "LINGONG_PRIVATE_KEY": private_key_to_pem(merchant_private),
                "LINGONG_PLATFORM_PUBLIC_KEY": sandbox.platform_public_key_pem,
                "LINGONG_JOURNAL_DB": str(run_dir / "journal.db"),
            }
        )
        from flows.end_to_end import end_to_end
        from lingong_core.timeutil import now
        from tasks.payees import store_payroll

        period = now().strftime("%Y-%m")
        console.print(f"[bold]prefect[/] running end-to-end for a team of {team_size}, period {period} …")
        report = asyncio.run(end_to_end(store_payroll(team_payroll(team_size, seed), source="demo"), period))
        close = _close_month(console, period, report.payroll.tax_base_code, run_dir / "receipts")
        audit = httpx.get(sandbox.admin_url + "/audit", timeout=30).json()
    _print(console, report, audit, time.monotonic() - started, close)
    if audit.get("paid_twice") or not audit.get("balanced") or not report.payroll.complete or not close.clean:
        raise typer.Exit(1)


def team_payroll(size: int, seed: int) -> list[PayeeRow]:
    """A made-up team the sandbox accepts, with amounts between ¥800 and about ¥9,000."""
    return [
        PayeeRow(
            name=p.name,
            id_card_no=p.id_card_no,
            mobile=p.mobile,
            bank_card_no=p.bank_card_no,
            amount=f"{800 + (i * 1379 + seed * 7) % 8200}.{(i * 37) % 100:02d}",
            remark="项目佣金",
        )
        for i, p in enumerate(team(size, seed=seed))
    ]


def _close_month(console: Console, month: str, tax_base_code: str, folder: Path) -> Any:
    """The demo month's month-end close: its receipts (and certificates, pending until the month is over)."""
    from flows.month_end_close import month_end_close

    console.print(f"[bold]prefect[/] closing the month {month}: receipts, tax certificates, the books …")
    return asyncio.run(month_end_close(month, tax_base_code, storage_url=str(folder.absolute())))


def _print(console: Console, report: Any, audit: dict[str, Any], seconds: float, close: Any = None) -> None:
    payroll = report.payroll
    table = Table(title=f"Payroll {payroll.period} · {payroll.tax_base_code}", show_lines=False)
    for column, justify in (
        ("row", "right"),
        ("name", "left"),
        ("ID", "left"),
        ("card", "left"),
        ("amount", "right"),
        ("fee", "right"),
        ("outcome", "left"),
        ("order", "left"),
    ):
        table.add_column(column, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for line in payroll.lines:
        table.add_row(
            str(line.row),
            line.name,
            line.id_card_no,
            line.bank_card_no,
            fmt_yuan(line.amount),
            fmt_yuan(line.service_amount),
            line.outcome.value,
            line.order_no,
        )
    console.print(table)
    counts = {k.value.lower(): v for k, v in payroll.counts().items()}
    onboarding = report.onboarding
    console.print(f"onboarded: {sum(1 for r in onboarding.results if r.state == 'READY')}/{len(onboarding.results)}")
    if report.recharge is not None:
        console.print(
            f"funded:    {fmt_yuan(report.recharge.amount)} ({report.recharge.status}, "
            f"order {report.recharge.order_no})"
        )
    console.print(f"paid:      {counts} · {fmt_yuan(payroll.total())} + {fmt_yuan(payroll.fees())} service fee")
    console.print(f"invoice:   {payroll.invoice or 'not asked'}")
    paid_once = sum(1 for o in audit.get("orders", {}).values() if o.get("paid") == 1)
    console.print(
        f"audit:     {paid_once} orders paid once, {len(audit.get('paid_twice', []))} paid twice, "
        f"ledger balanced: {audit.get('balanced')}"
    )
    if close is not None:
        console.print(
            f"month-end: {close.count('receipt', 'fetched')} receipts fetched, "
            f"{close.count('tax certificate', 'pending')} tax certificates pending until the month is over, "
            f"{len(close.differences)} differences (summary.md beside them)"
        )
        console.print(f"receipts:  {close.folder}/receipts/")
    console.print(f"[bold green]done[/] in {seconds:.1f} s")
