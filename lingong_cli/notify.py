"""``lingong notify``: run the notification receiver, and look at what it recorded.

``serve`` answers the platform's notify URL (configured by ``LINGONG_*``, see docs/notifications.md);
``list`` prints recent notifications with personal data masked; ``state`` prints a record's latest state.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="The platform's notifications: receive, record, emit Prefect events.", no_args_is_help=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="The store: a database URL or a SQLite file "
        "(default: LINGONG_RECEIVER_DB, else LINGONG_DATABASE_URL, else .state/lingong.db).",
    ),
]


def _missing(db: str | None) -> str | None:
    """The SQLite file the store would be read from, when it does not exist (nothing recorded there yet)."""
    from sqlalchemy.engine import make_url

    from lingong_receiver.store import RECEIVER_DB_ENV
    from lingong_store.db import is_sqlite, resolve_url

    url = make_url(resolve_url(db, own_env=RECEIVER_DB_ENV))
    if is_sqlite(url) and url.database not in (None, "", ":memory:") and not Path(url.database).exists():
        return url.database
    return None


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8787,
    db: DbOption = None,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn's log level.")] = "info",
) -> None:
    """Answer POST /notify: verify, record, acknowledge 'success', emit events (lingong.settlement.completed, …)."""
    import logging

    import uvicorn

    from lingong_core.errors import ConfigurationError
    from lingong_core.masking import MaskingFilter
    from lingong_receiver.app import create_app
    from lingong_receiver.events import PrefectEmitter
    from lingong_receiver.settings import build_receiver

    emitter = PrefectEmitter()
    try:
        receiver = build_receiver(db=db, emitter=emitter)
    except ConfigurationError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(MaskingFilter())
    target = emitter.available()
    typer.echo(f"merchant {receiver.merchant_no}; notifications recorded in {receiver.store.where}")
    if target:
        typer.echo(f"Prefect events go to {target}")
    else:
        typer.echo("PREFECT_API_URL is not set: notifications are recorded and acknowledged, events are kept pending")
    typer.echo(f"platform notify URL: http://{host}:{port}/notify")
    uvicorn.run(create_app(receiver), host=host, port=port, log_level=log_level, ws="none", lifespan="on")


@app.command("list")
def list_(
    notify_type: Annotated[str | None, typer.Option("--type", help="Only this notifyType, e.g. 3001.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only those received at or after 'yyyy-MM-dd HH:mm:ss'.")
    ] = None,
    resource: Annotated[
        str | None, typer.Option("--resource", help="Only those about this resource id, e.g. lingong.settlement.B1.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    db: DbOption = None,
) -> None:
    """Print recent notifications, newest first, with personal data masked."""
    from lingong_core import jsoncodec
    from lingong_core.errors import InputError
    from lingong_core.timeutil import format_datetime, parse_datetime
    from lingong_receiver.events import payload_of
    from lingong_receiver.store import Store

    since_at: datetime | None = None
    if since is not None:
        try:
            since_at = parse_datetime(since, field="--since")
        except InputError as exc:
            raise typer.BadParameter(exc.rule, param_hint="--since") from None
    missing = _missing(db)
    if missing:
        typer.echo(f"no notifications yet ({missing} does not exist)", err=True)
        return
    with Store(db) as store:
        records = store.list(notify_type=notify_type, since=since_at, resource=resource, limit=limit)
    for record in records:
        row = {
            "receivedAt": format_datetime(record.received_at),
            "notifyNo": record.notify_no,
            "notifyType": record.notify_type,
            "resource": record.resource_id,
            "deliveries": record.deliveries,
            "emitted": record.emitted,
            "state": record.state_note,
            "bizModel": payload_of(record.biz),
        }
        if as_json:
            typer.echo(jsoncodec.dumps(row))
        else:
            emitted = "emitted" if record.emitted else "event pending"
            typer.echo(
                f"{row['receivedAt']}  {record.notify_type}  {record.notify_no}  {record.resource_id}  "
                f"×{record.deliveries}  {emitted}  {record.state_note}"
            )
            typer.echo(f"    {jsoncodec.dumps(row['bizModel'])}")
    if not records and not as_json:
        typer.echo("no notifications match", err=True)


@app.command("state")
def state(
    resource: Annotated[str, typer.Argument(help="lingong.<kind>.<number>, e.g. lingong.order.T001.")],
    db: DbOption = None,
) -> None:
    """Print the latest recorded state of a record (exit 1 if no notification reported one)."""
    from lingong_core import jsoncodec
    from lingong_core.timeutil import format_datetime
    from lingong_receiver.events import payload_of
    from lingong_receiver.store import Store

    missing = _missing(db)
    if missing:
        typer.echo(f"no notifications yet ({missing} does not exist)", err=True)
        sys.exit(1)
    with Store(db) as store:
        try:
            found = store.get_state(resource)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="RESOURCE") from None
    if found is None:
        typer.echo(f"no state recorded for {resource}", err=True)
        sys.exit(1)
    typer.echo(
        jsoncodec.dumps(
            {
                "resource": found.resource_id,
                "state": found.state,
                "platformNo": found.platform_no,
                "outNo": found.out_no,
                "notifyNo": found.notify_no,
                "notifyType": found.notify_type,
                "updatedAt": format_datetime(found.updated_at),
                "bizModel": payload_of(found.biz),
            }
        )
    )
