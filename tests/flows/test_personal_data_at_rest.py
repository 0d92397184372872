"""After every way people enter a run (the demo's chain, the command line on a file, the deployment's form
on a file and on a stored payroll, a bounce re-paid to a new card, a marketing payout, a file refused for a
number pasted into its amount column), nothing Prefect
keeps — its database and WAL, result storage — nor the run journal, the payee store or the run links holds
a full ID, card or mobile number.

The scenarios run in a subprocess of their own (tests.pii_scenarios) so that Prefect's state is exactly
what ``lingong`` keeps in ``.state/prefect``, not the session's shared test harness. The sandbox's own
database is the platform's, and is left out of the scan.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.pii_scan import files, scan
from tests.pii_scenarios import people

ROOT = Path(__file__).resolve().parents[2]


def test_no_full_id_card_or_mobile_rests_in_the_state(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LINGONG_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180",
        PREFECT_LOGGING_LEVEL="INFO",
    )
    result = subprocess.run(
        [sys.executable, "-m", "tests.pii_scenarios", str(tmp_path)],
        cwd=tmp_path,  # lingong puts PREFECT_HOME in the .state/ of the directory it starts in
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    done = json.loads(result.stdout.strip().splitlines()[-1])
    assert done["end_to_end"] == ["PAID"] * 4
    assert done["cli"] == 0
    assert done["form_file"] == ["PAID"] * 2
    assert done["form_ref"] == ["PAID"] * 2
    assert done["repayment"] == "PAID"
    assert done["marketing"] == 0
    assert done["pasted"] == "PayrollRefusedError"
    assert done["paid_twice"] == []

    state = tmp_path / ".state"
    scanned = [p.relative_to(state).as_posix() for p in files([state], exclude=["/sandbox/"])]
    assert any(p.startswith("prefect/prefect.db") for p in scanned), scanned  # lingong put Prefect's state here
    assert "prefect/prefect.db-wal" in scanned or "prefect/prefect.db" in scanned
    assert "lingong.db" in scanned  # the journal and the payee store (encrypted, so it must pass too)
    with sqlite3.connect(state / "lingong.db") as db:  # and which run placed what: scanned, so present
        roles = {role for (role,) in db.execute("SELECT DISTINCT role FROM run_link")}
    assert {"onboarding", "payroll-run", "marketing-payout", "fund-account", "invoice"} <= roles, roles
    known = [n for group in people().values() for p in group for n in (p.id_card_no, p.bank_card_no, p.mobile)]
    findings = scan([state], exclude=["/sandbox/"], known=known)
    assert findings == [], "\n".join(map(str, findings))
    # the logs Prefect printed (stdout/stderr) are clean too
    logs = tmp_path / "run.log"
    logs.write_text(result.stdout + result.stderr)
    assert scan([logs], known=known) == []
