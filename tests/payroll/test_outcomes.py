"""The payroll's decisions on a line: what the platform's answers mean, what the report and the journal say."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from lingong_payroll import outcomes
from lingong_payroll.guard import decide
from lingong_payroll.journal import JournalOrder
from lingong_payroll.keys import RunKey
from lingong_payroll.orders import Check, PlannedOrder, PlatformOrder
from lingong_payroll.payees import Payee
from lingong_payroll.plan import plan_orders
from lingong_payroll.report import Outcome, PayeeLine, PayrollReport
from lingong_sandbox.people import team

RUN = RunKey("M1", "2000064001", "2026-11")
ANN = team(1, seed=11)[0]


def planned(amount: str = "10.00") -> list[PlannedOrder]:
    payee = Payee(
        name=ANN.name, id_card_no=ANN.id_card_no, mobile=ANN.mobile, bank_card_no=ANN.bank_card_no, amount=amount
    )
    return plan_orders(RUN, [payee])


def order(key: str, status: str, amount: str = "10.00") -> PlatformOrder:
    return PlatformOrder(
        order_no="O1", out_order_no=key, batch_no="B1", out_batch_no="PB1", amount=Decimal(amount), status=status
    )


def test_a_line_is_masked_and_takes_the_platforms_state() -> None:
    (o,) = planned()
    line = outcomes.line_of(o)
    assert ANN.id_card_no not in repr(line)
    report = PayrollReport(run="R", period="2026-11", tax_base_code="T", lines=[line])
    assert ANN.id_card_no not in report.model_dump_json()
    outcomes.apply_state(line, order(o.out_order_no, "SUCCESS"), earlier=True)
    assert line.outcome == Outcome.PAID
    assert "earlier run" in line.reason
    outcomes.apply_state(line, order(o.out_order_no, "BOUNCED"), earlier=False)
    assert line.outcome == Outcome.BOUNCED
    assert "退票" in line.reason  # never without a reason
    outcomes.apply_state(line, order(o.out_order_no, "PROCESSING"), earlier=False)
    assert line.outcome == Outcome.PENDING
    outcomes.apply_state(line, order(o.out_order_no, "SUCCESS", "11.00"), earlier=False)
    assert line.outcome == Outcome.CONFLICT


def test_a_refusal_is_reported_and_a_used_key_is_left_to_the_guard() -> None:
    (o,) = planned()
    line = outcomes.line_of(o)
    assert not outcomes.apply_check(line, Check(out_order_no=o.out_order_no, passed=False, code=409, reason="used"))
    assert line.outcome == Outcome.PENDING
    assert not outcomes.apply_check(line, Check(out_order_no=o.out_order_no, passed=False, code=4501, reason="limit"))
    assert line.outcome == Outcome.REFUSED
    assert line.reason == "[4501] limit"


def test_a_line_left_unsent_after_the_last_round_is_refused_with_why_and_recorded_only_if_sent() -> None:
    (o,) = planned()
    line = outcomes.line_of(o)
    outcomes.not_submitted([line], 5)
    assert line.outcome == Outcome.REFUSED  # the operator acts on it (exit 4), never a silent PENDING
    assert "refused 5 times" in line.reason
    assert "run again" in line.reason
    assert outcomes.journal_rows(RUN, [line], sent=set()) == []  # never sent: nothing on the platform to follow
    (row,) = outcomes.journal_rows(RUN, [line], sent={o.out_order_no})
    assert row.outcome == "REFUSED"


def test_held_lines_are_reported_with_their_reason_and_never_counted_as_paid() -> None:
    (paid,) = planned("10.00")
    (edited,) = planned("12.00")
    verdict = decide([edited], [order(paid.out_order_no, "SUCCESS")])
    line = outcomes.line_of(edited)
    outcomes.hold(line, verdict.held[0], RUN)
    assert line.outcome == Outcome.HELD
    assert "--additional" in line.reason
    report = PayrollReport(run=RUN.token, period=RUN.period, tax_base_code=RUN.tax_base_code, lines=[line])
    assert report.total(Outcome.PAID) == Decimal("0.00")
    assert report.needs_operator == [line]
    assert "| **paid** | 0 | ¥0.00" in report.markdown()
    assert "| **asked** (not all paid) | 1 | ¥12.00 |" in report.markdown()
    paid_in_full = report.model_copy(update={"lines": [replace(line, outcome=Outcome.PAID)]})
    assert "| **asked** | 1 | ¥12.00 |" in paid_in_full.markdown()  # everyone paid: no "not all paid"
    assert outcomes.journal_rows(RUN, [line], sent=set()) == []


def test_the_journal_index_is_this_runs_batches_only() -> None:
    (o,) = planned()
    line = outcomes.line_of(o)
    rows = outcomes.intent_rows(RUN, "PB1", [line]) + outcomes.intent_rows(
        RunKey("M1", "2000064001", "2026-11", "BONUS"), "PB2", [line]
    )
    assert outcomes.index_batches(rows, RUN) == ["PB1"]
    assert rows[0].outcome == outcomes.SUBMITTING


def _recorded(key: str, outcome: str, amount: str = "10.00") -> JournalOrder:
    return JournalOrder(
        key, "R1", "2026-11", "2000064001", "PB1", "B1", "O1", Decimal(amount), Decimal("0.60"), outcome
    )


def test_a_bounce_after_the_run_is_caught_up_and_a_real_disagreement_is_a_difference() -> None:
    recorded = [
        _recorded("K-PAID", "PAID"),
        _recorded("K-BOUNCED-SINCE", "PAID"),
        _recorded("K-FAILED-BUT-PAID", "FAILED"),
        _recorded("K-BOUNCED-BUT-PAID", "BOUNCED"),
        _recorded("K-AMOUNT", "PAID", "12.00"),
        _recorded("K-GONE", "PAID"),
        _recorded("K-REFUSED", "REFUSED"),  # never sent: nothing to find
        _recorded("K-PENDING", "PENDING"),  # not final yet: any state will do
    ]
    states = {
        "K-PAID": order("K-PAID", "SUCCESS"),
        "K-BOUNCED-SINCE": order("K-BOUNCED-SINCE", "BOUNCED"),
        "K-FAILED-BUT-PAID": order("K-FAILED-BUT-PAID", "SUCCESS"),
        "K-BOUNCED-BUT-PAID": order("K-BOUNCED-BUT-PAID", "SUCCESS"),
        "K-AMOUNT": order("K-AMOUNT", "SUCCESS"),
        "K-PENDING": order("K-PENDING", "PROCESSING"),
    }
    assert outcomes.recorded_vs_platform(recorded, states) == [
        ("state", "K-FAILED-BUT-PAID", "recorded FAILED, platform SUCCESS"),
        ("state", "K-BOUNCED-BUT-PAID", "recorded BOUNCED, platform SUCCESS"),
        ("amount", "K-AMOUNT", "recorded 12.00, platform 10.00"),
        ("missing on platform", "K-GONE", "a run recorded it PAID"),
    ]
    caught_up = outcomes.bounced_since(recorded, states)
    assert caught_up == [_recorded("K-BOUNCED-SINCE", "BOUNCED")]
    note = outcomes.bounced_since_note([r.out_order_no for r in caught_up])
    assert note is not None
    assert "K-BOUNCED-SINCE" in note
    assert "bounced-order" in note
    assert outcomes.bounced_since_note([]) is None


def test_a_large_reports_table_shows_every_unpaid_line_first_and_is_capped() -> None:
    def line(row: int, outcome: Outcome) -> PayeeLine:
        return PayeeLine(
            row=row, name="张*", id_card_no="1101**", bank_card_no="6222 **", amount=Decimal(1), outcome=outcome
        )

    unpaid = {2: Outcome.FAILED, 7: Outcome.HELD, 9: Outcome.REFUSED}
    report = PayrollReport(
        run="R", period="2026-11", tax_base_code="T", lines=[line(r, unpaid.get(r, Outcome.PAID)) for r in range(1, 11)]
    )
    assert [t["row"] for t in report.table(5)] == ["2", "7", "9", "1", "3"]
    assert [t["row"] for t in report.table(2)] == ["2", "7"]  # the operator's lines before any paid one
    assert len(report.table()) == len(report.table(10)) == 10
