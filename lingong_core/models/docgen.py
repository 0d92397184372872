"""docs/api.md, generated from the models: one table per apiCode (field, type, required, meaning).

Run ``make api-docs`` (``python -m lingong_core.models.docgen docs/api.md``) after changing a model;
``tests/core/test_api_docs.py`` fails while the file and the models disagree.
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .. import jsoncodec
from ..money import Money, PositiveMoney, SignedMoney
from ..operations import NOTIFICATION_TYPES, Group
from .base import OpenEnum, Personal
from .catalogue import CATALOGUE, MARKETING_CATALOGUE, NOTIFICATIONS, ApiSpec
from .examples import example

_MONEY_KINDS = (
    (get_args(PositiveMoney)[1], "money, > 0"),
    (get_args(SignedMoney)[1], "money, signed"),
    (get_args(Money)[1], "money, ≥ 0"),
)

GROUP_TITLES: dict[Group, str] = {
    Group.FREELANCER: "Freelancers — 自由职业者",
    Group.CONTRACT: "E-contracts — 电子合同",
    Group.ACCOUNT: "Custody accounts — 存管账户",
    Group.RECHARGE: "Recharge — 充值",
    Group.WITHDRAWAL: "Enterprise withdrawals — 用工企业提现",
    Group.SETTLEMENT: "Freelancer settlement — 自由职业者佣金结算",
    Group.REFUND: "Refunds — 退款",
    Group.INVOICE: "Invoicing — 开票",
    Group.PROJECT: "Projects — 项目",
    Group.TAX_CERTIFICATE: "Tax payment certificates — 完税凭证",
    Group.NOTIFICATION: "Notifications — 通知",
    Group.ENTERPRISE: "Enterprise information — 企业信息",
    Group.MARKETING: "Marketing-fund settlement — 营销金结算",
}


# --------------------------------------------------------------------------------------------------
# One field → one row
# --------------------------------------------------------------------------------------------------


class _Facts:
    """What the annotation says about a field, gathered through Annotated, unions and lists."""

    def __init__(self) -> None:
        self.metadata: list[Any] = []
        self.nested: type[BaseModel] | None = None


def _describe(annotation: Any, facts: _Facts) -> str:
    origin = get_origin(annotation)
    if origin is Annotated:
        facts.metadata.extend(annotation.__metadata__)
        metadata = annotation.__metadata__
        base = get_args(annotation)[0]
        if any(isinstance(m, OpenEnum) for m in metadata):
            enum = next(a for a in get_args(base) if isinstance(a, type) and issubclass(a, Enum))
            return f"enum (open): {_values(enum)}; other values kept"
        return _describe(base, facts)
    if origin in (typing.Union, types.UnionType):
        arms = [a for a in get_args(annotation) if a is not type(None)]
        return " or ".join(_describe(a, facts) for a in arms)
    if origin is list:
        (item,) = get_args(annotation)
        inner = _describe(item, facts)
        return f"list of {inner}" if inner != "object" else "list of objects"
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            facts.nested = annotation
            return "object"
        if issubclass(annotation, Enum):
            return f"enum: {_values(annotation)}"
        if issubclass(annotation, bool):
            return "boolean"
        if issubclass(annotation, int):
            return "integer"
        if issubclass(annotation, Decimal):
            return "number (" + _money_kind(facts.metadata) + ")"
        if issubclass(annotation, datetime):
            return "date-time `yyyy-MM-dd HH:mm:ss`"
        if issubclass(annotation, date):
            return "date `yyyy-MM-dd`"
        if issubclass(annotation, str):
            return "string"
    return str(annotation)  # pragma: no cover - a new kind of field shows up as is


def _money_kind(metadata: list[Any]) -> str:
    for marker, kind in _MONEY_KINDS:
        if any(m is marker for m in metadata):
            return kind + ", yuan, 2 decimals"
    return "decimal"


def _values(enum: type[Enum]) -> str:
    return ", ".join(f"`{m.value}`" for m in enum)


def _meaning(info: FieldInfo, facts: _Facts) -> str:
    description = info.description
    if not description:
        inner = [m for m in facts.metadata if isinstance(m, FieldInfo) and m.description]
        description = inner[0].description if inner else ""
    constraints = []
    for source in [info, *[m for m in facts.metadata if isinstance(m, FieldInfo)]]:
        for item in source.metadata:
            for attr, label in (("max_length", "at most {} characters"), ("pattern", "pattern `{}`")):
                value = getattr(item, attr, None)
                if value is not None and label.format(value) not in constraints:
                    constraints.append(label.format(value))
    text = description or ""
    if constraints:
        text += ("; " if text else "") + "; ".join(constraints)
    if any(isinstance(m, Personal) for m in [*info.metadata, *facts.metadata]):
        text += " **Personal data**: masked in logs, repr and errors."
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _required(info: FieldInfo) -> str:
    if info.is_required():
        return "yes"
    default = info.default
    if default is None or default is PydanticUndefined or info.default_factory is not None:
        return "no"
    value = default.value if isinstance(default, Enum) else default
    return f"no, default `{value}`"


def _rows(model: type[BaseModel], prefix: str = "", skip: tuple[str, ...] = ()) -> Iterator[str]:
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        wire = prefix + (info.alias or name)
        facts = _Facts()
        facts.metadata.extend(info.metadata)
        kind = _describe(info.annotation, facts)
        yield f"| `{wire}` | {kind} | {_required(info)} | {_meaning(info, facts)} |"
        if facts.nested is not None:
            suffix = "[]." if kind.startswith("list") else "."
            yield from _rows(facts.nested, wire + suffix)


def field_table(model: type[BaseModel], *, skip: tuple[str, ...] = ()) -> list[str]:
    """The markdown table of ``model``'s fields (nested objects flattened as ``orders[].amount``)."""
    rows = list(_rows(model, skip=skip))
    if not rows:
        return ["No fields: send `{}`."]
    return ["| field | type | required | meaning |", "|---|---|---|---|", *rows]


