"""``/sandbox/admin/*``: what tests, the chaos suite and the benchmarks ask of the sandbox.

These endpoints are **for testing only**: they are unauthenticated and exist only on the sandbox's own
app, which binds to loopback unless told otherwise. They are not part of the platform's contract.

| method | path | what |
|---|---|---|
| GET | ``audit`` | the engine's audit: per business key how many times it was paid, the ledger's totals |
| GET | ``faults`` | the fault spec, seed and the count of every fault injected so far |
| PUT | ``faults`` | ``{"spec": "error_after=0.1,…", "seed": 7?, "resetCounts": false?}`` |
| POST | ``script-outcome`` | to the engine's ``script_outcome`` (keys camelCase or snake_case), e.g. |
|      |                    | ``{"bankCardNo": "6222…", "outcome": "FAIL", "times": 1}``               |
| GET | ``notifications`` | every notification and each delivery attempt (``?notifyType=&status=``) |
| GET | ``requests`` | the request log (``?sinceId=&limit=&apiCode=``): time, apiCode, merchantNo, requestNo, code |
| GET | ``settings`` | the settings that can be changed at run time |
| PUT | ``settings`` | any of ``notifyUrl``, ``timeScale``, ``merchantEnabled``, ``signAlgorithm``, |
|     |                | ``luhnStrict``, ``delays`` {name: s}, ``outcomes`` {name: rate}               |
| POST | ``run-due`` | one background pass now (the engine's due transitions) |
| GET | ``health`` | ``{"status": "ok"}`` |

Answers are JSON written with ``lingong_core.jsoncodec`` (amounts as exact numbers). A bad request
answers HTTP 400 with ``{"code": 400, "msg": …}``.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import fields
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response

from lingong_core import jsoncodec
from lingong_core.signing import SignAlgorithm

from . import replay
from .faults import FaultSpecError
from .interface import PlatformError
from .sandbox import Sandbox
from .settings import Delays, Outcomes, SandboxSettings

PREFIX = "/sandbox/admin"


def _json(data: Any, status: int = 200) -> Response:
    return Response(jsoncodec.dumps(data), status_code=status, media_type="application/json")


def _bad(msg: str) -> Response:
    return _json({"code": 400, "msg": msg}, 400)


class _BadRequest(Exception):
    pass


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = jsoncodec.loads(raw) if raw.strip() else {}
    except (ValueError, RecursionError):
        raise _BadRequest("body: not JSON") from None
    if not isinstance(data, dict):
        raise _BadRequest("body: must be a JSON object")
    return data


def settings_view(settings: SandboxSettings) -> dict[str, Any]:
    m = settings.merchant
    return {
        "merchantNo": m.merchant_no,
        "merchantEnabled": m.enabled,
        "signAlgorithm": str(m.sign_algorithm),
        "notifyUrl": m.notify_url,
        "luhnStrict": m.luhn_strict,
        "timeScale": _number(settings.time_scale),
        "seed": settings.seed,
        "timestampWindowSeconds": settings.timestamp_window_seconds,
        "requestNoTtlSeconds": settings.request_no_ttl_seconds,
        "delays": {f.name: _number(getattr(settings.delays, f.name)) for f in fields(Delays)},
        "outcomes": {f.name: _number(getattr(settings.outcomes, f.name)) for f in fields(Outcomes)},
    }


def _snake(name: str) -> str:
    """``bankCardNo`` → ``bank_card_no`` (the admin body may use either spelling)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _number(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _float(name: str, value: Any, *, low: float = 0.0, high: float | None = None, strict_low: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise _BadRequest(f"{name}: must be a number")
    number = float(value)
    if number < low or (strict_low and number == low) or (high is not None and number > high):
        bound = f"> {low:g}" if strict_low else f">= {low:g}"
        raise _BadRequest(f"{name}: must be {bound}" + (f" and <= {high:g}" if high is not None else ""))
    return number


def apply_settings(settings: SandboxSettings, data: dict[str, Any]) -> None:
    """Change the run-time settings from an admin request (validated first, then applied all at once)."""
    changes: list[tuple[object, str, Any]] = []
    m = settings.merchant
    for key, value in data.items():
        if key == "notifyUrl":
            if value is not None and (not isinstance(value, str) or not value.startswith(("http://", "https://"))):
                raise _BadRequest("notifyUrl: must be an http(s) URL or null")
            changes.append((m, "notify_url", value or None))
        elif key == "timeScale":
            changes.append((settings, "time_scale", _float(key, value, strict_low=True)))
        elif key in ("merchantEnabled", "luhnStrict"):
            if not isinstance(value, bool):
                raise _BadRequest(f"{key}: must be true or false")
            changes.append((m, "enabled" if key == "merchantEnabled" else "luhn_strict", value))
        elif key == "signAlgorithm":
            try:
                changes.append((m, "sign_algorithm", SignAlgorithm(value)))
            except ValueError:
                raise _BadRequest("signAlgorithm: must be SHA256withRSA or SHA1withRSA") from None
        elif key in ("delays", "outcomes"):
            target: Delays | Outcomes = settings.delays if key == "delays" else settings.outcomes
            names = {f.name for f in fields(target)}
            if not isinstance(value, dict):
                raise _BadRequest(f"{key}: must be an object")
            for name, item in value.items():
                if name not in names:
                    raise _BadRequest(f"{key}.{name}: unknown (known: {', '.join(sorted(names))})")
                high = 1.0 if key == "outcomes" else None
                changes.append((target, name, _float(f"{key}.{name}", item, high=high)))
        else:
            raise _BadRequest(f"{key}: not a setting that can be changed at run time")
    for obj, name, value in changes:
        setattr(obj, name, value)


def admin_router(sandbox: Sandbox) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["sandbox admin (testing only)"])

    @router.get("/health")
    def health() -> Response:
        return _json({"status": "ok"})

    @router.get("/audit")
    def audit() -> Response:
        with sandbox.db.read() as conn:
            return _json(sandbox.engine.audit(conn))

    @router.get("/faults")
    def get_faults() -> Response:
        return _json(sandbox.faults.state())

    @router.put("/faults")
    async def put_faults(request: Request) -> Response:
        try:
            data = await _body(request)
            spec = data.get("spec", "")
            seed = data.get("seed")
            if not isinstance(spec, str):
                raise _BadRequest("spec: must be a string")
            if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
                raise _BadRequest("seed: must be an integer")
            sandbox.faults.configure(spec, seed)
        except _BadRequest as exc:
            return _bad(str(exc))
        except FaultSpecError as exc:
            return _bad(f"spec: {exc}")
        if data.get("resetCounts"):
            sandbox.faults.reset_counts()
        return _json(sandbox.faults.state())

    @router.post("/script-outcome")
    async def script_outcome(request: Request) -> Response:
        fn = getattr(sandbox.engine, "script_outcome", None)
        if fn is None:
            return _json({"code": 404, "msg": "this engine cannot script outcomes"}, 404)
        try:
            data = {_snake(k): v for k, v in (await _body(request)).items()}
            params = inspect.signature(fn).parameters
            with sandbox.db.transaction() as conn:
                result = fn(conn, **data) if "conn" in params else fn(**data)
        except _BadRequest as exc:
            return _bad(str(exc))
        except PlatformError as exc:
            return _json(exc.body(), 400)
        except (TypeError, ValueError) as exc:
            return _bad(f"script-outcome: {exc}")
        return _json({"code": 200, "msg": "success", **(result if isinstance(result, dict) else {})})

    @router.get("/notifications")
    def notifications(notifyType: str | None = None, status: str | None = None) -> Response:
        items = sandbox.notifier.report(notify_type=notifyType, status=status)
        return _json({"total": len(items), "list": items})

    @router.get("/requests")
    def requests(sinceId: int = 0, limit: int = 1000, apiCode: str | None = None) -> Response:
        with sandbox.db.read() as conn:
            items = replay.request_log(conn, since_id=sinceId, limit=max(1, min(limit, 100_000)), api_code=apiCode)
        return _json({"total": len(items), "list": items})

    @router.get("/settings")
    def get_settings() -> Response:
        return _json(settings_view(sandbox.settings))

    @router.put("/settings")
    async def put_settings(request: Request) -> Response:
        try:
            apply_settings(sandbox.settings, await _body(request))
        except _BadRequest as exc:
            return _bad(str(exc))
        sandbox.notifier.wake.set()
        return _json(settings_view(sandbox.settings))

    @router.post("/run-due")
    def run_due() -> Response:
        return _json({"made": sandbox.background.run_due_once()})

    return router
