"""Scenario core_cost: what the core adds to the RSA signature it cannot avoid, measured without a network.

Rows:

- ``core_cost/raw-rsa2048-sign``: ``private_key.sign`` over the sign string of a real SFT0101 envelope —
  the floor of any signed call.
- ``core_cost/envelope+sign+parse`` (the issue's target, ≤ 1.3× the raw sign): what the core does per call
  around the wire — ``RequestBuilder.prepare`` (bizModel text from the request model), ``body`` (timestamp,
  sign string, signature, JSON envelope), ``read_answer`` over a canned answer and the response model.
- ``core_cost/client-call-mock``: a whole ``await client.freelancer.verify(...)`` through
  ``httpx.MockTransport`` — adds the request model's validation, httpx's request/response objects and the
  tenacity retry wrapper. No target; it shows what sits between the core and the socket.
- ``core_cost/sft0502-1000-orders`` and ``core_cost/sft0504-page-1000``: the big payloads of a payroll
  (a full settlement batch built and signed; a full page of orders read into models).

Times are CPU seconds of this thread (``time.thread_time``), not wall time: the machine is shared, and a
neighbour's burst would otherwise be billed to the core. Raw and core timings alternate in rounds and
the ratio is the median of the rounds' ratios. ``wall_s`` in these rows is CPU time per op × ops.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from decimal import Decimal
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from lingong_core import jsoncodec
from lingong_core.client import AsyncLingongClient
from lingong_core.envelope import RequestBuilder, read_answer
from lingong_core.models import freelancer as fm
from lingong_core.models import settlement as sm
from lingong_core.signing import sign_string
from lingong_sandbox.people import team

from .harness import Context, Result, measure

NAME = "core_cost"
TARGET = 1.3
MERCHANT_NO = "1088202103120003"

VERIFY_ANSWER = jsoncodec.dumps(
    {
        "code": 200,
        "msg": "success",
        "freelancerNo": "F2026011500000123",
        "verifyStatus": "VERIFIED",
        "verifyTime": "2026-01-15 10:30:00",
    }
).encode()


def _verify_request() -> fm.VerifyRequest:
    person = team(1, seed=11)[0]
    return fm.VerifyRequest(name=person.name, id_card_no=person.id_card_no, mobile=person.mobile)


def _orders_request(n: int) -> tuple[sm.SettlementRequest, list[Any]]:
    people = team(n, seed=12)
    orders = [
        sm.SettlementOrderInput(
            out_order_no=f"BENCH{i:08d}",
            name=p.name,
            id_card_no=p.id_card_no,
            mobile=p.mobile,
            bank_card_no=p.bank_card_no,
            amount=Decimal("1234.56"),
        )
        for i, p in enumerate(people)
    ]
    return sm.SettlementRequest(out_batch_no="BENCHB0001", tax_base_code="2000064001", orders=orders), people


def _page_answer(people: list[Any]) -> bytes:
    items = [
        {
            "orderNo": f"SO2026011500{i:06d}",
            "outOrderNo": f"BENCH{i:08d}",
            "batchNo": "SB202601150001",
            "outBatchNo": "BENCHB0001",
            "name": p.name[0] + "*" * (len(p.name) - 1),
            "idCardNo": p.id_card_no[:3] + "*" * 11 + p.id_card_no[-4:],
            "bankCardNo": p.bank_card_no[:6] + "*" * (len(p.bank_card_no) - 10) + p.bank_card_no[-4:],
            "amount": Decimal("1234.56"),
            "serviceAmount": Decimal("74.07"),
            "status": "SUCCESS",
            "createTime": "2026-01-15 10:30:00",
            "completeTime": "2026-01-15 10:30:12",
        }
        for i, p in enumerate(people)
    ]
    page = {"code": 200, "msg": "success", "pageNo": 1, "pageSize": len(items), "total": len(items), "list": items}
    return jsoncodec.dumps(page).encode()


def _per_op(fn: Any, n: int) -> float:
    """CPU seconds per call of ``fn`` on this thread (other processes on the 2 cores do not count)."""
    t0 = time.thread_time()
    for _ in range(n):
        fn()
    return (time.thread_time() - t0) / n


def run(ctx: Context) -> list[Result]:
    n = ctx.size(400, 4000)
    rounds = ctx.size(4, 10)
    ctx.log(f"core_cost: {n} calls in {rounds} interleaved rounds, raw sign vs the core's path")
    key = ctx.key("merchant", 2048)
    builder = RequestBuilder(MERCHANT_NO, key)
    request = _verify_request()
    pad, digest = padding.PKCS1v15(), hashes.SHA256()
    sample = builder.envelope(builder.prepare("SFT0101", request, request_no=None, writes=False))
    message = sign_string(sample).encode("utf-8")

    def raw() -> None:
        key.sign(message, pad, digest)

    def core() -> None:
        call = builder.prepare("SFT0101", request, request_no=None, writes=False)
        builder.body(call)
        fm.VerifyResponse.model_validate(read_answer(call, 200, VERIFY_ANSWER, {}))

    for _ in range(50):  # warm up: pydantic's lazy schemas, strptime's first import, OpenSSL's tables
        raw()
        core()
    raw_times: list[float] = []
    core_times: list[float] = []
    per_round = max(1, n // rounds)
    with measure() as m:
        for _ in range(rounds):
            raw_times.append(_per_op(raw, per_round))
            core_times.append(_per_op(core, per_round))
    raw_s = statistics.median(raw_times)
    core_s = statistics.median(core_times)
    ctx.shared.setdefault("rsa2048_sign_s", raw_s)
    # The median of the per-round ratios: a round slowed by a neighbour's burst slows both of its halves.
    ratio = statistics.median(c / r for c, r in zip(core_times, raw_times, strict=True))
    results = [
        Result(
            NAME,
            "core_cost/raw-rsa2048-sign",
            wall_s=raw_s * per_round * rounds,
            calls=per_round * rounds,
            peak_rss_mb=m.peak_rss_mb,
            note=f"{raw_s * 1e6:.0f} µs per signature over a {len(message)}-byte sign string",
            details={"us_per_call": raw_s * 1e6, "rounds_us": [t * 1e6 for t in raw_times]},
        ),
        Result(
            NAME,
            "core_cost/envelope+sign+parse",
            wall_s=core_s * per_round * rounds,
            calls=per_round * rounds,
            peak_rss_mb=m.peak_rss_mb,
            ratio=ratio,
            ratio_to="raw RSA-2048 sign",
            target=f"≤ {TARGET}× raw sign",
            met=ratio <= TARGET,
            note=f"{core_s * 1e6:.0f} µs per call, of which {(core_s - raw_s) * 1e6:.0f} µs is not the RSA sign",
            details={
                "us_per_call": core_s * 1e6,
                "overhead_us": (core_s - raw_s) * 1e6,
                "rounds_us": [t * 1e6 for t in core_times],
            },
        ),
    ]

    # The whole client call, through httpx's MockTransport (no socket).
    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=VERIFY_ANSWER, headers={"content-type": "application/json"})

    async def client_calls(count: int) -> float:
        async with AsyncLingongClient(
            "http://127.0.0.1:9", MERCHANT_NO, key, transport=httpx.MockTransport(handler)
        ) as client:
            fields = {"name": request.name, "id_card_no": request.id_card_no, "mobile": request.mobile}
            await client.freelancer.verify(**fields)
            t0 = time.thread_time()
            for _ in range(count):
                await client.freelancer.verify(**fields)
            return (time.thread_time() - t0) / count

    n_client = max(50, n // 2)
    with measure() as m:
        client_s = asyncio.run(client_calls(n_client))
    results.append(
        Result(
            NAME,
            "core_cost/client-call-mock",
            wall_s=client_s * n_client,
            calls=n_client,
            peak_rss_mb=m.peak_rss_mb,
            ratio=client_s / raw_s,
            ratio_to="raw RSA-2048 sign",
            note=f"{client_s * 1e6:.0f} µs per `await client.freelancer.verify(...)` over httpx.MockTransport: "
            f"{(client_s - core_s) * 1e6:.0f} µs more than the core's path (request model, httpx, tenacity)",
            details={"us_per_call": client_s * 1e6},
        )
    )

    # The big payloads of a payroll: one full batch out, one full page in.
    size = ctx.size(100, 1000)
    batch, people = _orders_request(size)
    page = _page_answer(people)
    reps = ctx.size(2, 10)

    def submit() -> None:
        built = sm.SettlementRequest.model_validate(batch.model_dump())
        builder.body(builder.prepare("SFT0502", built, request_no=None, writes=True))

    def read_page() -> None:
        call = builder.prepare(
            "SFT0504", {"outBatchNo": "BENCHB0001", "pageNo": 1, "pageSize": size}, request_no=None, writes=False
        )
        sm.BatchOrdersResponse.model_validate(read_answer(call, 200, page, {}))

    for name, fn, what in (
        (f"core_cost/sft0502-{size}-orders", submit, "validate the request model, bizModel text, sign, envelope"),
        (f"core_cost/sft0504-page-{size}", read_page, "parse the JSON page and validate it into models"),
    ):
        fn()
        fn()
        with measure() as m:
            per = _per_op(fn, reps)
        results.append(
            Result(
                NAME,
                name,
                wall_s=per * reps,
                calls=reps,
                peak_rss_mb=m.peak_rss_mb,
                ratio=per / raw_s,
                ratio_to="raw RSA-2048 sign",
                note=f"{per * 1e3:.1f} ms per call ({per / size * 1e6:.0f} µs per order): {what}",
                details={"ms_per_call": per * 1e3, "us_per_order": per / size * 1e6, "orders": size},
            )
        )
    return results
