"""Projects (SFT0701–0705): the work payouts are for, and the confirmation sheet that proves it was done.

``outProjectNo`` is unique per merchant (409 with ``projectNo``). A settlement may name a
``projectNo`` (4701 if unknown or deleted). A project that batches were paid under cannot be deleted
(4702). A confirmation sheet (项目确认单) records that the work one batch paid for under the project was
accepted; there is one per (project, batch) (409 with ``confirmNo``).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..db import schema
from . import codes
from .base import Ctx, conflict, drop_none, handles, not_found, paged, to_fen, yuan
from .fields import Biz
from .settlement_orders import batch_counts, find_batch

ACTIVE, FINISHED, DELETED, CONFIRMED = "ACTIVE", "FINISHED", "DELETED", "CONFIRMED"
DATE = r"\d{4}-\d{2}-\d{2}"

schema(
    """
    CREATE TABLE IF NOT EXISTS eng_project (
        project_no TEXT PRIMARY KEY,
        merchant_no TEXT NOT NULL,
        out_project_no TEXT NOT NULL,
        project_name TEXT NOT NULL,
        tax_base_code TEXT,
        project_type TEXT,
        start_date TEXT,
        end_date TEXT,
        budget_fen INTEGER,
        description TEXT,
        status TEXT NOT NULL,
        create_time TEXT NOT NULL,
        delete_time TEXT,
        UNIQUE (merchant_no, out_project_no)
    );
    CREATE TABLE IF NOT EXISTS eng_project_confirm (
        confirm_no TEXT PRIMARY KEY,
        merchant_no TEXT NOT NULL,
        project_no TEXT NOT NULL,
        batch_no TEXT NOT NULL,
        amount_fen INTEGER NOT NULL,
        confirm_date TEXT NOT NULL,
        content TEXT NOT NULL,
        attachment_url TEXT,
        status TEXT NOT NULL,
        confirm_time TEXT NOT NULL,
        UNIQUE (merchant_no, project_no, batch_no)
    )
    """
)


def require(ctx: Ctx, project_no: str) -> sqlite3.Row:
    row = ctx.one(
        "SELECT * FROM eng_project WHERE merchant_no = ? AND project_no = ? AND status = ?",
        ctx.merchant_no,
        project_no,
        ACTIVE,
    )
    if row is None:
        raise codes.PROJECT_NOT_FOUND.error(f"projectNo {project_no}")
    return row


def _view(row: sqlite3.Row) -> dict[str, Any]:
    return drop_none(
        {
            "projectNo": row["project_no"],
            "outProjectNo": row["out_project_no"],
            "projectName": row["project_name"],
            "taxBaseCode": row["tax_base_code"],
            "projectType": row["project_type"],
            "startDate": row["start_date"],
            "endDate": row["end_date"],
            "budgetAmount": yuan(row["budget_fen"]) if row["budget_fen"] is not None else None,
            "description": row["description"],
            "status": row["status"],
            "createTime": row["create_time"],
            "deleteTime": row["delete_time"],
        }
    )


def _find(ctx: Ctx, biz: Biz) -> sqlite3.Row:
    biz.one_of("projectNo", "outProjectNo")
    if biz.has("projectNo"):
        row = ctx.one(
            "SELECT * FROM eng_project WHERE merchant_no = ? AND project_no = ?", ctx.merchant_no, biz.req("projectNo")
        )
    else:
        row = ctx.one(
            "SELECT * FROM eng_project WHERE merchant_no = ? AND out_project_no = ?",
            ctx.merchant_no,
            biz.req("outProjectNo"),
        )
    if row is None:
        raise not_found("no project with this projectNo/outProjectNo")
    return row


@handles("SFT0703")
def create(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    out_project_no = biz.req("outProjectNo")
    name = biz.req("projectName", max_len=128)
    code = biz.text("taxBaseCode", required=False)
    if code is not None:
        ctx.provider(code)
    start = biz.text("startDate", required=False, pattern=DATE, rule="must be yyyy-MM-dd")
    end = biz.text("endDate", required=False, pattern=DATE, rule="must be yyyy-MM-dd")
    budget = biz.money("budgetAmount", required=False)
    description = biz.text("description", required=False, max_len=1000) or biz.text(
        "projectDesc", required=False, max_len=1000
    )
    existing = ctx.one(
        "SELECT project_no FROM eng_project WHERE merchant_no = ? AND out_project_no = ?",
        ctx.merchant_no,
        out_project_no,
    )
    if existing is not None:
        raise conflict(f"outProjectNo {out_project_no}", projectNo=existing["project_no"], outProjectNo=out_project_no)
    project_no = ctx.next_no("P")
    ctx.exec(
        "INSERT INTO eng_project (project_no, merchant_no, out_project_no, project_name, tax_base_code, project_type,"
        " start_date, end_date, budget_fen, description, status, create_time) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        project_no,
        ctx.merchant_no,
        out_project_no,
        name,
        code,
        biz.text("projectType", required=False),
        start,
        end,
        to_fen(budget) if budget is not None else None,
        description,
        ACTIVE,
        ctx.stamp,
    )
    return {"projectNo": project_no, "outProjectNo": out_project_no, "status": ACTIVE}


@handles("SFT0701")
def list_projects(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    sql = "SELECT * FROM eng_project WHERE merchant_no = ?"
    params: list[Any] = [ctx.merchant_no]
    if biz.has("taxBaseCode"):
        code = biz.req("taxBaseCode")
        ctx.provider(code)
        sql += " AND tax_base_code = ?"
        params.append(code)
    status = biz.text("status", required=False, choices=(ACTIVE, FINISHED, DELETED))
    if status:
        sql += " AND status = ?"
        params.append(status)
    name = biz.text("projectName", required=False, max_len=128)
    if name:
        sql += " AND project_name LIKE ?"
        params.append(f"%{name}%")
    return paged(ctx, biz, sql + " ORDER BY create_time, project_no", tuple(params), _view)


@handles("SFT0702")
def detail(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    return _view(_find(ctx, biz))


@handles("SFT0704")
def delete(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    row = _find(ctx, biz)
    if row["status"] == ACTIVE:
        used = ctx.one("SELECT COUNT(*) FROM eng_batch WHERE project_no = ?", row["project_no"])
        if used is not None and used[0]:
            raise codes.PROJECT_IN_USE.error(f"{used[0]} settlement batch(es) name this project")
        ctx.exec(
            "UPDATE eng_project SET status = ?, delete_time = ? WHERE project_no = ?",
            DELETED,
            ctx.stamp,
            row["project_no"],
        )
    return {"projectNo": row["project_no"], "outProjectNo": row["out_project_no"], "status": DELETED}


@handles("SFT0705")
def confirm(ctx: Ctx, biz: Biz) -> dict[str, Any]:
    project = require(ctx, biz.req("projectNo"))
    batch = find_batch(ctx, biz)
    confirm_date = biz.req("confirmDate", pattern=DATE, rule="must be yyyy-MM-dd")
    content = biz.req("confirmContent", max_len=2000)
    attachment = biz.text("attachmentUrl", required=False, max_len=500)
    existing = ctx.one(
        "SELECT confirm_no FROM eng_project_confirm WHERE merchant_no = ? AND project_no = ? AND batch_no = ?",
        ctx.merchant_no,
        project["project_no"],
        batch["batch_no"],
    )
    if existing is not None:
        raise conflict(
            f"a confirmation sheet exists for project {project['project_no']} and batch {batch['batch_no']}",
            confirmNo=existing["confirm_no"],
        )
    if project["tax_base_code"] and project["tax_base_code"] != batch["tax_base_code"]:
        raise codes.PROJECT_PROVIDER_MISMATCH.error(
            f"project {project['project_no']} is {project['tax_base_code']}'s, batch {batch['batch_no']} was paid"
            f" through {batch['tax_base_code']}"
        )
    if batch["project_no"] != project["project_no"]:
        raise codes.BATCH_NOT_UNDER_PROJECT.error(
            f"batch {batch['batch_no']} named {batch['project_no'] or 'no project'}, not {project['project_no']}"
        )
    amount_fen = to_fen(batch_counts(ctx, batch["batch_no"])["successAmount"])
    if amount_fen <= 0:
        raise codes.CONFIRM_AMOUNT_ZERO.error(f"batch {batch['batch_no']} has no paid order")
    earliest = max(filter(None, (project["start_date"], str(project["create_time"])[:10])))
    today = f"{ctx.now:%Y-%m-%d}"
    if not earliest <= confirm_date <= today:
        raise codes.CONFIRM_DATE_BEFORE_PROJECT.error(
            f"confirmDate {confirm_date} is outside {earliest} … {today} (the project's start to today)"
        )
    confirm_no = ctx.next_no("PC")
    ctx.exec(
        "INSERT INTO eng_project_confirm (confirm_no, merchant_no, project_no, batch_no, amount_fen, confirm_date,"
        " content, attachment_url, status, confirm_time) VALUES (?,?,?,?,?,?,?,?,?,?)",
        confirm_no,
        ctx.merchant_no,
        project["project_no"],
        batch["batch_no"],
        amount_fen,
        confirm_date,
        content,
        attachment,
        CONFIRMED,
        ctx.stamp,
    )
    return {
        "confirmNo": confirm_no,
        "projectNo": project["project_no"],
        "batchNo": batch["batch_no"],
        "outBatchNo": batch["out_batch_no"],
        "amount": yuan(amount_fen),
        "confirmDate": confirm_date,
        "status": CONFIRMED,
        "confirmTime": ctx.stamp,
    }
