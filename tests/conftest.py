"""Session-wide fixtures. Keys are generated per session, never committed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from lingong_core.signing import generate_key_pair
from lingong_store.db import sqlite_url
from tests import pg_cluster

# Prefect reads its settings when first imported (nothing above imports it): keep its state inside the
# project and its server from phoning out, whether pytest runs from `make test` or on its own.
_STATE = Path(__file__).resolve().parents[1] / ".state"
(_STATE / "prefect-tests").mkdir(parents=True, exist_ok=True)
os.environ.setdefault("PREFECT_HOME", str(_STATE / "prefect-tests"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[str]:
    """The session's one Prefect test harness (a server on a loopback port; ~20 s to start); yields its API URL.

    The flow tests (tests/flows ``prefect``) and the chaos suite (tests/chaos ``prefect_api``) both stand on
    it. One server for the session keeps ``PREFECT_API_URL`` the same from the first flow to the last: with a
    harness of each, whichever started second moved the URL under the first, and Prefect's process-wide
    EventsWorker (started under the first, and reading the URL only when it starts) kept sending every event
    to the first server while the tests read the second.

    The harness's sync client (``SyncClientContext``, closed when the session ends) is the one Prefect's
    ``get_client(sync_client=True)`` hands out for the session: without it, every flow run opened a sync client
    of its own in ``prefect.results._read_server_default_result_storage_block_id`` (Prefect 3.9) and never
    closed it, and its socket reached the garbage collector as an unraisable ResourceWarning (tracemalloc
    showed every leaked socket allocated there). ``asyncio.run`` and Prefect's task threads copy the context,
    so each flow the tests run sees it.
    """
    from prefect.context import SyncClientContext
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180), SyncClientContext.get_or_create():
        url = PREFECT_API_URL.value()
        assert url, "the test harness set no API URL"
        yield url


@pytest.fixture(scope="session")
def merchant_keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey]:
    """The merchant's 2048-bit key pair for this test session."""
    return generate_key_pair(2048)


@pytest.fixture(scope="session")
def small_keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey]:
    """A 1024-bit key pair (the platform still accepts them; faster for unit tests)."""
    return generate_key_pair(1024)


# --- PostgreSQL (tests/pg_cluster.py): the stores' tests run on SQLite always, and on PostgreSQL when one
# can be had; without one the PostgreSQL cases skip, saying why. ---------------------------------------------


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg_cluster.Cluster]:
    """A private PostgreSQL cluster for the session (or LINGONG_TEST_POSTGRES_URL's server)."""
    reason = pg_cluster.unavailable()
    if reason:
        pytest.skip(reason)
    with pg_cluster.private_cluster() as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database for the project's stores: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "lingong.db")
    cluster: pg_cluster.Cluster = request.getfixturevalue("postgres")
    return cluster.url(cluster.create_database())
