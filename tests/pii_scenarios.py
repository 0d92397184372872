"""``python -m tests.pii_scenarios WORKDIR``: every way people enter a run, against a sandbox, with Prefect's
state in ``WORKDIR/.state/prefect`` (where ``lingong`` puts it) — for the scan of what rests there.

1. the demo's chain: ``end_to_end`` on a stored team (onboarding subflow, funding, payroll subflow, invoice);
2. ``lingong payroll run FILE`` on a CSV outside ``.state/``;
3. the ``payroll-run`` deployment's form (``payroll_run_deployed``) on an .xlsx file, and on a stored
   payroll, as the upload page starts it;
4. a bounced payment and its re-payment to a new card (``bounced_order`` with ``card_fixed`` and a
   ``payee_ref`` from the store);
5. ``lingong marketing run FILE`` — a campaign's participants, onboarded and paid by ``marketing_payout``;
6. a file the deployment's form refuses: a person's ID number pasted into the amount column, with the unit
   after it (the refusal's report goes into an artifact and the flow run's state message).

Every flow also records which run placed what (``run_link`` in ``.state/lingong.db``), scanned with the rest.

Prints one JSON line: what happened (outcomes), for the test to check the scenarios really ran.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path

import httpx
from openpyxl import Workbook

import lingong_cli.main  # puts PREFECT_HOME in .state/prefect; nothing imported above loads Prefect
from lingong_core.signing import generate_key_pair, private_key_to_pem, public_key_to_pem
from lingong_sandbox.people import Person, card_number, team

PERIOD = "2026-11"
TAX = "2000064001"


def people() -> dict[str, list[Person]]:
    """Everyone the scenarios use (deterministic), so the scan can look for exactly their numbers too."""
    bounce = team(2, seed=9404)
    moved = Person(bounce[1].name, bounce[1].id_card_no, bounce[1].mobile, card_number(random.Random(94), "621700", 19))
    return {
        "team": team(4, seed=9401),
        "csv": team(2, seed=9402),
        "xlsx": team(2, seed=9403),
        "upload": team(2, seed=9405),
        "marketing": team(2, seed=9406),
        "bounce": bounce,
        "new_card": [moved],
        "pasted": team(1, seed=9407),
    }


def _csv(path: Path, crowd: list[Person]) -> None:
    lines = ["姓名,身份证号,手机号,银行卡号,金额"] + [
        f"{p.name},{p.id_card_no},{p.mobile},{p.bank_card_no},{100 + i}.00" for i, p in enumerate(crowd)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _xlsx(path: Path, crowd: list[Person]) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "身份证号", "手机号", "银行卡号", "金额"])
    for i, p in enumerate(crowd):
        sheet.append([p.name, p.id_card_no, p.mobile, p.bank_card_no, f"{200 + i}.00"])
    book.save(path)


def main(workdir: Path) -> dict[str, object]:
    from lingong_sandbox.server import SandboxServer
    from lingong_sandbox.settings import SandboxSettings

    os.chdir(workdir)
    inputs = workdir / "input"  # the operator's own files: on shared storage, not in .state/
    inputs.mkdir(exist_ok=True)
    Path(".state/sandbox").mkdir(parents=True, exist_ok=True)
    crowd = people()
    merchant_private, merchant_public = generate_key_pair(2048)
    settings = SandboxSettings(time_scale=500.0)
    done: dict[str, object] = {}
    with SandboxServer(
        settings, merchant_public_key_pem=public_key_to_pem(merchant_public), db_path=Path(".state/sandbox/sandbox.db")
    ) as sandbox:
        os.environ.update(
            {
                "LINGONG_BASE_URL": sandbox.base_url,
                "LINGONG_MERCHANT_NO": settings.merchant.merchant_no,
                "LINGONG_PRIVATE_KEY": private_key_to_pem(merchant_private),
                "LINGONG_PLATFORM_PUBLIC_KEY": sandbox.platform_public_key_pem,
                "LINGONG_JOURNAL_DB": str(Path(".state/journal.db").resolve()),
            }
        )
        from typer.testing import CliRunner

        from flows.bounced_order import bounced_order
        from flows.end_to_end import end_to_end
        from flows.fund_account import fund_account
        from flows.payroll_run import payroll_run_deployed
        from lingong_core.config import LingongSettings
        from lingong_payroll.payees import PayeeRow
        from tasks.onboarding import Freelancer, store_people
        from tasks.payees import store_payroll

        def rows(group: list[Person], amount: str) -> list[PayeeRow]:
            return [
                PayeeRow(
                    name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no, amount=amount
                )
                for p in group
            ]

        # 1. the demo's chain
        e2e = asyncio.run(end_to_end(store_payroll(rows(crowd["team"], "321.00"), source="scenario"), PERIOD))
        done["end_to_end"] = [line.outcome.value for line in e2e.payroll.lines]
        asyncio.run(
            fund_account(amount="50000.00", tax_base_code=TAX, recharge_time="2026-11-01 09:00:00", reference="pii")
        )

        # 2. the command line on a file
        _csv(inputs / "payroll.csv", crowd["csv"])
        cli = CliRunner().invoke(
            lingong_cli.main.app,
            ["payroll", "run", str(inputs / "payroll.csv"), "--period", PERIOD, "--batch-ref", "PII-CLI"],
        )
        done["cli"] = cli.exit_code

        # 3. the deployment's form: a file, then a stored payroll (the upload page's run)
        _xlsx(inputs / "payroll.xlsx", crowd["xlsx"])
        form = asyncio.run(
            payroll_run_deployed(PERIOD, payroll_file=str(inputs / "payroll.xlsx"), batch_ref="PII-FORM")
        )
        done["form_file"] = [line.outcome.value for line in form.lines]
        ref = store_payroll(rows(crowd["upload"], "5.00"), source="upload page")
        upload = asyncio.run(payroll_run_deployed(PERIOD, payroll_ref=ref, batch_ref="PII-UPLOAD"))
        done["form_ref"] = [line.outcome.value for line in upload.lines]

        # 4. a bounce, and its re-payment to a new card
        bouncer = crowd["bounce"][1]
        httpx.post(
            sandbox.admin_url + "/script-outcome",
            json={"bankCardNo": bouncer.bank_card_no, "outcome": "BOUNCE"},
            timeout=30,
        ).raise_for_status()
        paid = asyncio.run(
            payroll_run_deployed(
                PERIOD, payroll_ref=store_payroll(rows(crowd["bounce"], "450.00"), source="s"), batch_ref="PII-BOUNCE"
            )
        )
        key = paid.lines[1].out_order_no
        with LingongSettings().client() as client:
            deadline = time.monotonic() + 60
            while (order := client.settlement.order(out_order_no=key)).status != "BOUNCED":
                if time.monotonic() > deadline:
                    raise SystemExit(f"the scripted bounce did not come: {order.status}")
                time.sleep(0.1)
        asyncio.run(bounced_order(order.order_no))
        moved = crowd["new_card"][0]
        payee_ref = store_people(
            [
                Freelancer(
                    name=moved.name, id_card_no=moved.id_card_no, mobile=moved.mobile, bank_card_no=moved.bank_card_no
                )
            ]
        )
        repaid = asyncio.run(bounced_order(order.order_no, card_fixed=True, payee_ref=payee_ref))
        done["repayment"] = repaid.repayment.outcome if repaid.repayment else None
        # 5. a marketing campaign's payout, from the command line
        _csv(inputs / "campaign.csv", crowd["marketing"])
        campaign = ["--campaign", "双十一推广活动 PII", "--budget", "1000.00"]
        market = CliRunner().invoke(
            lingong_cli.main.app, ["marketing", "run", str(inputs / "campaign.csv"), "--period", PERIOD, *campaign]
        )
        done["marketing"] = market.exit_code
        # 6. a refused file: an ID number pasted into the amount cell
        pasted = [f"{p.name},{p.id_card_no},{p.mobile},{p.bank_card_no},{p.id_card_no} 元/月" for p in crowd["pasted"]]
        header = "姓名,身份证号,手机号,银行卡号,金额"
        (inputs / "pasted.csv").write_text("\n".join([header, *pasted]) + "\n", encoding="utf-8")
        try:
            asyncio.run(payroll_run_deployed(PERIOD, payroll_file=str(inputs / "pasted.csv"), batch_ref="PII-PASTED"))
            done["pasted"] = "paid"
        except Exception as exc:  # the flow run fails with the refusal: nothing was paid
            done["pasted"] = type(exc).__name__
        audit = httpx.get(sandbox.admin_url + "/audit", timeout=30).json()
        done["paid_twice"] = audit.get("paid_twice")
    return done


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]).resolve())))
