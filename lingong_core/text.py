"""Text as people type it, normalised once: what a payroll cell holds and what the platform compares.

Chinese input methods type full-width digits, letters and brackets (``１１０１０１…``, ``（元）``);
spreadsheets and web forms carry no-break spaces (U+00A0), ideographic spaces (U+3000) and invisible
format characters (zero-width space U+200B, word joiner U+2060, a stray BOM U+FEFF). Two spellings of
one name that differ only in those are the same person; the platform must never store one and refuse
the other.

:func:`normalise_text` is applied to every cell and form field before validation: Unicode NFKC
(full-width → ASCII), invisible format characters (category Cf) removed, whitespace of every kind
trimmed and inner runs collapsed to one space. :func:`normalise_name` is what names are compared by, here
and in the sandbox's name checks: a Chinese name (any Han character in it) loses every inner space, and
the separator of minority names (买买提·艾力) is always the middle dot U+00B7, whichever look-alike was
typed (``•``, ``・``, ``‧``, ``.``, ``．``).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MIDDLE_DOT", "has_han", "normalise_name", "normalise_text"]

MIDDLE_DOT = "\u00b7"
#: Look-alikes of the middle dot typed in minority names (after NFKC: full-width forms are folded already).
_DOTS = re.compile(r"\s*[\u00b7\u2022\u2027\u2219\u22c5\u30fb\u0387\u16eb\u2e31.]+\s*")
_SPACE = re.compile(r"\s+")
#: The format characters (Unicode category Cf, as of Unicode 15): invisible, and never part of a name or number.
_FORMAT = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def normalise_text(text: str) -> str:
    """NFKC, invisible format characters removed, whitespace trimmed and inner runs made one space."""
    if text.isalnum() and (text.isascii() or unicodedata.is_normalized("NFKC", text)):
        return text  # letters and digits only (no space, no format character) and NFKC already: as it is
    if not text.isascii():  # ASCII is NFKC already and holds no format character
        text = _FORMAT.sub("", unicodedata.normalize("NFKC", text))
    return " ".join(text.split())  # str.split() splits on every kind of whitespace, as \s does


def has_han(text: str) -> bool:
    """Whether ``text`` holds a Chinese (Han) character."""
    return any("\u3400" <= ch <= "\u9fff" or "\U00020000" <= ch <= "\U0003134f" for ch in text)


def normalise_name(name: str) -> str:
    """A person's name as it is compared: :func:`normalise_text`, and for a Chinese name no inner space
    and the minority-name separator always ``·`` (U+00B7)."""
    text = normalise_text(name)
    if not has_han(text):
        return text
    text = _DOTS.sub(MIDDLE_DOT, text)
    return _SPACE.sub("", text)
