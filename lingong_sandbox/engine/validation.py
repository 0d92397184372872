"""Checking a bizModel against the project's request model for its apiCode, when there is one.

``lingong_core.models.catalogue.CATALOGUE[api_code].request`` is the model the client signs with; the
sandbox holds requests to the same model, so a client and the sandbox cannot drift apart. The model
checks the *shape* (types, required fields, unknown fields, ``yyyy-MM`` periods, 18-character IDs …);
a refusal is a 400 naming the field and the rule with personal values masked. The platform's own
rules on personal data — the ID check character, birth date and age, the mobile format, the card
number — are answered with their 4xxx code instead: when every issue the model found is on such a
field, the engine's own checks decide (a bad ID checksum is 4101 whichever layer noticed it first,
and SFT0501 can still report one bad order without refusing the call).

A request carrying ``campaignNo`` to SFT0502/0503/0504/0510 is held to the marketing form
(``MARKETING_CATALOGUE``). When the catalogue (or a model in it) is missing or broken, the hand checks
in :mod:`.fields` stand alone.

Answers go the other way through the response model (:func:`build_answer`): the handler's dict is
validated by it and the model's dump (by wire name, only what was set) is what the gateway sends.
"""

from __future__ import annotations

import logging
import types
import typing
from enum import Enum
from functools import cache
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from lingong_core.errors import InputError
from lingong_core.masking import scrub
from lingong_core.operations import MARKETING_SETTLEMENT_CODES

from ..interface import PlatformError
from .fields import Fields

log = logging.getLogger(__name__)

#: Fields whose content rules are the platform's (4xxx), not the model's (400).
SEMANTIC_FIELDS = frozenset({"idCardNo", "mobile", "bankCardNo", "name"})


@cache
def request_model(api_code: str, marketing: bool = False) -> type[BaseModel] | None:
    """The request model for ``api_code`` (its marketing form if ``marketing``) from the catalogue, or None."""
    try:
        from lingong_core.models import catalogue
    except Exception:  # the catalogue may not exist yet, or fail to import while it is being written
        return None
    try:
        table = getattr(catalogue, "MARKETING_CATALOGUE", {}) if marketing else catalogue.CATALOGUE
        spec = table.get(api_code)
        model = getattr(spec, "request", None) if spec is not None else None
    except Exception:
        return None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


class AnswerDrift(RuntimeError):
    """A handler built an answer that its apiCode's response model refuses."""


def is_marketing(api_code: str, biz: dict[str, Any]) -> bool:
    """Whether ``biz`` is the marketing form of its apiCode (it carries ``campaignNo``)."""
    return "campaignNo" in biz and api_code in MARKETING_SETTLEMENT_CODES


@cache
def response_model(api_code: str, marketing: bool = False) -> type[BaseModel] | None:
    """The response model for ``api_code`` (its marketing form if ``marketing``) from the catalogue, or None."""
    from lingong_core.models import catalogue

    spec = (catalogue.MARKETING_CATALOGUE if marketing else catalogue.CATALOGUE).get(api_code)
    return spec.response if spec is not None else None


@cache
def request_fields(api_code: str, marketing: bool = False) -> Fields | None:
    """The wire fields of the apiCode's request model (nested for lists of records); None without a model."""
    model = request_model(api_code, marketing)
    return model_fields(model) if model is not None else None


def model_fields(model: type[BaseModel]) -> Fields:
    out: dict[str, Fields | None] = {}
    for name, info in model.model_fields.items():
        inner = record_model(info.annotation)
        out[info.alias or name] = model_fields(inner) if inner is not None else None
    return out


def record_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside a field's type (``Model``, ``list[Model]``, ``Model | None``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (list, typing.Union, types.UnionType):
        for arg in get_args(annotation):
            found = record_model(arg)
            if found is not None:
                return found
    return None


def build_answer(api_code: str, marketing: bool, answer: dict[str, Any]) -> dict[str, Any]:
    """The handler's answer built through the apiCode's response model: validated, then dumped by wire name.

    Only what the handler set is dumped (no defaults added); a field the model lacks is kept (the
    models are lenient) — the contract test holds every answer to the model with extra fields forbidden.
    """
    model = response_model(api_code, marketing)
    if model is None:
        return answer
    try:
        instance = model.model_validate(answer)
    except InputError as exc:  # the sandbox built an answer its own model refuses: a bug, not bad input
        raise AnswerDrift(f"{api_code} answer does not fit {model.__name__}: {exc}") from None
    built: dict[str, Any] = _plain(instance.model_dump(mode="python", by_alias=True, exclude_unset=True))
    return built


def normalise(api_code: str, biz: dict[str, Any]) -> dict[str, Any]:
    """``biz`` validated by the apiCode's request model and dumped by wire name; or ``biz`` itself.

    Raises :class:`PlatformError` (400) when the model refuses the shape.
    """
    marketing = is_marketing(api_code, biz)
    model = request_model(api_code, marketing)
    if model is None:
        return biz
    try:
        instance = model.model_validate(biz)
    except InputError as exc:
        issues = getattr(exc, "issues", None)
        fields = [str(getattr(i, "field", "")) for i in issues] if issues else [exc.field]
        if fields and all(_leaf(f) in SEMANTIC_FIELDS for f in fields):
            return biz  # the engine's own checks answer these with their 4xxx code
        raise PlatformError(400, scrub(str(exc))) from None
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        locs = [".".join(str(p) for p in e.get("loc", ())) for e in errors]
        if locs and all(_leaf(loc) in SEMANTIC_FIELDS for loc in locs):
            return biz
        first = errors[0] if errors else {"loc": (), "msg": "invalid"}
        field = ".".join(str(p) for p in first.get("loc", ())) or "bizModel"
        raise PlatformError(400, scrub(f"{field}: {first.get('msg', 'invalid')}")) from None
    except (TypeError, ValueError, ArithmeticError) as exc:  # a validator tripping on odd input is still bad input
        raise PlatformError(400, scrub(f"bizModel: {exc}")[:300]) from None
    try:
        dumped = instance.model_dump(mode="python", by_alias=True, exclude_none=True)
    except Exception:  # a model that cannot dump what it validated: use the request as sent
        log.warning("request model for %s failed to dump; checking by hand only", api_code)
        return biz
    plain: dict[str, Any] = _plain(dumped)
    return plain


def _leaf(path: str) -> str:
    return path.rsplit(".", 1)[-1].split("[", 1)[0]


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
