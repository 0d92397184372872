"""A private PostgreSQL for the tests: a throwaway cluster on a loopback port, started with Debian's binaries.

``private_cluster()`` runs ``initdb`` into a temporary folder and ``pg_ctl start`` on a free port of
127.0.0.1 (as the ``postgres`` user when the tests run as root: PostgreSQL refuses to run as root), and
stops it and removes the folder afterwards — by its own data directory, never by name. A reachable server
at ``LINGONG_TEST_POSTGRES_URL`` (a ``postgresql://`` URL of a role that may create databases) is used
instead when it is set. Without either, :func:`unavailable` says why, and the tests that need one skip
saying so.

Each user gets databases of its own (:meth:`Cluster.create_database`), so tests never see each other's rows.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

URL_ENV = "LINGONG_TEST_POSTGRES_URL"
ROLE = "lingong"


def pg_bin(name: str) -> str | None:
    """A PostgreSQL server binary: on PATH, else the newest of Debian's /usr/lib/postgresql/<major>/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    return str(candidates[-1]) if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _uid(user: str) -> int | None:
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        return None


def unavailable() -> str | None:
    """Why no PostgreSQL can be had here, or None when one can."""
    if os.environ.get(URL_ENV, "").strip():
        return None
    if not pg_bin("initdb") or not pg_bin("pg_ctl"):
        return (
            f"no PostgreSQL: {URL_ENV} is not set and there are no initdb/pg_ctl binaries to start one "
            "(Debian: apt-get install postgresql; .ci/run installs it in CI)"
        )
    if os.geteuid() == 0 and (shutil.which("runuser") is None or _uid("postgres") is None):
        return "no PostgreSQL: running as root without a 'postgres' user and runuser to start the server as"
    return None


@dataclass(frozen=True)
class Cluster:
    """A PostgreSQL server the tests may create databases on; ``admin_url`` reaches its maintenance database."""

    admin_url: str

    def url(self, database: str, driver: str = "psycopg") -> str:
        """The URL of one database on this server, for the given SQLAlchemy driver."""
        return (
            make_url(self.admin_url)
            .set(drivername=f"postgresql+{driver}", database=database)
            .render_as_string(hide_password=False)
        )

    def create_database(self, prefix: str = "t") -> str:
        """A new, empty database; returns its name."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        engine = create_engine(self.url(make_url(self.admin_url).database or "postgres"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return name


@contextlib.contextmanager
def private_cluster(*, durable: bool = False) -> Iterator[Cluster]:
    """The server at LINGONG_TEST_POSTGRES_URL, else a throwaway cluster; raise RuntimeError if neither.

    ``durable``: keep PostgreSQL's defaults (``fsync=on``, ``synchronous_commit=on``: a commit is on disk
    when it returns), for measurements; the tests' cluster runs with ``fsync=off``, being thrown away."""
    given = os.environ.get(URL_ENV, "").strip()
    if given:
        yield Cluster(given)
        return
    reason = unavailable()
    if reason:
        raise RuntimeError(reason)
    initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise RuntimeError("initdb or pg_ctl went missing")
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = [str(shutil.which("runuser")), "-u", "postgres", "--"]
    data = Path(tempfile.mkdtemp(prefix="lingong-pg-"))
    port = _free_port()
    try:
        if as_user:
            shutil.chown(data, "postgres", "postgres")
        subprocess.run(
            [*as_user, initdb, "-D", str(data / "db"), "-U", ROLE, "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not durable:
            options += " -c fsync=off"
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data / "db"), "-o", options, "-l", str(data / "postgres.log"), "-w", "start"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        try:
            yield Cluster(f"postgresql+psycopg://{ROLE}@127.0.0.1:{port}/postgres")
        finally:
            stop = [*as_user, pg_ctl, "-D", str(data / "db"), "-w", "-t", "120", "stop", "-m"]
            try:
                subprocess.run([*stop, "fast"], check=False, capture_output=True, timeout=150)
            except subprocess.TimeoutExpired:  # a loaded machine: do not leave the cluster running
                subprocess.run([*stop, "immediate"], check=False, capture_output=True, timeout=150)
    finally:
        shutil.rmtree(data, ignore_errors=True)
