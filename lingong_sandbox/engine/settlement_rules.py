"""The settlement rules applied to each order line, shared by SFT0501, SFT0502, SFT0510 and marketing.

The rules, per order, in the order they are checked: ID number (4101–4103), mobile (4104), verified
(4106), name as verified (4105), a SIGNED contract with the provider (4301/4302), a bound debit card
(4201–4206), the per-order limit (4501), the monthly limit per person and provider (4502: accepted,
processing and paid orders this calendar month, Asia/Shanghai, this batch included).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lingong_core.timeutil import to_shanghai

from ..interface import PlatformError
from ..settings import ServiceProvider
from . import bins, codes, contract, fees, identity, ledger, registry
from .base import Ctx, conflict, to_fen, yuan
from .fields import Biz, bad
from .settlement_orders import COUNTED


@dataclass
class Line:
    """One order of a request, as parsed, and what the rules said about it."""

    index: int
    out_order_no: str | None
    name: str | None
    id_card_no: str
    mobile: str | None
    bank_card_no: str | None
    amount: Decimal
    remark: str | None
    fee: Decimal = Decimal("0.00")
    freelancer_no: str | None = None
    bank_name: str | None = None
    fail: PlatformError | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"outOrderNo {self.out_order_no}" if self.out_order_no else f"orders[{self.index}]"


def parse_lines(ctx: Ctx, biz: Biz, *, need_out: bool, need_name: bool, need_card: bool) -> list[Line]:
    lines = []
    for i, item in enumerate(biz.items("orders", max_items=ctx.settings.max_batch_orders)):
        lines.append(
            Line(
                index=i,
                out_order_no=item.text("outOrderNo", required=need_out),
                name=item.text("name", required=need_name, max_len=50),
                id_card_no=item.req("idCardNo", max_len=32),
                mobile=item.text("mobile", required=False, max_len=20),
                bank_card_no=item.text("bankCardNo", required=need_card, max_len=32),
                amount=item.amount("amount"),
                remark=item.text("remark", required=False, max_len=256),
            )
        )
    return lines


def no_duplicate_keys(lines: list[Line]) -> None:
    seen: dict[str, int] = {}
    for line in lines:
        if line.out_order_no is None:
            continue
        if line.out_order_no in seen:
            raise bad(f"orders[{line.index}].outOrderNo", f"repeats orders[{seen[line.out_order_no]}].outOrderNo")
        seen[line.out_order_no] = line.index


def month_of(ctx: Ctx) -> str:
    return f"{to_shanghai(ctx.now):%Y-%m}"


def month_used(ctx: Ctx, id_card_no: str, tax_base_code: str, month: str) -> int:
    """Fen already counted against the person's monthly limit with the provider."""
    row = ctx.one(
        "SELECT COALESCE(SUM(amount_fen), 0) FROM eng_order WHERE id_card_no = ? AND tax_base_code = ? AND month = ?"
        " AND status IN (?,?,?)",
        id_card_no,
        tax_base_code,
        month,
        *COUNTED,
    )
    return int(row[0]) if row else 0


def check_lines(
    ctx: Ctx,
    provider: ServiceProvider,
    lines: list[Line],
    *,
    card: str,
    contract_needed: bool = True,
    month: str | None = None,
) -> None:
    """Apply the rules to every line; a broken rule is recorded in ``line.fail`` (first one wins).

    ``card``: ``"bound"`` (a bound debit card is required), ``"optional"`` (checked if given, binding not
    required), or ``"none"`` (no card in the request).
    """
    today = to_shanghai(ctx.now).date()
    month = month or month_of(ctx)
    running: dict[str, int] = {}
    for line in lines:
        line.fee = fees.order_fee(line.amount, provider)
        try:
            _check_line(ctx, provider, line, today, card, contract_needed)
            id_no = identity.normalise_id(line.id_card_no)
            used = running.get(id_no)
            if used is None:
                used = month_used(ctx, id_no, provider.tax_base_code, month)
            if to_fen(line.amount) + used > to_fen(provider.monthly_limit):
                left = max(0, to_fen(provider.monthly_limit) - used)
                raise codes.MONTHLY_LIMIT_EXCEEDED.error(
                    f"{line.label}: {line.amount} would pass the monthly limit of {provider.monthly_limit}"
                    f" (room left {yuan(left)})"
                )
            running[id_no] = used + to_fen(line.amount)
        except PlatformError as exc:
            line.fail = exc


