"""``LingongClient`` and ``AsyncLingongClient``: signed calls to the gateway over httpx.

Both share :class:`~lingong_core.envelope.RequestBuilder` (envelope, requestNo, signature) and
:func:`~lingong_core.envelope.read_answer` (answer → fields or error); each only sends. The retry
rules live in :mod:`lingong_core.retry`.

>>> client = LingongClient(base_url, merchant_no, private_key_pem)          # doctest: +SKIP
>>> client.call("SFT0303", {"taxBaseCode": "2000064001"})["balance"]        # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Protocol, Self

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import BaseModel

from .envelope import GATEWAY_PATH, PreparedCall, RequestBuilder, read_answer
from .errors import OutcomeUnknownError, ServerError, TransportError
from .masking import mask_mapping
from .operations import is_write
from .retry import RetryPolicy
from .services import ServiceGroups
from .signing import SignAlgorithm, load_private_key, load_public_key
from .timeutil import Clock, now
from .verify import NotificationVerifier

log = logging.getLogger("lingong_core.client")

KeyInput = rsa.RSAPrivateKey | str | bytes
PublicKeyInput = rsa.RSAPublicKey | str | bytes
BizInput = Mapping[str, Any] | BaseModel | str


class Limiter(Protocol):
    """Paces a :class:`LingongClient`: ``acquire`` returns when one more attempt may be sent.

    It is called before every attempt, retries included, so that a rate shared by many processes counts
    what the platform actually receives. What it raises escapes ``call`` unchanged (nothing was sent).
    """

    def acquire(self, api_code: str) -> None: ...


class AsyncLimiter(Protocol):
    """The same for :class:`AsyncLingongClient`: ``await acquire(api_code)`` before every attempt."""

    async def acquire(self, api_code: str) -> None: ...


_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
# Errors where no byte of the request can have reached the platform.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def _private(key: KeyInput) -> rsa.RSAPrivateKey:
    return key if isinstance(key, rsa.RSAPrivateKey) else load_private_key(key)


def _public(key: PublicKeyInput | None) -> rsa.RSAPublicKey | None:
    if key is None or isinstance(key, rsa.RSAPublicKey):
        return key
    return load_public_key(key)


def _lost(exc: httpx.TransportError, call: PreparedCall) -> Exception:
    """The error for a request whose answer never arrived."""
    if isinstance(exc, _NEVER_SENT):
        return TransportError(
            f"could not connect: {exc!r}",
            may_have_been_received=False,
            api_code=call.api_code,
            request_no=call.request_no,
        )
    if call.writes:
        return OutcomeUnknownError(
            f"no answer: {type(exc).__name__}", api_code=call.api_code, request_no=call.request_no
        )
    return TransportError(
        f"no answer: {exc!r}", may_have_been_received=True, api_code=call.api_code, request_no=call.request_no
    )


class SSLContexts:
    """httpx's default verifying context, built once per CA setting rather than once per client.

    Building one reads the whole CA bundle (tens of milliseconds), and a flow opens a client per task, so the
    clients share the process's :data:`SSL_CONTEXTS` unless given another. The key follows httpx's own choice:
    ``SSL_CERT_FILE``, else ``SSL_CERT_DIR``, else certifi's bundle.
    """

    def __init__(self) -> None:
        self._contexts: dict[tuple[str | None, str | None], ssl.SSLContext] = {}

    def __len__(self) -> int:
        return len(self._contexts)

    def get(self) -> ssl.SSLContext:
        """The context for the CA setting the environment names now."""
        key = (os.environ.get("SSL_CERT_FILE") or None, os.environ.get("SSL_CERT_DIR") or None)
        context = self._contexts.get(key)
        if context is None:
            context = self._contexts[key] = httpx.create_ssl_context()
        return context


#: The process's verifying contexts, shared by every client that is not given its own.
SSL_CONTEXTS = SSLContexts()


def _gateway_url(http: httpx.Client | httpx.AsyncClient) -> httpx.URL:
    """The gateway's URL merged with the client's base URL once, as httpx would merge it on every request.

    Posting to an ``httpx.URL`` that is already absolute skips httpx's per-request parse and merge of the
    relative path (about a tenth of a call's cost outside the RSA signature).
    """
    base = http.base_url
    return base.copy_with(raw_path=base.raw_path + GATEWAY_PATH.lstrip("/").encode("ascii"))


def _answer(call: PreparedCall, response: httpx.Response) -> dict[str, Any]:
    try:
        fields = read_answer(call, response.status_code, response.content, response.headers)
    except ServerError as exc:
        if call.writes:
            raise OutcomeUnknownError(
                f"platform answered {exc.code or 'garbled'}", api_code=call.api_code, request_no=call.request_no
            ) from exc
        raise
    if log.isEnabledFor(logging.DEBUG):
        log.debug("← %s requestNo=%s code=200 %s", call.api_code, call.request_no, mask_mapping(fields))
    return fields


class _Base:
    def __init__(
        self,
        base_url: str,
        merchant_no: str,
        private_key: KeyInput,
        platform_public_key: PublicKeyInput | None = None,
        *,
        sign_algorithm: SignAlgorithm | str = SignAlgorithm.SHA256_WITH_RSA,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        clock: Clock = now,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.merchant_no = merchant_no
        self.sign_algorithm = SignAlgorithm(sign_algorithm)
        self.platform_public_key = _public(platform_public_key)
        key = self.platform_public_key
        self._verifier = None if key is None else NotificationVerifier(key, self.sign_algorithm)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._builder = RequestBuilder(merchant_no, _private(private_key), self.sign_algorithm, clock)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, merchant_no={self.merchant_no!r})"

    def prepare(
        self, api_code: str, biz: BizInput, *, request_no: str | None = None, writes: bool | None = None
    ) -> PreparedCall:
        call = self._builder.prepare(
            api_code, biz, request_no=request_no, writes=is_write(api_code) if writes is None else writes
        )
        if log.isEnabledFor(logging.DEBUG):
            from . import jsoncodec

            log.debug(
                "→ %s requestNo=%s %s", call.api_code, call.request_no, mask_mapping(jsoncodec.loads(call.biz_model))
            )
        return call

    def verify_notification(self, envelope: Mapping[str, Any]) -> None:
        """Verify a notification's signature with the platform public key (contract §6), by the one verifier
        (:class:`~lingong_core.verify.NotificationVerifier`) the receiver checks deliveries with."""
        if self._verifier is None:
            from .errors import ConfigurationError

            raise ConfigurationError("the platform public key is needed to verify notifications")
        self._verifier.authenticate(envelope)


class LingongClient(_Base, ServiceGroups["LingongClient"]):
    """Synchronous client. ``transport`` takes any httpx transport (tests use ``httpx.MockTransport``).

    Typed service methods hang off it per menu group: ``client.recharge.sync(...)`` (see :mod:`.services`).
    ``limiter`` (a :class:`Limiter`) is asked before every attempt, retries included; none by default.
    ``ssl_contexts`` (an :class:`SSLContexts`) gives the verifying context; the process's :data:`SSL_CONTEXTS` if none.
    """

    def __init__(
        self,
        base_url: str,
        merchant_no: str,
        private_key: KeyInput,
        platform_public_key: PublicKeyInput | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        limiter: Limiter | None = None,
        ssl_contexts: SSLContexts | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url, merchant_no, private_key, platform_public_key, **kwargs)
        self.limiter = limiter
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=self.timeout,
            transport=transport,
            headers=_HEADERS,
            verify=(SSL_CONTEXTS if ssl_contexts is None else ssl_contexts).get() if transport is None else True,
        )
        self._gateway_url = _gateway_url(self._http)
        self._attach_services(self)

    def call(
        self, api_code: str, biz: BizInput, *, request_no: str | None = None, writes: bool | None = None
    ) -> dict[str, Any]:
        """Send one signed call and return the answer's flat fields (``code``, ``msg`` and the rest)."""
        prepared = self.prepare(api_code, biz, request_no=request_no, writes=writes)
        for attempt in self.retry.retrying():
            if self.limiter is not None:
                self.limiter.acquire(api_code)
            with attempt:
                return self._send(prepared)
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    def _send(self, call: PreparedCall) -> dict[str, Any]:
        try:
            response = self._http.post(self._gateway_url, content=self._builder.body(call))
        except httpx.TransportError as exc:
            raise _lost(exc, call) from exc
        return _answer(call, response)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncLingongClient(_Base, ServiceGroups["AsyncLingongClient"]):
    """Asynchronous client with the same rules and service groups as :class:`LingongClient` (awaitable).

    ``limiter`` (an :class:`AsyncLimiter`) is awaited before every attempt, retries included.
    """

    def __init__(
        self,
        base_url: str,
        merchant_no: str,
        private_key: KeyInput,
        platform_public_key: PublicKeyInput | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 100,
        limiter: AsyncLimiter | None = None,
        ssl_contexts: SSLContexts | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url, merchant_no, private_key, platform_public_key, **kwargs)
        self.limiter = limiter
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=self.timeout,
            transport=transport,
            headers=_HEADERS,
            verify=(SSL_CONTEXTS if ssl_contexts is None else ssl_contexts).get() if transport is None else True,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )
        self._gateway_url = _gateway_url(self._http)
        self._attach_services(self)

    async def call(
        self, api_code: str, biz: BizInput, *, request_no: str | None = None, writes: bool | None = None
    ) -> dict[str, Any]:
        """Send one signed call and return the answer's flat fields."""
        prepared = self.prepare(api_code, biz, request_no=request_no, writes=writes)
        async for attempt in self.retry.async_retrying():
            if self.limiter is not None:
                await self.limiter.acquire(api_code)
            with attempt:
                return await self._send(prepared)
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    async def _send(self, call: PreparedCall) -> dict[str, Any]:
        try:
            response = await self._http.post(self._gateway_url, content=self._builder.body(call))
        except httpx.TransportError as exc:
            raise _lost(exc, call) from exc
        return _answer(call, response)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
