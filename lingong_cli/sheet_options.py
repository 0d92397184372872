"""What ``lingong payroll run`` needs to read a payroll file the operator's way and to say what went wrong.

The reading options (``--sheet``, ``--amount-column``, ``--max-amount``, ``--include-hidden-rows``) as
typer annotations, and the one way the command prints a refusal or an outage: one plain line per problem
(row, column, rule, masked value), styled by rich but never parsed as rich markup (a value like
``[red]`` stays text), and no traceback — not from the command, not from Prefect's console log of the
failed run (the Prefect UI keeps the full log).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from lingong_payroll.normalise import DEFAULT_MAX_AMOUNT

if TYPE_CHECKING:
    from lingong_payroll.files import ReadOptions

SheetOption = Annotated[
    str | None, typer.Option("--sheet", help="The workbook's sheet to pay, when several visible sheets hold one.")
]
AmountColumnOption = Annotated[
    str | None,
    typer.Option("--amount-column", help="The header of the amount column, when two could be meant (实发金额)."),
]
MaxAmountOption = Annotated[
    str,
    typer.Option(
        "--max-amount",
        help="Refuse a file with a line above this many yuan (guards against a pasted column of mobiles or IDs).",
    ),
]
IncludeHiddenOption = Annotated[
    bool,
    typer.Option("--include-hidden-rows", help="Pay hidden (filtered) rows too; by default they refuse the file."),
]
DEFAULT_MAX = f"{DEFAULT_MAX_AMOUNT:.2f}"


def read_options(
    sheet: str | None, amount_column: str | None, max_amount: str, include_hidden_rows: bool
) -> ReadOptions:
    """The options as :class:`lingong_payroll.files.ReadOptions`; an :class:`InputError` names a bad one."""
    from lingong_core.money import to_money
    from lingong_payroll.files import ReadOptions

    ceiling: Decimal = to_money(max_amount, field="--max-amount", allow_zero=False)
    return ReadOptions(
        sheet=sheet, amount_column=amount_column, max_amount=ceiling, include_hidden_rows=include_hidden_rows
    )


def say(console: Console, label: str, message: str, style: str = "red") -> None:
    """``label: message`` with the label styled; the message is printed as it is (no markup)."""
    lines = str(message).splitlines() or [""]
    console.print(Text.assemble((f"{label}:", style), " ", lines[0]), soft_wrap=True)
    for extra in lines[1:]:
        console.print(Text(extra), soft_wrap=True)


class _Explained(logging.Filter):
    """Keeps a failure the command explains off the console: Prefect's records of it (the task's and the
    flow's "failed with exception", "Finished in state Failed") carry the traceback and repeat what the
    command prints once. Only the console handler is filtered; the run's log in the Prefect UI keeps all."""

    def __init__(self, kinds: tuple[type[BaseException], ...]) -> None:
        super().__init__()
        self.kinds = kinds
        self.names = tuple(k.__name__ for k in kinds)

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None:
            return not isinstance(exc, self.kinds)
        if record.levelno >= logging.ERROR and record.name.startswith("prefect."):
            message = record.getMessage()
            return not ("Failed" in message and any(f"{name}" in message for name in self.names))
        return True


@contextmanager
def explained(*kinds: type[BaseException]) -> Iterator[None]:
    """While the flow runs, Prefect's console does not echo a failure of these kinds (with its traceback):
    the command prints it itself, one line per problem."""
    from prefect.logging.handlers import PrefectConsoleHandler

    quiet = _Explained(kinds)
    handlers = {
        h
        for name in ("", "prefect", "prefect.flow_runs", "prefect.task_runs")  # "": the root, where Prefect puts it
        for h in logging.getLogger(name).handlers
        if isinstance(h, PrefectConsoleHandler)
    }
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)
