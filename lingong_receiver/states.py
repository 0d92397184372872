"""Which state may follow which (domain.md): a notification may only move a record forward.

=============  =================================================================
kind           transitions
=============  =================================================================
recharge       PROCESSING → SUCCESS | FAILED
withdrawal     PROCESSING → SUCCESS | FAILED  (as recharge; the domain notes do not draw it)
order          ACCEPTED → PROCESSING → SUCCESS | FAILED; SUCCESS → BOUNCED (退票)
settlement     ACCEPTED → PROCESSING → COMPLETED  (the batch)
contract       CREATED → SIGNING → SIGNED | EXPIRED
invoice        APPLIED → ISSUED | REJECTED | CANCELLED
=============  =================================================================

"Forward" means reachable through one or more transitions. So a late ``PROCESSING`` after ``SUCCESS`` is
ignored, ``SUCCESS`` after ``FAILED`` (or the reverse) is ignored (both are final), and ``BOUNCED`` is
taken even when the ``SUCCESS`` before it was lost or is still on its way — but never after ``FAILED``.
Pure: no clock, no I/O.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["TRANSITIONS", "Kind", "Move", "decide", "is_known"]


class Kind(StrEnum):
    """What a state belongs to; also the middle part of a resource id ``lingong.<kind>.<number>``."""

    RECHARGE = "recharge"
    WITHDRAWAL = "withdrawal"
    ORDER = "order"
    SETTLEMENT = "settlement"
    CONTRACT = "contract"
    INVOICE = "invoice"


TRANSITIONS: dict[Kind, dict[str, frozenset[str]]] = {
    Kind.RECHARGE: {"PROCESSING": frozenset({"SUCCESS", "FAILED"}), "SUCCESS": frozenset(), "FAILED": frozenset()},
    Kind.WITHDRAWAL: {"PROCESSING": frozenset({"SUCCESS", "FAILED"}), "SUCCESS": frozenset(), "FAILED": frozenset()},
    Kind.ORDER: {
        "ACCEPTED": frozenset({"PROCESSING"}),
        "PROCESSING": frozenset({"SUCCESS", "FAILED"}),
        "SUCCESS": frozenset({"BOUNCED"}),
        "FAILED": frozenset(),
        "BOUNCED": frozenset(),
    },
    Kind.SETTLEMENT: {
        "ACCEPTED": frozenset({"PROCESSING"}),
        "PROCESSING": frozenset({"COMPLETED"}),
        "COMPLETED": frozenset(),
    },
    Kind.CONTRACT: {
        "CREATED": frozenset({"SIGNING"}),
        "SIGNING": frozenset({"SIGNED", "EXPIRED"}),
        "SIGNED": frozenset(),
        "EXPIRED": frozenset(),
    },
    Kind.INVOICE: {
        "APPLIED": frozenset({"ISSUED", "REJECTED", "CANCELLED"}),
        "ISSUED": frozenset(),
        "REJECTED": frozenset(),
        "CANCELLED": frozenset(),
    },
}


def _reachable(kind: Kind, start: str) -> frozenset[str]:
    graph = TRANSITIONS[kind]
    seen: set[str] = set()
    todo = list(graph.get(start, ()))
    while todo:
        state = todo.pop()
        if state not in seen:
            seen.add(state)
            todo.extend(graph.get(state, ()))
    return frozenset(seen)


_FORWARD: dict[Kind, dict[str, frozenset[str]]] = {
    kind: {state: _reachable(kind, state) for state in graph} for kind, graph in TRANSITIONS.items()
}


class Move(StrEnum):
    """What a reported state does to the recorded one."""

    SET = "set"  # nothing was recorded yet: the reported state is recorded
    FORWARD = "forward"  # the reported state follows the recorded one: it replaces it
    SAME = "same"  # the same state again (a redelivery, or a poll and a notification agreeing)
    BACKWARD = "backward"  # older than, or a sibling final state of, the recorded one: ignored
    UNKNOWN = "unknown"  # a state this project does not model: recorded nowhere, reported in the log


def is_known(kind: Kind, state: str) -> bool:
    return state in TRANSITIONS[kind]


def decide(kind: Kind, current: str | None, reported: str) -> Move:
    """What to do with ``reported`` when ``current`` is recorded (None: nothing yet)."""
    if not is_known(kind, reported):
        return Move.UNKNOWN
    if current is None or not is_known(kind, current):
        return Move.SET
    if reported == current:
        return Move.SAME
    if reported in _FORWARD[kind][current]:
        return Move.FORWARD
    return Move.BACKWARD
