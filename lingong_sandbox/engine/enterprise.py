"""Enterprise information (SFT0901) and tax payment certificates (SFT1001, 完税凭证).

Certificates are derived from what was paid: one per person, service provider and calendar month with
paid (SUCCESS) orders — ``incomeAmount`` their sum, ``taxAmount`` at the sandbox's flat
:data:`SANDBOX_TAX_RATE` (a stand-in for the provider's assessed rate; the real figure is the tax
bureau's). A month's certificate is ``ISSUED`` (on the 10th of the next month) once the month is over,
``PENDING`` before.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from stdnum.cn import uscc

from lingong_core.masking import mask_id, mask_mobile, mask_name
from lingong_core.timeutil import to_shanghai

from . import documents, identity
from .base import Ctx, drop_none, handles, paged, yuan
from .fields import Biz

SANDBOX_TAX_RATE = documents.SANDBOX_TAX_RATE


def credit_code(merchant_no: str) -> str:
    """A well-formed 统一社会信用代码 derived from the merchant number (valid check character)."""
    digits = "".join(c for c in merchant_no if c.isdigit()).rjust(9, "0")[-9:]
    body = "91460100" + digits
    return body + uscc.calc_check_digit(body + "0")


@handles("SFT0901")
def enterprise_info(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    merchant = ctx.settings.merchant
    return {
        "merchantNo": ctx.merchant_no,
        "enterpriseName": merchant.name,
        "creditCode": credit_code(ctx.merchant_no),
        "status": "ENABLED" if merchant.enabled else "DISABLED",
        "signAlgorithm": str(
            merchant.sign_algorithm.value if hasattr(merchant.sign_algorithm, "value") else merchant.sign_algorithm
        ),
        "notifyUrl": merchant.notify_url or "",
        "legalPerson": mask_name(merchant.legal_person),
        "contactName": mask_name(merchant.contact_name),
        "contactMobile": mask_mobile(merchant.contact_mobile),
        "taxBaseCodes": [p.tax_base_code for p in ctx.settings.providers],
        "taxBases": [{"taxBaseCode": p.tax_base_code, "taxBaseName": p.name} for p in ctx.settings.providers],
        "createTime": merchant.create_time,
    }


def _tax(amount: Decimal) -> Decimal:
    return documents.tax_of(amount)


@handles("SFT1001")
def certificates(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    sql = (
        "SELECT o.freelancer_no, o.name, o.id_card_no, o.tax_base_code, o.month, SUM(o.amount_fen) AS income_fen,"
        " COUNT(*) AS order_count FROM eng_order o WHERE o.merchant_no = ? AND o.status = 'SUCCESS'"
    )
    params: list[Any] = [ctx.merchant_no]
    if biz.has("taxBaseCode"):
        code = biz.req("taxBaseCode")
        ctx.provider(code)
        sql += " AND o.tax_base_code = ?"
        params.append(code)
    period = biz.text("period", required=False, pattern=r"\d{4}-(0[1-9]|1[0-2])", rule="must be yyyy-MM")
    if period:
        sql += " AND o.month = ?"
        params.append(period)
    if biz.has("freelancerNo"):
        sql += " AND o.freelancer_no = ?"
        params.append(biz.req("freelancerNo"))
    if biz.has("idCardNo"):
        sql += " AND o.id_card_no = ?"
        params.append(identity.normalise_id(biz.req("idCardNo", max_len=32)))
    sql += " GROUP BY o.freelancer_no, o.tax_base_code, o.month ORDER BY o.month, o.tax_base_code, o.freelancer_no"
    current = f"{to_shanghai(ctx.now):%Y-%m}"

    def render(row: sqlite3.Row) -> dict[str, Any]:
        income = yuan(row["income_fen"])
        issued = row["month"] < current
        number = documents.certificate_no(row["tax_base_code"], row["month"], row["freelancer_no"])
        return {
            "certificateNo": number,
            "freelancerNo": row["freelancer_no"],
            "name": mask_name(row["name"]),
            "idCardNo": mask_id(row["id_card_no"]),
            "taxBaseCode": row["tax_base_code"],
            "period": row["month"],
            "orderCount": row["order_count"],
            "incomeAmount": income,
            "taxAmount": _tax(income),
            "status": "ISSUED" if issued else "PENDING",
            "issueTime": f"{_next_month(row['month'])}-10 10:00:00" if issued else None,
            "fileUrl": documents.files_url(ctx, documents.CERTIFICATES, number) if issued else None,
        }

    return paged(ctx, biz, sql, tuple(params), lambda r: drop_none(render(r)))


def _next_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year + mon // 12}-{mon % 12 + 1:02d}"
