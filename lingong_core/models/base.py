"""The shared base of every bizModel: wire names, strictness, masking, open enums and paging.

Three kinds of model, one per direction:

- :class:`RequestModel` — what the merchant sends. Unknown fields are refused (a misspelt field fails
  before anything is signed), the model is frozen once validated (what is signed is what was checked),
  and state enums are closed.
- :class:`ResponseModel` — what the platform answers (``code``, ``msg`` and the flat business fields).
  Unknown fields are kept (``model_extra``), and state enums are *open*: a value this project does not
  know yet is kept as the raw string rather than crashing the caller (:data:`Open`).
- :class:`NotificationModel` — the bizModel of a platform notification; lenient like a response.

Python attributes are snake_case; the wire names are camelCase aliases (``out_order_no`` ↔
``outOrderNo``). Both are accepted on input; serialise with ``by_alias=True`` (what
:func:`lingong_core.envelope.biz_model_text` does).

Personal data (names, ID numbers, mobiles, card numbers, ID photos) is marked with :class:`Personal`
in the field's type. Such values are masked in ``repr()`` and in validation errors, which this module
raises as :class:`ModelValidationError` — an :class:`~lingong_core.errors.InputError` whose message
names each field (by its wire name), the rule, and the value (masked where personal), e.g.::

    RechargeSyncRequest: 2 fields refused: amount: must have at most 2 decimal places (fen) (got 1.234);
    payChannelCode: Input should be '3000001', '3000002', '3000003', '3000005' or '3000007' (got '3000004')

Open enums: ``status: Open[RechargeStatus]`` is typed ``RechargeStatus | str``. Known values become
members; unknown strings are kept verbatim. Because the enums are ``StrEnum``, a comparison such as
``order.status == RechargeStatus.SUCCESS`` works whichever of the two it holds; use
:func:`is_known` to tell them apart.

Request models check the *shape* of personal data (18-character ID, 11-digit mobile, 12–19 digit card).
The ID check character, birth date and age, and BIN/Luhn, are the platform's rules (domain.md): the
platform answers them with a 4xxx code, so they are not duplicated here.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticUndefined, core_schema

from ..errors import InputError
from ..masking import mask_card, mask_id, mask_mapping, mask_mobile, mask_name, scrub

__all__ = [
    "BankCardNo",
    "FieldRuleError",
    "IdCardNo",
    "Issue",
    "MaskedBankCardNo",
    "MaskedIdCardNo",
    "MaskedMobile",
    "MaskedName",
    "Mobile",
    "ModelValidationError",
    "Name",
    "NotificationModel",
    "Open",
    "OpenEnum",
    "PageRequest",
    "PageResponse",
    "Period",
    "Personal",
    "RecordModel",
    "RequestModel",
    "ResponseModel",
    "Rule",
    "WireModel",
    "is_known",
    "mask_image",
]

Masker = Callable[[str], str]
E = TypeVar("E", bound=Enum)
T = TypeVar("T")
M = TypeVar("M")  # a field-type marker: Personal, Rule


# --------------------------------------------------------------------------------------------------
# Personal data
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Personal:
    """Field-type marker: this value is personal data; show it only through ``mask``."""

    mask: Masker


def mask_image(data: str) -> str:
    """An ID photo (base64) is never shown, only its size."""
    return f"<image, {len(data)} base64 chars>"


def _digits(value: Any) -> Any:
    if isinstance(value, str) and not value.isdigit():  # isdigit: nothing to remove (the usual case)
        return re.sub(r"[\s-]", "", value)
    return value


@dataclass(frozen=True, slots=True)
class Rule:
    """Field-type marker: the rule a shape constraint of the field checks, in the words its refusal uses
    (instead of pydantic's "String should match pattern …"). The constraints themselves are pydantic's own
    (``StringConstraints``), checked without a call into Python: a 1,000-order request checks 4,000 of them."""

    text: str


#: A person's legal name in a request; masked ``张**`` in repr and errors.
Name = Annotated[
    str,
    Personal(mask_name),
    Rule("must be a name (姓名) of 1–50 characters"),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=50),
    Field(description="The person's legal name (姓名), as on the ID card"),
]
#: An 18-character resident ID number (居民身份证号) in a request; ``x`` is upper-cased.
IdCardNo = Annotated[
    str,
    Personal(mask_id),
    Rule("must be an 18-character ID card number (居民身份证号): 17 digits and a digit or X"),
    StringConstraints(strip_whitespace=True, pattern=r"^\d{17}[\dXx]$", to_upper=True),
    Field(description="Resident ID card number (身份证号), 18 characters"),
]
#: A mainland mobile number in a request.
Mobile = Annotated[
    str,
    Personal(mask_mobile),
    Rule("must be a mainland mobile number (手机号): 11 digits starting 13–19"),
    StringConstraints(strip_whitespace=True, pattern=r"^1[3-9]\d{9}$"),
    Field(description="Mobile number (手机号), 11 digits"),
]
#: A bank card number in a request; spaces and dashes are removed.
BankCardNo = Annotated[
    str,
    Personal(mask_card),
    Rule("must be a bank card number (银行卡号) of 12–19 digits"),
    StringConstraints(pattern=r"^\d{12,19}$"),
    BeforeValidator(_digits),  # after the constraint: it runs first, and the pattern stays pydantic's own
    Field(description="Bank card number (银行卡号), 12–19 digits"),
]
#: The refusals a :class:`Rule` words (pydantic's error types of ``StringConstraints``).
RULED_ERRORS = frozenset({"string_too_short", "string_too_long", "string_pattern_mismatch"})
#: The same four as the platform returns them (already masked, so not re-checked).
MaskedName = Annotated[str, Personal(mask_name), Field(description="The person's name (姓名), masked by the platform")]
MaskedIdCardNo = Annotated[
    str, Personal(mask_id), Field(description="ID card number (身份证号), masked by the platform")
]
MaskedMobile = Annotated[
    str, Personal(mask_mobile), Field(description="Mobile number (手机号), masked by the platform")
]
MaskedBankCardNo = Annotated[
    str, Personal(mask_card), Field(description="Bank card number (银行卡号), masked by the platform")
]

#: A pay period ``yyyy-MM`` (所属期).
Period = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="Pay period (所属期), yyyy-MM")]


# --------------------------------------------------------------------------------------------------
# Open enums
# --------------------------------------------------------------------------------------------------


class OpenEnum:
    """Annotation metadata for ``Enum | str``: known values become members, unknown ones are kept as is.

    Use through the alias :data:`Open` (``Open[RechargeStatus]``). Integer enums keep unknown ints too.
    """

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        enum = enum_of(source)
        if enum is None:  # pragma: no cover - a programming error, caught at import
            raise TypeError(f"Open[...] needs an Enum, got {source!r}")

        def coerce(value: Any) -> Any:
            if isinstance(value, enum):
                return value
            try:
                return enum(value)
            except ValueError:
                pass
            if isinstance(value, str | int) and not isinstance(value, bool):
                return value
            raise ValueError(f"must be one of {', '.join(str(m.value) for m in enum)} or another code")

        def dump(value: Any) -> Any:
            return value.value if isinstance(value, Enum) else value

        return core_schema.no_info_plain_validator_function(
            coerce,
            serialization=core_schema.plain_serializer_function_ser_schema(dump),
            json_schema_input_schema=core_schema.str_schema(),
        )


#: ``Open[SomeEnum]`` is ``SomeEnum | str``: members for known values, the raw value for unknown ones.
Open = Annotated[E | str, OpenEnum()]


def is_known(value: object) -> bool:
    """Whether an :data:`Open` value is one of its enum's members (not a value kept verbatim)."""
    return isinstance(value, Enum)


def enum_of(annotation: Any) -> type[Enum] | None:
    """The Enum class inside ``annotation`` (``E``, ``E | str``, ``Annotated[E | str, ...]``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return annotation
    for arg in get_args(annotation):
        found = enum_of(arg)
        if found is not None:
            return found
    return None


# --------------------------------------------------------------------------------------------------
# Validation errors
# --------------------------------------------------------------------------------------------------


class FieldRuleError(ValueError):
    """Raised by a model-level validator to blame named fields (e.g. "one of outOrderNo, orderNo")."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(rule)


@dataclass(frozen=True, slots=True)
class Issue:
    """One refused value: the wire path (``orders[3].idCardNo``), the rule, and the value as shown."""

    field: str
    rule: str
    value: str | None = None

    def __str__(self) -> str:
        shown = f" (got {self.value})" if self.value is not None and " (got " not in self.rule else ""
        return f"{self.field}: {self.rule}{shown}"


class ModelValidationError(InputError):
    """A model refused its data. ``issues`` lists every refused field; personal values are masked.

    For request models this happens before anything is signed or sent. For a response or a
    notification it means the platform's data did not fit the model. ``field``, ``rule`` and ``value``
    (from :class:`InputError`) describe the first issue.
    """

    def __init__(self, model: str, issues: list[Issue]) -> None:
        if not issues:  # pragma: no cover - pydantic never raises an empty error
            issues = [Issue("(model)", "invalid")]
        super().__init__(issues[0].field, issues[0].rule, issues[0].value)
        self.model = model
        self.issues = issues
        count = "1 field refused" if len(issues) == 1 else f"{len(issues)} fields refused"
        self.args = (f"{model}: {count}: " + "; ".join(str(i) for i in issues),)

    def __str__(self) -> str:
        return str(self.args[0])


def _convert(model: type[BaseModel], exc: ValidationError) -> ModelValidationError:
    issues = [_issue(model, err) for err in exc.errors(include_url=False)]
    return ModelValidationError(model.__name__, issues)


def _issue(model: type[BaseModel], err: Mapping[str, Any]) -> Issue:
    loc: tuple[str | int, ...] = tuple(err.get("loc", ()))
    kind = err.get("type", "")
    rule = str(err.get("msg", "invalid"))
    if rule.startswith("Value error, "):
        rule = rule[len("Value error, ") :]
    ctx_error = (err.get("ctx") or {}).get("error")
    path, masker, owner, ruled = _walk(model, loc)
    if ruled is not None and kind in RULED_ERRORS:
        rule = ruled.text
    if isinstance(ctx_error, FieldRuleError):
        prefix = path + "." if path else ""
        return Issue(prefix + ctx_error.field, ctx_error.rule)
    if kind == "missing":
        return Issue(path, "is required")
    value = _show(err.get("input"), masker)
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else "?"
        known = list(_wire_names(owner)) if owner is not None else []
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        return Issue(path, "is not a field of this model" + hint, value)
    return Issue(path or "(model)", rule, value)


def _wire_names(model: type[BaseModel]) -> Iterator[str]:
    for name, info in model.model_fields.items():
        yield info.alias or name


def _walk(
    model: type[BaseModel], loc: tuple[str | int, ...]
) -> tuple[str, Masker | None, type[BaseModel] | None, Rule | None]:
    """Follow a pydantic ``loc`` through nested models: the wire path, the masker, the owning model, and
    the field's :class:`Rule` if it has one."""
    path = ""
    current: type[BaseModel] | None = model
    masker: Masker | None = None
    owner: type[BaseModel] | None = model
    ruled: Rule | None = None
    for step in loc:
        if isinstance(step, int):
            path += f"[{step}]"
            continue
        owner = current
        info = None
        if current is not None:
            fields = current.model_fields
            info = fields.get(step) or next((f for f in fields.values() if f.alias == step), None)
        wire = (info.alias if info is not None and info.alias else None) or step
        path = f"{path}.{wire}" if path else wire
        if info is not None:
            masker = personal_masker(info.annotation, info.metadata)
            ruled = _marker(Rule, info.annotation, info.metadata)
            current = _model_in(info.annotation)
        else:
            masker, ruled = _name_masker(step), None
            current = None
    return path, masker, owner, ruled


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _name_masker(name: str) -> Masker | None:
    probe = mask_mapping({name: "\x00"})
    return (lambda v: str(mask_mapping({name: v})[name])) if probe[name] != "\x00" else None


def _show(value: Any, masker: Masker | None) -> str | None:
    if isinstance(value, Mapping | list):
        return None  # a whole object: the nested issues say what is wrong
    if masker is not None and isinstance(value, str):
        return repr(masker(value))
    text = repr(value)
    text = scrub(text)
    return text if len(text) <= 60 else text[:60] + "…"


def _marker(kind: type[M], annotation: Any, metadata: Iterable[Any] = ()) -> M | None:
    """The first ``kind`` marker (:class:`Personal`, :class:`Rule`) of a field's type: in its metadata,
    or inside an ``Annotated``, a union or a list."""
    for item in metadata:
        if isinstance(item, kind):
            return item
    if get_origin(annotation) is Annotated:
        return _marker(kind, get_args(annotation)[0], annotation.__metadata__)
    if get_origin(annotation) in (typing.Union, types.UnionType, list):
        for arg in get_args(annotation):
            found = _marker(kind, arg)
            if found is not None:
                return found
    return None


def personal_masker(annotation: Any, metadata: Iterable[Any] = ()) -> Masker | None:
    """The masker of a field typed with :class:`Personal` (directly, in a union, or in a list)."""
    personal = _marker(Personal, annotation, metadata)
    return personal.mask if personal is not None else None


# --------------------------------------------------------------------------------------------------
# Base models
# --------------------------------------------------------------------------------------------------


class WireModel(BaseModel):
    """Common behaviour: camelCase wire names, masking in repr, :class:`ModelValidationError`."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        hide_input_in_errors=True,  # a second line of defence: pydantic's own text never shows values
        use_enum_values=False,
        arbitrary_types_allowed=False,
        defer_build=True,
    )

    #: attribute name → masker, for the fields typed with :class:`Personal`
    __personal__: ClassVar[dict[str, Masker]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        personal: dict[str, Masker] = {}
        for name, info in cls.model_fields.items():
            masker = personal_masker(info.annotation, info.metadata)
            if masker is not None:
                personal[name] = masker
        cls.__personal__ = personal

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _convert(type(self), exc) from None

    # Tell pydantic this __init__ is the plain one, so nested validation never goes through it (the
    # outermost model reports every issue with its full path). RootModel uses the same marker.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise _convert(cls, exc) from None

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate_json(json_data, *args, **kwargs)
        except ValidationError as exc:
            raise _convert(cls, exc) from None

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        personal = type(self).__personal__
        fields = type(self).model_fields
        for name, value in super().__repr_args__():
            if name in personal and isinstance(value, str):
                yield name, personal[name](value)
            elif name is not None and name not in fields and isinstance(value, str):
                yield name, mask_mapping({name: value})[name]  # an extra field the platform sent
            else:
                yield name, value

    def wire(self) -> dict[str, Any]:
        """The wire form: camelCase names, None left out, amounts as Decimal, times as strings."""
        return self.model_dump(mode="python", by_alias=True, exclude_none=True)


class RequestModel(WireModel):
    """A bizModel the merchant sends: unknown fields refused, frozen once valid.

    ``one_of`` lists groups of attributes of which at least one must be given (a query by the
    merchant's key *or* the platform's number).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    one_of: ClassVar[tuple[tuple[str, ...], ...]] = ()

    @model_validator(mode="after")
    def _check_one_of(self) -> Self:
        for group in type(self).one_of:
            if all(getattr(self, name) is None for name in group):
                wire = [type(self).model_fields[name].alias or name for name in group]
                raise FieldRuleError("/".join(wire), f"one of {', '.join(wire)} is required")
        return self


class RecordModel(WireModel):
    """An object inside an answer or a notification (a list item, a nested record); unknown fields kept."""

    model_config = ConfigDict(extra="allow")


class ResponseModel(RecordModel):
    """The flat answer of a call: ``code``, ``msg`` and the business fields; unknown fields kept."""

    code: int = Field(200, description="Response code (响应码); 200 is success")
    msg: str = Field("", description="Response message (响应消息)")


class NotificationModel(RecordModel):
    """The bizModel of a notification from the platform; unknown fields kept."""

    notify_type: ClassVar[str] = ""


# --------------------------------------------------------------------------------------------------
# Paging
# --------------------------------------------------------------------------------------------------

MAX_PAGE_SIZE = 1000


class PageRequest(RequestModel):
    """A paged query: ``pageNo`` from 1, ``pageSize`` 1–1,000 (default 20)."""

    page_no: int = Field(1, ge=1, description="Page number (页码), from 1")
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE, description="Page size (每页条数), at most 1,000")


class PageResponse(ResponseModel, Generic[T]):
    """One page of a paged query; ``items`` is the wire field ``list``."""

    page_no: int = Field(1, description="Page number (页码)")
    page_size: int = Field(20, description="Page size (每页条数)")
    total: int = Field(0, description="Total number of records (总条数)")
    items: list[T] = Field(default_factory=list, alias="list", description="The records of this page (列表)")

    def is_last(self) -> bool:
        """Whether no page follows this one."""
        return not self.items or self.page_no * self.page_size >= self.total


def field_default(model: type[BaseModel], name: str) -> Any:
    """A field's default (None when it has none): used by the docs."""
    default = model.model_fields[name].default
    return None if default is PydanticUndefined else default
