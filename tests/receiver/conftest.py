"""Fixtures for the receiver's tests: the platform's key pair (generated per session, never committed), a
forger's key, a fixed clock, a recording emitter, and a receiver over a fresh SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from lingong_core.signing import generate_key_pair
from lingong_receiver import Receiver, Store
from tests.receiver.receiver_helpers import MERCHANT_NO, Clock, RecordingEmitter


@pytest.fixture(scope="session")
def platform_keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey]:
    """The platform's key pair: it signs notifications, the receiver verifies with the public half."""
    return generate_key_pair(2048)


@pytest.fixture(scope="session")
def platform_key(platform_keys: tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey]) -> rsa.RSAPrivateKey:
    return platform_keys[0]


@pytest.fixture(scope="session")
def forger_key() -> rsa.RSAPrivateKey:
    """Somebody else's key: what it signs must not verify."""
    return generate_key_pair(1024)[0]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emitter() -> RecordingEmitter:
    return RecordingEmitter()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "receiver" / "notifications.db"


@pytest.fixture
def receiver(
    db_path: Path,
    platform_keys: tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey],
    emitter: RecordingEmitter,
    clock: Clock,
) -> Iterator[Receiver]:
    store = Store(db_path)
    yield Receiver(store, merchant_no=MERCHANT_NO, platform_public_key=platform_keys[1], emitter=emitter, clock=clock)
    store.close()
