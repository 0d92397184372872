"""Holding the sandbox's answers to the core's response models strictly (for the tests only).

The models are lenient on purpose — a real platform may add a field or a state, and the client must
survive it — so a plain ``model_validate`` cannot see a sandbox that sends a field its model lacks.
:func:`strict_issues` validates an answer and then walks the result: every field kept in
``model_extra`` (at any depth) and every state the model's enum does not know is an issue.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel

from lingong_core.models.base import enum_of, is_known
from lingong_core.models.catalogue import CATALOGUE, MARKETING_CATALOGUE, ApiSpec
from lingong_core.operations import MARKETING_SETTLEMENT_CODES


def spec_for(api_code: str, biz: dict[str, Any]) -> ApiSpec:
    marketing = "campaignNo" in biz and api_code in MARKETING_SETTLEMENT_CODES
    return (MARKETING_CATALOGUE if marketing else CATALOGUE)[api_code]


def strict_issues(model: type[BaseModel], answer: dict[str, Any]) -> list[str]:
    """What in ``answer`` its response model does not describe (empty: it fits with extra fields forbidden)."""
    instance = model.model_validate({"code": 200, "msg": "成功", **answer})
    return _walk(instance, model.__name__)


def _walk(instance: BaseModel, path: str) -> list[str]:
    issues = [f"{path}.{name}: not a field of {type(instance).__name__}" for name in instance.model_extra or {}]
    for name, info in type(instance).model_fields.items():
        value = getattr(instance, name)
        wire = f"{path}.{info.alias or name}"
        enum = enum_of(info.annotation)
        values = value if isinstance(value, list) else [value]
        for i, item in enumerate(values):
            where = f"{wire}[{i}]" if isinstance(value, list) else wire
            if isinstance(item, BaseModel):
                issues += _walk(item, where)
            elif enum is not None and item is not None and not is_known(item) and not isinstance(item, Enum):
                issues.append(f"{where}: state {item!r} is not one of {enum.__name__}'s")
    return issues


def wire_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every wire field of ``model``, with ``list[].field`` for the fields of a list's records."""
    from lingong_sandbox.engine.validation import record_model

    out: set[str] = set()
    for name, info in model.model_fields.items():
        wire = prefix + (info.alias or name)
        out.add(wire)
        inner = record_model(info.annotation)
        if inner is not None:
            out |= wire_paths(inner, wire + "[].")
    return out


def data_paths(data: Any, prefix: str = "") -> set[str]:
    """The paths present in a JSON object (``orders[].name`` for the objects of a list), None values left out."""
    out: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if value is None:
                continue
            out.add(prefix + key)
            if isinstance(value, list):
                for item in value:
                    out |= data_paths(item, f"{prefix}{key}[].")
            elif isinstance(value, dict):
                out |= data_paths(value, f"{prefix}{key}.")
    return out
