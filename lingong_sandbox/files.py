"""``GET /files/<kind>/<number>.pdf``: the documents the platform's answers link to — electronic receipts
(SFT0506 ``receiptUrl``) and tax payment certificates (SFT1001 ``fileUrl``), rendered by
``engine.documents``. A number the platform has no document for answers 404; a malformed path, 404 too.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Response

from lingong_core.timeutil import now, to_shanghai

from .sandbox import Sandbox

_NUMBER = re.compile(r"^[A-Za-z0-9]{1,64}\.pdf$")


def files_router(sandbox: Sandbox) -> APIRouter:
    router = APIRouter(prefix="/files", tags=["documents"])

    @router.get("/{kind}/{name}")
    def document(kind: str, name: str) -> Response:
        render = getattr(sandbox.engine, "document", None)
        if render is None or not _NUMBER.match(name):
            return Response("no such document", status_code=404, media_type="text/plain")
        with sandbox.db.read() as conn:
            pdf = render(conn, kind, name[: -len(".pdf")], current_month=f"{to_shanghai(now()):%Y-%m}")
        if pdf is None:
            return Response("no such document", status_code=404, media_type="text/plain")
        return Response(
            pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'}
        )

    return router
