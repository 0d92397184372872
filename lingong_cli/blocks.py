"""``lingong blocks register|save``: the ``LingongCredentials`` Block type on the Prefect server.

``register`` makes the type known to the server (``LingongCredentials.register_type_and_schema()``, the
same as ``prefect block register -m tasks.credentials``): the Blocks catalog of the UI then offers
"Lingong Credentials", and every flow's ``credentials`` parameter shows a picker of the saved ones.
``save NAME`` saves one from the ``LINGONG_*`` variables (the merchant's key read from
``LINGONG_PRIVATE_KEY_FILE`` or ``LINGONG_PRIVATE_KEY``); creating one in the UI works as well
(Blocks → + → Lingong Credentials). Both talk to ``PREFECT_API_URL``.
"""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="The LingongCredentials Block type on the Prefect server.", no_args_is_help=True)


@app.command("register")
def register() -> None:
    """Register the LingongCredentials Block type and schema (idempotent)."""
    from tasks.credentials import LingongCredentials

    LingongCredentials.register_type_and_schema()
    typer.echo(f"registered block type {LingongCredentials.get_block_type_slug()}")


@app.command("save")
def save(
    name: Annotated[str, typer.Argument(help="The Block's name, e.g. lingong-prod.")],
    overwrite: Annotated[bool, typer.Option("--overwrite/--no-overwrite", help="Replace a Block of that name.")] = True,
) -> None:
    """Save a LingongCredentials Block from the LINGONG_* variables."""
    from lingong_core.config import LingongSettings
    from lingong_core.errors import ConfigurationError
    from tasks.credentials import LingongCredentials

    try:
        settings = LingongSettings()
        block = LingongCredentials.from_settings(settings)
    except (ConfigurationError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    block.save(name, overwrite=overwrite)
    typer.echo(f"saved lingong-credentials/{name} (merchant {settings.merchant_no}, {settings.base_url})")
