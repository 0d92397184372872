"""Session-wide fixtures. Keys are generated per session, never committed."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from lingong_core.signing import generate_key_pair


@pytest.fixture(scope="session")
def merchant_keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey]:
    """The merchant's 2048-bit key pair for this test session."""
    return generate_key_pair(2048)


@pytest.fixture(scope="session")
def small_keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey]:
    """A 1024-bit key pair (the platform still accepts them; faster for unit tests)."""
    return generate_key_pair(1024)
