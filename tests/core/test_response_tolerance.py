"""Response models tolerate a real platform that answers a little differently.

Only the fields without which an answer means nothing — the key numbers and the state — are
required; every other field may be missing, unknown fields are kept in ``model_extra`` and an
unknown state is kept as its raw string. Each response model (and every record inside it) is fed its
documented example with every optional field removed, at every depth.
"""

from __future__ import annotations

import types
import typing
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel

from lingong_core.models.base import ResponseModel, is_known
from lingong_core.models.catalogue import CATALOGUE, MARKETING_CATALOGUE, ApiSpec
from lingong_core.models.examples import example
from lingong_core.models.settlement import OrderQueryResponse

SPECS: list[ApiSpec] = [*CATALOGUE.values(), *MARKETING_CATALOGUE.values()]
#: What may be required in an answer: numbers that identify the record, its state, the key amounts.
KEY_SUFFIXES = ("No", "Code", "Status", "status", "Url")
KEY_AMOUNTS = {
    "amount",
    "balance",
    "availableAmount",
    "totalAmount",
    "serviceAmount",
    "payAmount",
    "invoiceableAmount",
    "availableQuota",
    "taxAmount",
}
KEY_OTHER = {"cardType", "checkResult", "changeType", "categoryCode", "invoiceType", "failCode", "confirmNo"}


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (list, typing.Union, types.UnionType) or get_args(annotation):
        for arg in get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def only_required(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without every optional field of ``model``, recursively (lists keep their records, trimmed)."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        wire = info.alias or name
        if wire not in data or not info.is_required():
            continue
        value, inner = data[wire], _model_in(info.annotation)
        if inner is not None and isinstance(value, list):
            value = [only_required(inner, v) for v in value]
        elif inner is not None and isinstance(value, dict):
            value = only_required(inner, value)
        out[wire] = value
    return out


def required_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    paths = []
    for name, info in model.model_fields.items():
        wire = info.alias or name
        inner = _model_in(info.annotation)
        if info.is_required():
            paths.append(prefix + wire)
        if inner is not None:
            paths += required_paths(inner, f"{prefix}{wire}[].")
    return paths


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.api_code + ("-marketing" if s.marketing else ""))
def test_each_answer_validates_with_every_optional_field_removed(spec: ApiSpec) -> None:
    full = example(spec.response)
    bare = only_required(spec.response, full)
    answer = spec.response.model_validate(bare)
    assert answer.code == 200  # code and msg are optional too: the flat body's success is the default
    # ... and its records still validate when their own optional fields are gone
    for name, info in spec.response.model_fields.items():
        inner = _model_in(info.annotation)
        if inner is not None and isinstance(full.get(info.alias or name), list):
            for record in full[info.alias or name]:
                inner.model_validate(only_required(inner, record))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.api_code + ("-marketing" if s.marketing else ""))
def test_only_key_numbers_state_and_key_amounts_are_required(spec: ApiSpec) -> None:
    for path in required_paths(spec.response):
        leaf = path.rsplit(".", 1)[-1]
        assert leaf.endswith(KEY_SUFFIXES) or leaf in KEY_AMOUNTS | KEY_OTHER, f"{spec.api_code}: {path} is required"


def test_fewer_than_a_third_of_the_fields_are_required() -> None:
    fields = [(s, n, f) for s in SPECS for n, f in s.response.model_fields.items() if n not in ("code", "msg")]
    required = [n for _, n, f in fields if f.is_required()]
    assert len(required) * 3 < len(fields), (len(required), len(fields))


def test_a_paid_order_without_its_card_is_still_a_paid_order() -> None:
    answer = OrderQueryResponse.model_validate(
        {"code": 200, "orderNo": "O1", "outOrderNo": "T1", "amount": "10.00", "status": "SUCCESS"}
    )
    assert answer.status == "SUCCESS"
    assert answer.bank_card_no is None
    assert answer.service_amount is None


def test_unknown_fields_and_states_are_kept() -> None:
    answer = OrderQueryResponse.model_validate(
        {"orderNo": "O1", "outOrderNo": "T1", "amount": "10.00", "status": "REVERSED", "newField": "x"}
    )
    assert answer.status == "REVERSED"
    assert not is_known(answer.status)
    assert answer.model_extra == {"newField": "x"}
    assert issubclass(OrderQueryResponse, ResponseModel)
