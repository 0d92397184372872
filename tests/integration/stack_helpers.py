"""Talking to the running stack from a test: Prefect's client (runs, their states and parameters), the
sandbox's admin endpoints and the platform's gateway, and hand-made notifications for the receiver."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    DeploymentFilter,
    DeploymentFilterName,
    FlowRunFilter,
    FlowRunFilterId,
)
from prefect.client.schemas.objects import Artifact, FlowRun
from prefect.client.schemas.sorting import ArtifactSort
from prefect.settings import PREFECT_API_URL, temporary_settings

from lingong_cli.stack import Stack
from lingong_core import jsoncodec
from lingong_core.client import LingongClient
from lingong_core.config import LingongSettings
from lingong_core.signing import sign_envelope
from lingong_core.timeutil import format_timestamp, now

T = TypeVar("T")

#: Follow-up deployment per notifyType, and the parameters its trigger takes from the event payload.
FOLLOW_UPS: dict[str, tuple[str, dict[str, str]]] = {
    "8001": ("contract-signed", {"contract_no": "contractNo", "freelancer_no": "freelancerNo"}),
    "3001": ("settlement-result", {"batch_no": "batchNo", "out_order_no": "outOrderNo"}),
    "5001": (
        "bounced-order",
        {"order_no": "orderNo", "out_order_no": "outOrderNo", "refund_no": "refundNo", "bounce_reason": "bounceReason"},
    ),
    "1001": ("recharge-confirmed", {"out_order_no": "outOrderNo", "order_no": "orderNo"}),
    "9001": ("invoice-result", {"apply_no": "applyNo", "out_apply_no": "outApplyNo"}),
}
FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@contextmanager
def prefect_api(stack: Stack) -> Iterator[None]:
    with temporary_settings(updates={PREFECT_API_URL: stack.config.api_url}):
        yield


def run(stack: Stack, coro_fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one coroutine against the stack's Prefect API, on a thread of its own (so that it also works
    while Playwright's synchronous API holds an event loop in this one)."""

    def target() -> T:
        with prefect_api(stack):
            return asyncio.run(coro_fn())

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(target).result()


def start_run(stack: Stack, deployment: str, parameters: dict[str, Any]) -> UUID:
    """A flow run of ``deployment`` (``flow/deployment``), as the UI's Run button creates it."""

    async def go() -> UUID:
        async with get_client() as client:
            found = await client.read_deployment_by_name(deployment)
            flow_run = await client.create_flow_run_from_deployment(found.id, parameters=parameters)
            return flow_run.id

    return run(stack, go)


def read_run(stack: Stack, run_id: UUID) -> FlowRun:
    async def go() -> FlowRun:
        async with get_client() as client:
            return await client.read_flow_run(run_id)

    return run(stack, go)


def artifacts_of(stack: Stack, run_id: UUID) -> list[Artifact]:
    """Every artifact the run created, each version of a key on its own, oldest first."""

    async def go() -> list[Artifact]:
        async with get_client() as client:
            newest_first = await client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id])),
                sort=ArtifactSort.CREATED_DESC,
            )
        return newest_first[::-1]

    return run(stack, go)


def wait_run(stack: Stack, run_id: UUID, timeout: float = 180.0) -> FlowRun:
    """Wait until the run is final; return it."""
    deadline = time.monotonic() + timeout
    while True:
        flow_run = read_run(stack, run_id)
        if flow_run.state_type is not None and flow_run.state_type.value in FINAL_STATES:
            return flow_run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {flow_run.name} still {flow_run.state_name} after {timeout:.0f} s")
        time.sleep(1.0)


def waiting_for_approval(stack: Stack) -> list[FlowRun]:
    """Every run waiting for a payment's approval (paused or suspended, tasks/approval.py)."""
    from prefect.client.schemas.filters import FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType

    async def go() -> list[FlowRun]:
        async with get_client() as client:
            return await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
                )
            )

    return run(stack, go)


def decide(stack: Stack, run_id: UUID, decision: str = "approve", approver: str = "IT approver") -> None:
    """Answer a run's approval form as the UI's Resume button does."""
    from prefect.flow_runs import aresume_flow_run

    answer = {"decision": decision, "approver": approver, "comment": f"{decision}d by the integration test"}
    run(stack, lambda: aresume_flow_run(run_id, run_input=answer))


