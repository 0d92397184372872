"""The audit view the chaos suite and the benchmarks read: was anything paid twice, does the money add up.

For every settlement business key (``outOrderNo``, unique per merchant):

- ``paid`` — how many of the platform's orders for that key are SUCCESS now (paid and not bounced);
- ``debited`` — how many times the key's amount left the account and did not come back: PAYOUT ledger
  rows for its orders minus REFUND rows for them. In flight (ACCEPTED/PROCESSING) counts 1, as the
  money has left; FAILED and BOUNCED count 0.

``paid_twice`` lists the keys with ``paid > 1`` or ``debited > 1`` (always empty unless the platform's
uniqueness broke). ``suspected_duplicates`` lists what a client that re-sent a payout under a *new* key
would leave behind: the same payee paid the same amount more than once for the same batch
``period``, ``projectNo`` and marketing ``campaignNo`` (SUCCESS orders, different keys): a campaign's reward
and a payroll of the same amount are not a duplicate. Each order's entry also names its batch's
``period``, ``projectNo`` and ``campaignNo`` and its ``person``: a digest of the ID number (:func:`person_digest`), so a
judge can total what each person was paid per period without the number. ``inconsistent`` lists orders
whose ledger rows disagree with their state. ``ledger`` gives per provider (``accounts`` per merchant and provider) the
totals ``recharges``, ``payouts``, ``fees``, ``refunds``, ``withdrawals``, ``balance``, and ``balanced``:
whether ``balance == recharges − payouts − fees + refunds − withdrawals`` to the fen and every ledger
row's ``balanceAfter`` chains to the stored balance; top-level ``balanced`` is that for every account.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections import Counter
from typing import Any

from lingong_core.masking import mask_id

from . import jobs, ledger
from .base import yuan

_MONEY = ("recharges", "payouts", "fees", "refunds", "withdrawals", "balance", "expected")


def person_digest(id_card_no: str) -> str:
    """Who an order paid, without the ID number: 16 hex characters of its SHA-256 (normalised, upper case)."""
    return hashlib.sha256(("sandbox-person:" + "".join(id_card_no.split()).upper()).encode()).hexdigest()[:16]


def audit(conn: sqlite3.Connection) -> dict[str, Any]:
    rows = conn.execute(
        "SELECT o.*, b.out_batch_no, b.period, b.project_no, b.campaign_no,"
        " (SELECT COUNT(*) FROM eng_ledger l WHERE l.ref_no = o.order_no AND l.change_type = 'PAYOUT') AS payouts,"
        " (SELECT COUNT(*) FROM eng_ledger l WHERE l.ref_no = o.order_no AND l.change_type = 'REFUND') AS refunds"
        " FROM eng_order o JOIN eng_batch b ON b.batch_no = o.batch_no ORDER BY o.order_no"
    ).fetchall()
    orders: dict[str, dict[str, Any]] = {}
    inconsistent: list[dict[str, Any]] = []
    for row in rows:
        key = str(row["out_order_no"])
        entry = orders.setdefault(
            key,
            {
                "merchantNo": row["merchant_no"],
                "paid": 0,
                "debited": 0,
                "orderNos": [],
                "statuses": [],
                "outBatchNo": row["out_batch_no"],
                "amount": yuan(row["amount_fen"]),
                "idCardNo": mask_id(row["id_card_no"]),
                "person": person_digest(row["id_card_no"]),
                "period": row["period"] or row["month"],
                "projectNo": row["project_no"] or "",
                "campaignNo": row["campaign_no"] or "",
            },
        )
        entry["orderNos"].append(row["order_no"])
        entry["statuses"].append(row["status"])
        entry["paid"] += 1 if row["status"] == "SUCCESS" else 0
        debited = int(row["payouts"]) - int(row["refunds"])
        entry["debited"] += debited
        expected = 0 if row["status"] in ("FAILED", "BOUNCED") else 1
        if debited != expected or int(row["payouts"]) != 1:
            inconsistent.append(
                {"orderNo": row["order_no"], "outOrderNo": key, "status": row["status"], "debited": debited}
            )
    paid_twice = sorted(k for k, v in orders.items() if v["paid"] > 1 or v["debited"] > 1)

    groups: Counter[tuple[Any, ...]] = Counter()
    keys_by_group: dict[tuple[Any, ...], list[str]] = {}
    for row in rows:
        if row["status"] != "SUCCESS":
            continue
        group = (
            row["merchant_no"],
            row["id_card_no"],
            row["amount_fen"],
            row["period"] or row["month"],
            row["project_no"],
            row["campaign_no"],
        )
        groups[group] += 1
        keys_by_group.setdefault(group, []).append(str(row["out_order_no"]))
    suspected = [
        {
            "idCardNo": mask_id(g[1]),
            "amount": yuan(g[2]),
            "period": g[3],
            "projectNo": g[4],
            "campaignNo": g[5] or "",
            "outOrderNos": keys_by_group[g],
        }
        for g, n in groups.items()
        if n > 1
    ]

    accounts = []
    for t in ledger.totals(conn):
        accounts.append(
            {
                "merchantNo": t["merchant_no"],
                "taxBaseCode": t["tax_base_code"],
                **{k: yuan(t[k]) for k in _MONEY},
                "balanced": t["balanced"],
            }
        )
    by_status = Counter(str(r["status"]) for r in rows)
    batches = Counter(str(r[0]) for r in conn.execute("SELECT status FROM eng_batch"))
    return {
        "orders": orders,
        "paid_twice": paid_twice,
        "suspected_duplicates": suspected,
        "inconsistent": inconsistent,
        "orders_by_status": dict(sorted(by_status.items())),
        "batches_by_status": dict(sorted(batches.items())),
        "ledger": _per_provider(accounts),
        "accounts": accounts,
        "balanced": all(a["balanced"] for a in accounts),
        "jobs_pending": jobs.pending(conn),
        "jobs_failed": jobs.failed_jobs(conn),
    }


def _per_provider(accounts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The accounts' totals summed per service provider (over merchants; one merchant is the usual case)."""
    out: dict[str, dict[str, Any]] = {}
    for a in accounts:
        entry = out.setdefault(a["taxBaseCode"], {k: yuan(0) for k in _MONEY} | {"balanced": True})
        for k in _MONEY:
            entry[k] += a[k]
        entry["balanced"] = entry["balanced"] and a["balanced"]
    return out
