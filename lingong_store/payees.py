"""The payee store: the people of a payroll, encrypted at rest, behind a reference flows can pass around.

Prefect stores every flow run's parameters in its own database, shows them in the UI and serves them
from its API for as long as the run exists. So people never travel as parameters: whoever has them (the
upload page, the command line, a flow's first step) puts them here and passes the reference it gets
back (``PR…`` for a payroll, ``PP…`` for a list of people); the step that calls the platform reads them
back. References are random, never derived from the people they hold.

Each set is one AES-GCM ciphertext (``cryptography``; a fresh 96-bit nonce per set, the reference and
kind as associated data, so a ciphertext cannot be moved to another reference) in the project's own
database (:class:`lingong_store.db.Database`, the one the run journal uses). Only what a payout needs is
kept: name, ID number, mobile, card, amount, remark and the sheet row — no masked copy, no hash of an ID.
In the clear: the reference, the kind, a short source label (personal-looking numbers in it masked),
the row count, the key's id and when the set was stored.

The key (32 bytes, base64 in ``LINGONG_PAYEE_KEY``; or a file named by ``LINGONG_PAYEE_KEY_FILE``; a
Prefect Secret block is resolved in ``tasks/payees.py`` and passed in as ``key``). With none configured
and a SQLite database — local use: the demo, the tests, ``make up`` — a key is generated once into
``.state/payee.key`` (mode 0600). On any other database a key must be configured: workers on several
hosts must share one key, and a key generated on one host would make sets unreadable on the others.

Sets are kept ``LINGONG_PAYEE_RETENTION_DAYS`` days (default 90); ``lingong payees purge`` deletes older
ones. This module never imports Prefect.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import BigInteger, Column, Integer, LargeBinary, MetaData, String, Table, delete, insert, select

from lingong_core.masking import mask_card, mask_id, mask_mobile, mask_name, scrub
from lingong_store.db import Database

PAYEE_KEY_ENV = "LINGONG_PAYEE_KEY"
PAYEE_KEY_FILE_ENV = "LINGONG_PAYEE_KEY_FILE"
RETENTION_ENV = "LINGONG_PAYEE_RETENTION_DAYS"
DEFAULT_KEY_FILE = Path(".state") / "payee.key"
DEFAULT_RETENTION_DAYS = 90
PAYROLL, PEOPLE = "payroll", "people"
_PREFIX = {PAYROLL: "PR", PEOPLE: "PP"}
MAX_SOURCE = 120

metadata = MetaData()
payee_sets = Table(
    "payee_set",
    metadata,
    Column("ref", String(40), primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("source", String(MAX_SOURCE), nullable=False, default=""),
    Column("rows", Integer, nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False, index=True),  # Unix seconds
    Column("nonce", LargeBinary, nullable=False),
    Column("payload", LargeBinary, nullable=False),
)


class PayeeStoreError(RuntimeError):
    """The store cannot do what was asked: no key, a wrong key, a damaged set."""


class UnknownReferenceError(PayeeStoreError, LookupError):
    """No set under this reference (never stored, purged, or of the other kind)."""


@dataclass(frozen=True, slots=True)
class Person:
    """Who to onboard: the personal fields of a payroll row."""

    name: str
    id_card_no: str
    mobile: str
    bank_card_no: str

    def __repr__(self) -> str:
        return (
            f"Person(name={mask_name(self.name)!r}, id_card_no={mask_id(self.id_card_no)!r}, "
            f"mobile={mask_mobile(self.mobile)!r}, bank_card_no={mask_card(self.bank_card_no)!r})"
        )


@dataclass(frozen=True, slots=True)
class PayrollRow:
    """One payroll line as given (text, not validated: validation happens where the payroll is paid, so a
    stored payroll gets the same row-by-row report as a file). ``row`` is the line's row in its sheet."""

    row: int
    name: str
    id_card_no: str
    mobile: str
    bank_card_no: str
    amount: str
    remark: str = ""

    def fields(self) -> dict[str, str]:
        """The line's fields by their payroll names (``PayeeRow``/``Payee`` take these)."""
        return {
            "name": self.name,
            "id_card_no": self.id_card_no,
            "mobile": self.mobile,
            "bank_card_no": self.bank_card_no,
            "amount": self.amount,
            "remark": self.remark,
        }

    def __repr__(self) -> str:
        return (
            f"PayrollRow(row={self.row}, name={mask_name(self.name)!r}, id_card_no={mask_id(self.id_card_no)!r}, "
            f"amount={self.amount!r})"
        )


@dataclass(frozen=True, slots=True)
class PayeeSetInfo:
    """What the store shows of a set without decrypting it."""

    ref: str
    kind: str
    source: str
    rows: int
    created_at: int


