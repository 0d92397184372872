"""Hypothesis strategies for hostile input: values of the wrong type, huge and negative numbers, sub-fen
amounts, control characters and lone surrogates, very long strings, missing and unknown fields; and the
JSON text that carries them (escaped, so that even a lone surrogate travels as valid UTF-8)."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

from lingong_core.models.catalogue import CATALOGUE, NOTIFICATIONS
from lingong_core.models.examples import example

#: Hypothesis settings of the two profiles: a few examples in ``make test``, many more in ``make chaos``.
SMALL = settings(max_examples=20, deadline=None, database=None)
FULL = settings(max_examples=300, deadline=None, database=None)

ID_CARD = "11010119900307123X"  # not a real person's: the check character does not even match
VALID_ID = "110101199003071236"

#: Values a well-meaning but wrong caller sends: near misses of the real formats.
NEAR_MISSES = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\u200b",
        "null",
        "-1",
        "0",
        "0.00",
        "-0.01",
        "0.001",
        "0.005",
        "1e400",
        "-1e400",
        "1E-400",
        "NaN",
        "Infinity",
        "１２３.４５",  # full-width digits
        "٣٤٥",  # Arabic-Indic digits
        "1,000.00",
        "¥12.00",
        "9" * 400,
        "2000064001",
        "1088202103120003",
        "2026-11",
        "2026-13",
        "2026-11-01 09:00:00",
        "2026-02-30 25:61:61",
        ID_CARD,
        VALID_ID,
        "6222021234567890123",
        "13812345678",
        "PO202611ABCDEF0123456789ABCD01",
        "'; DROP TABLE eng_order; --",
        "\ud800",  # a lone surrogate
        "a\udfffb",
        "𠀀𠀁" * 3,  # outside the Basic Multilingual Plane
        "\u202e\u0627\u0644",  # right-to-left override
    ]
)

TEXT = st.one_of(
    st.text(max_size=30),
    st.text(
        alphabet=st.characters(categories=["Cs", "Cc", "Cf", "Co", "Lo", "Nd", "Zs"]), max_size=20
    ),  # surrogates and controls too
    NEAR_MISSES,
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["x" * 70_000, "张" * 20_000]),  # very long
)

BOUNDARY_NUMBERS = st.sampled_from(
    [
        0,
        -1,
        1000,
        1001,
        2**31,
        2**63 - 1,
        2**63,
        -(2**63) - 1,
        10**18,
        10**400,
        Decimal("1E+400"),
        Decimal("1E-400"),
        Decimal("0.001"),
        Decimal("-0.01"),
        Decimal("999999999999.99"),
        Decimal("1000000000000.00"),
        Decimal("1E+6"),
    ]
)
NUMBERS = st.one_of(
    BOUNDARY_NUMBERS,
    st.integers(min_value=-(10**40), max_value=10**40),
    st.decimals(allow_nan=False, allow_infinity=False),
)

SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)


def _aliases(model: Any) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


#: Every apiCode, a valid bizModel for each (the models' own examples), and every field name in use.
API_CODES = sorted(CATALOGUE)
VALID = {code: example(spec.request) for code, spec in CATALOGUE.items()}
NOTICES = {notify_type: example(model) for notify_type, model in NOTIFICATIONS.items()}
ALL_FIELDS = sorted({name for spec in CATALOGUE.values() for name in _aliases(spec.request)} | {"outOrderNo", "amount"})


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place inside a JSON value that a mutation may hit (the value itself first)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


@st.composite
def mutated(draw: st.DrawFn, valid: dict[str, Any]) -> Any:
    """A valid model with one to three hostile changes: a value replaced (any depth, any type), a field
    dropped, an unknown field added, a list emptied or grown — or, rarely, not an object at all."""
    if draw(st.integers(0, 19)) == 0:
        return draw(JSON_VALUES)
    model = copy.deepcopy(valid)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(model)))
        if not path:
            if isinstance(model, dict):
                model[draw(st.sampled_from([*ALL_FIELDS, "", "x" * 300]))] = draw(JSON_VALUES)
            continue
        parent = _get(model, path[:-1])
        action = draw(st.sampled_from(["replace", "replace", "replace", "drop", "grow"]))
        if action == "drop" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "grow" and isinstance(parent[path[-1]], list):
            parent[path[-1]].extend(draw(st.lists(JSON_VALUES, max_size=3)) or [copy.deepcopy(parent[path[-1]])])
        else:
            parent[path[-1]] = draw(st.one_of(BOUNDARY_NUMBERS, NEAR_MISSES, JSON_VALUES))
    return model


def biz_models(api_code: str) -> st.SearchStrategy[Any]:
    """A bizModel for ``api_code``: its valid example with hostile changes."""
    return mutated(VALID[api_code])


def notification_models(notify_type: str) -> st.SearchStrategy[Any]:
    valid = NOTICES.get(notify_type)
    return mutated(valid) if valid is not None else JSON_VALUES


def to_json(value: Any, *, ascii_only: bool) -> str:
    """JSON text for ``value`` (Decimals as numbers, exactly); ``ascii_only`` escapes everything, surrogates too."""
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else json.dumps(str(value))
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return json.dumps(value, ensure_ascii=ascii_only)
    if isinstance(value, list):
        return "[" + ",".join(to_json(v, ascii_only=ascii_only) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(
                json.dumps(str(k), ensure_ascii=ascii_only) + ":" + to_json(v, ascii_only=ascii_only)
                for k, v in value.items()
            )
            + "}"
        )
    raise TypeError(type(value))


def encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
