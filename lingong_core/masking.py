"""Personal data, masked for logs, artifacts and reports (domain.md).

``110101********1234`` for ID numbers, ``138****5678`` for mobiles, ``6222 **** **** 1234`` for cards,
``张*`` / ``张**`` for names. :func:`mask_mapping` masks the personal fields of a bizModel by name;
:func:`scrub` masks anything in free text that looks like an ID, card or mobile number, and
:class:`MaskingFilter` applies it to every log record as a second line of defence.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any


def mask_name(name: str) -> str:
    """Keep the first character (the family name): ``张三丰`` → ``张**``."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_id(id_no: str) -> str:
    """``110101199003071234`` → ``110101********1234`` (first 6, last 4)."""
    text = (id_no or "").strip()
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def mask_mobile(mobile: str) -> str:
    """``13812345678`` → ``138****5678``."""
    text = (mobile or "").strip()
    if len(text) < 8:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


def mask_card(card_no: str) -> str:
    """``6222021234567890123`` → ``6222 **** **** 0123``."""
    digits = "".join((card_no or "").split())
    if len(digits) <= 8:
        return "*" * len(digits)
    return f"{digits[:4]} **** **** {digits[-4:]}"


_BY_FIELD = {
    "name": mask_name,
    "realName": mask_name,
    "freelancerName": mask_name,
    "payeeName": mask_name,
    "bankAcctName": mask_name,
    "acctName": mask_name,
    "idCard": mask_id,
    "idCardNo": mask_id,
    "idNo": mask_id,
    "certNo": mask_id,
    "mobile": mask_mobile,
    "phone": mask_mobile,
    "mobileNo": mask_mobile,
    "bankCardNo": mask_card,
    "cardNo": mask_card,
    "bankAcctNo": mask_card,
    "payeeAcctNo": mask_card,
    "payeeBankAcctNo": mask_card,
    "payerBankAcctNo": mask_card,
    "acctNo": mask_card,
}

_SECRET_FIELDS = frozenset({"sign", "privateKey", "private_key", "signature"})


def mask_mapping(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with personal fields masked and secrets removed, recursively."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in _SECRET_FIELDS:
            out[key] = "<redacted>"
        elif key in _BY_FIELD and isinstance(value, str):
            out[key] = _BY_FIELD[key](value)
        elif isinstance(value, Mapping):
            out[key] = mask_mapping(value)
        elif isinstance(value, list):
            out[key] = [mask_mapping(v) if isinstance(v, Mapping) else _scrub_any(v) for v in value]
        else:
            out[key] = _scrub_any(value)
    return out


def _scrub_any(value: Any) -> Any:
    return scrub(value) if isinstance(value, str) else value


# An ID number: a region code, a birth date (19xx/20xx), a sequence and a check character.
_ID_RE = re.compile(
    r"(?<![0-9A-Za-z])[1-8]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])"
)
# A card number: 15-19 digits with an issuer's leading digit (3, 4, 5, 6 or 9); timestamps and the
# platform's order numbers, which start with 1 or 2, are left readable.
_CARD_RE = re.compile(r"(?<!\d)([34569]\d{3})(\d{7,11})(\d{4})(?!\d)")
_MOBILE_RE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_PEM_RE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S)


#: What every pattern above needs: a digit, or a PEM armour line.
_MAYBE_PERSONAL = re.compile(r"\d|-----BEGIN")


def scrub(text: str) -> str:
    """Mask anything in ``text`` shaped like an ID number, a card number, a mobile or a private key."""
    if not _MAYBE_PERSONAL.search(text):  # most texts (an order's empty fail message) hold nothing to mask
        return text
    text = _PEM_RE.sub("<private key redacted>", text)
    text = _ID_RE.sub(_mask_id_match, text)
    text = _MOBILE_RE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return _CARD_RE.sub(lambda m: f"{m.group(1)} **** **** {m.group(3)}", text)


def _mask_id_match(m: re.Match[str]) -> str:
    whole = m.group(0)
    return whole[:6] + "********" + whole[-4:]


class MaskingFilter(logging.Filter):
    """A logging filter that scrubs personal data from every record's rendered message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logging module's to report
            return True
        masked = scrub(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