# --------------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------------


def _doc(model: type[BaseModel]) -> str:
    text = (model.__doc__ or "").strip()
    inherited = any(text == (base.__doc__ or "").strip() for base in model.__mro__[1:])
    return "" if inherited else " ".join(text.split())


def render_spec(entry: ApiSpec, *, level: int = 3) -> list[str]:
    """The docs section of one apiCode: what it does, its request table, its response table, an example."""
    op = entry.operation
    heading = "#" * level
    anchor_suffix = " (marketing form)" if entry.marketing else ""
    lines = [f"{heading} {op.api_code}{anchor_suffix} — {op.title_en} ({op.title_zh})", ""]
    facts = ["writes (a lost answer is reconciled, never retried)" if op.writes else "read (safe to retry)"]
    if entry.paged:
        facts.append("paged: `pageNo`, `pageSize` → `pageNo`, `pageSize`, `total`, `list`")
    if not op.offered:
        facts.append("**not yet offered** (待开发): the service method raises `NotOfferedError` and sends nothing")
    lines += ["- " + "; ".join(facts)]
    summary = _doc(entry.request)
    if summary:
        lines += ["- " + summary]
    one_of = getattr(entry.request, "one_of", ())
    for group in one_of:
        wire = [f"`{entry.request.model_fields[n].alias or n}`" for n in group]
        lines += [f"- at least one of {', '.join(wire)} is required"]
    lines += [
        "",
        f"Request bizModel (`{entry.request.__module__.rsplit('.', 1)[-1]}.{entry.request.__name__}`):",
        "",
        *field_table(entry.request),
        "",
        f"Response fields beside `code` and `msg` (`{entry.response.__module__.rsplit('.', 1)[-1]}."
        f"{entry.response.__name__}`):",
        "",
        *field_table(entry.response, skip=("code", "msg")),
        "",
        "Example bizModel:",
        "",
        "```json",
        jsoncodec.dumps(example(entry.request)),
        "```",
        "",
    ]
    return lines


