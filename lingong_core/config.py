"""Configuration from the environment: ``LINGONG_*`` variables.

=================================  ====================================================
``LINGONG_BASE_URL``               the gateway's base URL (without ``/open/api/gateway.do``)
``LINGONG_MERCHANT_NO``            the merchant number
``LINGONG_PRIVATE_KEY_FILE``       the merchant's private key, a PEM file …
``LINGONG_PRIVATE_KEY``            … or the PEM itself
``LINGONG_PLATFORM_PUBLIC_KEY_FILE``  the platform's public key, a PEM file …
``LINGONG_PLATFORM_PUBLIC_KEY``    … or the PEM itself
``LINGONG_SIGN_ALGORITHM``         ``SHA256withRSA`` (default) or ``SHA1withRSA``
``LINGONG_TIMEOUT``                seconds per request (default 30)
=================================  ====================================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .client import AsyncLingongClient, LingongClient
from .errors import ConfigurationError
from .signing import SignAlgorithm


class LingongSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LINGONG_", extra="ignore")

    base_url: str = ""
    merchant_no: str = ""
    private_key: SecretStr | None = None
    private_key_file: Path | None = None
    platform_public_key: str | None = None
    platform_public_key_file: Path | None = None
    sign_algorithm: SignAlgorithm = SignAlgorithm.SHA256_WITH_RSA
    timeout: float = 30.0

    @field_validator("base_url")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.rstrip("/")

    def private_key_pem(self) -> str:
        if self.private_key is not None and self.private_key.get_secret_value().strip():
            return self.private_key.get_secret_value()
        if self.private_key_file is not None:
            return _read(self.private_key_file, "LINGONG_PRIVATE_KEY_FILE")
        raise ConfigurationError("set LINGONG_PRIVATE_KEY_FILE (a PEM file) or LINGONG_PRIVATE_KEY (the PEM)")

    def platform_public_key_pem(self) -> str | None:
        if self.platform_public_key and self.platform_public_key.strip():
            return self.platform_public_key
        if self.platform_public_key_file is not None:
            return _read(self.platform_public_key_file, "LINGONG_PLATFORM_PUBLIC_KEY_FILE")
        return None

    def _check(self) -> None:
        if not self.base_url:
            raise ConfigurationError("set LINGONG_BASE_URL, the gateway's base URL")
        if not self.merchant_no:
            raise ConfigurationError("set LINGONG_MERCHANT_NO, the merchant number")

    def client(self, **kwargs: Any) -> LingongClient:
        """A synchronous client with these settings; ``kwargs`` go to :class:`LingongClient`."""
        return LingongClient(*self._args(), **self._kwargs(kwargs))

    def async_client(self, **kwargs: Any) -> AsyncLingongClient:
        """An asynchronous client with these settings; ``kwargs`` go to :class:`AsyncLingongClient`."""
        return AsyncLingongClient(*self._args(), **self._kwargs(kwargs))

    def _args(self) -> tuple[str, str, str, str | None]:
        self._check()
        return self.base_url, self.merchant_no, self.private_key_pem(), self.platform_public_key_pem()

    def _kwargs(self, extra: dict[str, Any]) -> dict[str, Any]:
        return {"sign_algorithm": self.sign_algorithm, "timeout": self.timeout, **extra}


def _read(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"{name}: cannot read {path}: {exc.strerror}") from exc
