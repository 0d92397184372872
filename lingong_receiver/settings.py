"""The receiver's configuration: the client's ``LINGONG_*`` variables plus its own.

===================================  ===========================================================
``LINGONG_MERCHANT_NO``              our merchant number; notifications for any other are refused (403)
``LINGONG_PLATFORM_PUBLIC_KEY_FILE``  the platform's public key (a PEM file) that signs notifications …
``LINGONG_PLATFORM_PUBLIC_KEY``      … or the PEM itself
``LINGONG_SIGN_ALGORITHM``           ``SHA256withRSA`` (default) or ``SHA1withRSA``
``LINGONG_RECEIVER_DB``              its store: a database URL or a SQLite path (default: ``LINGONG_DATABASE_URL``)
``LINGONG_RECEIVER_TOLERANCE``       seconds a ``timestamp`` may be from our clock (default 300)
===================================  ===========================================================
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from lingong_core.config import LingongSettings
from lingong_core.errors import ConfigurationError
from lingong_core.signing import load_public_key
from lingong_core.timeutil import Clock
from lingong_core.timeutil import now as shanghai_now
from lingong_store.db import DATABASE_URL_ENV, Database, database_url
from lingong_store.links import RunLinks

from .events import Emitter, PrefectEmitter
from .service import Receiver
from .store import Store

__all__ = ["ReceiverSettings", "build_receiver"]


class ReceiverSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LINGONG_RECEIVER_", extra="ignore")

    #: a database URL, or a path taken as a SQLite file; None: ``LINGONG_DATABASE_URL`` or ``.state/lingong.db``
    db: str | None = None
    tolerance: int = Field(default=300, ge=1, le=86_400)


def build_receiver(
    *,
    lingong: LingongSettings | None = None,
    receiver: ReceiverSettings | None = None,
    db: str | Path | None = None,
    emitter: Emitter | None = None,
    clock: Clock = shanghai_now,
) -> Receiver:
    """A :class:`Receiver` from the environment (or the settings given); raise :class:`ConfigurationError`."""
    lingong = lingong if lingong is not None else LingongSettings()
    receiver = receiver if receiver is not None else ReceiverSettings()
    if not lingong.merchant_no:
        raise ConfigurationError("set LINGONG_MERCHANT_NO, the merchant number notifications are addressed to")
    pem = lingong.platform_public_key_pem()
    if pem is None:
        raise ConfigurationError(
            "set LINGONG_PLATFORM_PUBLIC_KEY_FILE (a PEM file) or LINGONG_PLATFORM_PUBLIC_KEY: "
            "the platform's public key, which verifies notifications"
        )
    public_key = load_public_key(pem)
    store = Store(db if db is not None else receiver.db)
    # Which run placed a batch or generated a contract: in the project's database when one is configured
    # (the flows write there, tasks/links.py), else beside the receiver's own records.
    links = RunLinks(Database(database_url()) if os.environ.get(DATABASE_URL_ENV) else store.db)
    return Receiver(
        store,
        links=links,
        merchant_no=lingong.merchant_no,
        platform_public_key=public_key,
        emitter=emitter if emitter is not None else PrefectEmitter(),
        sign_algorithm=lingong.sign_algorithm,
        clock=clock,
        tolerance=timedelta(seconds=receiver.tolerance),
    )
