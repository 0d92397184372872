"""Settlement: fee pre-calculation, batches of payouts, their processing, bounces and refunds.

SFT0501 checks each order against the rules and reports ``PASS``/``REJECT`` per order without refusing
the call. SFT0502 is all or nothing: the first rule an order breaks (or a short balance) refuses the
whole batch with its 4xxx code, ``msg`` naming the ``outOrderNo``, and a ``failures`` list; nothing is
created or debited. Accepted, the batch's amount and fee leave the account at once (ledger PAYOUT and
SERVICE_FEE per order); the background then moves each order ``ACCEPTED → PROCESSING → SUCCESS |
FAILED`` (3001 per order, with the batch's totals on the one that completes the batch), and a paid
order may later be ``BOUNCED`` (5001). A FAILED or BOUNCED order's amount and fee come back as one
REFUND row and a refund record (SFT0801/0802).

The rules, per order, in the order they are checked: ID number (4101–4103), mobile (4104), verified
(4106), name as verified (4105), a SIGNED contract with the provider (4301/4302), a bound debit card
(4201–4206), the per-order limit (4501), the monthly limit per person and provider (4502: accepted,
processing and paid orders this calendar month, Asia/Shanghai, this batch included).

Business keys: ``outBatchNo`` per merchant (409 with ``batchNo``), ``outOrderNo`` per merchant among
settlement orders (409 with ``orderNo``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lingong_core.masking import mask_card, mask_id, mask_name
from lingong_core.timeutil import to_shanghai

from ..db import schema
from ..interface import PlatformError
from ..settings import ServiceProvider
from . import bins, codes, contract, fees, identity, ledger, registry
from .base import Ctx, conflict, drop_none, handles, not_found, paged, stamp, to_fen, yuan
from .fields import Biz, bad
from .jobs import BOUNCE, FAIL, job, rolled, take_script
from .jobs import SUCCESS as OK

ACCEPTED, PROCESSING, SUCCESS, FAILED, BOUNCED = "ACCEPTED", "PROCESSING", "SUCCESS", "FAILED", "BOUNCED"
COMPLETED = "COMPLETED"
FINAL = (SUCCESS, FAILED, BOUNCED)
COUNTED = (ACCEPTED, PROCESSING, SUCCESS)  # what counts against the monthly limit
KIND_SETTLEMENT, KIND_MARKETING, KIND_SYNC = "SETTLEMENT", "MARKETING", "SYNC"
FAIL_CODE = "BANK_REJECTED"
FAIL_MSG = "收款账户状态异常，银行退回 (payee account abnormal, rejected by the bank)"
BOUNCE_REASON = "收款账户已销户，资金退回 (payee account closed, funds returned)"

schema(
    """
    CREATE TABLE IF NOT EXISTS eng_batch (
        batch_no TEXT PRIMARY KEY,
        merchant_no TEXT NOT NULL,
        out_batch_no TEXT NOT NULL,
        tax_base_code TEXT NOT NULL,
        kind TEXT NOT NULL,
        project_no TEXT,
        campaign_no TEXT,
        period TEXT,
        remark TEXT,
        status TEXT NOT NULL,
        order_count INTEGER NOT NULL,
        total_fen INTEGER NOT NULL,
        service_fen INTEGER NOT NULL,
        create_time TEXT NOT NULL,
        complete_time TEXT,
        UNIQUE (merchant_no, out_batch_no)
    );
    CREATE TABLE IF NOT EXISTS eng_order (
        order_no TEXT PRIMARY KEY,
        merchant_no TEXT NOT NULL,
        batch_no TEXT NOT NULL REFERENCES eng_batch (batch_no),
        out_order_no TEXT NOT NULL,
        tax_base_code TEXT NOT NULL,
        freelancer_no TEXT NOT NULL,
        name TEXT NOT NULL,
        id_card_no TEXT NOT NULL,
        mobile TEXT,
        bank_card_no TEXT,
        bank_name TEXT,
        amount_fen INTEGER NOT NULL,
        service_fen INTEGER NOT NULL,
        status TEXT NOT NULL,
        fail_code TEXT,
        fail_msg TEXT,
        month TEXT NOT NULL,
        remark TEXT,
        create_time TEXT NOT NULL,
        complete_time TEXT,
        bounce_time TEXT,
        refund_no TEXT,
        UNIQUE (merchant_no, out_order_no)
    );
    CREATE INDEX IF NOT EXISTS eng_order_batch ON eng_order (batch_no, order_no);
    CREATE INDEX IF NOT EXISTS eng_order_month ON eng_order (id_card_no, tax_base_code, month);
    CREATE TABLE IF NOT EXISTS eng_refund (
        refund_no TEXT PRIMARY KEY,
        merchant_no TEXT NOT NULL,
        tax_base_code TEXT NOT NULL,
        order_no TEXT NOT NULL UNIQUE,
        batch_no TEXT NOT NULL,
        refund_type TEXT NOT NULL,
        amount_fen INTEGER NOT NULL,
        service_fen INTEGER NOT NULL,
        reason TEXT NOT NULL,
        status TEXT NOT NULL,
        create_time TEXT NOT NULL
    )
    """
)


# -- the rules ---------------------------------------------------------------------------------------


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
    if line.name is not None and line.name.strip() != person["name"]:
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


def existing_order_keys(ctx: Ctx, lines: list[Line]) -> None:
    """409 with the existing ``orderNo`` if any line's ``outOrderNo`` was already used."""
    keys = [line.out_order_no for line in lines if line.out_order_no]
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        row = ctx.one(
            f"SELECT order_no, out_order_no, batch_no FROM eng_order WHERE merchant_no = ?"
            f" AND out_order_no IN ({','.join('?' * len(chunk))}) ORDER BY order_no LIMIT 1",
            ctx.merchant_no,
            *chunk,
        )
        if row is not None:
            raise conflict(f"outOrderNo {row['out_order_no']}", orderNo=row["order_no"], outOrderNo=row["out_order_no"])


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


