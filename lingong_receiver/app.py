"""The receiver as an ASGI app (FastAPI): ``POST /notify`` for the platform, ``GET /healthz`` for operators.

``POST /notify`` answers ``200`` with the plain text ``success`` for a new or a repeated valid
notification (contract §6), after it is recorded. Otherwise a JSON body ``{"code": <status>, "msg": …}``:

====  ===========================================================================================
400   the body is not a JSON object, a field is missing or ill-formed, or bizModel is not JSON text
401   the signature does not verify with the platform public key
403   the notification is for another merchant
408   the timestamp is more than the tolerance (300 s) from our clock
413   the body is larger than 1 MiB
====  ===========================================================================================

Malformed input never causes a 500; a 500 means the notification could not be recorded (the platform
delivers it again later). Run with ``lingong notify serve``, or ``uvicorn --factory
lingong_receiver.app:create_app_from_env``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from lingong_core.verify import MAX_BODY_BYTES, NotificationRejected

from .service import Receiver

__all__ = ["create_app", "create_app_from_env"]

log = logging.getLogger(__name__)

ACK = "success"


def _refusal(exc: NotificationRejected) -> JSONResponse:
    return JSONResponse({"code": exc.status, "msg": exc.message}, status_code=exc.status)


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise NotificationRejected(413, f"body is larger than {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise NotificationRejected(413, f"body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(receiver: Receiver, *, flush_on_startup: bool = True) -> FastAPI:
    """The ASGI app around ``receiver``. At start-up it emits the events still pending from earlier runs."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if flush_on_startup:
            try:
                await run_in_threadpool(receiver.flush_pending)
            except Exception:  # the receiver must start even if the store or Prefect misbehaves
                log.exception("retrying pending notification events at start-up failed")
        yield

    app = FastAPI(title="lingong notification receiver", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.receiver = receiver

    @app.post("/notify")
    async def notify(request: Request) -> Response:
        try:
            body = await _read_body(request)
            await run_in_threadpool(receiver.handle, body)
        except NotificationRejected as exc:
            return _refusal(exc)
        return PlainTextResponse(ACK)

    @app.get("/healthz")
    async def healthz() -> dict[str, object]:
        counts = await run_in_threadpool(receiver.store.counts)
        return {"status": "ok", "merchantNo": receiver.merchant_no, **counts}

    return app


def create_app_from_env() -> FastAPI:
    """The app configured from ``LINGONG_*`` (for ``uvicorn --factory``)."""
    from .settings import build_receiver

    return create_app(build_receiver())
