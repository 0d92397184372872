"""Settlement batches and orders: their tables, states, lookups and the views every answer is built from.

The lowest layer of settlement, which the rules (:mod:`.settlement_rules`), the write handlers
(:mod:`.settlement`), the queries (:mod:`.settlement_queries`), the background
(:mod:`.settlement_processing`), projects and invoices all import.

Business keys: ``outBatchNo`` per merchant, ``outOrderNo`` per merchant among settlement orders; both
are unique indexes, so every lookup by business key reads only the rows asked for.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from lingong_core.masking import mask_card, mask_id, mask_name

from ..db import schema
from .base import Ctx, drop_none, not_found, yuan
from .fields import Biz

ACCEPTED, PROCESSING, SUCCESS, FAILED, BOUNCED = "ACCEPTED", "PROCESSING", "SUCCESS", "FAILED", "BOUNCED"
COMPLETED = "COMPLETED"
FINAL = (SUCCESS, FAILED, BOUNCED)
COUNTED = (ACCEPTED, PROCESSING, SUCCESS)  # what counts against the monthly limit
KIND_SETTLEMENT, KIND_MARKETING, KIND_SYNC = "SETTLEMENT", "MARKETING", "SYNC"

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


def batch_answer(row: sqlite3.Row) -> dict[str, Any]:
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
    if biz.knows("campaignNo") and biz.has("campaignNo") and row["campaign_no"] != biz.req("campaignNo"):
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
            **batch_answer(row),
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
