"""Bounced payments (退票, notification 5001): the re-payment's additional reference, and the check that the
person given for a re-payment is the one the bounced order paid (the platform shows them masked)."""

from __future__ import annotations

import hashlib

from lingong_payroll.keys import REF_RE


def repay_ref(order_no: str) -> str:
    """The ``additional_ref`` of the re-payment of a bounced order: one per bounced order, so it is paid again once."""
    ref = f"RP-{order_no}"
    if REF_RE.match(ref):
        return ref
    return "RP-" + hashlib.blake2b(order_no.encode("utf-8"), digest_size=8).hexdigest().upper()


def consistent(masked: str, full: str) -> bool:
    """Whether ``full`` could be what the platform shows as ``masked`` (the visible ends agree)."""
    masked, full = "".join(masked.split()), "".join(full.split())
    if "*" not in masked:
        return masked.upper() == full.upper()
    head, tail = masked.split("*", 1)[0], masked.rsplit("*", 1)[1]
    return (
        len(full) >= len(head) + len(tail)
        and full.upper().startswith(head.upper())
        and full.upper().endswith(tail.upper())
    )
