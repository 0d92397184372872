"""The merchant's credentials as a Prefect Block (the key is a secret), or from ``LINGONG_*`` variables.

The Block type is registered on the server by ``lingong stack up``, ``lingong blocks register`` or
``prefect block register -m tasks.credentials``; then the UI's Blocks catalog offers "Lingong
Credentials" (Blocks → + → Lingong Credentials: paste the gateway URL, the merchant number and the PEM
key), and ``lingong blocks save NAME`` saves one from the ``LINGONG_*`` variables. In code:

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
    _description = (
        "Merchant number, gateway URL and signing keys for the 灵工 SaaS OpenAPI 2.0. Flows take one as "
        "their credentials parameter; leave it empty to use the worker's LINGONG_* variables."
    )

    base_url: str = Field(
        title="Gateway URL",
        description="The gateway's base URL (without /open/api/gateway.do)",
        examples=["https://open.example.com"],
        pattern=r"^https?://\S+$",
    )
    merchant_no: str = Field(
        title="Merchant number", description="The merchant number (商户号)", examples=["1088202103120003"]
    )
    private_key: SecretStr = Field(
        title="Merchant private key", description="The merchant's RSA private key, PEM (-----BEGIN PRIVATE KEY-----…)"
    )
    platform_public_key: str | None = Field(
        default=None, title="Platform public key", description="The platform's RSA public key, PEM"
    )
    sign_algorithm: SignAlgorithm = Field(default=SignAlgorithm.SHA256_WITH_RSA, title="Signature algorithm")
    timeout: float = Field(default=30.0, gt=0, title="Timeout", description="Seconds per request")

    @classmethod
    def from_settings(cls, settings: LingongSettings) -> LingongCredentials:
        """The Block holding what ``LINGONG_*`` configures (the key read from its file if given so)."""
        return cls(
            base_url=settings.base_url,
            merchant_no=settings.merchant_no,
            private_key=SecretStr(settings.private_key_pem()),
            platform_public_key=settings.platform_public_key_pem(),
            sign_algorithm=settings.sign_algorithm,
            timeout=settings.timeout,
        )

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


#: A flow's ``credentials_block`` parameter: the UI offers a picker of saved LingongCredentials Blocks; code
#: and older deployments may still pass a Block's name. Empty: the worker's ``LINGONG_*`` variables.
CredentialsParameter = LingongCredentials | str | None


def credentials_name(value: LingongCredentials | str | None) -> str | None:
    """The saved Block's name, whichever form the flow was given it in (tasks take the name)."""
    if value is None or isinstance(value, str):
        return value or None
    name = getattr(value, "_block_document_name", None)
    if not name or getattr(value, "_is_anonymous", False):
        raise ValueError(
            "credentials_block: save the LingongCredentials Block under a name first (lingong blocks save NAME)"
        )
    return str(name)
