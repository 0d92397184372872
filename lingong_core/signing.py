"""The sign rule of the gateway (contract §2), as a few pure functions over ``cryptography``.

1. Take every envelope field except ``sign`` whose value is neither null nor the empty string.
2. Sort by field name in ascending byte order.
3. Join as ``name=value`` with ``&``; ``bizModel`` contributes the exact JSON text that is sent.
4. Sign the UTF-8 bytes with RSASSA-PKCS1-v1_5 over SHA-256 (``SHA256withRSA``, the default) or
   SHA-1 (``SHA1withRSA``); ``sign`` is the standard base64 of the signature.

Verification raises :class:`~lingong_core.errors.SignatureError`; it never returns False.
Keys are never logged, and nothing here reads a clock or a file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .errors import ConfigurationError, SignatureError

__all__ = [
    "PRIVATE_KEYS",
    "PrivateKeyCache",
    "SignAlgorithm",
    "generate_key_pair",
    "load_private_key",
    "load_public_key",
    "private_key_to_pem",
    "public_key_to_pem",
    "sign",
    "sign_envelope",
    "sign_string",
    "verify",
    "verify_envelope",
]

SIGN_FIELD = "sign"


class SignAlgorithm(StrEnum):
    SHA256_WITH_RSA = "SHA256withRSA"
    SHA1_WITH_RSA = "SHA1withRSA"

    def hash(self) -> hashes.HashAlgorithm:
        return hashes.SHA256() if self is SignAlgorithm.SHA256_WITH_RSA else hashes.SHA1()  # noqa: S303


def sign_string(fields: Mapping[str, object]) -> str:
    """The canonical string to sign: non-empty fields but ``sign``, sorted by name, ``name=value`` joined by ``&``."""
    parts = [
        (name.encode("utf-8"), name, value)
        for name, value in fields.items()
        if name != SIGN_FIELD and value is not None and value != ""
    ]
    parts.sort(key=lambda p: p[0])
    return "&".join(f"{name}={_text(value)}" for _, name, value in parts)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def sign(
    message: str | bytes, private_key: rsa.RSAPrivateKey, algorithm: SignAlgorithm = SignAlgorithm.SHA256_WITH_RSA
) -> str:
    """Sign ``message`` (text is encoded as UTF-8) and return the standard base64 signature."""
    data = message.encode("utf-8") if isinstance(message, str) else message
    signature = private_key.sign(data, padding.PKCS1v15(), SignAlgorithm(algorithm).hash())
    return base64.b64encode(signature).decode("ascii")


def verify(
    message: str | bytes,
    signature_b64: str,
    public_key: rsa.RSAPublicKey,
    algorithm: SignAlgorithm = SignAlgorithm.SHA256_WITH_RSA,
) -> None:
    """Verify a base64 signature over ``message``; raise :class:`SignatureError` if it does not hold."""
    data = message.encode("utf-8") if isinstance(message, str) else message
    if not isinstance(signature_b64, str) or not signature_b64:
        raise SignatureError("signature is missing", code=401)
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("signature is not valid base64", code=401) from exc
    try:
        public_key.verify(signature, data, padding.PKCS1v15(), SignAlgorithm(algorithm).hash())
    except InvalidSignature as exc:
        raise SignatureError("signature does not verify", code=401) from exc


def sign_envelope(
    envelope: Mapping[str, object],
    private_key: rsa.RSAPrivateKey,
    algorithm: SignAlgorithm = SignAlgorithm.SHA256_WITH_RSA,
) -> str:
    """The ``sign`` value for a request or notification envelope."""
    return sign(sign_string(envelope), private_key, algorithm)


def verify_envelope(
    envelope: Mapping[str, object],
    public_key: rsa.RSAPublicKey,
    algorithm: SignAlgorithm = SignAlgorithm.SHA256_WITH_RSA,
) -> None:
    """Verify the ``sign`` field of an envelope against the other fields."""
    signature = envelope.get(SIGN_FIELD)
    verify(sign_string(envelope), signature if isinstance(signature, str) else "", public_key, algorithm)


# --- keys -------------------------------------------------------------------------------------------


def _pem_bytes(data: str | bytes, kind: str) -> bytes:
    """PEM text as bytes; a bare base64 body (as Java consoles hand out keys) gets its armour added."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    text = text.strip()
    if text.startswith("-----BEGIN"):
        return text.encode("ascii")
    body = "".join(text.split())
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN " + kind + "-----\n" + "\n".join(lines) + "\n-----END " + kind + "-----\n").encode()


class PrivateKeyCache:
    """Private keys loaded before, by the SHA-256 of their PEM, at most ``maximum`` of them (oldest out first).

    Loading a key checks its consistency, which costs tens of milliseconds, and every task that opens a client
    loads the same key again; key objects are immutable, so one may be shared. :func:`load_private_key` uses
    the process's one cache (:data:`PRIVATE_KEYS`); a caller that wants keys of its own passes another.
    """

    def __init__(self, maximum: int = 16) -> None:
        if maximum < 1:
            raise ConfigurationError(f"maximum: must be at least 1 (got {maximum})")
        self.maximum = maximum
        self._keys: dict[bytes, rsa.RSAPrivateKey] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"PrivateKeyCache({len(self._keys)} of {self.maximum})"  # never the keys themselves

    def load(self, data: str | bytes) -> rsa.RSAPrivateKey:
        """An RSA private key from PEM (PKCS#1 or PKCS#8) or a bare base64 PKCS#8 body."""
        try:
            pem = _pem_bytes(data, "PRIVATE KEY")
            digest = hashlib.sha256(pem).digest()
            cached = self._keys.get(digest)
            if cached is not None:
                return cached
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError, UnicodeError) as exc:
            raise ConfigurationError("private key is not an unencrypted RSA key in PEM (PKCS#1 or PKCS#8)") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigurationError("private key is not an RSA key")
        if len(self._keys) >= self.maximum:
            self._keys.pop(next(iter(self._keys)), None)
        self._keys[digest] = key
        return key

    def clear(self) -> None:
        self._keys.clear()


#: The process's cache of loaded private keys (what :func:`load_private_key` uses).
PRIVATE_KEYS = PrivateKeyCache()


def load_private_key(data: str | bytes, cache: PrivateKeyCache | None = None) -> rsa.RSAPrivateKey:
    """An RSA private key from PEM (PKCS#1 or PKCS#8) or a bare base64 PKCS#8 body, through ``cache``
    (the process's :data:`PRIVATE_KEYS` by default)."""
    return (PRIVATE_KEYS if cache is None else cache).load(data)


def load_public_key(data: str | bytes) -> rsa.RSAPublicKey:
    """An RSA public key from PEM (SubjectPublicKeyInfo or PKCS#1) or a bare base64 body."""
    try:
        key = serialization.load_pem_public_key(_pem_bytes(data, "PUBLIC KEY"))
    except (ValueError, TypeError, UnicodeError) as exc:
        raise ConfigurationError("public key is not an RSA key in PEM") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise ConfigurationError("public key is not an RSA key")
    return key


def generate_key_pair(bits: int = 2048) -> tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey]:
    """A fresh RSA key pair (2048 bits by default; 1024 still accepted by the platform)."""
    if bits not in (1024, 2048, 3072, 4096):
        raise ConfigurationError(f"bits: must be 1024, 2048, 3072 or 4096 (got {bits})")
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key, key.public_key()


def private_key_to_pem(key: rsa.RSAPrivateKey, *, pkcs1: bool = False) -> str:
    fmt = serialization.PrivateFormat.TraditionalOpenSSL if pkcs1 else serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode("ascii")


def public_key_to_pem(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
