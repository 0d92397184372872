"""tasks.onboarding.Freelancer: the person onboarding sends to the platform is checked by the payroll's own rules
(lingong_payroll.payees), whoever builds one, and a broken rule never shows the full number."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lingong_payroll.payees import Payee
from lingong_sandbox.people import team
from tasks.onboarding import Freelancer
from tests.sandbox.factories import with_bad_check

PERSON = team(1, seed=2026)[0]


def _fields(**changed: str) -> dict[str, str]:
    fields = {
        "name": PERSON.name,
        "id_card_no": PERSON.id_card_no,
        "mobile": PERSON.mobile,
        "bank_card_no": PERSON.bank_card_no,
    }
    return {**fields, **changed}


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("id_card_no", with_bad_check(PERSON.id_card_no), "check character does not match"),
        ("id_card_no", PERSON.id_card_no + "7", "must be 18 characters"),
        ("mobile", PERSON.bank_card_no, "11-digit mainland mobile number"),
        ("bank_card_no", "6222 02x1 2345", "must be 12 to 19 digits"),
        ("name", "张3", "no digits or control characters"),
        ("name", "  ", "is required"),
    ],
)
def test_a_broken_rule_is_refused_naming_the_field_and_the_rule_masked(field: str, value: str, rule: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Freelancer(**_fields(**{field: value}))
    errors = refused.value.errors()
    assert [e["loc"] for e in errors] == [(field,)]
    assert rule in errors[0]["msg"]
    text = str(refused.value)
    numbers = [PERSON.id_card_no, PERSON.bank_card_no] + ([value] if field != "name" else [])
    for number in numbers:
        assert number not in text


def test_fields_are_normalised_as_a_payroll_row_is() -> None:
    full_width = PERSON.id_card_no.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    freelancer = Freelancer(
        **_fields(
            name=f" {PERSON.name[0]} {PERSON.name[1:]} ",
            id_card_no=full_width.lower(),
            mobile=f"+86 {PERSON.mobile[:3]} {PERSON.mobile[3:7]} {PERSON.mobile[7:]}",
            bank_card_no=f"{PERSON.bank_card_no[:4]}-{PERSON.bank_card_no[4:]}",
        )
    )
    payee = Payee(**_fields(), amount="1.00")  # type: ignore[arg-type]
    assert (freelancer.name, freelancer.id_card_no, freelancer.mobile, freelancer.bank_card_no) == (
        payee.name,
        payee.id_card_no,
        payee.mobile,
        payee.bank_card_no,
    )
    assert PERSON.id_card_no not in repr(freelancer)
    assert PERSON.bank_card_no not in repr(freelancer)
