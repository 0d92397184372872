"""A recorded state only moves forward (domain.md)."""

from __future__ import annotations

import pytest

from lingong_receiver.states import TRANSITIONS, Kind, Move, decide


@pytest.mark.parametrize(
    ("kind", "current", "reported", "move"),
    [
        (Kind.ORDER, None, "PROCESSING", Move.SET),
        (Kind.ORDER, "ACCEPTED", "PROCESSING", Move.FORWARD),
        (Kind.ORDER, "PROCESSING", "SUCCESS", Move.FORWARD),
        (Kind.ORDER, "ACCEPTED", "SUCCESS", Move.FORWARD),  # PROCESSING's notification was lost
        (Kind.ORDER, "SUCCESS", "BOUNCED", Move.FORWARD),
        (Kind.ORDER, "PROCESSING", "BOUNCED", Move.FORWARD),  # the bounce overtook the success
        (Kind.ORDER, "SUCCESS", "PROCESSING", Move.BACKWARD),
        (Kind.ORDER, "BOUNCED", "SUCCESS", Move.BACKWARD),
        (Kind.ORDER, "FAILED", "SUCCESS", Move.BACKWARD),  # two final states: the first stands
        (Kind.ORDER, "SUCCESS", "FAILED", Move.BACKWARD),
        (Kind.ORDER, "FAILED", "BOUNCED", Move.BACKWARD),  # only a paid order can bounce
        (Kind.ORDER, "SUCCESS", "SUCCESS", Move.SAME),
        (Kind.ORDER, "SUCCESS", "PAID", Move.UNKNOWN),
        (Kind.RECHARGE, "PROCESSING", "SUCCESS", Move.FORWARD),
        (Kind.RECHARGE, "FAILED", "PROCESSING", Move.BACKWARD),
        (Kind.SETTLEMENT, "PROCESSING", "COMPLETED", Move.FORWARD),
        (Kind.SETTLEMENT, "COMPLETED", "PROCESSING", Move.BACKWARD),
        (Kind.CONTRACT, "SIGNING", "SIGNED", Move.FORWARD),
        (Kind.CONTRACT, "EXPIRED", "SIGNED", Move.BACKWARD),
        (Kind.CONTRACT, "SIGNED", "SIGNING", Move.BACKWARD),
        (Kind.INVOICE, "APPLIED", "CANCELLED", Move.FORWARD),
        (Kind.INVOICE, "ISSUED", "APPLIED", Move.BACKWARD),
        (Kind.WITHDRAWAL, None, "FAILED", Move.SET),
    ],
)
def test_decide(kind: Kind, current: str | None, reported: str, move: Move) -> None:
    assert decide(kind, current, reported) is move


def test_every_kind_has_a_machine_and_every_successor_is_a_state() -> None:
    assert set(TRANSITIONS) == set(Kind)
    for graph in TRANSITIONS.values():
        for successors in graph.values():
            assert successors <= set(graph)
