"""The scan finds full numbers wherever they are, and only real ones: not order numbers, timestamps or hashes."""

from __future__ import annotations

import json
from pathlib import Path

from lingong_sandbox.people import bad_checksum, team
from tests.pii_scan import scan


def test_it_finds_ids_cards_and_mobiles_but_not_order_numbers(tmp_path: Path) -> None:
    p = team(1, seed=1234)[0]
    leak = tmp_path / "prefect.db-wal"
    leak.write_bytes(
        b"\x00\x13junk"
        + json.dumps({"payees": [{"id_card_no": p.id_card_no, "mobile": p.mobile, "card": p.bank_card_no}]}).encode()
        + b"\x00"
    )
    kinds = sorted({f.kind for f in scan([tmp_path])})
    assert kinds == ["card", "id", "mobile"]
    assert all(p.id_card_no not in str(f) for f in scan([tmp_path]))  # findings are masked themselves

    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "log.txt").write_text(
        "order 2026120200000025 batch 2026120200000016 at 1764576000 (1764576000123 ms) "
        f"hash a1b2{p.mobile}c3 id {bad_checksum(p.id_card_no)} masked {p.id_card_no[:6]}********{p.id_card_no[-4:]} "
        'Twilio examples ["18001234567"] outOrderNo 6200000000000000001x '
        "run 71cf69c7-1bdf-4c59-83dd-6260079430022026-12-03 16:35:19"  # a UUID, then a date column (SQLite)
    )
    assert scan([clean]) == []
    assert [f.kind for f in scan([clean], known=[p.mobile])] == ["known person's"]  # exact numbers, anywhere
