"""``lingong payees`` and the ``lingong`` command's PREFECT_HOME default, run as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import update

from lingong_sandbox.people import team
from lingong_store.db import Database, sqlite_url
from lingong_store.payees import PayeeStore, generate_key, payee_sets

ROOT = Path(__file__).resolve().parents[2]


def _lingong(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LINGONG_"))}
    return subprocess.run(
        [sys.executable, "-m", "lingong_cli.main", *args],
        cwd=cwd,
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_lingong_keeps_prefect_home_in_the_projects_state(tmp_path: Path) -> None:
    code = (
        "import lingong_cli.main, os, prefect.settings as s;"
        "print(os.environ['PREFECT_HOME']); print(s.get_current_settings().home)"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**clean, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    assert out == [str(tmp_path / ".state" / "prefect")] * 2
    chosen = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**clean, "PYTHONPATH": str(ROOT), "PREFECT_HOME": "/tmp/x"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    assert chosen == ["/tmp/x"] * 2  # a PREFECT_HOME the user set is kept


def test_purge_deletes_old_sets_and_list_shows_no_person(tmp_path: Path) -> None:
    key = generate_key()
    url = sqlite_url(tmp_path / "lingong.db")
    people = team(2, seed=77)
    with Database(url) as db:
        store = PayeeStore(db, key=key)
        old, new = store.put_people(people, source="old"), store.put_people(people, source="new")
        with db.begin() as conn:
            conn.execute(
                update(payee_sets).where(payee_sets.c.ref == old).values(created_at=int(time.time()) - 3 * 86400)
            )
    env = {"LINGONG_DATABASE_URL": url, "LINGONG_PAYEE_KEY": key}
    listed = _lingong(["payees", "list"], tmp_path, **env)
    assert listed.returncode == 0, listed.stderr
    assert old in listed.stdout
    assert new in listed.stdout
    assert not any(p.id_card_no in listed.stdout or p.name in listed.stdout for p in people)
    assert _lingong(["payees", "purge", "--older-than", "soon"], tmp_path, **env).returncode == 2
    purged = _lingong(["payees", "purge", "--older-than", "2d"], tmp_path, **env)
    assert purged.returncode == 0, purged.stderr
    assert "purged 1 set(s)" in purged.stdout
    with Database(url) as db:
        store = PayeeStore(db, key=key)
        assert store.info(old) is None
        assert store.people(new)
    bad = _lingong(["payees", "purge"], tmp_path, **{**env, "LINGONG_PAYEE_RETENTION_DAYS": "-1"})
    assert bad.returncode == 1
    assert "LINGONG_PAYEE_RETENTION_DAYS: must be more than 0 days" in bad.stderr
