"""One payee of a payroll, validated the way the platform will judge it — before anything is sent.

The rules (domain.md): an 18-character ID number with a valid GB 11643 check character and birth date
(python-stdnum), a mobile ``^1[3-9]\\d{9}$``, a bank card of 12–19 digits, an amount in yuan > 0 with
at most two decimals. A card failing the Luhn check is *flagged*, not refused: some real Chinese debit
cards fail it, and only the platform (per merchant setting) may refuse them. Every error names the
field and the rule, and shows the value masked. Every field is normalised first (lingong_payroll.normalise:
full-width digits folded, every kind of space trimmed, a Chinese name's inner spaces removed); the
amount rules are :func:`lingong_payroll.normalise.parse_amount`'s.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationInfo, WithJsonSchema, field_validator
from pydantic.dataclasses import dataclass as pydantic_dataclass
from stdnum import luhn
from stdnum.cn import ric

from lingong_core.errors import InputError
from lingong_core.masking import mask_card, mask_id, mask_mobile, mask_name
from lingong_core.text import normalise_name, normalise_text

from .normalise import optional_text, parse_amount

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
CARD_RE = re.compile(r"^\d{12,19}$")
MAX_NAME = 50
MAX_REMARK = 100
# Amounts travel as text in forms and parameters: a JSON number would arrive as a binary float.
AMOUNT_SCHEMA = {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "examples": ["1234.50"]}


def check_name(value: Any) -> str:
    # the platform compares names the same way (lingong_core.text); blank exactly when the text is
    name = normalise_name(value) if isinstance(value, str) else ""
    if not name:
        raise InputError("name", "is required")
    if len(name) > MAX_NAME:
        raise InputError("name", f"must be at most {MAX_NAME} characters", mask_name(name))
    if not name.isalpha() and (any(ch.isdigit() for ch in name) or any(ord(ch) < 32 for ch in name)):
        raise InputError("name", "must be a person's name (no digits or control characters)", mask_name(name))
    return name


def check_id_card_no(value: Any) -> str:
    text = "".join(normalise_text(value).split()).upper() if isinstance(value, str) else ""  # NFKC folds １ and Ｘ
    if not text:
        raise InputError("idCardNo", "is required")
    if len(text) != 18:
        raise InputError("idCardNo", "must be 18 characters", mask_id(text))
    if not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        raise InputError("idCardNo", "must be 17 digits and a digit or X", mask_id(text))
    if ric.calc_check_digit(text) != text[17]:
        raise InputError("idCardNo", "check character does not match (GB 11643-1999)", mask_id(text))
    try:  # the birth date, digits 7–14 (yyyyMMdd), read as ric.get_birth_date reads it but without cleaning
        # the number once more: that took 3 of its 3.6 µs, 0.3 s of CPU at 100,000 payees
        date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise InputError("idCardNo", "the birth date inside it is not a real date", mask_id(text)) from None
    # The region code is not checked: people keep the code of where they first registered, and
    # python-stdnum's region table would refuse codes created after their birth year.
    return text


def check_mobile(value: Any) -> str:
    text = "".join(normalise_text(str(value or "")).split()).removeprefix("+86")
    if not MOBILE_RE.match(text):
        raise InputError("mobile", "must be an 11-digit mainland mobile number (^1[3-9]\\d{9}$)", mask_mobile(text))
    return text


def check_bank_card_no(value: Any) -> str:
    text = "".join(normalise_text(str(value or "")).split()).replace("-", "")
    if not CARD_RE.match(text):
        raise InputError("bankCardNo", "must be 12 to 19 digits", mask_card(text) if text.isdigit() else None)
    return text


def luhn_ok(card_no: str) -> bool:
    return bool(luhn.is_valid(card_no))


def _as_value_error(exc: InputError) -> ValueError:
    return ValueError(exc.rule + (f" (got {exc.value})" if exc.value else ""))


#: Each of a person's fields and its rule (above): a payee's, and a freelancer's to onboard (tasks.onboarding).
PERSON_CHECKS: dict[str, Callable[[Any], str]] = {
    "name": check_name,
    "id_card_no": check_id_card_no,
    "mobile": check_mobile,
    "bank_card_no": check_bank_card_no,
}


def person_field(field: str, value: Any) -> str:
    """``value`` checked and normalised by the rule of the person's ``field`` (:data:`PERSON_CHECKS`), for a
    pydantic validator: a broken rule becomes the ValueError pydantic reports under that field, value masked."""
    try:
        return PERSON_CHECKS[field](value)
    except InputError as exc:
        raise _as_value_error(exc) from None


# hide_input_in_errors: a validation error must never carry a full ID or card number into a log.
@pydantic_dataclass(
    frozen=True,
    slots=True,
    kw_only=True,
    repr=False,
    config=ConfigDict(extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True),
)
class Payee:
    """A person to pay, with the amount for this payroll.

    A slotted pydantic dataclass rather than a model: a run holds one per payee, and a model's per-instance
    dict and field set made it 1,321 B where this is ~460 B (measured). It validates the same way, in
    ``Payee(...)`` and in :meth:`validate` (which takes the per-line ceiling).
    """

    name: str = Field(description="Full name as on the ID card (姓名)")
    id_card_no: str = Field(description="18-character resident ID number (身份证号)")
    mobile: str = Field(description="Mainland mobile number (手机号)")
    bank_card_no: str = Field(description="Debit card number to pay into (银行卡号)")
    amount: Annotated[Decimal, WithJsonSchema(AMOUNT_SCHEMA)] = Field(
        description='Amount to pay in yuan, as text, e.g. "1234.50" (金额)'
    )
    remark: str = Field(default="", max_length=MAX_REMARK, description="Note shown on the order (备注)")

    @field_validator("name", "id_card_no", "mobile", "bank_card_no", "amount", mode="before")
    @classmethod
    def _check(cls, value: Any, info: ValidationInfo) -> Any:
        """Each field's rule (above); an InputError becomes pydantic's error for that field.

        The amount's per-line ceiling comes from the validation context (``{"max_amount": Decimal}``);
        without one there is none here (the platform's per-order limit still applies)."""
        if info.field_name != "amount":
            return person_field(str(info.field_name), value)
        try:
            return parse_amount(value, max_amount=(info.context or {}).get("max_amount"))
        except InputError as exc:
            raise _as_value_error(exc) from None

    @field_validator("remark", mode="before")
    @classmethod
    def _remark(cls, value: Any) -> str:
        """An optional note: blank, a number or a date are all fine (as text)."""
        return optional_text(value)

    @property
    def luhn_valid(self) -> bool:
        return luhn_ok(self.bank_card_no)

    def masked(self) -> dict[str, str]:
        """The payee as it may appear in logs, artifacts and reports."""
        return {
            "name": mask_name(self.name),
            "idCardNo": mask_id(self.id_card_no),
            "mobile": mask_mobile(self.mobile),
            "bankCardNo": mask_card(self.bank_card_no),
            "amount": f"{self.amount:.2f}",
        }

    def fields(self) -> dict[str, Any]:
        """Every field by its name, unmasked (for the payee store, never for a log)."""
        return {f: getattr(self, f) for f in PAYEE_FIELDS}

    @classmethod
    def validate(cls, raw: dict[str, Any], max_amount: Decimal | None = None) -> Payee:
        """A payee from a row's fields; pydantic's ValidationError names each field and rule."""
        return _PAYEE.validate_python(raw, context={"max_amount": max_amount})

    def __repr__(self) -> str:
        masked = self.masked()
        return (
            f"Payee(name={masked['name']!r}, id_card_no={masked['idCardNo']!r}, mobile={masked['mobile']!r}, "
            f"bank_card_no={masked['bankCardNo']!r}, amount={self.amount!r})"
        )

    __str__ = __repr__


PAYEE_FIELDS = ("name", "id_card_no", "mobile", "bank_card_no", "amount", "remark")
_PAYEE: TypeAdapter[Payee] = TypeAdapter(Payee)


#: What the form (the flow's JSON schema, which Prefect's UI renders and its server enforces) asks of a
#: row. Looser than the validation above (spaces, "+86", a lower-case x are normalised there), so the form
#: refuses only what can never be right; the row-by-row validation still judges everything.
ROW_FORM = {
    "name": {"minLength": 1, "maxLength": MAX_NAME, "examples": ["张伟"]},
    # No examples of numbers: an example ID, mobile or card in the schema would sit in Prefect's database
    # looking like a real person's (the descriptions say the format).
    "id_card_no": {"pattern": r"^\s*\d{17}[\dXx]\s*$"},
    "mobile": {"pattern": r"^\s*(\+86)?[\s-]*1[3-9]([\s-]*\d){9}\s*$"},
    "bank_card_no": {"pattern": r"^\s*\d([\s-]*\d){11,18}\s*$"},
    "amount": {"pattern": r"^\s*\d+(\.\d{1,2})?\s*$", "examples": ["1234.50"]},
    "remark": {"maxLength": MAX_REMARK, "examples": ["November design work"]},
}
ROW_REQUIRED = ["name", "id_card_no", "mobile", "bank_card_no", "amount"]


def _row_form(schema: dict[str, Any]) -> None:
    """The form's rules on top of the model's: required fields, patterns, examples (schema only)."""
    for name, rules in ROW_FORM.items():
        schema["properties"][name].update(rules)
        if name in ROW_REQUIRED:
            schema["properties"][name].pop("default", None)
    schema["required"] = list(ROW_REQUIRED)


class PayeeRow(BaseModel):
    """A payroll line as entered in a form or a file, before validation (every field is text).

    Validation turns rows into :class:`Payee` objects and row-level errors, so that a form with a bad
    line gets the same row-by-row report as a file. The JSON schema (the UI's form) marks the five
    fields required and gives their patterns and examples (:data:`ROW_FORM`); the model itself accepts
    any text, so that code and files reach the row-by-row validation with every error named.
    """

    model_config = ConfigDict(
        extra="forbid", hide_input_in_errors=True, coerce_numbers_to_str=True, json_schema_extra=_row_form
    )

    name: str = Field("", title="Name", description="Full name as on the ID card (姓名)")
    id_card_no: str = Field("", title="ID number", description="18-character resident ID number (身份证号)")
    mobile: str = Field("", title="Mobile", description="Mainland mobile number, 11 digits (手机号)")
    bank_card_no: str = Field("", title="Debit card", description="Debit card number, 12 to 19 digits (银行卡号)")
    amount: str = Field("", title="Amount", description='Amount in yuan, as text, e.g. "1234.50" (金额)')
    remark: str = Field("", title="Remark", description="Note shown on the order (备注), optional")

    def __repr_args__(self) -> Any:
        yield "name", mask_name(self.name)
        yield "id_card_no", mask_id(self.id_card_no)
        yield "amount", self.amount
