"""The request envelope (contract §1) and the reading of answers (contract §3).

:class:`RequestBuilder` is shared by the sync and async clients: it serialises ``bizModel`` once,
keeps the ``requestNo`` fixed across attempts, and stamps and signs each attempt afresh. The
function :func:`read_answer` turns an HTTP answer into the flat response fields or one error.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import BaseModel

from . import jsoncodec
from .errors import ApiError, InputError, ServerError, error_from_response
from .signing import SignAlgorithm, sign_envelope
from .timeutil import Clock, format_timestamp, now

VERSION = "2.0"
GATEWAY_PATH = "/open/api/gateway.do"
MAX_REQUEST_NO = 64


def new_request_no() -> str:
    """A fresh requestNo (a UUID4, 36 characters)."""
    return str(uuid.uuid4())


def biz_model_text(biz: Mapping[str, Any] | BaseModel | str) -> str:
    """The ``bizModel`` JSON text: compact, UTF-8, None fields left out, amounts as numbers."""
    if isinstance(biz, str):
        return biz
    if isinstance(biz, BaseModel):
        data = biz.model_dump(mode="python", by_alias=True, exclude_none=True)
    else:
        data = {k: v for k, v in biz.items() if v is not None}
    return jsoncodec.dumps(data)


@dataclass(frozen=True, slots=True)
class PreparedCall:
    """One logical call: its apiCode, fixed requestNo and the exact bizModel text."""

    api_code: str
    request_no: str
    biz_model: str
    writes: bool


@dataclass(slots=True)
class RequestBuilder:
    merchant_no: str
    private_key: rsa.RSAPrivateKey = field(repr=False)
    algorithm: SignAlgorithm = SignAlgorithm.SHA256_WITH_RSA
    clock: Clock = now

    def prepare(
        self, api_code: str, biz: Mapping[str, Any] | BaseModel | str, *, request_no: str | None, writes: bool
    ) -> PreparedCall:
        if not api_code or not isinstance(api_code, str):
            raise InputError("apiCode", "must be a non-empty string", repr(api_code))
        request_no = request_no or new_request_no()
        if len(request_no) > MAX_REQUEST_NO:
            raise InputError("requestNo", f"must be at most {MAX_REQUEST_NO} characters", request_no[:20] + "…")
        return PreparedCall(api_code, request_no, biz_model_text(biz), writes)

    def envelope(self, call: PreparedCall) -> dict[str, str]:
        """The signed envelope for one attempt: a new timestamp and signature, the same requestNo."""
        env = {
            "apiCode": call.api_code,
            "merchantNo": self.merchant_no,
            "requestNo": call.request_no,
            "timestamp": format_timestamp(self.clock()),
            "version": VERSION,
            "bizModel": call.biz_model,
        }
        env["sign"] = sign_envelope(env, self.private_key, self.algorithm)
        return env

    def body(self, call: PreparedCall) -> bytes:
        return jsoncodec.dumps(self.envelope(call)).encode("utf-8")


def read_answer(call: PreparedCall, status: int, content: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    """The flat response fields of a success, or raise the one error the answer means."""
    try:
        body = jsoncodec.loads(content) if content else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict) or not _is_int(body.get("code")):
        if status == 429 or status == 408 or status == 401:
            raise error_from_response(
                {"code": status, "msg": f"HTTP {status}"},
                api_code=call.api_code,
                request_no=call.request_no,
                retry_after=_retry_after(headers),
            )
        raise ServerError(
            f"HTTP {status}: the answer is not the platform's JSON",
            code=status if status >= 500 else None,
            api_code=call.api_code,
            request_no=call.request_no,
        )
    if body["code"] == 200:
        return body
    error: ApiError = error_from_response(
        body, api_code=call.api_code, request_no=call.request_no, retry_after=_retry_after(headers)
    )
    raise error


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after") or headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
