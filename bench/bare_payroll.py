"""The floor of record: a payroll paid by the bare script an integrator would write from the contract.

It imports **nothing of this project** — only the standard library, httpx and cryptography — so it is
the honest floor lingong's payroll is compared with (``bench/payroll_vs_bare.py``). From
``shared/contract.md`` alone it signs each envelope (§2: every non-empty field but ``sign``, sorted,
``name=value`` joined by ``&``, SHA256withRSA, base64), and for a CSV payroll
(``name,idCardNo,mobile,bankCardNo,amount``) it:

1. pre-calculates the service fee, SFT0501, per 1,000 orders;
2. submits SFT0502 per 1,000 orders (``outOrderNo``/``outBatchNo`` derived from its inputs);
3. polls SFT0503 until every batch is ``COMPLETED``;
4. reads every order back with SFT0504, 1,000 per page;

``concurrency`` requests at a time (4: the best on 2 cores). It prints one JSON line: payees, calls, the
orders' final states and the sum paid. Run it as a process so its CPU and memory are its own::

    python bench/bare_payroll.py --base-url URL --merchant-no NO --key merchant.pem \\
        --file payroll.csv --period 2026-11 --tax-base-code 2000064001
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import csv
import hashlib
import json
import sys
import time
import uuid
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SHANGHAI = ZoneInfo("Asia/Shanghai")
BATCH = 1000


def sign(key: rsa.RSAPrivateKey, envelope: dict[str, str]) -> str:
    text = "&".join(f"{k}={v}" for k, v in sorted(envelope.items()) if k != "sign" and v not in (None, ""))
    return base64.b64encode(key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())).decode("ascii")


def biz_text(value: Any) -> str:
    """Compact JSON, non-ASCII kept; Decimal amounts as JSON numbers with two places (contract §7)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{biz_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(biz_text(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


class Gateway:
    def __init__(self, base_url: str, merchant_no: str, key: rsa.RSAPrivateKey, concurrency: int) -> None:
        self.url = base_url.rstrip("/") + "/open/api/gateway.do"
        self.merchant_no = merchant_no
        self.key = key
        self.calls = 0
        self.gate = asyncio.Semaphore(concurrency)
        self.http = httpx.AsyncClient(
            timeout=120.0, limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        )

    async def call(self, api_code: str, biz: dict[str, Any]) -> dict[str, Any]:
        envelope = {
            "apiCode": api_code,
            "merchantNo": self.merchant_no,
            "requestNo": uuid.uuid4().hex,
            "timestamp": datetime.now(SHANGHAI).strftime("%Y%m%d%H%M%S"),
            "version": "2.0",
            "bizModel": biz_text(biz),
        }
        envelope["sign"] = sign(self.key, envelope)
        body = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
        async with self.gate:
            for attempt in range(5):
                try:
                    response = await self.http.post(
                        self.url, content=body, headers={"Content-Type": "application/json; charset=utf-8"}
                    )
                except httpx.TransportError:  # a connection reset on a loaded machine: the same request again
                    if attempt == 4:
                        raise
                    await asyncio.sleep(0.1 * (attempt + 1))
                    continue
                if response.status_code != 429:
                    break
                await asyncio.sleep(0.1 * (attempt + 1))
        self.calls += 1
        answer: dict[str, Any] = json.loads(response.text, parse_float=Decimal)
        if answer.get("code") != 200:
            raise RuntimeError(f"{api_code}: {answer.get('code')} {answer.get('msg')}")
        return answer

    async def aclose(self) -> None:
        await self.http.aclose()


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [{k.strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f)]


def key_of(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=12).hexdigest().upper()


async def pay(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    phases: dict[str, float] = {}

    def lap(name: str) -> None:  # seconds since the script's start at the end of each phase
        phases[name] = round(time.perf_counter() - started, 3)

    key = serialization.load_pem_private_key(Path(args.key).read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    rows = read_csv(Path(args.file))
    seen: Counter[str] = Counter()
    orders = []
    for row in rows:
        seen[row["idCardNo"]] += 1
        amount = Decimal(row["amount"]).quantize(Decimal("0.01"))
        out_order_no = "BO" + key_of(args.run, row["idCardNo"], str(amount), str(seen[row["idCardNo"]]))
        orders.append(
            {
                "outOrderNo": out_order_no,
                "name": row["name"],
                "idCardNo": row["idCardNo"],
                "mobile": row["mobile"],
                "bankCardNo": row["bankCardNo"],
                "amount": amount,
            }
        )
    chunks = [orders[i : i + BATCH] for i in range(0, len(orders), BATCH)]
    lap("read")
    gw = Gateway(args.base_url, args.merchant_no, key, args.concurrency)
    try:
        fees = await asyncio.gather(
            *(
                gw.call(
                    "SFT0501",
                    {
                        "taxBaseCode": args.tax_base_code,
                        "orders": [
                            {"outOrderNo": o["outOrderNo"], "idCardNo": o["idCardNo"], "amount": o["amount"]}
                            for o in chunk
                        ],
                    },
                )
                for chunk in chunks
            )
        )
        refused = sum(1 for fee in fees for line in fee.get("list", []) if line.get("checkResult") != "PASS")
        if refused:
            raise RuntimeError(f"SFT0501 refused {refused} orders")
        lap("precalculated")
        batch_nos = ["BB" + key_of(args.run, *(str(o["outOrderNo"]) for o in chunk)) for chunk in chunks]
        await asyncio.gather(
            *(
                gw.call(
                    "SFT0502",
                    {
                        "outBatchNo": out_batch_no,
                        "taxBaseCode": args.tax_base_code,
                        "period": args.period,
                        "orders": chunk,
                    },
                )
                for out_batch_no, chunk in zip(batch_nos, chunks, strict=True)
            )
        )
        lap("submitted")
        pending = set(batch_nos)
        while pending:
            answers = await asyncio.gather(*(gw.call("SFT0503", {"outBatchNo": b}) for b in sorted(pending)))
            pending -= {a["outBatchNo"] for a in answers if a.get("status") == "COMPLETED"}
            if pending:
                await asyncio.sleep(0.05)
        lap("completed")
        states: Counter[str] = Counter()
        paid = Decimal("0.00")
        for out_batch_no in batch_nos:
            page = 1
            while True:
                answer = await gw.call("SFT0504", {"outBatchNo": out_batch_no, "pageNo": page, "pageSize": BATCH})
                for order in answer.get("list", []):
                    states[order["status"]] += 1
                    if order["status"] == "SUCCESS":
                        paid += Decimal(str(order["amount"]))
                if page * BATCH >= int(answer.get("total", 0)):
                    break
                page += 1
        lap("read back")
    finally:
        await gw.aclose()
    return {
        "payees": len(orders),
        "batches": len(chunks),
        "calls": gw.calls,
        "states": dict(states),
        "paid": str(paid),
        "phases": phases,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--merchant-no", required=True)
    parser.add_argument("--key", required=True, help="the merchant's private key, PEM")
    parser.add_argument("--file", required=True, help="CSV: name,idCardNo,mobile,bankCardNo,amount")
    parser.add_argument("--period", required=True)
    parser.add_argument("--tax-base-code", default="2000064001")
    parser.add_argument("--run", default="bare", help="names this payment, so its keys meet no other run's")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    out = asyncio.run(pay(args))
    out["wall_s"] = round(time.perf_counter() - started, 3)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
