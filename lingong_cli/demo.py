"""``lingong demo``: the main job.

Until the flows land it shows what the core does: a key pair generated, a request signed and the
signature verified, exactly as the platform would.
"""

from __future__ import annotations

from decimal import Decimal

import typer

from lingong_core import jsoncodec
from lingong_core.envelope import RequestBuilder
from lingong_core.signing import generate_key_pair, sign_string, verify_envelope


def demo() -> None:
    """Run the end-to-end demo against the embedded sandbox platform."""
    private, public = generate_key_pair(2048)
    builder = RequestBuilder("1088202103120003", private)
    call = builder.prepare(
        "SFT0404",
        {
            "outOrderNo": "DEMO0001",
            "taxBaseCode": "2000064001",
            "amount": Decimal("200021.00"),
            "serviceAmount": Decimal("0"),
            "payChannelCode": "3000003",
            "rechargeTime": "2026-11-26 10:00:00",
            "openInvoiceModel": 0,
        },
        request_no=None,
        writes=True,
    )
    envelope = builder.envelope(call)
    typer.echo("generated a 2048-bit RSA key pair")
    typer.echo("sign string: " + sign_string(envelope))
    typer.echo("envelope:    " + jsoncodec.dumps({**envelope, "sign": envelope["sign"][:24] + "…"}))
    verify_envelope(envelope, public)
    typer.echo("signature verified with the public key: OK")