def wait_run_approving(stack: Stack, run_id: UUID, timeout: float = 240.0) -> FlowRun:
    """Wait until the run is final, approving every payment waiting for approval meanwhile (the run's own,
    or its subflow's) — a second person who approves whatever is asked."""
    deadline = time.monotonic() + timeout
    while True:
        flow_run = read_run(stack, run_id)
        if flow_run.state_type is not None and flow_run.state_type.value in FINAL_STATES:
            return flow_run
        for waiting in waiting_for_approval(stack):
            decide(stack, waiting.id)
        if time.monotonic() > deadline:
            raise AssertionError(f"run {flow_run.name} still {flow_run.state_name} after {timeout:.0f} s")
        time.sleep(1.0)


def runs_of(stack: Stack, deployment_name: str) -> list[FlowRun]:
    """Every flow run of the deployment named ``deployment_name``."""

    async def go() -> list[FlowRun]:
        async with get_client() as client:
            return await client.read_flow_runs(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[deployment_name])), limit=200
            )

    return run(stack, go)


def triggered(flow_run: FlowRun) -> bool:
    """Whether an automation (a deployment trigger) created the run, rather than a person or a test."""
    return flow_run.created_by is not None and str(flow_run.created_by.type).upper().endswith("AUTOMATION")


def runs_by_id(stack: Stack, ids: list[UUID]) -> list[FlowRun]:
    async def go() -> list[FlowRun]:
        async with get_client() as client:
            return await client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)))

    return run(stack, go)


def eventually(read: Callable[[], T], ok: Callable[[T], bool], what: str, timeout: float = 120.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if ok(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not so after {timeout:.0f} s (last: {value!r})"[:2000])
        time.sleep(1.0)


# --- the platform ----------------------------------------------------------------------------------


def platform_client(stack: Stack) -> LingongClient:
    env = stack.env
    return LingongSettings(
        base_url=env["LINGONG_BASE_URL"],
        merchant_no=env["LINGONG_MERCHANT_NO"],
        private_key_file=env["LINGONG_PRIVATE_KEY_FILE"],
    ).client()


def admin(stack: Stack, method: str, path: str, **body: Any) -> Any:
    response = httpx.request(
        method, f"{stack.config.sandbox_url}/sandbox/admin/{path}", json=body or None, timeout=30, trust_env=False
    )
    response.raise_for_status()
    return jsoncodec.loads(response.content)


def notifications(stack: Stack, notify_type: str | None = None) -> list[dict[str, Any]]:
    """What the sandbox sent, each with its ``biz`` parsed."""
    query = f"notifications?notifyType={notify_type}" if notify_type else "notifications"
    items: list[dict[str, Any]] = admin(stack, "GET", query)["list"]
    for item in items:
        item["biz"] = jsoncodec.loads(item["bizModel"])
    return items


def fund(stack: Stack, amount: str, out_order_no: str) -> None:
    """Report a recharge straight to the platform (SFT0404) and wait until it succeeded."""
    with platform_client(stack) as client:
        client.recharge.sync(
            out_order_no=out_order_no,
            tax_base_code="2000064001",
            amount=Decimal(amount),
            service_amount=Decimal("0.00"),
            pay_channel_code="3000003",
            recharge_time=now(),
        )
        eventually(
            lambda: str(client.recharge.query(out_order_no=out_order_no).status),
            lambda status: status == "SUCCESS",
            f"recharge {out_order_no}",
            timeout=60,
        )


def notification_body(
    key: rsa.RSAPrivateKey,
    notify_type: str,
    notify_no: str,
    biz_model: str,
    merchant_no: str,
    at: datetime | None = None,
) -> bytes:
    """A notification envelope (contract §6) signed with ``key`` and stamped ``at`` (default now)."""
    envelope = {
        "notifyType": notify_type,
        "notifyNo": notify_no,
        "merchantNo": merchant_no,
        "version": "2.0",
        "timestamp": format_timestamp(at or now()),
        "bizModel": biz_model,
    }
    envelope["sign"] = sign_envelope(envelope, key)
    return jsoncodec.dumps(envelope).encode("utf-8")


def notify(stack: Stack, body: bytes) -> httpx.Response:
    return httpx.post(
        stack.config.notify_url, content=body, headers={"Content-Type": "application/json"}, timeout=30, trust_env=False
    )
