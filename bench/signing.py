"""Scenario 1, signing: RSA signatures and verifications per second, one core, beside ``openssl speed``.

Python signs through ``cryptography`` (OpenSSL underneath) exactly as the core does: PKCS#1 v1.5 over
SHA-256 of a sign string the size of a real envelope's. ``openssl speed -seconds N rsa1024 rsa2048``
runs on the same machine in the same run (one process, one core) and its table is parsed; the ratio
is openssl's rate over Python's (1.0 = no cost beyond OpenSSL's own).
"""

from __future__ import annotations

import functools
import re
import subprocess
import time
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from .harness import Context, Result, measure

NAME = "signing"

# A sign string the size of an SFT0101 envelope's (about 330 bytes of UTF-8).
MESSAGE = (
    "apiCode=SFT0101&bizModel="
    '{"name":"张伟","idCardNo":"110101199003077777","mobile":"13800138000","taxBaseCode":"2000064001"}'
    "&merchantNo=1088202103120003&requestNo=5f0c2b1e-9a0d-4a53-9b4e-6a1c7d2e8f90"
    "&timestamp=20260115103000&version=2.0"
).encode()

_OPENSSL_ROW = re.compile(r"^rsa\s+(\d+)\s+bits\s+([\d.]+)s\s+([\d.]+)s\s+([\d.]+)\s+([\d.]+)\s*$", re.MULTILINE)


def _loop(op: Any, seconds: float) -> tuple[int, float]:
    """Run ``op`` for about ``seconds``; (count, elapsed)."""
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(20):
            op()
        count += 20
        now = time.perf_counter()
        if now >= deadline:
            return count, now - start


def openssl_speed(seconds: int, bits: tuple[int, ...]) -> dict[int, tuple[float, float]]:
    """``openssl speed`` parsed: {bits: (sign/s, verify/s)}; empty if openssl is missing or says nothing."""
    try:
        out = subprocess.run(
            ["openssl", "speed", "-seconds", str(seconds), *(f"rsa{b}" for b in bits)],
            capture_output=True,
            text=True,
            timeout=seconds * 4 * len(bits) + 60,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return {int(m[1]): (float(m[4]), float(m[5])) for m in _OPENSSL_ROW.finditer(out)}


def run(ctx: Context) -> list[Result]:
    bits_list = (2048,) if ctx.quick else (1024, 2048)
    seconds = 0.3 if ctx.quick else 2.0
    ctx.log(f"signing: cryptography sign/verify {seconds:g} s each for {bits_list}, then openssl speed")
    ours: dict[int, tuple[float, float]] = {}
    results: list[Result] = []
    for bits in bits_list:
        key = ctx.key("rsa1024" if bits == 1024 else "merchant", bits)
        public = key.public_key()
        pad, digest = padding.PKCS1v15(), hashes.SHA256()
        signature = key.sign(MESSAGE, pad, digest)
        with measure() as m_sign:
            n_sign, t_sign = _loop(functools.partial(key.sign, MESSAGE, pad, digest), seconds)
        with measure() as m_verify:
            n_verify, t_verify = _loop(functools.partial(public.verify, signature, MESSAGE, pad, digest), seconds / 2)
        ours[bits] = (n_sign / t_sign, n_verify / t_verify)
        for op, n, t, m in (("sign", n_sign, t_sign, m_sign), ("verify", n_verify, t_verify, m_verify)):
            results.append(
                Result(
                    NAME,
                    f"signing/rsa{bits}-{op}",
                    wall_s=t,
                    calls=n,
                    peak_rss_mb=m.peak_rss_mb,
                    details={"us_per_op": t / n * 1e6, "cpu_s": m.cpu_s, "message_bytes": len(MESSAGE)},
                )
            )
    ctx.shared["rsa2048_sign_s"] = 1.0 / ours[2048][0]

    speed = openssl_speed(1 if ctx.quick else 2, bits_list)
    for bits in bits_list:
        if bits not in speed:
            for op in ("sign", "verify"):
                results.append(
                    Result(NAME, f"signing/openssl-rsa{bits}-{op}", status="skipped", note="openssl speed gave nothing")
                )
            continue
        for i, op in enumerate(("sign", "verify")):
            theirs = speed[bits][i]
            mine = next(r for r in results if r.name == f"signing/rsa{bits}-{op}")
            mine.ratio = theirs / ours[bits][i]
            mine.ratio_to = f"openssl speed rsa{bits} {op}"
            results.append(
                Result(
                    NAME,
                    f"signing/openssl-rsa{bits}-{op}",
                    wall_s=1.0,
                    calls=round(theirs),
                    note=f"`openssl speed` {op}s/s, one core, parsed (wall normalised to 1 s)",
                    details={"per_s": theirs, "us_per_op": 1e6 / theirs},
                )
            )
    ctx.shared["openssl_speed"] = speed
    return results
