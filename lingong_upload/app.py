"""The upload page: an operator pays a payroll sheet without typing anyone into a Prefect form.

``GET /`` a form (the sheet, the period, optionally a batch reference); ``POST /preview`` reads the sheet
in memory (never onto disk), validates it with ``lingong_payroll.files``, stores the valid rows in the
encrypted payee store and shows them masked, with totals and every refused row; ``POST /start`` starts
the ``payroll-run`` deployment with the stored payroll's reference (``payroll_ref``, never people) and
links to the run in the Prefect UI. ``GET /healthz`` answers without a credential.

Nobody gets in without the operator credential (see :mod:`lingong_upload.settings`). A sheet that is too
large, not a sheet, or malformed gets a page saying why (4xx), never a 500.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import hmac
import html
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from lingong_core.errors import InputError
from lingong_core.masking import mask_card, mask_id, mask_mobile, mask_name
from lingong_core.money import fmt_yuan
from lingong_core.timeutil import now
from lingong_payroll.files import ParsedPayroll, PayrollFileError, parse_csv, parse_xls, parse_xlsx
from lingong_payroll.keys import check_batch_ref, check_period
from lingong_upload.settings import UploadSettings

PREVIEW_ROWS = 200
STYLE = """
body{font-family:"Noto Sans CJK SC","Noto Sans SC","WenQuanYi Micro Hei",sans-serif;margin:2rem;max-width:70rem}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
td.n{text-align:right}.refused{color:#a00}.note{color:#555}.ok{color:#060}
label{display:block;margin:.6rem 0}button{font-size:1rem;padding:.4rem 1rem}
"""


class UploadRefused(Exception):
    """Bad input: shown to the operator as a page with the reason, with a 4xx status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}"
        '<p class="note"><a href="/">Upload another payroll</a></p></body></html>',
        status_code=status,
    )


def _e(value: Any) -> str:
    return html.escape(str(value))


