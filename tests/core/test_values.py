"""Money, time and the wire's JSON (contract §7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from lingong_core import jsoncodec
from lingong_core.errors import InputError
from lingong_core.money import Money, PositiveMoney, SignedMoney, fmt_yuan, to_money
from lingong_core.timeutil import (
    SHANGHAI,
    ShanghaiDateTime,
    format_datetime,
    format_timestamp,
    parse_datetime,
    parse_timestamp,
)


class Payout(BaseModel):
    amount: PositiveMoney
    fee: Money = Decimal("0")
    change: SignedMoney = Decimal("0")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234.5", "1234.50"),
        (Decimal("0.01"), "0.01"),
        (200021, "200021.00"),
        ("¥1,000.00", "1000.00"),
        (" 88 ", "88.00"),
        (Decimal("1E+2"), "100.00"),
    ],
)
def test_money_parses_decimal_int_and_text(raw, expected) -> None:
    assert to_money(raw) == Decimal(expected)
    assert str(to_money(raw)) == expected


def test_money_refuses_floats() -> None:
    with pytest.raises(InputError, match="float"):
        to_money(0.1)
    with pytest.raises(ValidationError, match="float"):
        Payout(amount=100.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("0.001", "2 decimal places"),
        ("-1", "negative"),
        ("abc", "number of yuan"),
        ("NaN", "finite"),
        ("1e30", "at most"),
        (True, "amount"),
        (None, "amount"),
    ],
)
def test_money_refuses_bad_amounts_naming_the_rule(raw, rule) -> None:
    with pytest.raises(InputError, match=rule) as caught:
        to_money(raw, field="amount")
    assert caught.value.field == "amount"


def test_payouts_must_be_more_than_zero_fees_may_be_zero_ledger_changes_may_be_negative() -> None:
    with pytest.raises(ValidationError) as caught:
        Payout(amount="0")
    assert "amount" in str(caught.value)
    assert "more than 0" in str(caught.value)
    p = Payout(amount="10", fee="0", change="-10.60")
    assert (p.amount, p.fee, p.change) == (Decimal("10.00"), Decimal("0.00"), Decimal("-10.60"))


def test_money_serialises_as_a_two_place_decimal_and_a_json_number() -> None:
    dumped = Payout(amount="1234.5").model_dump()
    assert dumped["amount"] == Decimal("1234.50")
    assert jsoncodec.dumps(dumped) == '{"amount":1234.5,"fee":0,"change":0}'


def test_fmt_yuan() -> None:
    assert fmt_yuan(Decimal("1234567.5")) == "¥1,234,567.50"


def test_jsoncodec_is_compact_keeps_utf8_and_refuses_floats() -> None:
    assert jsoncodec.dumps({"a": [1, True, None], "名": "张三", "m": Decimal("0.10")}) == (
        '{"a":[1,true,null],"名":"张三","m":0.1}'
    )
    with pytest.raises(TypeError):
        jsoncodec.dumps({"a": 1.5})
    assert jsoncodec.loads('{"a":0.1,"b":2}') == {"a": Decimal("0.1"), "b": 2}
    with pytest.raises(ValueError, match="NaN"):
        jsoncodec.loads('{"a":NaN}')


def test_datetimes_accept_the_string_form_and_epoch_millis() -> None:
    seed_millis = 1709540429621  # the seed's rechargeTime
    assert format_datetime(parse_datetime(seed_millis)) == "2024-03-04 16:20:29"
    assert parse_datetime("2024-03-04 16:20:29") == datetime(2024, 3, 4, 16, 20, 29, tzinfo=SHANGHAI)
    assert parse_datetime("1709540429621") == parse_datetime(seed_millis)
    utc = datetime(2024, 3, 4, 8, 20, 29, tzinfo=UTC)
    assert format_datetime(utc) == "2024-03-04 16:20:29"
    with pytest.raises(InputError, match="yyyy-MM-dd"):
        parse_datetime("04/03/2024")


def test_the_wire_form_read_again_is_the_same_and_out_of_range_is_still_refused() -> None:
    """The wire's own form is remembered once read (pages of 1,000 orders repeat a few seconds): reading it
    again gives the same moment, and a remembered refusal stays a refusal."""
    for _ in range(2):
        assert parse_datetime(" 2026-11-30 23:59:59 ") == datetime(2026, 11, 30, 23, 59, 59, tzinfo=SHANGHAI)
        with pytest.raises(InputError, match="yyyy-MM-dd"):
            parse_datetime("2026-13-01 00:00:00")
    shanghai = datetime(2026, 11, 30, 23, 59, 59, tzinfo=SHANGHAI)
    assert format_datetime(shanghai) == format_datetime(shanghai.astimezone(UTC)) == "2026-11-30 23:59:59"
    assert format_datetime(datetime(2026, 11, 30, 23, 59, 59)) == "2026-11-30 23:59:59"  # naive: Shanghai


def test_json_numbers_drop_trailing_zeros_down_to_the_fen_and_keep_finer_digits() -> None:
    cases = {
        "1234.50": "1234.5",
        "100.00": "100",
        "0.00": "0",
        "-0.00": "0",
        "-5.10": "-5.1",
        "1E+2": "100",
        "0.0600": "0.06",
        "0.0650": "0.0650",  # finer than a fen: written as given
        "12.3450": "12.3450",
        "0.001": "0.001",
    }
    assert {raw: jsoncodec.dumps(Decimal(raw)) for raw in cases} == cases
    assert (
        jsoncodec.dumps([{"a": Decimal("1.20"), "b": "x", "c": [1, None, True]}])
        == '[{"a":1.2,"b":"x","c":[1,null,true]}]'
    )


def test_shanghai_datetime_field() -> None:
    class M(BaseModel):
        at: ShanghaiDateTime

    assert M(at=1709540429621).model_dump()["at"] == "2024-03-04 16:20:29"
    with pytest.raises(ValidationError, match="at"):
        M(at="soon")


def test_envelope_timestamps_are_shanghai_time() -> None:
    moment = datetime(2024, 3, 4, 8, 20, 30, tzinfo=UTC)
    assert format_timestamp(moment) == "20240304162030"
    assert parse_timestamp("20240304162030") == moment
    assert parse_timestamp("20240304162030").utcoffset() == timedelta(hours=8)
    for bad in ("2024030416203", "2024-03-04 16:20", "20241304162030"):
        with pytest.raises(InputError, match="timestamp"):
            parse_timestamp(bad)
