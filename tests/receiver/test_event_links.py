"""Events name the flow run that placed what they are about (lingong_store.links), and the 8001s of one
onboarding batch share a signing group, so the contract-signed trigger runs once per batch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from lingong_receiver import Receiver, Store
from lingong_store.db import Database, sqlite_url
from lingong_store.links import RunLinks
from tests.receiver.receiver_helpers import BIZ_BY_TYPE, MERCHANT_NO, Clock, RecordingEmitter, body

Keys = tuple[rsa.RSAPrivateKey, rsa.RSAPublicKey]
PAYROLL_RUN = "0b6f3c1e-1111-4a5b-9c3d-000000000001"
ONBOARDING_RUN = "0b6f3c1e-2222-4a5b-9c3d-000000000002"


def test_links_point_numbers_at_the_latest_run_and_group_a_batch(tmp_path: Path) -> None:
    with Database(sqlite_url(tmp_path / "lingong.db")) as db:
        links = RunLinks(db)
        assert links.find(["lingong.settlement.B1"]) == []
        assert links.link({"lingong.settlement.B1": "OB1"}, flow_run_id="old", role="payroll-run") == 1
        links.link(
            {"lingong.settlement.B1": "OB1"}, flow_run_id=PAYROLL_RUN, flow_run_name="big-run", role="payroll-run"
        )
        links.link(
            {"lingong.contract.C1": "F1", "lingong.contract.C2": "F2"},
            flow_run_id=ONBOARDING_RUN,
            role="onboarding",
            group_id=ONBOARDING_RUN,
        )
        (batch,) = links.find(["lingong.settlement.B1", "lingong.settlement.NONE"])
        assert (batch.flow_run_id, batch.flow_run_name, batch.detail) == (PAYROLL_RUN, "big-run", "OB1")
        group = links.group(ONBOARDING_RUN)
        assert [(x.resource_id, x.detail) for x in group] == [
            ("lingong.contract.C1", "F1"),
            ("lingong.contract.C2", "F2"),
        ]
        assert links.group("") == []


def _receiver(db_path: Path, keys: Keys, links: RunLinks | None) -> tuple[Receiver, RecordingEmitter]:
    emitter = RecordingEmitter()
    receiver = Receiver(
        Store(db_path),
        merchant_no=MERCHANT_NO,
        platform_public_key=keys[1],
        emitter=emitter,
        clock=Clock(),
        links=links,
    )
    return receiver, emitter


def _flow_runs(related: list[dict[str, str]]) -> list[dict[str, str]]:
    return [r for r in related if r["prefect.resource.id"].startswith("prefect.flow-run.")]


def test_a_settlement_event_relates_the_payroll_run_that_placed_the_batch(
    tmp_path: Path, db_path: Path, platform_keys: Keys
) -> None:
    batch_no = BIZ_BY_TYPE["3001"]["batchNo"]
    with Database(sqlite_url(tmp_path / "lingong.db")) as db:
        links = RunLinks(db)
        links.link(
            {f"lingong.settlement.{batch_no}": "OB1"},
            flow_run_id=PAYROLL_RUN,
            flow_run_name="big-run",
            role="payroll-run",
        )
        receiver, emitter = _receiver(db_path, platform_keys, links)
        receiver.handle(body(platform_keys[0], notify_type="3001"))
        receiver.store.close()
    (event,) = emitter.events
    assert event.resource["prefect.resource.id"] == f"lingong.settlement.{batch_no}"  # the platform's number
    assert _flow_runs(event.related) == [
        {
            "prefect.resource.id": f"prefect.flow-run.{PAYROLL_RUN}",
            "prefect.resource.role": "flow-run",
            "prefect.resource.name": "big-run",
            "lingong.placed-by": "payroll-run",
        }
    ]
    assert {
        "prefect.resource.id": "lingong.order.PAY-2024-03-A-0001",
        "prefect.resource.role": "order",
    } in event.related


def test_the_8001s_of_one_onboarding_batch_share_a_signing_group(
    tmp_path: Path, db_path: Path, platform_keys: Keys
) -> None:
    biz: dict[str, Any] = dict(BIZ_BY_TYPE["8001"])
    with Database(sqlite_url(tmp_path / "lingong.db")) as db:
        links = RunLinks(db)
        links.link(
            {"lingong.contract.C-A": "F-A", "lingong.contract.C-B": "F-B"},
            flow_run_id=ONBOARDING_RUN,
            role="onboarding",
            group_id=ONBOARDING_RUN,
        )
        receiver, emitter = _receiver(db_path, platform_keys, links)
        for number, contract in (("N-A", "C-A"), ("N-B", "C-B"), ("N-OTHER", "C-OTHER")):
            biz.update(contractNo=contract)
            receiver.handle(body(platform_keys[0], notify_type="8001", notify_no=number, biz=dict(biz)))
        receiver.store.close()
    first, second, other = emitter.events
    for event in (first, second):
        assert event.resource["lingong.onboarding-run"] == ONBOARDING_RUN
        assert event.resource["lingong.signing-group"] == f"onboarding-{ONBOARDING_RUN}"
        assert _flow_runs(event.related)[0]["lingong.placed-by"] == "onboarding"
    # a contract no lingong onboarding generated is a group of its own, so it is checked alone
    assert other.resource["lingong.onboarding-run"] == ""
    assert other.resource["lingong.signing-group"] == "contract-lingong.contract.C-OTHER"
    assert _flow_runs(other.related) == []


def test_without_links_or_when_they_cannot_be_read_the_event_still_goes_out(
    tmp_path: Path, db_path: Path, platform_keys: Keys
) -> None:
    plain, emitter = _receiver(db_path, platform_keys, None)
    plain.handle(body(platform_keys[0], notify_type="8001", notify_no="N-1"))
    plain.store.close()
    db = Database(sqlite_url(tmp_path / "gone.db"))
    links = RunLinks(db)
    db.dispose()
    (tmp_path / "gone.db").unlink()
    (tmp_path / "gone.db").mkdir()  # a directory where the database was: every read fails
    broken, emitted = _receiver(tmp_path / "other.db", platform_keys, links)
    broken.handle(body(platform_keys[0], notify_type="3001", notify_no="N-2"))
    broken.store.close()
    assert len(emitter.events) == 1
    assert len(emitted.events) == 1
    assert _flow_runs(emitted.events[0].related) == []
