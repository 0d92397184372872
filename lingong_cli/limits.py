"""``lingong limits ensure|show``: the merchant's shared platform rate limits on the Prefect server.

``ensure`` creates the global concurrency limits ``lingong:<merchantNo>:all|write|read`` that the
``LINGONG_RATE_LIMIT_*`` variables configure (tasks.ratelimit), and corrects one whose values differ.
``show`` lists the limits of the merchant as the server has them. Both talk to ``PREFECT_API_URL``.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

app = typer.Typer(help="The merchant's platform rate limits, shared by every worker.", no_args_is_help=True)

MerchantOption = Annotated[
    str | None,
    typer.Option("--merchant-no", help="The merchant; default: the credentials Block's, else LINGONG_MERCHANT_NO."),
]
BlockOption = Annotated[
    str | None, typer.Option("--credentials-block", help="Read the merchant number from this credentials Block.")
]


def _merchant(merchant_no: str | None, credentials_block: str | None) -> str:
    if merchant_no:
        return merchant_no
    from tasks.credentials import load_settings

    found = load_settings(credentials_block).merchant_no
    if not found:
        raise typer.BadParameter("give --merchant-no, --credentials-block or LINGONG_MERCHANT_NO")
    return found


@app.command("ensure")
def ensure(
    merchant_no: MerchantOption = None,
    credentials_block: BlockOption = None,
    keep: Annotated[bool, typer.Option("--keep", help="Only create missing limits; leave differing ones.")] = False,
) -> None:
    """Create (or correct) the limits the LINGONG_RATE_LIMIT_* variables configure."""
    from lingong_core.errors import ConfigurationError
    from tasks.ratelimit import ENV_ALL, ENV_READS, ENV_WRITES, RateLimits, ensure_limits

    try:
        limits = RateLimits.from_env()
    except ConfigurationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if not limits.enabled:
        typer.echo(f"no rate limit configured ({ENV_ALL}, {ENV_WRITES}, {ENV_READS} unset): nothing to do")
        return
    merchant = _merchant(merchant_no, credentials_block)
    for change in asyncio.run(ensure_limits(merchant, limits, update=not keep)):
        typer.echo(f"{change.name}\t{change.per_second:g}/s\t{change.action}")


@app.command("show")
def show(merchant_no: MerchantOption = None, credentials_block: BlockOption = None) -> None:
    """The merchant's limits on the Prefect server: calls per second and whether they are active."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from tasks.ratelimit import CallClass, limit_name

    merchant = _merchant(merchant_no, credentials_block)

    async def read() -> list[str]:
        lines = []
        async with get_client() as client:
            for call_class in CallClass:
                name = limit_name(merchant, call_class)
                try:
                    gcl = await client.read_global_concurrency_limit_by_name(name)
                except ObjectNotFound:
                    lines.append(f"{name}\t-\tmissing")
                    continue
                state = "active" if gcl.active else "inactive"
                lines.append(f"{name}\t{gcl.slot_decay_per_second:g}/s\t{state} (limit {gcl.limit})")
        return lines

    for line in asyncio.run(read()):
        typer.echo(line)
