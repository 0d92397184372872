"""The payee store as flows and tasks reach it, with the key resolved where Prefect is allowed.

``lingong_store.payees`` never imports Prefect, so a key kept in a Prefect Secret block is read here:
``LINGONG_PAYEE_KEY_BLOCK`` names the block (its value: the base64 key). Without it the store reads
``LINGONG_PAYEE_KEY`` / ``LINGONG_PAYEE_KEY_FILE``, or — on a local SQLite database only — the key it
generated into ``.state/payee.key``.

Flows pass references (``PR…``, ``PP…``); the people are read back only inside the task or the flow step
that needs them, and never returned from a task whose result Prefect could persist.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from lingong_core.masking import mask_card, mask_id, mask_mobile, mask_name
from lingong_payroll.files import ParsedPayroll, ReadOptions
from lingong_payroll.payees import PayeeRow
from lingong_store.payees import PayeeStore, PayeeStoreError, PayrollRow

PAYEE_KEY_BLOCK_ENV = "LINGONG_PAYEE_KEY_BLOCK"


def payee_key() -> str | None:
    """The key from the Prefect Secret block named by ``LINGONG_PAYEE_KEY_BLOCK``; None when none is named."""
    name = os.environ.get(PAYEE_KEY_BLOCK_ENV, "").strip()
    if not name:
        return None
    from prefect.blocks.system import Secret

    try:
        # Synchronously even inside a flow's coroutine (as tasks.credentials does for its block).
        block = Secret.load(name, _sync=True)  # type: ignore[call-arg]
    except ValueError as exc:
        raise PayeeStoreError(f"{PAYEE_KEY_BLOCK_ENV}={name!r}: no such Secret block ({exc})") from None
    assert isinstance(block, Secret)
    value = block.get()
    if not isinstance(value, str):
        raise PayeeStoreError(f"{PAYEE_KEY_BLOCK_ENV}={name!r}: the Secret must hold the base64 key as text")
    return value


def payee_store() -> PayeeStore:
    """The payee store on the project's database, under the configured key."""
    return PayeeStore(key=payee_key())


def stored_payroll(payroll_ref: str) -> list[PayrollRow]:
    """The payroll lines stored under ``payroll_ref`` (``PR…``), decrypted, in this process only."""
    with payee_store() as store:
        return store.payroll(payroll_ref)


def masked_row(row: Any) -> PayeeRow:
    """A typed payroll line as this run's stored parameters may show it: personal fields masked."""
    return PayeeRow(
        name=mask_name(row.name),
        id_card_no=mask_id(row.id_card_no),
        mobile=mask_mobile(row.mobile),
        bank_card_no=mask_card(row.bank_card_no),
        amount=row.amount,
        remark=row.remark,
    )


def is_masked_echo(row: PayeeRow) -> bool:
    """Whether a typed line is the masked copy :func:`hide_typed_payees` wrote back (a retry sends it)."""
    return "*" in row.id_card_no or "*" in row.bank_card_no


async def hide_typed_payees(
    payees: Sequence[PayeeRow] | None, payroll_file: str | None, payroll_ref: str | None
) -> tuple[list[PayeeRow] | None, str | None]:
    """Move payroll lines typed into a run's parameters into the payee store, and overwrite the run's
    stored parameters with them masked and the new reference; return what the run then loads.

    The first step of ``payroll_run``. A retry of the same run sends the masked copy back with the
    reference: the reference is read, the copy ignored. Lines given together with a file or a reference
    are masked in the parameters too, and the run is refused (exactly one source).

    What this cannot do: the Prefect server stored the typed values when it created the run, before this
    step; overwriting replaces them in the UI and the API, but copies may stay in the server database's
    files (SQLite's WAL and free pages, PostgreSQL's dead rows and WAL) until they are reused or vacuumed.
    The deployments therefore offer files and uploads; typed-in people are for small manual runs.
    """
    if not payees:
        return None, payroll_ref
    rows = [PayeeRow.model_validate(p) if not isinstance(p, PayeeRow) else p for p in payees]
    if payroll_ref and all(is_masked_echo(r) for r in rows):
        return None, payroll_ref
    masked = [masked_row(r).model_dump() for r in rows]
    conflict = bool(payroll_file or payroll_ref)
    ref = None if conflict else store_payroll(rows, source="typed into payroll-run")
    await _overwrite_parameters({"payees": masked, "payroll_ref": ref if not conflict else None})
    return (rows, payroll_ref) if conflict else (None, ref)


def store_payroll(rows: Sequence[Any], *, source: str) -> str:
    """Put payroll lines into the payee store; the reference (``PR…``) ``payroll_run`` takes instead."""
    with payee_store() as store:
        return store.put_payroll(rows, source=source)


async def _overwrite_parameters(changes: dict[str, Any]) -> None:
    """Replace some of the current flow run's stored parameters (Prefect's FlowRunUpdate accepts them)."""
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return  # not inside a flow run: nothing of Prefect's to overwrite
    parameters = {**(context.flow_run.parameters or {}), **changes}
    async with get_client() as client:
        await client.update_flow_run(context.flow_run.id, parameters=parameters)
    context.flow_run.parameters = parameters


def read_payroll_location(location: str, options: ReadOptions | None = None) -> ParsedPayroll:
    """Read a payroll file the worker can reach: a path (on shared storage) or an fsspec URL (``s3://…``,
    ``gcs://…``, … where that filesystem's package is installed and configured). Read into memory only.
    ``options``: how (a sheet, an amount column, …); None: the command line's, or the defaults."""
    from lingong_payroll import files

    if "://" not in location or location.startswith("file://"):
        return files.read_payroll_file(location.removeprefix("file://"), options)
    import fsspec

    try:
        with fsspec.open(location, "rb") as handle:
            data = handle.read(files.MAX_BYTES + 1)
    except ImportError as exc:
        raise files.PayrollFileError(f"{location}: this filesystem is not installed on the worker ({exc})") from None
    except (OSError, ValueError) as exc:
        raise files.PayrollFileError(f"{location}: cannot be read ({type(exc).__name__}: {exc})") from None
    if len(data) > files.MAX_BYTES:
        raise files.PayrollFileError(f"{location}: larger than {files.MAX_BYTES // (1024 * 1024)} MB")
    return files.parse_payroll_bytes(data, location.rsplit("/", 1)[-1], options)