# -- SFT0501 -----------------------------------------------------------------------------------------


@handles("SFT0501")
def precalculate(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    code = biz.req("taxBaseCode")
    provider = ctx.provider(code)
    lines = parse_lines(ctx, biz, need_out=False, need_name=False, need_card=False)
    check_lines(ctx, provider, lines, card="optional" if any(line.bank_card_no for line in lines) else "none")
    used = (
        {
            r["out_order_no"]: r["order_no"]
            for r in ctx.all("SELECT out_order_no, order_no FROM eng_order WHERE merchant_no = ?", ctx.merchant_no)
        }
        if any(line.out_order_no for line in lines)
        else {}
    )
    items = []
    for line in lines:
        fail = line.fail
        if fail is None and line.out_order_no and line.out_order_no in used:
            fail = PlatformError(409, f"{line.label}: already used by orderNo {used[line.out_order_no]}")
        items.append(
            drop_none(
                {
                    "outOrderNo": line.out_order_no,
                    "idCardNo": mask_id(identity.normalise_id(line.id_card_no)),
                    "amount": line.amount,
                    "serviceAmount": line.fee,
                    "checkResult": "REJECT" if fail else "PASS",
                    "failCode": fail.code if fail else None,
                    "failMsg": fail.msg if fail else None,
                }
            )
        )
    total = sum((line.amount for line in lines), Decimal("0.00"))
    fee = fees.batch_fee((line.amount for line in lines), provider)
    have = yuan(ledger.available(ctx, code))
    return {
        "taxBaseCode": code,
        "feeRate": provider.fee_rate,
        "totalAmount": total,
        "serviceAmount": fee,
        "payAmount": total + fee,
        "orderCount": len(lines),
        "passCount": sum(1 for i in items if i["checkResult"] == "PASS"),
        "rejectCount": sum(1 for i in items if i["checkResult"] == "REJECT"),
        "availableAmount": have,
        "balanceEnough": have >= total + fee,
        "list": items,
    }


# -- SFT0502 / SFT0510 -------------------------------------------------------------------------------


def _header(ctx: Ctx, biz: Biz) -> tuple[str, str, ServiceProvider]:
    out_batch_no = biz.req("outBatchNo")
    code = biz.req("taxBaseCode")
    existing_batch(ctx, out_batch_no)
    return out_batch_no, code, ctx.provider(code)


def _new_batch(
    ctx: Ctx,
    out_batch_no: str,
    provider: ServiceProvider,
    *,
    kind: str,
    status: str,
    project_no: str | None,
    campaign_no: str | None,
    period: str | None,
    remark: str | None,
) -> str:
    batch_no = ctx.next_no("B")
    ctx.exec(
        "INSERT INTO eng_batch (batch_no, merchant_no, out_batch_no, tax_base_code, kind, project_no, campaign_no,"
        " period, remark, status, order_count, total_fen, service_fen, create_time, complete_time)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,0,0,0,?,?)",
        batch_no,
        ctx.merchant_no,
        out_batch_no,
        provider.tax_base_code,
        kind,
        project_no,
        campaign_no,
        period,
        remark,
        status,
        ctx.stamp,
        ctx.stamp if status == COMPLETED else None,
    )
    return batch_no


def _add_order(
    ctx: Ctx, batch_no: str, provider: ServiceProvider, line: Line, *, status: str, month: str, paid_at: str | None
) -> str:
    """Record one order of the batch and take its amount and fee out of the account."""
    person = line.extra["person"]
    order_no = ctx.next_no()
    ctx.exec(
        "INSERT INTO eng_order (order_no, merchant_no, batch_no, out_order_no, tax_base_code, freelancer_no, name,"
        " id_card_no, mobile, bank_card_no, bank_name, amount_fen, service_fen, status, month, remark, create_time,"
        " complete_time) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        order_no,
        ctx.merchant_no,
        batch_no,
        line.out_order_no,
        provider.tax_base_code,
        person["freelancer_no"],
        person["name"],
        person["id_card_no"],
        line.mobile,
        line.bank_card_no,
        line.bank_name,
        to_fen(line.amount),
        to_fen(line.fee),
        status,
        month,
        line.remark,
        ctx.stamp,
        paid_at,
    )
    ctx.exec(
        "UPDATE eng_batch SET order_count = order_count + 1, total_fen = total_fen + ?, service_fen = service_fen + ?"
        " WHERE batch_no = ?",
        to_fen(line.amount),
        to_fen(line.fee),
        batch_no,
    )
    code = provider.tax_base_code
    ledger.post(
        ctx,
        code,
        ledger.PAYOUT,
        -to_fen(line.amount),
        ref_no=order_no,
        out_ref_no=line.out_order_no,
        biz_no=batch_no,
        remark="佣金结算",
    )
    ledger.post(
        ctx,
        code,
        ledger.SERVICE_FEE,
        -to_fen(line.fee),
        ref_no=order_no,
        out_ref_no=line.out_order_no,
        biz_no=batch_no,
        remark="服务费",
    )
    return order_no


def _batch_answer(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "batchNo": row["batch_no"],
        "outBatchNo": row["out_batch_no"],
        "taxBaseCode": row["tax_base_code"],
        "status": row["status"],
        "orderCount": row["order_count"],
        "totalAmount": yuan(row["total_fen"]),
        "serviceAmount": yuan(row["service_fen"]),
        "payAmount": yuan(row["total_fen"] + row["service_fen"]),
    }


def _references(ctx: Ctx, biz: Biz, code: str) -> tuple[str | None, str | None, str | None]:
    from . import marketing, project

    period = biz.text("period", required=False, pattern=r"\d{4}-(0[1-9]|1[0-2])", rule="must be yyyy-MM")
    project_no = biz.text("projectNo", required=False)
    if project_no is not None:
        project.require(ctx, project_no)
    campaign_no = biz.text("campaignNo", required=False)
    if campaign_no is not None:
        marketing.require_active(ctx, campaign_no, code)
    return project_no, campaign_no, period


@handles("SFT0502")
def settle(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    out_batch_no, code, provider = _header(ctx, biz)
    lines = parse_lines(ctx, biz, need_out=True, need_name=True, need_card=True)
    no_duplicate_keys(lines)
    existing_order_keys(ctx, lines)
    project_no, campaign_no, period = _references(ctx, biz, code)
    check_lines(ctx, provider, lines, card="bound")
    refuse_if_any(lines)
    total = sum((line.amount for line in lines), Decimal("0.00"))
    if campaign_no is not None:
        from . import marketing

        marketing.require_budget(ctx, campaign_no, total)
    require_balance(ctx, code, total + fees.batch_fee((line.amount for line in lines), provider))
    batch_no = _new_batch(
        ctx,
        out_batch_no,
        provider,
        kind=KIND_MARKETING if campaign_no else KIND_SETTLEMENT,
        status=ACCEPTED,
        project_no=project_no,
        campaign_no=campaign_no,
        period=period,
        remark=biz.text("remark", required=False, max_len=256),
    )
    month = month_of(ctx)
    for line in lines:
        _add_order(ctx, batch_no, provider, line, status=ACCEPTED, month=month, paid_at=None)
    row = ctx.one("SELECT * FROM eng_batch WHERE batch_no = ?", batch_no)
    assert row is not None
    ctx.schedule("settle_start", row["batch_no"], ctx.settings.delays.settlement_start)
    answer = _batch_answer(row)
    if campaign_no is not None:
        answer["campaignNo"] = campaign_no
    return answer


@handles("SFT0510")
def sync(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    """Settlement data sync: one payout already made through the provider's channel, recorded as paid.

    The rules of SFT0502 apply, except that the card, when given, need not be bound. The merchant
    reports the fee it was charged (``serviceAmount``); amount and fee leave the account as for a
    settlement, and the order is SUCCESS at once (no notification). Orders with the same
    ``outBatchNo`` are gathered in one COMPLETED batch of kind SYNC (without one, each order gets its
    own, ``outBatchNo`` ``SYNC-<outOrderNo>``), which can then be invoiced like any other.
    """
    from . import recharge

    out_order_no = biz.req("outOrderNo")
    code = biz.req("taxBaseCode")
    out_batch_no = biz.text("outBatchNo", required=False) or f"SYNC-{out_order_no}"
    line = Line(
        index=0,
        out_order_no=out_order_no,
        name=biz.req("name", max_len=50),
        id_card_no=biz.req("idCardNo", max_len=32),
        mobile=biz.text("mobile", required=False, max_len=20),
        bank_card_no=biz.text("bankCardNo", required=False, max_len=32),
        amount=biz.amount("amount"),
        remark=biz.text("remark", required=False, max_len=256),
    )
    service = biz.amount("serviceAmount", positive=False)
    pay_time = biz.when("payTime", required=True)
    assert pay_time is not None
    channel = biz.text("payChannelCode", required=False)
    biz.integer("openInvoiceModel", default=0, choices=(0, 1, 2))
    existing_order_keys(ctx, [line])
    provider = ctx.provider(code)
    if channel is not None and channel not in recharge.PAY_CHANNELS:
        raise codes.PAY_CHANNEL_UNKNOWN.error(f"payChannelCode {channel}")
    batch = ctx.one("SELECT * FROM eng_batch WHERE merchant_no = ? AND out_batch_no = ?", ctx.merchant_no, out_batch_no)
    if batch is not None and (batch["kind"] != KIND_SYNC or batch["tax_base_code"] != code):
        raise conflict(f"outBatchNo {out_batch_no} belongs to another batch", batchNo=batch["batch_no"])
    project_no, campaign_no, _ = _references(ctx, biz, code)
    check_lines(ctx, provider, [line], card="optional", month=f"{to_shanghai(pay_time):%Y-%m}")
    refuse_if_any([line])
    line.fee = service
    if campaign_no is not None:
        from . import marketing

        marketing.require_budget(ctx, campaign_no, line.amount)
    require_balance(ctx, code, line.amount + line.fee)
    if batch is None:
        batch_no = _new_batch(
            ctx,
            out_batch_no,
            provider,
            kind=KIND_SYNC,
            status=COMPLETED,
            project_no=project_no,
            campaign_no=campaign_no,
            period=None,
            remark=None,
        )
    else:
        batch_no = batch["batch_no"]
    paid_at = stamp(pay_time)
    order_no = _add_order(
        ctx, batch_no, provider, line, status=SUCCESS, month=f"{to_shanghai(pay_time):%Y-%m}", paid_at=paid_at
    )
    ctx.exec(
        "UPDATE eng_batch SET complete_time = MAX(COALESCE(complete_time, ''), ?) WHERE batch_no = ?",
        ctx.stamp,
        batch_no,
    )
    return drop_none(
        {
            "orderNo": order_no,
            "outOrderNo": out_order_no,
            "batchNo": batch_no,
            "outBatchNo": out_batch_no,
            "status": SUCCESS,
            "campaignNo": campaign_no,
        }
    )


# -- queries -----------------------------------------------------------------------------------------


def find_batch(ctx: Ctx, biz: Biz) -> sqlite3.Row:
    biz.one_of("outBatchNo", "batchNo")
    if biz.has("batchNo"):
        row = ctx.one(
            "SELECT * FROM eng_batch WHERE merchant_no = ? AND batch_no = ?", ctx.merchant_no, biz.req("batchNo")
        )
    else:
        row = ctx.one(
            "SELECT * FROM eng_batch WHERE merchant_no = ? AND out_batch_no = ?", ctx.merchant_no, biz.req("outBatchNo")
        )
    if row is None:
        raise not_found("no settlement batch with this outBatchNo/batchNo")
    if biz.has("campaignNo") and row["campaign_no"] != biz.req("campaignNo"):
        raise not_found("no marketing batch with this outBatchNo/batchNo for the campaignNo")
    return row


def batch_counts(ctx: Ctx, batch_no: str) -> dict[str, Any]:
    counts = dict.fromkeys((ACCEPTED, PROCESSING, SUCCESS, FAILED, BOUNCED), (0, 0, 0))
    for r in ctx.all(
        "SELECT status, COUNT(*), SUM(amount_fen), SUM(service_fen) FROM eng_order WHERE batch_no = ? GROUP BY status",
        batch_no,
    ):
        counts[r[0]] = (int(r[1]), int(r[2] or 0), int(r[3] or 0))
    return {
        "successCount": counts[SUCCESS][0],
        "failCount": counts[FAILED][0],
        "bouncedCount": counts[BOUNCED][0],
        "processingCount": counts[ACCEPTED][0] + counts[PROCESSING][0],
        "successAmount": yuan(counts[SUCCESS][1]),
        "failAmount": yuan(counts[FAILED][1]),
        "bouncedAmount": yuan(counts[BOUNCED][1]),
    }


def batch_view(ctx: Ctx, row: sqlite3.Row) -> dict[str, Any]:
    return drop_none(
        {
            **_batch_answer(row),
            **batch_counts(ctx, row["batch_no"]),
            "settleType": row["kind"],
            "projectNo": row["project_no"],
            "campaignNo": row["campaign_no"],
            "period": row["period"],
            "remark": row["remark"],
            "createTime": row["create_time"],
            "completeTime": row["complete_time"],
        }
    )


def order_view(row: sqlite3.Row, batch: sqlite3.Row | None = None) -> dict[str, Any]:
    return drop_none(
        {
            "orderNo": row["order_no"],
            "outOrderNo": row["out_order_no"],
            "batchNo": row["batch_no"],
            "outBatchNo": batch["out_batch_no"] if batch is not None else None,
            "taxBaseCode": row["tax_base_code"],
            "freelancerNo": row["freelancer_no"],
            "name": mask_name(row["name"]),
            "idCardNo": mask_id(row["id_card_no"]),
            "bankCardNo": mask_card(row["bank_card_no"]) if row["bank_card_no"] else None,
            "bankName": row["bank_name"],
            "amount": yuan(row["amount_fen"]),
            "serviceAmount": yuan(row["service_fen"]),
            "status": row["status"],
            "failCode": row["fail_code"],
            "failMsg": row["fail_msg"],
            "remark": row["remark"],
            "createTime": row["create_time"],
            "completeTime": row["complete_time"],
            "bounceTime": row["bounce_time"],
            "refundNo": row["refund_no"],
        }
    )


@handles("SFT0503")
def query_batch(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    return batch_view(ctx, find_batch(ctx, biz))


@handles("SFT0504")
def query_batch_orders(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    batch = find_batch(ctx, biz)
    status = biz.text("status", required=False, choices=(ACCEPTED, PROCESSING, SUCCESS, FAILED, BOUNCED))
    sql = "SELECT * FROM eng_order WHERE batch_no = ?"
    params: list[Any] = [batch["batch_no"]]
    if status:
        sql += " AND status = ?"
        params.append(status)
    answer = paged(ctx, biz, sql + " ORDER BY order_no", tuple(params), lambda r: order_view(r, batch))
    head = {"batchNo": batch["batch_no"], "outBatchNo": batch["out_batch_no"], "status": batch["status"]}
    if batch["campaign_no"]:
        head["campaignNo"] = batch["campaign_no"]
    return {**head, **answer}


def find_order(ctx: Ctx, biz: Biz) -> sqlite3.Row:
    biz.one_of("outOrderNo", "orderNo")
    if biz.has("orderNo"):
        row = ctx.one(
            "SELECT * FROM eng_order WHERE merchant_no = ? AND order_no = ?", ctx.merchant_no, biz.req("orderNo")
        )
    else:
        row = ctx.one(
            "SELECT * FROM eng_order WHERE merchant_no = ? AND out_order_no = ?", ctx.merchant_no, biz.req("outOrderNo")
        )
    if row is None:
        raise not_found("no settlement order with this outOrderNo/orderNo")
    return row


def batch_of(ctx: Ctx, order: sqlite3.Row) -> sqlite3.Row | None:
    return ctx.one("SELECT * FROM eng_batch WHERE batch_no = ?", order["batch_no"])


@handles("SFT0505")
def query_order(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    row = find_order(ctx, biz)
    return order_view(row, batch_of(ctx, row))


@handles("SFT0506")
def receipt(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    from . import documents

    row = find_order(ctx, biz)
    if row["status"] == BOUNCED:
        raise codes.RECEIPT_NOT_AVAILABLE.error(
            f"the order was paid at {row['complete_time']} and bounced (退票) at {row['bounce_time']}; refund"
            f" {row['refund_no']} returned the amount and fee, and the payment's receipt is void",
            status=BOUNCED,
            refundNo=row["refund_no"],
            bounceTime=row["bounce_time"],
        )
    if row["status"] != SUCCESS:
        raise codes.RECEIPT_NOT_AVAILABLE.error(f"the order is {row['status']}", status=row["status"])
    batch = batch_of(ctx, row)
    receipt_no = documents.receipt_no(row["order_no"])
    return drop_none(
        {
            "receiptNo": receipt_no,
            "orderNo": row["order_no"],
            "outOrderNo": row["out_order_no"],
            "batchNo": row["batch_no"],
            "outBatchNo": batch["out_batch_no"] if batch is not None else None,
            "payeeName": mask_name(row["name"]),
            "payeeBankCardNo": mask_card(row["bank_card_no"]) if row["bank_card_no"] else None,
            "payeeBankName": row["bank_name"],
            "amount": yuan(row["amount_fen"]),
            "payTime": row["complete_time"],
            "receiptTime": row["complete_time"],
            "receiptUrl": documents.files_url(ctx, documents.RECEIPTS, receipt_no),
        }
    )


# -- background --------------------------------------------------------------------------------------


@job("settle_start")
def start_batch(ctx: Ctx, batch_no: str) -> None:
    batch = ctx.one("SELECT * FROM eng_batch WHERE batch_no = ?", batch_no)
    if batch is None or batch["status"] != ACCEPTED:
        return
    ctx.exec("UPDATE eng_batch SET status = ? WHERE batch_no = ?", PROCESSING, batch_no)
    orders = ctx.all(
        "SELECT order_no FROM eng_order WHERE batch_no = ? AND status = ? ORDER BY order_no", batch_no, ACCEPTED
    )
    ctx.exec("UPDATE eng_order SET status = ? WHERE batch_no = ? AND status = ?", PROCESSING, batch_no, ACCEPTED)
    for order in orders:
        ctx.schedule("settle_finish", order["order_no"], ctx.settings.delays.settlement_finish)


def _refund(ctx: Ctx, order: sqlite3.Row, refund_type: str, reason: str) -> str:
    refund_no = ctx.next_no("R")
    ctx.exec(
        "INSERT INTO eng_refund (refund_no, merchant_no, tax_base_code, order_no, batch_no, refund_type, amount_fen,"
        " service_fen, reason, status, create_time) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        refund_no,
        order["merchant_no"],
        order["tax_base_code"],
        order["order_no"],
        order["batch_no"],
        refund_type,
        order["amount_fen"],
        order["service_fen"],
        reason,
        SUCCESS,
        ctx.stamp,
    )
    ledger.post(
        ctx,
        order["tax_base_code"],
        ledger.REFUND,
        int(order["amount_fen"]) + int(order["service_fen"]),
        ref_no=order["order_no"],
        out_ref_no=order["out_order_no"],
        biz_no=refund_no,
        remark="退票退款" if refund_type == BOUNCED else "失败退款",
    )
    ctx.exec("UPDATE eng_order SET refund_no = ? WHERE order_no = ?", refund_no, order["order_no"])
    return refund_no


def _outcome(ctx: Ctx, order: sqlite3.Row) -> str:
    scripted = take_script(
        ctx,
        ("business_key", order["out_order_no"]),
        ("bank_card_no", order["bank_card_no"]),
        ("id_card_no", order["id_card_no"]),
    )
    if scripted is not None:
        return scripted
    outcomes = ctx.settings.outcomes
    if rolled(ctx, order["order_no"], "fail", outcomes.settlement_fail_rate):
        return FAIL
    if rolled(ctx, order["order_no"], "bounce", outcomes.bounce_rate):
        return BOUNCE
    return OK


@job("settle_finish")
def finish_order(ctx: Ctx, order_no: str) -> None:
    order = ctx.one("SELECT * FROM eng_order WHERE order_no = ?", order_no)
    if order is None or order["status"] != PROCESSING:
        return
    outcome = _outcome(ctx, order)
    if outcome == FAIL:
        ctx.exec(
            "UPDATE eng_order SET status = ?, fail_code = ?, fail_msg = ?, complete_time = ? WHERE order_no = ?",
            FAILED,
            FAIL_CODE,
            FAIL_MSG,
            ctx.stamp,
            order_no,
        )
        _refund(ctx, order, FAILED, FAIL_MSG)
    else:
        ctx.exec("UPDATE eng_order SET status = ?, complete_time = ? WHERE order_no = ?", SUCCESS, ctx.stamp, order_no)
        if outcome == BOUNCE:
            ctx.schedule("settle_bounce", order_no, ctx.settings.delays.bounce)
    batch = ctx.one("SELECT * FROM eng_batch WHERE batch_no = ?", order["batch_no"])
    assert batch is not None
    biz: dict[str, Any] = {
        "batchNo": batch["batch_no"],
        "outBatchNo": batch["out_batch_no"],
        "orderNo": order_no,
        "outOrderNo": order["out_order_no"],
        "amount": yuan(order["amount_fen"]),
        "serviceAmount": yuan(order["service_fen"]),
        "status": FAILED if outcome == FAIL else SUCCESS,
        "failMsg": FAIL_MSG if outcome == FAIL else "",
        "completeTime": ctx.stamp,
    }
    open_count = ctx.one(
        "SELECT COUNT(*) FROM eng_order WHERE batch_no = ? AND status IN (?, ?)",
        batch["batch_no"],
        ACCEPTED,
        PROCESSING,
    )
    if batch["status"] != COMPLETED and open_count is not None and open_count[0] == 0:
        ctx.exec(
            "UPDATE eng_batch SET status = ?, complete_time = ? WHERE batch_no = ?",
            COMPLETED,
            ctx.stamp,
            batch["batch_no"],
        )
        counts = batch_counts(ctx, batch["batch_no"])
        biz.update(
            {
                "batchStatus": COMPLETED,
                "successCount": counts["successCount"],
                "failCount": counts["failCount"],
                "successAmount": counts["successAmount"],
                "failAmount": counts["failAmount"],
            }
        )
    ctx.notify("3001", biz)


@job("settle_bounce")
def bounce_order(ctx: Ctx, order_no: str) -> None:
    order = ctx.one("SELECT * FROM eng_order WHERE order_no = ?", order_no)
    if order is None or order["status"] != SUCCESS:
        return
    ctx.exec("UPDATE eng_order SET status = ?, bounce_time = ? WHERE order_no = ?", BOUNCED, ctx.stamp, order_no)
    refund_no = _refund(ctx, order, BOUNCED, BOUNCE_REASON)
    batch = ctx.one("SELECT out_batch_no FROM eng_batch WHERE batch_no = ?", order["batch_no"])
    ctx.notify(
        "5001",
        {
            "batchNo": order["batch_no"],
            "outBatchNo": batch["out_batch_no"] if batch is not None else "",
            "orderNo": order_no,
            "outOrderNo": order["out_order_no"],
            "amount": yuan(order["amount_fen"]),
            "serviceAmount": yuan(order["service_fen"]),
            "refundNo": refund_no,
            "bounceReason": BOUNCE_REASON,
            "bounceTime": ctx.stamp,
        },
    )
