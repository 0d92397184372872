"""The engine's rules on personal data, cards, fees and codes, called directly (no HTTP)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from stdnum.cn import ric

from lingong_sandbox.engine import bins, codes, fees, identity
from lingong_sandbox.interface import PlatformError
from lingong_sandbox.settings import SandboxSettings

from .factories import PROVIDER_A, Rig, card_no, id_card_no, id_check_char, with_bad_check

TODAY = date(2024, 3, 4)
ROOT = Path(__file__).resolve().parents[2]


def code_of(exc: PlatformError) -> int:
    return exc.code


# -- ID numbers ------------------------------------------------------------------------------------


def test_factory_ids_agree_with_the_library() -> None:
    for seq in range(40):
        number = id_card_no(age=18 + seq, seq=seq, today=TODAY)
        assert ric.calc_check_digit(number) == number[-1], number
        assert identity.check_id(number, TODAY, 18, 65) == number
        assert ric.calc_check_digit(number) != with_bad_check(number)[-1]


def test_valid_id_passes_and_is_normalised() -> None:
    number = id_card_no(age=30, seq=7, today=TODAY)
    assert identity.check_id(number, TODAY, 18, 65) == number
    with_x = next(
        n for n in (id_card_no(age=30, seq=s, today=TODAY) for s in range(200)) if n.endswith("X")
    )  # about one number in eleven ends in X
    assert identity.check_id(with_x.lower(), TODAY, 18, 65) == with_x


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (with_bad_check(id_card_no(seq=3, today=TODAY)), codes.ID_CARD_INVALID),
        ("11010119900101123", codes.ID_CARD_INVALID),  # 17 characters
        ("1101011990010112AX", codes.ID_CARD_INVALID),
        (lambda: "99999919900101001" + id_check_char("99999919900101001"), codes.ID_CARD_INVALID),  # no province 99
        (lambda: "11010119900230001" + id_check_char("11010119900230001"), codes.ID_CARD_BIRTH_DATE_INVALID),
        (lambda: "11010120300101001" + id_check_char("11010120300101001"), codes.ID_CARD_BIRTH_DATE_INVALID),
        (id_card_no(age=17, today=TODAY), codes.AGE_OUT_OF_RANGE),
        (id_card_no(age=66, today=TODAY), codes.AGE_OUT_OF_RANGE),
    ],
)
def test_bad_ids_get_their_codes(number: object, expected: codes.Code) -> None:
    text = number() if callable(number) else number
    assert isinstance(text, str)
    with pytest.raises(PlatformError) as info:
        identity.check_id(text, TODAY, 18, 65)
    assert info.value.code == expected.code
    assert text not in info.value.msg  # the number itself is never echoed


def test_age_boundaries_are_inclusive() -> None:
    eighteen_today = id_card_no(birth=date(2006, 3, 4), today=TODAY)
    eighteen_tomorrow = id_card_no(birth=date(2006, 3, 5), today=TODAY)
    sixty_five = id_card_no(birth=date(1958, 3, 5), today=TODAY)  # 65, turns 66 tomorrow
    assert identity.check_id(eighteen_today, TODAY, 18, 65)
    assert identity.check_id(sixty_five, TODAY, 18, 65)
    with pytest.raises(PlatformError):
        identity.check_id(eighteen_tomorrow, TODAY, 18, 65)


@pytest.mark.parametrize("mobile", ["13812345678", "19912345678", "15000000000"])
def test_good_mobiles(mobile: str) -> None:
    assert identity.check_mobile(mobile) == mobile


@pytest.mark.parametrize("mobile", ["12812345678", "1381234567", "138123456789", "1381234567a", "+8613812345678"])
def test_bad_mobiles(mobile: str) -> None:
    with pytest.raises(PlatformError) as info:
        identity.check_mobile(mobile)
    assert info.value.code == codes.MOBILE_INVALID.code


def test_verification_through_the_engine() -> None:
    rig = Rig()
    p = rig.person(1)
    first = rig.call("SFT0101", p.verify_biz())
    assert first["verifyStatus"] == "VERIFIED"
    again = rig.call("SFT0101", p.verify_biz())
    assert again["freelancerNo"] == first["freelancerNo"]
    assert rig.count("eng_freelancer") == 1
    other_name = rig.refused("SFT0101", {**p.verify_biz(), "name": "李四"})
    assert other_name.code == codes.NAME_MISMATCH.code
    assert rig.refused("SFT0101", {**p.verify_biz(), "idCardNo": with_bad_check(p.id_card_no)}).code == 4101
    # The request model refuses the mobile's shape first; the platform answers with its own code.
    assert rig.refused("SFT0101", {**p.verify_biz(), "mobile": "12345678901"}).code == codes.MOBILE_INVALID.code
    young = rig.person(2, age=16)
    assert rig.refused("SFT0101", young.verify_biz()).code == codes.AGE_OUT_OF_RANGE.code
    # Malformed, not merely wrong: a 400 that names the field.
    missing = rig.refused("SFT0101", {"name": p.name, "mobile": p.mobile})
    assert missing.code == 400
    assert "idCardNo" in missing.msg


def test_age_limits_follow_settings() -> None:
    settings = SandboxSettings(min_age=16, max_age=70)
    rig = Rig(settings)
    assert rig.call("SFT0101", rig.person(3, age=16).verify_biz())["verifyStatus"] == "VERIFIED"
    assert rig.call("SFT0101", rig.person(4, age=70).verify_biz())["verifyStatus"] == "VERIFIED"


# -- BIN table and cards -----------------------------------------------------------------------------


def test_bin_table_is_real_sized_and_well_formed() -> None:
    rows = bins.table()
    banks = {r.bank_code for r in rows}
    assert {"ICBC", "CCB", "ABC", "BOC", "CMB", "COMM", "PSBC", "SPDB", "CIB", "SPABANK", "CITIC", "CEB"} <= banks
    assert len(rows) >= 100
    for bank in ("ICBC", "CCB", "ABC", "BOC", "CMB"):
        assert {r.card_type for r in rows if r.bank_code == bank} >= {"DEBIT", "CREDIT"}
    keys = [(r.bin, r.card_length) for r in rows]
    assert len(keys) == len(set(keys))
    for r in rows:
        assert re.fullmatch(r"\d{6}", r.bin)
        assert 12 <= r.card_length <= 19
        assert r.card_type in ("DEBIT", "CREDIT", "PREPAID")


@pytest.mark.parametrize(
    ("bank", "kind", "name"),
    [
        ("ICBC", "DEBIT", "中国工商银行"),
        ("CMB", "CREDIT", "招商银行"),
        ("BOC", "PREPAID", "中国银行"),
        ("COMM", "DEBIT", "交通银行"),
    ],
)
def test_lookup(bank: str, kind: str, name: str) -> None:
    info = bins.lookup(card_no(bank, kind, seq=42))
    assert (info.bank_code, info.bank_name, info.card_type, info.luhn_valid) == (bank, name, kind, True)


def test_known_real_bins() -> None:
    assert bins.lookup("6222020200112233445").card_type == "DEBIT"  # ICBC 牡丹灵通卡, 19 digits
    assert bins.lookup("6225768812345678").card_type == "CREDIT"  # CMB credit card, 16 digits
    assert bins.lookup("6228480012345678901").bank_code == "ABC"
    assert bins.lookup("6222020200112233").card_type == "UNKNOWN"  # an ICBC debit BIN at the wrong length
    assert bins.lookup("4000000000000002").card_type == "UNKNOWN"


def test_luhn_is_flagged_not_refused_by_default() -> None:
    bad = card_no("ICBC", "DEBIT", seq=9, luhn_valid=False)
    assert bins.lookup(bad).luhn_valid is False
    assert bins.check_payable(bad, luhn_strict=False).card_type == "DEBIT"
    with pytest.raises(PlatformError) as info:
        bins.check_payable(bad, luhn_strict=True)
    assert info.value.code == codes.CARD_LUHN_FAILED.code


def test_bin_lookup_answer() -> None:
    rig = Rig()
    card = card_no("CCB", "DEBIT", seq=5)
    answer = rig.call("SFT0202", {"bankCardNo": card})
    assert answer == {
        "bankCardNo": f"{card[:4]} **** **** {card[-4:]}",
        "bankCode": "CCB",
        "bankName": "中国建设银行",
        "cardType": "DEBIT",
        "luhnValid": True,
    }
    assert rig.call("SFT0202", {"bankCardNo": "4000000000000002"})["cardType"] == "UNKNOWN"


def test_card_binding_rules() -> None:
    rig = Rig()
    p, q = rig.person(1), rig.person(2)
    rig.call("SFT0101", p.verify_biz())
    rig.call("SFT0101", q.verify_biz())
    bound = rig.call("SFT0203", p.bind_biz())
    assert bound["bindStatus"] == "BOUND"
    assert rig.call("SFT0203", p.bind_biz())["bindNo"] == bound["bindNo"]  # same card again: same bindNo
    credit = {**p.bind_biz(), "bankCardNo": card_no("CMB", "CREDIT", seq=3)}
    assert rig.refused("SFT0203", credit).code == codes.CARD_NOT_DEBIT.code
    prepaid = {**p.bind_biz(), "bankCardNo": card_no("BOC", "PREPAID", seq=3)}
    assert rig.refused("SFT0203", prepaid).code == codes.CARD_NOT_DEBIT.code
    unknown = {**p.bind_biz(), "bankCardNo": "4000000000000002"}
    assert rig.refused("SFT0203", unknown).code == codes.CARD_BIN_UNKNOWN.code
    taken = {**q.bind_biz(), "bankCardNo": p.bank_card_no}
    assert rig.refused("SFT0203", taken).code == codes.CARD_BOUND_TO_OTHER.code
    wrong_name = {**p.bind_biz(), "name": q.name}
    assert rig.refused("SFT0203", wrong_name).code == codes.NAME_MISMATCH.code
    luhn_bad = {**p.bind_biz(), "bankCardNo": card_no("ABC", "DEBIT", seq=8, luhn_valid=False)}
    assert rig.call("SFT0203", luhn_bad)["luhnValid"] is False
    stranger = rig.person(3)
    assert rig.refused("SFT0203", stranger.bind_biz()).code == codes.FREELANCER_NOT_VERIFIED.code
    unbound = rig.call("SFT0204", {"bindNo": bound["bindNo"]})
    assert unbound["bindStatus"] == "UNBOUND"
    assert rig.call("SFT0203", taken)["bindStatus"] == "BOUND"  # free again, so q may bind it


def test_luhn_strict_merchant_refuses_binding() -> None:
    settings = SandboxSettings()
    settings.merchant.luhn_strict = True
    rig = Rig(settings)
    p = rig.person(1)
    rig.call("SFT0101", p.verify_biz())
    bad = {**p.bind_biz(), "bankCardNo": card_no("ABC", "DEBIT", seq=8, luhn_valid=False)}
    assert rig.refused("SFT0203", bad).code == codes.CARD_LUHN_FAILED.code


# -- fees and codes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "rate", "fee"),
    [("0.25", "0.06", "0.02"), ("100.05", "0.06", "6.00"), ("0.08", "0.065", "0.01"), ("0.07", "0.065", "0.00")],
)
def test_fee_rounds_half_up_per_order(amount: str, rate: str, fee: str) -> None:
    provider = SandboxSettings().providers[0]
    provider.fee_rate = Decimal(rate)
    assert fees.order_fee(Decimal(amount), provider) == Decimal(fee)


def test_batch_fee_is_the_sum_of_order_fees() -> None:
    provider = SandboxSettings().providers[0]
    amounts = [Decimal("0.25")] * 4  # each 0.015 → 0.02; the total's 0.06 would be a fen less per order
    assert fees.batch_fee(amounts, provider) == Decimal("0.08")


def test_codes_are_unique_and_documented() -> None:
    numbers = [c.code for c in codes.CODES]
    names = [c.name for c in codes.CODES]
    assert len(set(numbers)) == len(numbers)
    assert len(set(names)) == len(names)
    assert all(4000 <= n <= 4999 for n in numbers)
    for c in codes.CODES:
        assert getattr(codes, c.name) is c
    doc = (ROOT / "docs" / "error-codes.md").read_text(encoding="utf-8")
    assert codes.markdown_table() in doc, "regenerate docs/error-codes.md from lingong_sandbox/engine/codes.py"


def test_unknown_tax_base_code() -> None:
    rig = Rig()
    assert rig.refused("SFT0303", {"taxBaseCode": "2000069999"}).code == codes.TAX_BASE_UNKNOWN.code
    assert rig.call("SFT0303", {"taxBaseCode": PROVIDER_A})["balance"] == Decimal("0.00")


def test_region_code_may_postdate_the_birth() -> None:
    # Shenzhen Nanshan (440305) dates from 1990; people born there earlier hold numbers starting 440305.
    number = id_card_no(birth=date(1975, 6, 1), region="440305", today=TODAY)
    assert identity.check_id(number, TODAY, 18, 65) == number
