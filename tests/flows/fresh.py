"""A sandbox of one's own for a flow test whose books must hold only what the test did (a month-end close
reads the whole ledger): its own platform, run journal and documents folder, pointed at through the same
``LINGONG_*`` environment the session's sandbox uses, restored afterwards."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lingong_core.signing import generate_key_pair, private_key_to_pem, public_key_to_pem
from lingong_sandbox.server import SandboxServer
from lingong_sandbox.settings import Delays, SandboxSettings
from tests.flows.conftest import Platform


@contextmanager
def fresh_platform(state: Path, *, time_scale: float = 500.0, delays: Delays | None = None) -> Iterator[Platform]:
    merchant_private, merchant_public = generate_key_pair(1024)
    settings = SandboxSettings(time_scale=time_scale, delays=delays or Delays())
    with SandboxServer(
        settings, merchant_public_key_pem=public_key_to_pem(merchant_public), db_path=state / "sandbox.db"
    ) as server:
        env = {
            "LINGONG_BASE_URL": server.base_url,
            "LINGONG_MERCHANT_NO": settings.merchant.merchant_no,
            "LINGONG_PRIVATE_KEY": private_key_to_pem(merchant_private),
            "LINGONG_PLATFORM_PUBLIC_KEY": server.platform_public_key_pem,
            "LINGONG_JOURNAL_DB": str(state / "journal.db"),
            "LINGONG_DOCUMENTS_URL": str(state / "documents"),
        }
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            yield Platform(server)
        finally:
            gc.collect()  # the clients' leftover sockets, while the test's warning filter still applies
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


async def bind_enterprise_account(bank_acct_no: str = "6226090000000001") -> str:
    """Bind an enterprise bank account to withdraw to (SFT0311) on the platform the environment points at;
    its bindNo."""
    from tasks.common import open_client

    async with open_client() as client:
        bound = await client.account.bind_bank_account(
            bank_acct_name="灵工示例科技有限公司", bank_acct_no=bank_acct_no, bank_name="招商银行深圳分行"
        )
    return bound.bind_no
