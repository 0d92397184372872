"""Settlement's write handlers: fee pre-calculation (SFT0501), a batch of payouts (SFT0502), a payout made
elsewhere recorded (SFT0510).

SFT0501 checks each order against the rules (:mod:`.settlement_rules`) and reports ``PASS``/``REJECT``
per order without refusing the call. SFT0502 is all or nothing: the first rule an order breaks (or a
short balance) refuses the whole batch with its 4xxx code, ``msg`` naming the ``outOrderNo``, and a
``failures`` list; nothing is created or debited. Accepted, the batch's amount and fee leave the account
at once (ledger PAYOUT and SERVICE_FEE per order); the background (:mod:`.settlement_processing`) then
pays each order.

Business keys: ``outBatchNo`` per merchant (409 with ``batchNo``), ``outOrderNo`` per merchant among
settlement orders (409 with ``orderNo``).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from lingong_core.masking import mask_id
from lingong_core.timeutil import to_shanghai

from ..interface import PlatformError
from ..settings import ServiceProvider
from . import codes, fees, identity, ledger, marketing, project, recharge
from .base import Ctx, conflict, drop_none, handles, stamp, to_fen, yuan
from .fields import Biz
from .settlement_orders import (
    ACCEPTED,
    COMPLETED,
    KIND_MARKETING,
    KIND_SETTLEMENT,
    KIND_SYNC,
    SUCCESS,
    batch_answer,
)
from .settlement_rules import (
    Line,
    check_lines,
    existing_batch,
    existing_order_keys,
    month_of,
    no_duplicate_keys,
    parse_lines,
    refuse_if_any,
    require_balance,
    used_order_keys,
)

# -- SFT0501 -----------------------------------------------------------------------------------------


@handles("SFT0501")
def precalculate(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    code = biz.req("taxBaseCode")
    provider = ctx.provider(code)
    lines = parse_lines(ctx, biz, need_out=False, need_name=False, need_card=False)
    check_lines(ctx, provider, lines, card="optional" if any(line.bank_card_no for line in lines) else "none")
    used = used_order_keys(ctx, [line.out_order_no for line in lines if line.out_order_no])
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


def _references(ctx: Ctx, biz: Biz, code: str) -> tuple[str | None, str | None, str | None]:
    period = biz.text("period", required=False, pattern=r"\d{4}-(0[1-9]|1[0-2])", rule="must be yyyy-MM")
    project_no = biz.text("projectNo", required=False)
    if project_no is not None:
        project.require(ctx, project_no)
    # only the marketing form of the apiCode has campaignNo (validation chose the form by it)
    campaign_no = biz.text("campaignNo", required=False) if biz.knows("campaignNo") else None
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
    answer = batch_answer(row)
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
    project_no, campaign_no, period = _references(ctx, biz, code)
    if pay_time > ctx.now + timedelta(seconds=ctx.settings.clock_skew_seconds):
        raise codes.PAY_TIME_IN_FUTURE.error(f"{out_order_no}: payTime {stamp(pay_time)} is after {ctx.stamp}")
    check_lines(ctx, provider, [line], card="optional", month=f"{to_shanghai(pay_time):%Y-%m}")
    refuse_if_any([line])
    expected = fees.order_fee(line.amount, provider)
    if service != expected:
        raise codes.SERVICE_AMOUNT_MISMATCH.error(
            f"{out_order_no}: serviceAmount {service} for amount {line.amount} at rate {provider.fee_rate}"
            f" is {expected}",
            expectedServiceAmount=expected,
        )
    line.fee = service
    if campaign_no is not None:
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
            period=period,
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
