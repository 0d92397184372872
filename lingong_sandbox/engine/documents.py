"""The files behind SFT0506's ``receiptUrl`` and SFT1001's ``fileUrl``: electronic receipts (电子回单) of
paid orders and tax payment certificates (完税凭证), as small PDF documents the sandbox serves itself.

The URLs point at the sandbox's own ``GET /files/receipts/<receiptNo>.pdf`` and
``GET /files/tax-certificates/<certificateNo>.pdf`` (``SandboxSettings.files_url``, set to the
server's base URL when it starts). A document is rendered from the platform's records when asked and
is the same bytes every time (nothing in it depends on when it is fetched), so a merchant can verify
what it stored by size and hash. Personal data on it is masked, as on the platform's other answers.
A receipt exists while an order is ``SUCCESS``; once it bounced (退票) the payment is void, SFT0506
refuses with 4503 naming the bounce and its refund, and the file is gone (404).
"""

from __future__ import annotations

import sqlite3
from decimal import ROUND_HALF_UP, Decimal

from lingong_core.masking import mask_card, mask_id
from lingong_core.money import CENT

from .base import Ctx, yuan

#: Where the URLs point when no server set ``files_url`` (the engine called directly, in unit tests).
FALLBACK_FILES_URL = "https://sandbox.lingong.local"
RECEIPTS, CERTIFICATES = "receipts", "tax-certificates"
#: The sandbox's flat tax rate on a certificate's income (a stand-in for the provider's assessed rate).
SANDBOX_TAX_RATE = Decimal("0.0100")


def files_url(ctx: Ctx, kind: str, number: str) -> str:
    base = (ctx.settings.files_url or FALLBACK_FILES_URL).rstrip("/")
    return f"{base}/files/{kind}/{number}.pdf"


def receipt_no(order_no: str) -> str:
    return "RC" + order_no


def certificate_no(tax_base_code: str, month: str, freelancer_no: str) -> str:
    return f"TC{tax_base_code[-4:]}{month.replace('-', '')}{freelancer_no[-8:]}"


def tax_of(income: Decimal) -> Decimal:
    return (income * SANDBOX_TAX_RATE).quantize(CENT, rounding=ROUND_HALF_UP)


def document(conn: sqlite3.Connection, kind: str, number: str, *, current_month: str) -> bytes | None:
    """The PDF for a receipt or certificate number, or None if there is no such document (yet).

    A certificate exists once its month is over (before ``current_month``, yyyy-MM), as SFT1001 says.
    """
    if kind == RECEIPTS and number.startswith("RC"):
        return _receipt(conn, number)
    if kind == CERTIFICATES and number.startswith("TC") and len(number) > 12:
        if f"{number[6:10]}-{number[10:12]}" >= current_month:
            return None
        return _certificate(conn, number)
    return None


def _receipt(conn: sqlite3.Connection, number: str) -> bytes | None:
    row = conn.execute(
        "SELECT o.*, b.out_batch_no FROM eng_order o JOIN eng_batch b ON b.batch_no = o.batch_no"
        " WHERE o.order_no = ? AND o.status = 'SUCCESS'",
        (number[2:],),
    ).fetchone()
    if row is None:
        return None
    lines = [
        "Electronic payment receipt (dianzi huidan)",
        f"Receipt no: {number}",
        f"Order no: {row['order_no']}    Merchant order no: {row['out_order_no']}",
        f"Batch no: {row['batch_no']}    Merchant batch no: {row['out_batch_no']}",
        f"Service provider: {row['tax_base_code']}    Merchant: {row['merchant_no']}",
        f"Payee ID: {mask_id(row['id_card_no'])}",
        f"Payee card: {mask_card(row['bank_card_no']) if row['bank_card_no'] else '-'}",
        f"Amount paid: CNY {yuan(row['amount_fen'])}    Service fee: CNY {yuan(row['service_fen'])}",
        f"Paid at: {row['complete_time']} (Asia/Shanghai)",
        "Issued by the lingong sandbox platform - not a real bank document.",
    ]
    return render_pdf(lines)


def _certificate(conn: sqlite3.Connection, number: str) -> bytes | None:
    code4, month, fl8 = number[2:6], f"{number[6:10]}-{number[10:12]}", number[12:]
    row = conn.execute(
        "SELECT merchant_no, tax_base_code, freelancer_no, id_card_no, SUM(amount_fen) AS income_fen,"
        " COUNT(*) AS order_count FROM eng_order WHERE status = 'SUCCESS' AND month = ?"
        " AND substr(tax_base_code, -4) = ? AND substr(freelancer_no, -8) = ?"
        " GROUP BY merchant_no, tax_base_code, freelancer_no",
        (month, code4, fl8),
    ).fetchone()
    if row is None:
        return None
    income = yuan(row["income_fen"])
    lines = [
        "Tax payment certificate (wanshui pingzheng)",
        f"Certificate no: {number}",
        f"Tax period: {month}    Service provider: {row['tax_base_code']}",
        f"Taxpayer: {row['freelancer_no']}    ID: {mask_id(row['id_card_no'])}",
        f"Income: CNY {income} in {row['order_count']} payout(s)    Tax paid: CNY {tax_of(income)}",
        "Issued by the lingong sandbox platform - not a real tax document.",
    ]
    return render_pdf(lines)


def render_pdf(lines: list[str]) -> bytes:
    """A one-page PDF 1.4 showing ``lines`` (ASCII) in Helvetica: valid, tiny and deterministic."""

    def esc(text: str) -> str:
        ascii_text = text.encode("ascii", "replace").decode()
        return ascii_text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    body = "BT /F1 11 Tf 50 790 Td 16 TL " + " ".join(f"({esc(line)}) '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >>"
        " /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(body)} >>\nstream\n{body}\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{obj}\nendobj\n".encode("ascii")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode("ascii")
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode("ascii")
    return bytes(out)