def render() -> str:
    """The whole of docs/api.md."""
    lines = [
        "# The 灵工 OpenAPI 2.0 surface, as typed in `lingong_core.models`",
        "",
        "<!-- Generated by `make api-docs` from lingong_core/models; do not edit by hand. -->",
        "",
        "Every operation of the platform's menu, with its request bizModel and its response. Wire names",
        "are camelCase; in Python the same fields are snake_case (`out_order_no` ↔ `outOrderNo`). Money is",
        "yuan as a JSON number with at most 2 decimals (a Decimal in Python, never a float); date-times are",
        "`yyyy-MM-dd HH:mm:ss` in Asia/Shanghai (epoch milliseconds accepted on input). Requests refuse",
        "unknown fields; responses keep them, and keep state values this project does not know yet",
        "(`enum (open)`). Call them through the service methods, e.g. `client.recharge.sync(...)`.",
        "",
        "| apiCode | group | operation | kind | service method |",
        "|---|---|---|---|---|",
    ]
    methods = service_methods()
    for entry in [*CATALOGUE.values(), *MARKETING_CATALOGUE.values()]:
        op = entry.operation
        kind = ("write" if op.writes else "read") + ("" if op.offered else ", 待开发")
        title = entry.title.replace(" — ", " ")
        group = "marketing" if entry.marketing else op.group.value
        method = methods.get((op.api_code, entry.marketing), "")
        lines.append(f"| {op.api_code} | {group} | {title} | {kind} | `{method}` |")
    lines.append("")
    for group in Group:
        entries = [e for e in CATALOGUE.values() if e.operation.group is group]
        if group is Group.MARKETING:
            entries += list(MARKETING_CATALOGUE.values())
        if group is Group.NOTIFICATION:
            lines += _notifications()
            continue
        if not entries:
            continue
        lines += [f"## {GROUP_TITLES[group]}", ""]
        if group is Group.MARKETING:
            lines += [
                "The marketing form of SFT0502/0503/0504/0510 uses the same apiCodes as settlement; every",
                "request carries the `campaignNo` from SFT1101 (required), and the answers echo it.",
                "",
            ]
        for entry in entries:
            lines += render_spec(entry)
    return "\n".join(lines).rstrip("\n") + "\n"


def _notifications() -> list[str]:
    lines = [
        f"## {GROUP_TITLES[Group.NOTIFICATION]}",
        "",
        "Posted by the platform to the merchant's notify URL (contract §6), signed with the platform's key.",
        "Read them with `client.notification.parse(envelope)`; deduplicate on `notifyNo`.",
        "",
    ]
    for notify_type, model in NOTIFICATIONS.items():
        zh, en = NOTIFICATION_TYPES[notify_type]
        lines += [f"### {notify_type} — {en} ({zh})", "", f"bizModel (`notification.{model.__name__}`):", ""]
        lines += [*field_table(model), ""]
    return lines


def service_methods() -> dict[tuple[str, bool], str]:
    """(apiCode, marketing) → the service method that calls it, e.g. ``client.recharge.sync``."""
    from ..services import SERVICE_CLASSES
    from ..services.base import Endpoint

    found: dict[tuple[str, bool], str] = {}
    for attr, cls in SERVICE_CLASSES.items():
        for name, value in vars(cls).items():
            if isinstance(value, Endpoint):
                found[(value.api_code, value.spec.marketing)] = f"client.{attr}.{name}"
    return found


def main(argv: list[str] | None = None) -> int:
    """``python -m lingong_core.models.docgen [PATH]``: write the docs to PATH, or print them."""
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if args:
        Path(args[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

__all__ = ["field_table", "main", "render", "render_spec", "service_methods"]
