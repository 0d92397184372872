"""The merchant's credentials as a Prefect Block (the key is a secret), or from ``LINGONG_*`` variables.

>>> from tasks.credentials import LingongCredentials                       # doctest: +SKIP
>>> LingongCredentials(base_url="https://…", merchant_no="1088…",
...                    private_key=open("merchant_private.pem").read()).save("lingong-prod")
>>> payroll_run(payroll, credentials_block="lingong-prod")                  # doctest: +SKIP
"""

from __future__ import annotations

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from lingong_core.config import LingongSettings
from lingong_core.signing import SignAlgorithm


class LingongCredentials(Block):
    """Where the 灵工 gateway is and how to sign for the merchant."""

    _block_type_name = "Lingong Credentials"
    _block_type_slug = "lingong-credentials"
    _description = "Merchant number, gateway URL and signing keys for the 灵工 SaaS OpenAPI 2.0."

    base_url: str = Field(description="The gateway's base URL (without /open/api/gateway.do)")
    merchant_no: str = Field(description="The merchant number (商户号)")
    private_key: SecretStr = Field(description="The merchant's RSA private key, PEM")
    platform_public_key: str | None = Field(default=None, description="The platform's RSA public key, PEM")
    sign_algorithm: SignAlgorithm = Field(default=SignAlgorithm.SHA256_WITH_RSA)
    timeout: float = Field(default=30.0, description="Seconds per request")

    def settings(self) -> LingongSettings:
        return LingongSettings(
            base_url=self.base_url,
            merchant_no=self.merchant_no,
            private_key=self.private_key,
            platform_public_key=self.platform_public_key,
            sign_algorithm=self.sign_algorithm,
            timeout=self.timeout,
        )


def load_settings(credentials_block: str | None = None) -> LingongSettings:
    """The named credentials Block's settings, or the ``LINGONG_*`` environment's when no name is given."""
    if credentials_block:
        # Synchronously even when called from a flow or task coroutine: there, a bare ``load`` would
        # dispatch to ``aload`` and hand back an un-awaited coroutine instead of the Block.
        block = LingongCredentials.load(credentials_block, _sync=True)  # type: ignore[call-arg]
        assert isinstance(block, LingongCredentials)
        return block.settings()
    return LingongSettings()
