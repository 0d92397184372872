"""Errors raised by the core, and the one function that maps a platform answer to them.

::

    LingongError
    ├── ConfigurationError        missing or unreadable configuration (keys, base URL)
    ├── InputError                a value refused before anything was signed or sent
    ├── NotOfferedError           the platform lists the operation as 待开发 (not yet offered)
    ├── SignatureError            a signature did not verify (locally, or the platform's 401)
    ├── TransportError            the request or its response was lost on the way
    ├── OutcomeUnknownError       a write may or may not have happened: reconcile before resubmitting
    └── ApiError                  the platform answered with a code other than 200
        ├── InvalidRequestError   400  a field is missing or ill-formed
        ├── ForbiddenError        403  merchant unknown or disabled, apiCode not opened
        ├── NotFoundError         404  no such apiCode or record
        ├── TimestampError        408  timestamp outside the ±5 minute window
        ├── ConflictError         409  requestNo or business key already used (carries the existing number)
        ├── RateLimitedError      429
        ├── ServerError           500, 503, or an answer that is not the platform's JSON
        └── BusinessError         4000–4999, a business refusal (carries the code)

``SignatureError`` is also an ``ApiError`` when the platform answers 401.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class LingongError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigurationError(LingongError):
    """Configuration is missing or cannot be used (for example an unreadable key)."""


class InputError(LingongError, ValueError):
    """A value was refused before anything was signed or sent. ``field`` and ``rule`` say why."""

    def __init__(self, field: str, rule: str, value: str | None = None) -> None:
        self.field = field
        self.rule = rule
        self.value = value
        shown = f" (got {value})" if value is not None else ""
        super().__init__(f"{field}: {rule}{shown}")


class NotOfferedError(LingongError):
    """The platform's menu marks this operation 待开发: it is not offered yet, so nothing is sent."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"{name} is not yet offered by the platform (marked 待开发); nothing was sent")


class ApiError(LingongError):
    """The platform answered, with a code other than 200."""

    def __init__(
        self,
        msg: str,
        *,
        code: int | None = None,
        api_code: str | None = None,
        request_no: str | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        self.msg = msg
        self.code = code
        self.api_code = api_code
        self.request_no = request_no
        self.body: dict[str, Any] = dict(body or {})
        where = " ".join(p for p in (api_code, f"requestNo={request_no}" if request_no else None) if p)
        prefix = f"[{code}] " if code is not None else ""
        super().__init__(f"{prefix}{msg}" + (f" ({where})" if where else ""))


class SignatureError(ApiError):
    """A signature did not verify: raised by :func:`lingong_core.signing.verify`, and for the platform's 401."""


class InvalidRequestError(ApiError):
    """400: a field is missing or ill-formed; ``msg`` names the field."""


class ForbiddenError(ApiError):
    """403: the merchant is unknown or disabled, or the apiCode is not opened for it."""


class NotFoundError(ApiError):
    """404: no such apiCode, or no such record."""


class TimestampError(ApiError):
    """408: the timestamp was outside the platform's ±5 minute window."""


class ConflictError(ApiError):
    """409: the requestNo or business key was already used. ``existing_no`` is the platform's number."""

    @property
    def existing_no(self) -> str | None:
        for key in (
            "orderNo",
            "batchNo",
            "contractNo",
            "applyNo",
            "withdrawNo",
            "confirmNo",
            "projectNo",
            "campaignNo",
            "bindNo",
            "freelancerNo",
        ):
            value = self.body.get(key)
            if value:
                return str(value)
        return None


class RateLimitedError(ApiError):
    """429: too many requests; retry after a pause. ``retry_after`` is in seconds when the platform said."""

    def __init__(self, msg: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(msg, **kwargs)
        self.retry_after = retry_after


class ServerError(ApiError):
    """500/503, or an answer that is not the platform's JSON: the outcome of a write is unknown."""


class BusinessError(ApiError):
    """4000–4999: the platform refused the request on business grounds; ``code`` says which."""


class TransportError(LingongError):
    """The request or its answer was lost.

    ``may_have_been_received`` is False only when the connection was never made (nothing was sent);
    then repeating the request is always safe.
    """

    def __init__(
        self,
        msg: str,
        *,
        may_have_been_received: bool,
        api_code: str | None = None,
        request_no: str | None = None,
    ) -> None:
        self.may_have_been_received = may_have_been_received
        self.api_code = api_code
        self.request_no = request_no
        super().__init__(msg)


class OutcomeUnknownError(LingongError):
    """A write's answer never arrived intact (timeout, reset, 500/503): it may or may not have happened.

    The caller queries by its business key and resubmits, with the same key, only if the platform has
    no record (contract §5). ``__cause__`` holds the underlying error.
    """

    def __init__(self, msg: str, *, api_code: str, request_no: str) -> None:
        self.api_code = api_code
        self.request_no = request_no
        super().__init__(f"{msg} ({api_code} requestNo={request_no}): outcome unknown, reconcile before resubmitting")


_BY_CODE: dict[int, type[ApiError]] = {
    400: InvalidRequestError,
    401: SignatureError,
    403: ForbiddenError,
    404: NotFoundError,
    408: TimestampError,
    409: ConflictError,
    429: RateLimitedError,
    500: ServerError,
    503: ServerError,
}


def error_class_for(code: int) -> type[ApiError]:
    """The error class for a platform response code other than 200."""
    if code in _BY_CODE:
        return _BY_CODE[code]
    if 4000 <= code <= 4999:
        return BusinessError
    if 500 <= code <= 599:
        return ServerError
    return ApiError


def error_from_response(
    body: Mapping[str, Any],
    *,
    api_code: str | None = None,
    request_no: str | None = None,
    retry_after: float | None = None,
) -> ApiError:
    """Map a platform answer whose ``code`` is not 200 to one error (contract §3)."""
    raw_code = body.get("code")
    code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
    msg = str(body.get("msg") or "platform error")
    cls = error_class_for(code) if code is not None else ServerError
    if cls is RateLimitedError:
        return RateLimitedError(
            msg, retry_after=retry_after, code=code, api_code=api_code, request_no=request_no, body=body
        )
    return cls(msg, code=code, api_code=api_code, request_no=request_no, body=body)
