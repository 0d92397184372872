"""``lingong upload serve``: the operator's upload page (lingong_upload), on 127.0.0.1 by default.

It needs an operator credential (``LINGONG_UPLOAD_TOKEN``, ``LINGONG_UPLOAD_TOKEN_BLOCK`` or, behind a
single sign-on proxy, ``LINGONG_UPLOAD_TRUSTED_USER_HEADER``), ``PREFECT_API_URL`` (the server whose
``payroll-run`` deployment it starts) and the payee store's key where the workers have it
(``LINGONG_PAYEE_KEY``…; on one machine the generated ``.state/payee.key`` is shared).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

app = typer.Typer(help="The operator's upload page: pay a payroll sheet from the browser.", no_args_is_help=True)


@app.command("serve")
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to bind (loopback unless behind a proxy).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8722,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn's log level.")] = "warning",
) -> None:
    """Serve the upload page: a sheet in, a masked preview, a payroll-run started with its reference."""
    import uvicorn

    from lingong_store.payees import PayeeStoreError
    from lingong_upload.app import create_app
    from lingong_upload.settings import UploadConfigError, UploadSettings

    try:
        settings = UploadSettings.from_env()
        settings.store().close()  # the payee store and its key are usable before anyone uploads
    except (UploadConfigError, PayeeStoreError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    typer.echo(f"upload page on http://{host}:{port}/ — starts {settings.deployment}; runs at {settings.ui_url}")
    # access_log off: request lines carry no personal data, but nothing about uploads needs logging either
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level, access_log=False, lifespan="off")
