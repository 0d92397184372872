"""``lingong``: one console script; each command group lives in its own module."""

from __future__ import annotations

import os
from pathlib import Path

# Prefect's state stays in the project's .state/, never in ~/.prefect: set before anything imports Prefect.
if not os.environ.get("PREFECT_HOME"):
    os.environ["PREFECT_HOME"] = str((Path(".state") / "prefect").resolve())
# The temporary server a command starts never phones out (as make's and the stack's): an operator may opt in.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

import typer

from . import api as api_cmd
from . import approval as approval_cmd
from . import blocks as blocks_cmd
from . import call as call_cmd
from . import demo as demo_cmd
from . import followups as followups_cmd
from . import keys as keys_cmd
from . import limits as limits_cmd
from . import marketing as marketing_cmd
from . import notify as notify_cmd
from . import payees as payees_cmd
from . import payroll as payroll_cmd
from . import sandbox as sandbox_cmd
from . import stack as stack_cmd
from . import upload as upload_cmd

app = typer.Typer(
    name="lingong",
    help="Freelancer payroll through the 灵工 SaaS OpenAPI 2.0, on Prefect.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(api_cmd.app, name="api")
app.add_typer(blocks_cmd.app, name="blocks")
app.add_typer(followups_cmd.app, name="followups")
app.add_typer(keys_cmd.app, name="keys")
app.add_typer(limits_cmd.app, name="limits")
app.add_typer(marketing_cmd.app, name="marketing")
app.add_typer(notify_cmd.app, name="notify")
app.add_typer(payees_cmd.app, name="payees")
app.add_typer(payroll_cmd.app, name="payroll")
payroll_cmd.app.command("approve")(approval_cmd.approve)  # tasks/approval.py: answer a run waiting for approval
payroll_cmd.app.command("waiting")(approval_cmd.waiting)
app.add_typer(sandbox_cmd.app, name="sandbox")
app.add_typer(stack_cmd.app, name="stack")
app.add_typer(upload_cmd.app, name="upload")
app.command("call")(call_cmd.call)
app.command("demo")(demo_cmd.demo)

if __name__ == "__main__":  # pragma: no cover
    app()
