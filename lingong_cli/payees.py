"""``lingong payees add-person|list|purge|new-key``: the encrypted payee store (lingong_store.payees).

``add-person`` stores one person (e.g. with the new card a bounced payment is re-paid to) and prints the
``PP…`` reference a flow run takes instead of the person; it asks for the values (not echoed) unless given.

``purge`` deletes every stored payroll and list of people older than the retention
(``LINGONG_PAYEE_RETENTION_DAYS``, default 90 days) or ``--older-than``; run it daily (cron, or a
scheduled Prefect deployment). ``list`` shows references, sizes and ages — never a person.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Annotated

import typer

app = typer.Typer(help="The encrypted payee store: list, purge, make a key.", no_args_is_help=True)

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhm]?)\s*$")


def parse_age(text: str) -> timedelta:
    """``90d``, ``12h``, ``30m`` or a number of days."""
    match = _AGE.match(text or "")
    if not match:
        raise typer.BadParameter(f"{text!r}: give an age such as 90d, 12h, 30m or a number of days")
    number, unit = float(match.group(1)), match.group(2) or "d"
    unit_name = {"d": "days", "h": "hours", "m": "minutes"}[unit]
    return timedelta(**{unit_name: number})


@app.command("purge")
def purge(
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than", help="Delete sets stored longer ago than this (90d, 12h); default: the retention."
        ),
    ] = None,
) -> None:
    """Delete stored payrolls and people older than the retention."""
    from lingong_store.payees import PayeeStoreError, retention
    from tasks.payees import payee_store

    try:
        age = parse_age(older_than) if older_than is not None else retention()
        with payee_store() as store:
            count = store.purge(age)
    except PayeeStoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"purged {count} set(s) stored more than {age} ago")


@app.command("list")
def list_sets() -> None:
    """References, kinds, sizes and ages of the stored sets (no personal data)."""
    from lingong_store.payees import PayeeStoreError
    from tasks.payees import payee_store

    try:
        with payee_store() as store:
            sets = list(store.list())
    except PayeeStoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    now = time.time()
    for info in sets:
        age = timedelta(seconds=int(now - info.created_at))
        typer.echo(f"{info.ref}  {info.kind:8} {info.rows:6} rows  {age} old  {info.source}")
    if not sets:
        typer.echo("the payee store is empty")


@app.command("add-person")
def add_person(
    name: Annotated[str, typer.Option(prompt="Name (姓名)", help="The person's legal name.")],
    id_card_no: Annotated[str, typer.Option(prompt="ID number (身份证号)", hide_input=True, help="18 characters.")],
    mobile: Annotated[str, typer.Option(prompt="Mobile (手机号)", hide_input=True, help="11 digits.")],
    bank_card_no: Annotated[
        str, typer.Option(prompt="Debit card (银行卡号)", hide_input=True, help="The card to pay into.")
    ],
) -> None:
    """Store one person (validated) and print the reference (PP…) to give a flow run instead."""
    from lingong_core.errors import InputError
    from lingong_core.masking import mask_card, mask_id
    from lingong_payroll.payees import check_bank_card_no, check_id_card_no, check_mobile, check_name
    from lingong_store.payees import PayeeStoreError, Person
    from tasks.payees import payee_store

    try:
        person = Person(
            check_name(name), check_id_card_no(id_card_no), check_mobile(mobile), check_bank_card_no(bank_card_no)
        )
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        with payee_store() as store:
            ref = store.put_people([person], source="lingong payees add-person")
    except PayeeStoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"stored {mask_id(person.id_card_no)} with card {mask_card(person.bank_card_no)}", err=True)
    typer.echo(ref)


@app.command("new-key")
def new_key() -> None:
    """Print a new random key for LINGONG_PAYEE_KEY (or a Prefect Secret block)."""
    from lingong_store.payees import generate_key

    typer.echo(generate_key())
