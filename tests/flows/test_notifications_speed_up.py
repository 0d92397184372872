"""Waiting flows finish early when the receiver has recorded the notification, and still finish without it."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from lingong_core.config import LingongSettings
from lingong_core.signing import generate_key_pair, private_key_to_pem, public_key_to_pem
from lingong_core.timeutil import SHANGHAI
from lingong_receiver.app import create_app
from lingong_receiver.settings import build_receiver
from lingong_sandbox.server import SandboxServer
from lingong_sandbox.settings import Delays, SandboxSettings
from tasks.funding import recharge_key, sync_recharge, wait_recharge
from tests.receiver.receiver_helpers import RecordingEmitter, serve_in_thread

pytestmark = pytest.mark.usefixtures("prefect")

RECHARGE_SECONDS = 4.0  # the platform confirms a recharge after 4 s (time_scale 1)


@pytest.fixture
def slow_platform(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    """A sandbox that takes seconds, not milliseconds, whose notify URL is a receiver beside the flows."""
    merchant_private, merchant_public = generate_key_pair(1024)
    settings = SandboxSettings(time_scale=1.0, delays=Delays(recharge=RECHARGE_SECONDS))
    with SandboxServer(settings, merchant_public_key_pem=public_key_to_pem(merchant_public)) as sandbox:
        env = {
            "LINGONG_BASE_URL": sandbox.base_url,
            "LINGONG_MERCHANT_NO": settings.merchant.merchant_no,
            "LINGONG_PRIVATE_KEY": private_key_to_pem(merchant_private),
            "LINGONG_PLATFORM_PUBLIC_KEY": sandbox.platform_public_key_pem,
        }
        db = tmp_path / "notifications.db"
        receiver = build_receiver(
            lingong=LingongSettings(**{k.removeprefix("LINGONG_").lower(): v for k, v in env.items()}),
            db=db,
            emitter=RecordingEmitter(),
        )
        with serve_in_thread(create_app(receiver)) as url:
            settings.merchant.notify_url = url + "/notify"
            saved = {k: os.environ.get(k) for k in [*env, "LINGONG_RECEIVER_DB"]}
            os.environ.update(env)
            try:
                yield env, db
            finally:
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value


async def _fund_and_wait(reference: str, max_poll: float) -> float:
    when = datetime(2026, 11, 5, 9, 0, tzinfo=SHANGHAI)
    key = recharge_key("2000064001", Decimal("10.00"), when, reference)
    await sync_recharge.fn(key, "2000064001", Decimal("10.00"), when)
    started = time.monotonic()
    result = await wait_recharge.fn(key, 60.0, None, max_poll)
    assert result.status == "SUCCESS"
    return time.monotonic() - started


def test_a_notification_ends_the_wait_early_and_polling_still_ends_it_without(
    slow_platform: tuple[dict[str, str], Path],
) -> None:
    _, db = slow_platform
    # Without the receiver's store, the backoff polls at 0, .05, .15, .35, .75, 1.55, 3.15, 6.35 s …
    polled = asyncio.run(_fund_and_wait("no-receiver", max_poll=30.0))
    assert polled > RECHARGE_SECONDS + 1.5
    # … with it, the wait ends as soon as notification 1001 is recorded (just after 4 s).
    os.environ["LINGONG_RECEIVER_DB"] = str(db)
    nudged = asyncio.run(_fund_and_wait("with-receiver", max_poll=30.0))
    assert nudged < RECHARGE_SECONDS + 1.5
