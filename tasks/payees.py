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

from lingong_store.payees import PayeeStore, PayeeStoreError

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
