"""Projects, as pure logic: a project's business key, and which batches get a confirmation sheet.

``outProjectNo`` derives from the merchant, the service provider and the project's name, so every run
that names the same project reuses it (SFT0703 refuses a key twice, 409 with its ``projectNo``). The
project belongs to the batches paid under it, not to the payees' order keys: naming a project on a
re-run pays nobody again.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel

MAX_NAME = 100


class ProjectRefusedError(ValueError):
    """The project cannot be used as given (the message names the field and the rule). Nothing was paid."""


def check_project_name(name: str) -> str:
    text = " ".join((name or "").split())
    if not text or len(text) > MAX_NAME:
        raise ProjectRefusedError(f"project_name: 1 to {MAX_NAME} characters naming the work (e.g. 2026年11月外卖配送)")
    return text


def project_key(merchant_no: str, tax_base_code: str, project_name: str) -> str:
    """The project's ``outProjectNo`` (26 characters)."""
    digest = hashlib.blake2b("\x1f".join((merchant_no, tax_base_code, project_name)).encode(), digest_size=20)
    return "PJ" + digest.hexdigest()[:24].upper()


class ProjectRef(BaseModel):
    project_no: str
    out_project_no: str
    project_name: str
    created: bool  # False: an earlier run created it


class Confirmation(BaseModel):
    out_batch_no: str
    batch_no: str = ""
    confirm_no: str = ""
    status: str = ""
    earlier: bool = False  # filed by an earlier run
    reason: str = ""  # why no sheet was filed
