"""``POST /open/api/gateway.do``: from the raw request body to the answer's bytes (contract §1–§4).

The checks run in a fixed order, and the first that fails answers:

1. the body is UTF-8 JSON, an object, with every envelope field a non-empty string (400, naming the field);
2. ``version`` is ``2.0`` (400);
3. the merchant is known, enabled and has a public key registered (403);
4. ``timestamp`` is ``yyyyMMddHHmmss`` (400) and within ±``timestamp_window_seconds`` of the clock (408);
5. ``sign`` verifies with the merchant's public key and sign algorithm (401);
6. the requestNo store: the same ``(apiCode, bizModel)`` gets the stored answer's bytes again, other
   content 409;
7. ``bizModel`` is the text of a JSON object (400);
8. the engine handles the call; its answer (or refusal: :class:`PlatformError`, whose writes are
   rolled back to a savepoint) is stored under the requestNo **in the same transaction** as the
   business write and any notification it queued.

Answers 1–7 are not remembered, so a re-stamped retry after a 408 goes through. Faults (see
``faults.py``) come before step 1 (latency, 429, 500/503 with nothing done) or after the commit
(500/503, or a dropped connection). Every request is logged (``replay.request_log``). No input makes
this module answer 500: malformed input is a 400; a 500 means a bug, and is logged with its traceback.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from lingong_core import jsoncodec
from lingong_core.errors import ConfigurationError, InputError, SignatureError
from lingong_core.signing import load_public_key, verify_envelope
from lingong_core.timeutil import Clock, format_datetime, now, parse_timestamp

from . import replay
from .db import Database
from .faults import FaultInjector
from .interface import Engine, PlatformError
from .settings import SandboxSettings

log = logging.getLogger(__name__)

VERSION = "2.0"
ENVELOPE_FIELDS = ("apiCode", "merchantNo", "requestNo", "timestamp", "version", "bizModel", "sign")
MAX_BODY = 8 * 1024 * 1024
MAX_REQUEST_NO = 64
_API_CODE = re.compile(r"^[A-Za-z0-9_]{1,32}$")
_JSON = b"application/json; charset=utf-8"


@dataclass(slots=True)
class Answer:
    """What the HTTP layer sends: a status and body, or nothing at all (``reset``: drop the connection)."""

    http_status: int
    body: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    reset: bool = False


@dataclass(slots=True)
class _Seen:
    api_code: str | None = None
    merchant_no: str | None = None
    request_no: str | None = None
    code: int | None = None
    outcome: str = "refused"


class _Refusal(Exception):
    def __init__(self, code: int, msg: str, outcome: str = "refused", http_status: int = 200) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.outcome = outcome
        self.http_status = http_status


def json_answer(code: int, msg: str, http_status: int = 200, **fields: Any) -> Answer:
    return Answer(http_status, jsoncodec.dumps({"code": code, "msg": msg, **fields}).encode("utf-8"))


class Gateway:
    def __init__(
        self,
        db: Database,
        engine: Engine,
        settings: SandboxSettings,
        faults: FaultInjector,
        *,
        clock: Clock = now,
        on_commit: Any = None,
    ) -> None:
        self.db = db
        self.engine = engine
        self.settings = settings
        self.faults = faults
        self.clock = clock
        self.on_commit = on_commit  # called after a business transaction committed (wakes the notifier)
        self._key_cache: tuple[str, rsa.RSAPublicKey] | None = None

    # --- entry point ------------------------------------------------------------------------------------

    def process(self, raw: bytes) -> Answer:
        """Answer one raw request body. Never raises."""
        started = time.perf_counter()
        seen = _Seen()
        try:
            answer = self._process(raw, seen)
        except _Refusal as refusal:
            seen.code, seen.outcome = refusal.code, refusal.outcome
            answer = json_answer(refusal.code, refusal.msg, refusal.http_status)
        except Exception:
            log.exception("sandbox gateway: internal error (apiCode=%s requestNo=%s)", seen.api_code, seen.request_no)
            seen.code, seen.outcome = 500, "error"
            answer = json_answer(500, "internal error in the sandbox platform", 500)
        self._log(seen, answer, started)
        return answer

    def _log(self, seen: _Seen, answer: Answer, started: float) -> None:
        moment = time.time()
        entry = replay.LogEntry(
            at=format_datetime(self.clock()) + f".{int(moment * 1000) % 1000:03d}",
            at_epoch=moment,
            api_code=seen.api_code,
            merchant_no=seen.merchant_no,
            request_no=seen.request_no,
            http_status=0 if answer.reset else answer.http_status,
            code=seen.code,
            outcome=seen.outcome,
            duration_ms=(time.perf_counter() - started) * 1000,
        )
        try:
            with self.db.transaction() as conn:
                replay.log_request(conn, entry)
        except Exception:
            log.exception("sandbox gateway: could not log a request")

    # --- the checks, in order -----------------------------------------------------------------------------

    def _process(self, raw: bytes, seen: _Seen) -> Answer:
        data = _parse_body(raw)
        api_code = data.get("apiCode")
        if isinstance(api_code, str) and _API_CODE.match(api_code):
            seen.api_code = api_code
        for name in ("merchantNo", "requestNo"):
            value = data.get(name)
            if isinstance(value, str) and value.isprintable():
                setattr(seen, "merchant_no" if name == "merchantNo" else "request_no", value[:MAX_REQUEST_NO])

        before = self._faults_before(seen.api_code)
        if before is not None:
            seen.code = _code_of(before.body)
            seen.outcome = "fault:rate_limit" if seen.code == 429 else f"fault:error_before_{seen.code}"
            return before

        env = _envelope(data)
        if env["version"] != VERSION:
            raise _Refusal(400, f"version: must be {VERSION}")
        public_key = self._merchant_key(env["merchantNo"])
        self._check_timestamp(env["timestamp"])
        try:
            verify_envelope(data, public_key, self.settings.merchant.sign_algorithm)
        except SignatureError:
            raise _Refusal(401, "sign: signature verification failed") from None

        body, outcome = self._handle(env)
        seen.outcome = outcome
        seen.code = _code_of(body)
        if outcome == "conflict":
            return Answer(200, body)
        if self.on_commit is not None and outcome == "handled":
            self.on_commit()
        after = self.faults.after(seen.api_code)
        if after == "reset_after":
            seen.outcome = "fault:reset_after"
            return Answer(0, b"", reset=True)
        if after is not None:
            status = 500 if after == "error_after_500" else 503
            seen.outcome = f"fault:{after}"
            seen.code = status
            return json_answer(status, _fault_msg(status), status)
        return Answer(200, body)

    def _faults_before(self, api_code: str | None) -> Answer | None:
        delay = self.faults.latency(api_code)
        if delay > 0:
            time.sleep(delay)
        status = self.faults.before(api_code)
        if status is None:
            return None
        if status == 429:
            answer = json_answer(429, "rate limited: too many requests, retry after a pause")
            retry_after = max(self.settings.scaled(1.0), 0.001)
            answer.headers.append((b"retry-after", f"{retry_after:g}".encode()))
            return answer
        return json_answer(status, _fault_msg(status), status)

    def _merchant_key(self, merchant_no: str) -> rsa.RSAPublicKey:
        merchant = self.settings.merchant
        if merchant_no != merchant.merchant_no:
            raise _Refusal(403, "merchantNo: unknown merchant")
        if not merchant.enabled:
            raise _Refusal(403, "merchantNo: merchant is disabled")
        pem = merchant.public_key_pem
        if not pem:
            raise _Refusal(403, "merchantNo: the merchant has registered no public key")
        if self._key_cache is None or self._key_cache[0] != pem:
            try:
                self._key_cache = (pem, load_public_key(pem))
            except ConfigurationError:
                raise _Refusal(403, "merchantNo: the merchant's registered public key is unusable") from None
        return self._key_cache[1]

    def _check_timestamp(self, text: str) -> None:
        try:
            stamp = parse_timestamp(text)
        except InputError as exc:
            raise _Refusal(400, f"timestamp: {exc.rule}") from None
        skew = abs((self.clock() - stamp).total_seconds())
        if skew > self.settings.timestamp_window_seconds:
            window = self.settings.timestamp_window_seconds
            raise _Refusal(408, f"timestamp: {int(skew)} s away from the platform's clock (allowed ±{window} s)")

    def _handle(self, env: dict[str, str]) -> tuple[bytes, str]:
        """Steps 6–8 in one transaction: (answer bytes, outcome)."""
        merchant_no, request_no, api_code = env["merchantNo"], env["requestNo"], env["apiCode"]
        digest = replay.content_hash(api_code, env["bizModel"])
        with self.db.transaction() as conn:
            remembered = replay.lookup(conn, merchant_no, request_no, self.settings.request_no_ttl_seconds)
            if remembered is not None:
                if remembered.content_hash == digest:
                    return remembered.answer, "replayed"
                msg = "requestNo: already used with a different apiCode or bizModel"
                return jsoncodec.dumps({"code": 409, "msg": msg, "requestNo": request_no}).encode("utf-8"), "conflict"
            biz = _parse_biz_model(env["bizModel"])
            conn.execute("SAVEPOINT sandbox_handle")
            try:
                fields = self.engine.handle(conn, merchant_no, api_code, biz)
                answer: dict[str, Any] = {"code": 200, "msg": "success", **fields}
            except PlatformError as refusal:
                conn.execute("ROLLBACK TO sandbox_handle")
                answer = refusal.body()
            conn.execute("RELEASE sandbox_handle")
            body = jsoncodec.dumps(answer).encode("utf-8")
            replay.remember(conn, merchant_no, request_no, api_code, digest, body)
        return body, "handled"


# --- pure helpers ---------------------------------------------------------------------------------------


def _fault_msg(status: int) -> str:
    return "platform error (injected fault)" if status == 500 else "platform busy (injected fault)"


def _code_of(body: bytes) -> int | None:
    try:
        code = jsoncodec.loads(body).get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, int) else None


def _loads_guarded(text: str | bytes) -> Any:
    try:
        return jsoncodec.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _parse_body(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_BODY:
        raise _Refusal(400, f"body: larger than {MAX_BODY // (1024 * 1024)} MB", "malformed")
    if not raw.strip():
        raise _Refusal(400, "body: empty; expected the JSON envelope", "malformed")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Refusal(400, "body: not UTF-8 text", "malformed") from None
    try:
        data = _loads_guarded(text)
    except ValueError as exc:
        raise _Refusal(400, f"body: not JSON ({str(exc)[:80]})", "malformed") from None
    if not isinstance(data, dict):
        raise _Refusal(400, "body: must be a JSON object (the envelope)", "malformed")
    return data


def _envelope(data: dict[str, Any]) -> dict[str, str]:
    """The envelope's fields as strings; 400 naming the first field that is missing or ill-formed."""
    env: dict[str, str] = {}
    for name in ENVELOPE_FIELDS:
        value = data.get(name)
        if value is None or value == "":
            raise _Refusal(400, f"{name}: missing", "malformed")
        if not isinstance(value, str):
            raise _Refusal(400, f"{name}: must be a string", "malformed")
        env[name] = value
    for name, value in data.items():
        if name not in env and value is not None and not isinstance(value, str):
            raise _Refusal(400, f"{str(name)[:40]}: must be a string", "malformed")
    for name, value in data.items():
        try:
            name.encode("utf-8")
            if isinstance(value, str):
                value.encode("utf-8")
        except UnicodeEncodeError:
            shown = name.encode("utf-8", "replace").decode("utf-8")[:40]
            raise _Refusal(400, f"{shown}: not valid Unicode text (a lone surrogate)", "malformed") from None
    if not _API_CODE.match(env["apiCode"]):
        raise _Refusal(400, "apiCode: must be letters and digits, e.g. SFT0404", "malformed")
    if len(env["requestNo"]) > MAX_REQUEST_NO or not env["requestNo"].isprintable():
        raise _Refusal(400, f"requestNo: at most {MAX_REQUEST_NO} printable characters", "malformed")
    return env


def _parse_biz_model(text: str) -> dict[str, Any]:
    try:
        biz = _loads_guarded(text)
    except ValueError as exc:
        raise _Refusal(400, f"bizModel: not JSON text ({str(exc)[:80]})", "malformed") from None
    if not isinstance(biz, dict):
        raise _Refusal(400, "bizModel: must be the text of a JSON object", "malformed")
    if not _is_unicode(biz):  # an escaped half of a surrogate pair (\ud800) cannot be stored or signed back
        raise _Refusal(400, "bizModel: holds text that is not valid Unicode (a lone surrogate)", "malformed")
    return biz


def _is_unicode(value: Any) -> bool:
    """Whether every string in a parsed JSON value (object keys too) can be encoded as UTF-8."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True