def _form_parts(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """A multipart/form-data body, parsed in memory: field name → (file name, bytes)."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise UploadRefused(415, "send the form as multipart/form-data (the page's own form does)")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise UploadRefused(400, "the form could not be read (malformed multipart body)")
    parts: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or name in parts:
            continue
        payload = part.get_payload(decode=True)
        parts[name] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
    return parts


def _text(parts: dict[str, tuple[str | None, bytes]], name: str) -> str:
    try:
        return parts.get(name, (None, b""))[1].decode("utf-8").strip()
    except UnicodeDecodeError:
        raise UploadRefused(400, f"{name}: not UTF-8 text") from None


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound-file signature of .xls


def _read_sheet(filename: str, data: bytes) -> ParsedPayroll:
    """The sheet, read by ``lingong_payroll.files`` as ``lingong payroll run`` reads a file."""
    name = filename.lower()
    if not data:
        raise UploadRefused(400, "the file is empty: choose a payroll sheet (.xlsx or .csv)")
    if data.startswith(b"PK") or name.endswith((".xlsx", ".xlsm")):
        return parse_xlsx(data, filename=filename)
    if data.startswith(_OLE2) or name.endswith(".xls"):
        return parse_xls(data, filename=filename)
    if not name.endswith((".csv", ".txt")):
        raise UploadRefused(415, f"{filename or 'the file'}: not a payroll sheet; upload an .xlsx, .xls or .csv file")
    return parse_csv(data, source=filename)


def _money(value: Decimal) -> str:
    return fmt_yuan(value)


def create_app(settings: UploadSettings | None = None) -> FastAPI:
    """The upload page's app (``settings`` default: from the environment)."""
    config = settings or UploadSettings.from_env()
    app = FastAPI(title="lingong upload", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = config

    def csrf(ref: str) -> str:
        return hmac.new(config.secret, f"start|{ref}".encode(), hashlib.sha256).hexdigest()

    @app.middleware("http")
    async def operator_only(request: Request, call_next: Any) -> Response:
        if request.url.path == "/healthz":
            return await call_next(request)  # type: ignore[no-any-return]
        user = config.authenticate(request.headers)
        if user is None:
            return Response(
                "An operator credential is required.\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="lingong payroll upload", charset="UTF-8"'},
                media_type="text/plain",
            )
        request.state.user = user
        return await call_next(request)  # type: ignore[no-any-return]

    @app.exception_handler(UploadRefused)
    async def refused(_request: Request, exc: UploadRefused) -> HTMLResponse:
        return _page("Not accepted", f'<p class="refused">{_e(exc.message)}</p>', exc.status)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        return JSONResponse({"ok": True})

    @app.get("/", response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        period = now().strftime("%Y-%m")
        return _page(
            "Pay a payroll sheet · 上传工资表",
            f"""<p>The sheet: .xlsx, .xls or .csv with the columns 姓名/name, 身份证号/idCardNo, 手机号/mobile,
银行卡号/bankCardNo, 金额/amount (备注/remark optional); at most {config.max_bytes // (1024 * 1024)} MB.
Nothing is paid before you confirm on the next page.</p>
<form method="post" action="/preview" enctype="multipart/form-data">
<label>Payroll sheet <input type="file" name="sheet" accept=".xlsx,.xlsm,.xls,.csv,.txt" required></label>
<label>Period (yyyy-MM) <input name="period" value="{_e(period)}" pattern="\\d{{4}}-\\d{{2}}" required></label>
<label>Service provider (taxBaseCode) <input name="tax_base_code" value="{_e(config.tax_base_code)}"></label>
<label>Batch label (optional: shown in the report; it pays nobody again)
<input name="batch_ref" maxlength="32"></label>
<button type="submit">Check the sheet</button>
</form>""",
        )

    @app.post("/preview", response_class=HTMLResponse)
    async def preview(request: Request) -> HTMLResponse:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > config.max_bytes + 64 * 1024:
            raise UploadRefused(413, f"the upload is larger than {config.max_bytes // (1024 * 1024)} MB")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > config.max_bytes + 64 * 1024:
                raise UploadRefused(413, f"the upload is larger than {config.max_bytes // (1024 * 1024)} MB")
        parts = _form_parts(request.headers.get("content-type", ""), bytes(body))
        del body
        filename, data = parts.get("sheet", (None, b""))
        if filename is None:
            raise UploadRefused(400, "sheet: choose a payroll sheet to upload")
        if len(data) > config.max_bytes:
            raise UploadRefused(413, f"{filename}: larger than {config.max_bytes // (1024 * 1024)} MB")
        try:
            period = check_period(_text(parts, "period"))
            batch_ref = check_batch_ref(_text(parts, "batch_ref") or None)
        except InputError as exc:
            raise UploadRefused(400, str(exc)) from None
        tax_base_code = _text(parts, "tax_base_code") or config.tax_base_code
        if not tax_base_code.isdigit() or len(tax_base_code) > 20:
            raise UploadRefused(400, "tax_base_code: must be the service provider's number (digits)")
        try:
            parsed = _read_sheet(filename, data)
        except PayrollFileError as exc:
            raise UploadRefused(422, f"{filename}: {exc}") from None
        del data
        return _preview(parsed, filename, period, batch_ref, tax_base_code)

    def _preview(
        parsed: ParsedPayroll, filename: str, period: str, batch_ref: str | None, tax_base_code: str
    ) -> HTMLResponse:
        total = sum((p.amount for p in parsed.payees), Decimal("0.00"))
        refusals = "".join(
            f"<tr><td class=n>{e.row}</td><td>{_e(e.column)}</td><td>{_e(e.reason)}</td>"
            f"<td>{_e(e.value or '')}</td></tr>"
            for e in parsed.errors
        )
        rows = "".join(
            f"<tr><td class=n>{row}</td><td>{_e(mask_name(p.name))}</td><td>{_e(mask_id(p.id_card_no))}</td>"
            f"<td>{_e(mask_mobile(p.mobile))}</td><td>{_e(mask_card(p.bank_card_no))}</td>"
            f"<td class=n>{_e(_money(p.amount))}</td><td>{_e(p.remark)}</td></tr>"
            for p, row in list(zip(parsed.payees, parsed.rows, strict=True))[:PREVIEW_ROWS]
        )
        more = len(parsed.payees) - PREVIEW_ROWS
        summary = (
            f'<p id="totals"><b>{len(parsed.payees)}</b> payees, <b>{_e(_money(total))}</b> in total, '
            f'<span class="{"refused" if parsed.errors else "ok"}"><b>{len(parsed.invalid_rows)}</b> rows refused'
            "</span>"
            + (f"; cards failing the Luhn check (flagged) in rows {parsed.luhn_flags}" if parsed.luhn_flags else "")
            + f" · period {_e(period)} · {_e(tax_base_code)}</p>"
        )
        body = summary
        if parsed.errors:
            body += (
                "<h2>Refused rows</h2><table id='refusals'>"
                "<tr><th>row</th><th>column</th><th>rule</th><th>value</th></tr>" + refusals + "</table>"
            )
        if not parsed.payees:
            body += '<p class="refused">No row can be paid: fix the sheet and upload it again.</p>'
            return _page(f"Nothing to pay in {filename}", body, 422)
        with config.store() as store:
            ref = store.put_payroll(
                (
                    {**p.fields(), "amount": f"{p.amount:.2f}", "row": row}
                    for p, row in zip(parsed.payees, parsed.rows, strict=True)
                ),
                source="upload page",
            )
        body += (
            "<h2>Payees (masked)</h2><table id='preview'><tr><th>row</th><th>name</th><th>ID</th><th>mobile</th>"
            "<th>card</th><th>amount</th><th>remark</th></tr>" + rows + "</table>"
        )
        if more > 0:
            body += f'<p class="note">… and {more} more rows (all stored, all paid).</p>'
        skip = (
            '<label><input type="checkbox" name="skip_invalid" value="1" required> Pay the '
            f"{len(parsed.payees)} valid rows; the {len(parsed.invalid_rows)} refused rows are not paid</label>"
            if parsed.errors
            else ""
        )
        body += f"""<form method="post" action="/start">
<input type="hidden" name="payroll_ref" value="{_e(ref)}">
<input type="hidden" name="period" value="{_e(period)}">
<input type="hidden" name="batch_ref" value="{_e(batch_ref or "")}">
<input type="hidden" name="tax_base_code" value="{_e(tax_base_code)}">
<input type="hidden" name="csrf" value="{_e(csrf(ref))}">
{skip}
<p class="note">Stored encrypted as <code id="ref">{_e(ref)}</code>; the run gets only this reference.</p>
<button type="submit">Start the payroll run</button>
</form>"""
        return _page(f"Check {filename}", body)

    @app.post("/start", response_class=HTMLResponse)
    async def start(request: Request) -> HTMLResponse:
        body = await request.body()
        if len(body) > 64 * 1024:
            raise UploadRefused(413, "the form is too large")
        from urllib.parse import parse_qs

        try:
            fields = {k: v[0].strip() for k, v in parse_qs(body.decode("utf-8"), max_num_fields=20).items()}
        except (UnicodeDecodeError, ValueError):
            raise UploadRefused(400, "the form could not be read") from None
        ref = fields.get("payroll_ref", "")
        if not ref or not hmac.compare_digest(fields.get("csrf", ""), csrf(ref)):
            raise UploadRefused(403, "this form was not issued by this page: upload the sheet again")
        try:
            period = check_period(fields.get("period", ""))
            batch_ref = check_batch_ref(fields.get("batch_ref") or None)
        except InputError as exc:
            raise UploadRefused(400, str(exc)) from None
        with config.store() as store:
            info = store.info(ref)
        if info is None or info.kind != "payroll":
            raise UploadRefused(404, f"{ref}: no such stored payroll (purged?): upload the sheet again")
        parameters = {
            "period": period,
            "payroll_ref": ref,
            "tax_base_code": fields.get("tax_base_code") or config.tax_base_code,
            "batch_ref": batch_ref,
        }
        try:
            run_id, run_name = await config.start_run(parameters)
        except Exception as exc:  # the Prefect server is down or the deployment is missing: say so, 503
            return _page(
                "The run could not be started",
                f'<p class="refused">{_e(type(exc).__name__)}: {_e(exc)}</p><p>The payroll stays stored as '
                f"<code>{_e(ref)}</code>; nothing was paid. Try again once the Prefect server is reachable.</p>",
                503,
            )
        link = f"{config.ui_url}/v2/runs/flow-run/{run_id}"  # Prefect 3.9 serves its UI under /v2
        return _page(
            "Payroll run started",
            f'<p class="ok">Started <b>{_e(run_name)}</b> of <code>{_e(config.deployment)}</code> for {info.rows} '
            f'payees, period {_e(period)}.</p><p><a id="run-link" href="{_e(link)}">Follow the run in the Prefect UI'
            f"</a></p>",
        )

    return app
