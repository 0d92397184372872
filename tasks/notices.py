"""Telling the operator: markdown artifacts published once per change, and the text helpers they use.

Personal data must be masked before it reaches anything here.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from prefect.artifacts import Artifact, acreate_markdown_artifact

from lingong_core.money import fmt_yuan
from lingong_core.timeutil import format_datetime

from .artifacts import artifact_key


def as_text(value: object) -> str:
    """A platform value as the operator reads it (a time in Asia/Shanghai, "" for none)."""
    if value is None:
        return ""
    return format_datetime(value) if isinstance(value, datetime) else str(value)


async def publish_once(key: str, markdown: str, description: str) -> bool:
    """A markdown artifact under ``key``, unless its latest version already says exactly this.

    Returns whether a new version was created. Personal data must be masked before it gets here.
    """
    key = artifact_key(key)
    latest = await Artifact.aget(key)
    if latest is not None and latest.data == markdown:
        return False
    await acreate_markdown_artifact(markdown, key=key, description=description)
    return True


def yuan(amount: Decimal | None) -> str:
    return "—" if amount is None else fmt_yuan(amount)


def cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return re.sub(r"[|\r\n]+", " ", text).strip()
