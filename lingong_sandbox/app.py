"""The sandbox as an ASGI application: the gateway, the admin endpoints, and the background they need.

``create_app(settings, platform_private_key, db_path=…)`` builds a :class:`~lingong_sandbox.sandbox.Sandbox`
(database, engine, faults, notifier, gateway, background threads) and the ASGI callable serving it:

- ``POST /open/api/gateway.do`` is answered by a raw ASGI handler (no framework validation in the
  way, so every input gets the contract's JSON answer, and the ``reset_after`` fault can drop the
  connection without any response);
- everything else goes to a FastAPI app with the admin endpoints under ``/sandbox/admin/``
  (for tests and benchmarks only; see ``admin.py``) and the documents SFT0506/SFT1001 link to
  under ``/files/`` (``files.py``).

The background threads start with the ASGI lifespan (uvicorn runs it) and stop with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from lingong_core.envelope import GATEWAY_PATH

from .admin import admin_router
from .faults import FaultSpec
from .files import files_router
from .gateway import MAX_BODY, Answer, json_answer
from .sandbox import EngineFactory, Sandbox
from .settings import SandboxSettings

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class SandboxApp:
    """The ASGI callable: the gateway path raw, everything else through FastAPI."""

    def __init__(self, sandbox: Sandbox, api: FastAPI) -> None:
        self.sandbox = sandbox
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == GATEWAY_PATH:
            await self._gateway(scope, receive, send)
        else:
            await self.api(scope, receive, send)

    async def _gateway(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await _send(send, json_answer(400, "method: the gateway takes POST only", 405))
            return
        body = await _read_body(receive)
        answer = await anyio.to_thread.run_sync(self.sandbox.gateway.process, body)
        if answer.reset:
            await _drop_connection(send)
        else:
            await _send(send, answer)


async def _read_body(receive: Receive) -> bytes:
    """The request body; past the limit, its first ``MAX_BODY + 1`` bytes (the rest is read and discarded)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        if size <= MAX_BODY:
            chunks.append(chunk[: MAX_BODY + 1 - size])
        size += len(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _send(send: Send, answer: Answer) -> None:
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(answer.body)).encode()),
        *answer.headers,
    ]
    await send({"type": "http.response.start", "status": answer.http_status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body, "more_body": False})


async def _drop_connection(send: Send) -> None:
    """Close the connection without sending any response (the ``reset_after`` fault).

    Under uvicorn the ``send`` callable belongs to the request cycle, which holds the transport: abort
    it, then let the server notice the connection is gone so that it sends nothing either. Elsewhere,
    raise: a server then closes or answers 500, which a client treats the same way (outcome unknown).
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        raise ConnectionAbortedError("sandbox fault: connection reset after the write committed")
    transport.abort()
    for _ in range(5):
        await asyncio.sleep(0)


def create_app(
    settings: SandboxSettings,
    platform_private_key: rsa.RSAPrivateKey,
    *,
    db_path: str | Path = ":memory:",
    faults: FaultSpec | str | None = None,
    engine_factory: EngineFactory | None = None,
) -> SandboxApp:
    """The sandbox's ASGI app. Serve it with uvicorn (see ``server.py``); its lifespan runs the background."""
    sandbox = Sandbox(settings, platform_private_key, db_path=db_path, faults=faults, engine_factory=engine_factory)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        sandbox.start()
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(sandbox.close)

    api = FastAPI(
        title="灵工 sandbox platform",
        description="A simulated 灵工 SaaS OpenAPI 2.0 gateway. `/sandbox/admin/*` is for tests and benchmarks.",
        lifespan=lifespan,
        docs_url="/sandbox/docs",
        openapi_url="/sandbox/openapi.json",
        redoc_url=None,
    )
    api.include_router(admin_router(sandbox))
    api.include_router(files_router(sandbox))
    return SandboxApp(sandbox, api)
