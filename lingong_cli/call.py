"""``lingong call APICODE --biz JSON``: one raw signed call, configured from ``LINGONG_*``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from lingong_core import jsoncodec
from lingong_core.config import LingongSettings
from lingong_core.errors import ApiError, LingongError


def call(
    api_code: Annotated[str, typer.Argument(help="The apiCode, e.g. SFT0303.")],
    biz: Annotated[str, typer.Option("--biz", help="The bizModel as JSON text.")] = "{}",
    request_no: Annotated[str | None, typer.Option("--request-no", help="Reuse a requestNo.")] = None,
) -> None:
    """Make one signed call with the environment's configuration and print the answer as JSON."""
    try:
        data = jsoncodec.loads(biz)
    except ValueError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="--biz") from None
    if not isinstance(data, dict):
        raise typer.BadParameter("must be a JSON object", param_hint="--biz")
    try:
        with LingongSettings().client() as client:
            answer = client.call(api_code.upper(), data, request_no=request_no)
    except ApiError as exc:
        typer.echo(jsoncodec.dumps(exc.body or {"code": exc.code, "msg": exc.msg}))
        sys.exit(1)
    except LingongError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    typer.echo(jsoncodec.dumps(answer))