def _check_line(ctx: Ctx, provider: ServiceProvider, line: Line, today: Any, card: str, contract_needed: bool) -> None:
    label = line.label
    try:
        id_no = identity.check_id(line.id_card_no, today, ctx.settings.min_age, ctx.settings.max_age)
        if line.mobile is not None:
            identity.check_mobile(line.mobile)
    except PlatformError as exc:
        raise _labelled(exc, label) from None
    person = registry.by_id(ctx, id_no)
    if person is None:
        raise codes.FREELANCER_NOT_VERIFIED.error(f"{label}: verify the payee with SFT0101 first")
    line.freelancer_no = person["freelancer_no"]
    line.extra["person"] = person
    if line.name is not None and identity.normalise_name(line.name) != person["name"]:
        raise codes.NAME_MISMATCH.error(f"{label}: the payee's name differs from the verified name")
    if contract_needed and contract.signed(ctx, person["freelancer_no"], provider.tax_base_code) is None:
        last = contract.latest(ctx, person["freelancer_no"], provider.tax_base_code)
        if last is not None and last["sign_time"] is not None:  # it was signed, and is no longer live
            raise codes.CONTRACT_EXPIRED.error(f"{label}: the contract with {provider.tax_base_code} has expired")
        raise codes.CONTRACT_NOT_SIGNED.error(f"{label}: no signed contract with {provider.tax_base_code}")
    if card != "none" and line.bank_card_no is not None:
        try:
            info = bins.check_payable(line.bank_card_no, luhn_strict=ctx.settings.merchant.luhn_strict)
        except PlatformError as exc:
            raise _labelled(exc, label) from None
        line.bank_card_no = info.card_no
        line.bank_name = info.bank_name
        if card == "bound" and registry.bound_card(ctx, person["freelancer_no"], info.card_no) is None:
            holder = registry.card_holder(ctx, info.card_no)
            if holder is not None:
                raise codes.CARD_BOUND_TO_OTHER.error(f"{label}: the card is bound to another person")
            raise codes.CARD_NOT_BOUND.error(f"{label}: bind the card with SFT0203 first")
    if line.amount > provider.per_order_limit:
        raise codes.PER_ORDER_LIMIT_EXCEEDED.error(
            f"{label}: {line.amount} is over the single-payout limit of {provider.per_order_limit}"
        )


def _labelled(exc: PlatformError, label: str) -> PlatformError:
    """The same refusal with the order named after the code's title: ``中文 (English): outOrderNo X: detail``."""
    head, sep, detail = exc.msg.partition(": ")
    return PlatformError(exc.code, f"{head}: {label}: {detail}" if sep else f"{label}: {exc.msg}", **exc.fields)


def refuse_if_any(lines: list[Line]) -> None:
    failed = [line for line in lines if line.fail is not None]
    if not failed:
        return
    first = failed[0]
    assert first.fail is not None
    failures = [
        {"outOrderNo": line.out_order_no, "failCode": line.fail.code, "failMsg": line.fail.msg}
        for line in failed
        if line.fail is not None
    ]
    raise PlatformError(first.fail.code, first.fail.msg, failures=failures)


#: Keys per ``IN (…)`` lookup: far below SQLite's limit on bound parameters.
KEY_CHUNK = 500


def used_order_keys(ctx: Ctx, out_order_nos: list[str]) -> dict[str, str]:
    """``outOrderNo → orderNo`` for those of ``out_order_nos`` this merchant already used.

    Reads only the rows asked for, through the unique index on ``(merchant_no, out_order_no)``, so the
    cost per call does not grow with the orders stored.
    """
    used: dict[str, str] = {}
    keys = list(dict.fromkeys(out_order_nos))
    for start in range(0, len(keys), KEY_CHUNK):
        chunk = keys[start : start + KEY_CHUNK]
        for row in ctx.all(
            f"SELECT out_order_no, order_no FROM eng_order WHERE merchant_no = ?"
            f" AND out_order_no IN ({','.join('?' * len(chunk))})",
            ctx.merchant_no,
            *chunk,
        ):
            used[row["out_order_no"]] = row["order_no"]
    return used


def existing_order_keys(ctx: Ctx, lines: list[Line]) -> None:
    """409 with the existing ``orderNo`` if any line's ``outOrderNo`` was already used."""
    keys = [line.out_order_no for line in lines if line.out_order_no]
    used = used_order_keys(ctx, keys)
    for start in range(0, len(keys), KEY_CHUNK):  # the first chunk holding a used key names its lowest orderNo
        hits = [(used[key], key) for key in keys[start : start + KEY_CHUNK] if key in used]
        if hits:
            order_no, out_order_no = min(hits)
            raise conflict(f"outOrderNo {out_order_no}", orderNo=order_no, outOrderNo=out_order_no)


def existing_batch(ctx: Ctx, out_batch_no: str) -> None:
    row = ctx.one(
        "SELECT batch_no, status FROM eng_batch WHERE merchant_no = ? AND out_batch_no = ?",
        ctx.merchant_no,
        out_batch_no,
    )
    if row is not None:
        raise conflict(
            f"outBatchNo {out_batch_no}", batchNo=row["batch_no"], outBatchNo=out_batch_no, status=row["status"]
        )


def require_balance(ctx: Ctx, tax_base_code: str, need: Decimal) -> None:
    have = ledger.available(ctx, tax_base_code)
    if have < to_fen(need):
        raise codes.INSUFFICIENT_BALANCE.error(
            f"the batch needs {need} (amount + service fee), the account holds {yuan(have)}",
            requiredAmount=need,
            availableAmount=yuan(have),
        )