def _field(item: Any, name: str, default: Any = "") -> Any:
    if isinstance(item, Mapping):
        return item.get(name, default)
    return getattr(item, name, default)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def decode_key(text: str | bytes, *, where: str = PAYEE_KEY_ENV) -> bytes:
    """A 32-byte AES key from its base64 text (standard or URL-safe); a clear error otherwise."""
    raw = text.strip() if isinstance(text, bytes) else text.strip().encode()
    try:
        key = base64.b64decode(raw.replace(b"-", b"+").replace(b"_", b"/"), validate=True)
    except (binascii.Error, ValueError):
        raise PayeeStoreError(f"{where}: not base64 (expected 32 random bytes, base64-encoded)") from None
    if len(key) != 32:
        raise PayeeStoreError(f"{where}: the key is {len(key)} bytes; AES-256-GCM needs 32 (base64 of 32 bytes)")
    return key


def generate_key() -> str:
    """A new key as ``LINGONG_PAYEE_KEY`` takes it (base64 of 32 random bytes)."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


def _key_file(path: Path, *, create: bool) -> bytes:
    """The key in ``path``; with ``create``, a new key written there first (mode 0600) if it is missing."""
    if create and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(generate_key() + "\n")
    try:
        text = path.read_text()
    except OSError as exc:
        raise PayeeStoreError(f"payee key file {path}: {exc.strerror}") from None
    return decode_key(text, where=str(path))


def load_key(*, local: bool) -> bytes:
    """The key from the environment: ``LINGONG_PAYEE_KEY``, else the file ``LINGONG_PAYEE_KEY_FILE``, else
    (``local`` only: a SQLite database on this machine) ``.state/payee.key``, generated if missing."""
    if text := os.environ.get(PAYEE_KEY_ENV, "").strip():
        return decode_key(text)
    if path := os.environ.get(PAYEE_KEY_FILE_ENV, "").strip():
        return _key_file(Path(path).expanduser(), create=local)
    if local:
        return _key_file(DEFAULT_KEY_FILE.resolve(), create=True)
    raise PayeeStoreError(
        f"no payee key: set {PAYEE_KEY_ENV} (base64 of 32 random bytes; `lingong payees new-key` prints one), "
        f"{PAYEE_KEY_FILE_ENV}, or LINGONG_PAYEE_KEY_BLOCK (a Prefect Secret block) — every worker the same"
    )


def key_id(key: bytes) -> str:
    """A short, non-secret name of a key, stored with each set so a wrong key gets a clear error."""
    return hashlib.sha256(b"lingong-payee-key" + key).hexdigest()[:16]


def retention() -> timedelta:
    """How long sets are kept: ``LINGONG_PAYEE_RETENTION_DAYS`` days (default 90)."""
    text = os.environ.get(RETENTION_ENV, "").strip()
    try:
        days = float(text) if text else DEFAULT_RETENTION_DAYS
    except ValueError:
        raise PayeeStoreError(f"{RETENTION_ENV}: {text!r} is not a number of days") from None
    if days <= 0:
        raise PayeeStoreError(f"{RETENTION_ENV}: must be more than 0 days")
    return timedelta(days=days)


class PayeeStore:
    """Encrypted sets of payroll rows or people in the project's database, each under a reference.

    ``db``: the database (default: ``Database()``, i.e. ``LINGONG_DATABASE_URL`` or ``.state/lingong.db``);
    ``key``: the 32-byte key or its base64 text (default: :func:`load_key`).
    """

    def __init__(self, db: Database | None = None, *, key: bytes | str | None = None) -> None:
        self._own_db = db is None
        self.db = db or Database()
        if key is None:
            self._key = load_key(local=self.db.is_sqlite)
        elif isinstance(key, bytes) and len(key) == 32:
            self._key = key
        else:
            self._key = decode_key(key, where="key")
        self._aead = AESGCM(self._key)
        self.key_id = key_id(self._key)
        self.db.create_all(metadata)

    def __repr__(self) -> str:
        return f"PayeeStore({self.db!r}, key_id={self.key_id!r})"

    # --- writing -------------------------------------------------------------------------------------

    def _put(self, kind: str, records: list[list[Any]], source: str) -> str:
        ref = _PREFIX[kind] + secrets.token_hex(12).upper()
        nonce = os.urandom(12)
        data = json.dumps(records, ensure_ascii=False, separators=(",", ":")).encode()
        payload = self._aead.encrypt(nonce, data, f"{ref}|{kind}".encode())
        with self.db.begin() as conn:
            conn.execute(
                insert(payee_sets).values(
                    ref=ref,
                    kind=kind,
                    source=scrub(_text(source))[:MAX_SOURCE],
                    rows=len(records),
                    key_id=self.key_id,
                    created_at=int(time.time()),
                    nonce=nonce,
                    payload=payload,
                )
            )
        return ref

    def put_payroll(self, rows: Iterable[Any], *, source: str) -> str:
        """Store payroll lines (``PayeeRow``/``Payee`` objects, :class:`PayrollRow` or mappings with the
        fields name, id_card_no, mobile, bank_card_no, amount, remark and, optionally, row); return ``PR…``.

        A line without ``row`` is numbered by its position from 1. ``source`` says where the lines came
        from (a file name, "form", "cli"): it is stored in the clear, so never put personal data in it.
        """
        records = []
        for position, item in enumerate(rows, start=1):
            row = _field(item, "row", None)
            records.append(
                [
                    int(row) if row not in (None, "") else position,
                    *(_text(_field(item, name)) for name in ("name", "id_card_no", "mobile", "bank_card_no")),
                    _text(_field(item, "amount")),
                    _text(_field(item, "remark")),
                ]
            )
        return self._put(PAYROLL, records, source)

    def put_people(self, people: Iterable[Any], *, source: str = "") -> str:
        """Store people (objects or mappings with name, id_card_no, mobile, bank_card_no); return ``PP…``."""
        records = [
            [_text(_field(p, name)) for name in ("name", "id_card_no", "mobile", "bank_card_no")] for p in people
        ]
        return self._put(PEOPLE, records, source)

    # --- reading -------------------------------------------------------------------------------------

    def _get(self, ref: str, kind: str) -> list[Any]:
        with self.db.connect() as conn:
            found = conn.execute(
                select(payee_sets.c.key_id, payee_sets.c.nonce, payee_sets.c.payload).where(
                    payee_sets.c.ref == str(ref), payee_sets.c.kind == kind
                )
            ).first()
        if found is None:
            raise UnknownReferenceError(
                f"no {kind} stored under {ref!r} in the payee store ({self.db!r}): never stored, "
                f"purged after {retention().days} days, or another database"
            )
        if found.key_id != self.key_id:
            raise PayeeStoreError(
                f"{ref} was encrypted under key {found.key_id}, this process has key {self.key_id}: "
                f"give every worker the same {PAYEE_KEY_ENV}"
            )
        try:
            data = self._aead.decrypt(found.nonce, found.payload, f"{ref}|{kind}".encode())
        except InvalidTag:
            raise PayeeStoreError(f"{ref}: the stored set does not decrypt (damaged or altered)") from None
        records: list[Any] = json.loads(data)
        return records

    def payroll(self, ref: str) -> list[PayrollRow]:
        """The payroll lines stored under ``ref``, decrypted, in the order given."""
        return [PayrollRow(int(r[0]), *r[1:7]) for r in self._get(ref, PAYROLL)]

    def people(self, ref: str) -> list[Person]:
        """The people stored under ``ref``, decrypted, in the order given."""
        return [Person(*r[:4]) for r in self._get(ref, PEOPLE)]

    def info(self, ref: str) -> PayeeSetInfo | None:
        """What is stored under ``ref`` (no personal data), or None."""
        with self.db.connect() as conn:
            row = conn.execute(
                select(
                    payee_sets.c.ref,
                    payee_sets.c.kind,
                    payee_sets.c.source,
                    payee_sets.c.rows,
                    payee_sets.c.created_at,
                ).where(payee_sets.c.ref == str(ref))
            ).first()
        return None if row is None else PayeeSetInfo(row.ref, row.kind, row.source, row.rows, row.created_at)

    def list(self) -> Iterator[PayeeSetInfo]:
        """Every set, oldest first (no personal data)."""
        with self.db.connect() as conn:
            rows = conn.execute(
                select(
                    payee_sets.c.ref,
                    payee_sets.c.kind,
                    payee_sets.c.source,
                    payee_sets.c.rows,
                    payee_sets.c.created_at,
                ).order_by(payee_sets.c.created_at, payee_sets.c.ref)
            ).all()
        for row in rows:
            yield PayeeSetInfo(row.ref, row.kind, row.source, row.rows, row.created_at)

    # --- forgetting ----------------------------------------------------------------------------------

    def delete(self, ref: str) -> bool:
        """Delete one set; whether it existed."""
        with self.db.begin() as conn:
            return bool(conn.execute(delete(payee_sets).where(payee_sets.c.ref == str(ref))).rowcount)

    def purge(self, older_than: timedelta | None = None) -> int:
        """Delete every set stored more than ``older_than`` ago (default: the retention setting); how many.

        On SQLite the freed pages are then overwritten (``secure_delete`` for the deletion, a WAL
        checkpoint after it), so the ciphertexts do not linger in the file.
        """
        age = retention() if older_than is None else older_than
        cutoff = int(time.time() - age.total_seconds())
        with self.db.begin() as conn:
            if self.db.is_sqlite:
                conn.exec_driver_sql("PRAGMA secure_delete=ON")
            count = conn.execute(delete(payee_sets).where(payee_sets.c.created_at <= cutoff)).rowcount
        if self.db.is_sqlite and count:
            raw = self.db.engine.raw_connection()  # outside a transaction: a checkpoint cannot run in one
            try:
                with contextlib.suppress(Exception):  # best effort: SQLite checkpoints on its own later
                    raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
        return int(count or 0)

    def close(self) -> None:
        """Dispose of the database if this store made it."""
        if self._own_db:
            self.db.dispose()

    def __enter__(self) -> PayeeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
