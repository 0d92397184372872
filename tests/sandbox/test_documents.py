"""Receipts (SFT0506) and tax certificates (SFT1001) link to documents the sandbox serves: the same bytes
every time, masked, only for what was paid, a certificate only once its month is over."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx

from lingong_sandbox.engine import codes

from .factories import PROVIDER_A, Rig
from .sandbox_http import Running

D = Decimal


def _document(rig: Rig, url: str, current_month: str) -> bytes | None:
    kind, name = url.rsplit("/", 2)[-2:]
    with rig.db.read() as conn:
        return rig.platform.document(conn, kind, name.removesuffix(".pdf"), current_month=current_month)


def test_receipts_and_certificates_are_documents_of_what_was_paid() -> None:
    rig = Rig()
    good, bouncing = rig.person(1), rig.person(2)
    for p in (good, bouncing):
        rig.onboard(p)
    rig.fund("10000")
    rig.script(id_card_no=bouncing.id_card_no, outcome="BOUNCE")
    rig.call(
        "SFT0502",
        {
            "outBatchNo": "B1",
            "taxBaseCode": PROVIDER_A,
            "orders": [good.order("G", "1000.00"), bouncing.order("X", "500.00")],
        },
    )
    rig.run(minutes=5)
    month = f"{rig.clock.now:%Y-%m}"
    receipt = rig.call("SFT0506", {"outOrderNo": "G"})
    pdf = _document(rig, receipt["receiptUrl"], month)
    assert pdf is not None
    assert pdf.startswith(b"%PDF-1.4")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert pdf == _document(rig, receipt["receiptUrl"], month)  # the same bytes every time
    assert b"1000.00" in pdf
    assert good.id_card_no.encode() not in pdf
    assert good.bank_card_no.encode() not in pdf
    assert re.search(rb"\d{6}\*+\d{4}", pdf)  # the ID number masked
    rig.run(days=1)  # X bounces
    refused = rig.refused("SFT0506", {"outOrderNo": "X"})
    assert refused.code == codes.RECEIPT_NOT_AVAILABLE.code
    assert refused.fields["status"] == "BOUNCED"
    assert refused.fields["refundNo"]
    assert "bounced" in refused.msg
    assert refused.fields["refundNo"] in refused.msg
    pending = rig.call("SFT1001", {"taxBaseCode": PROVIDER_A, "period": month})["list"]
    assert [(c["status"], c["incomeAmount"]) for c in pending] == [("PENDING", D("1000.00"))]
    assert "fileUrl" not in pending[0]
    rig.run(days=40)  # the month is over: the certificate is issued and its file exists
    issued = rig.call("SFT1001", {"taxBaseCode": PROVIDER_A, "period": month})["list"]
    assert [(c["status"], c["taxAmount"]) for c in issued] == [("ISSUED", D("10.00"))]
    later = f"{rig.clock.now:%Y-%m}"
    cert = _document(rig, issued[0]["fileUrl"], later)
    assert cert is not None
    assert b"10.00" in cert
    assert issued[0]["certificateNo"].encode() in cert
    assert _document(rig, issued[0]["fileUrl"], month) is None  # not before its month is over


def test_the_server_serves_the_documents_it_links_to(sandbox: Running) -> None:
    files = sandbox.server.settings.files_url
    assert files == sandbox.server.base_url
    with httpx.Client(trust_env=False, timeout=10) as http:
        missing = http.get(f"{files}/files/receipts/RC2026000000.pdf")
        assert missing.status_code == 404
        assert http.get(f"{files}/files/receipts/..%2Fsecret.pdf").status_code == 404
        assert http.get(f"{files}/files/unknown/TC1.pdf").status_code == 404
