"""The last test of ``make integration``: after every run the stack made (the UI's form on a file, the upload
page, the notifications' follow-ups, bounces), nothing in the stack's state — Prefect's database and WAL,
result storage, the worker's and servers' logs, the run journal, the receiver's store, the payee store —
holds a full ID, card or mobile number. The sandbox's own platform database and keys are left out."""

from __future__ import annotations

import pytest

from lingong_cli.stack import StackConfig, down
from tests.integration.conftest import say
from tests.pii_scan import files, scan

pytestmark = pytest.mark.integration_slow


def test_no_full_id_card_or_mobile_rests_in_the_stacks_state(stack_config: StackConfig) -> None:
    down(stack_config, say)  # stopped, so every database is checkpointed and every log flushed
    state = stack_config.state_dir
    scanned = [p.relative_to(state).as_posix() for p in files([state], exclude=["/sandbox/"])]
    if not any(p.startswith("prefect/") for p in scanned):
        pytest.skip("no test of this session started the stack: nothing of it to scan")
    assert "worker.log" in scanned
    findings = scan([state], exclude=["/sandbox/"])
    assert findings == [], "\n".join(map(str, findings))
