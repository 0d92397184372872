"""month_end_close against a sandbox of its own: receipts of paid orders and tax certificates fetched into
the month's folder, the books reconciled with refunds matched to failed and bounced orders, and a second
run fetching nothing twice."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import fsspec
import pytest

from flows.fund_account import fund_account
from flows.month_end_close import month_end_close
from flows.onboard_freelancers import onboard_freelancers
from flows.payroll_run import payroll_run
from lingong_core.timeutil import now
from lingong_payroll.journal import Journal
from lingong_payroll.month_close import MonthError, previous_month
from lingong_payroll.payees import PayeeRow
from lingong_payroll.report import Outcome
from lingong_sandbox.settings import Delays
from tasks.common import open_client
from tasks.onboarding import Freelancer, store_people
from tests.flows.conftest import Platform
from tests.flows.fresh import fresh_platform
from tests.flows.people import team

pytestmark = pytest.mark.usefixtures("prefect")

TAX = "2000064001"
D = Decimal


def _requests(platform: Platform, api_code: str) -> int:
    return int(platform.admin("GET", f"requests?apiCode={api_code}&limit=100000")["total"])


async def _wait_status(out_order_no: str, status: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    async with open_client() as client:
        while (await client.settlement.order(out_order_no=out_order_no)).status != status:
            assert time.monotonic() < deadline, f"{out_order_no} never became {status}"
            await asyncio.sleep(0.1)


def _journal_outcome(out_order_no: str) -> str:
    with Journal() as journal:
        return next(j.outcome for j in journal.orders(TAX) if j.out_order_no == out_order_no)


def test_a_month_is_closed_once_and_a_second_close_fetches_nothing_again(tmp_path: Path) -> None:
    month = f"{now():%Y-%m}"  # the month the payroll is paid in (its certificates are still pending)
    # The bank returns the bounced payment 10 s after it succeeded (5,000 s at 500×), well after the run is
    # over: the run reports it paid, nobody relays the bounce notification, and the close must learn it itself.
    with fresh_platform(tmp_path, delays=Delays(bounce=5000.0)) as platform:
        people = team(4, seed=1951)
        asyncio.run(fund_account(amount="20000.00", recharge_time=now(), tax_base_code=TAX, reference="close"))
        platform.script(bankCardNo=people[2].bank_card_no, outcome="FAIL")
        platform.script(idCardNo=people[3].id_card_no, outcome="BOUNCE")
        payroll = [
            PayeeRow(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no, amount=a)
            for p, a in zip(people, ["1000.00", "250.50", "300.00", "400.00"], strict=True)
        ]
        paid = asyncio.run(payroll_run(month, payees=payroll, tax_base_code=TAX, batch_ref="CLOSE"))
        assert [line.outcome for line in paid.lines] == [Outcome.PAID, Outcome.PAID, Outcome.FAILED, Outcome.PAID]
        bounced = paid.lines[3].out_order_no
        asyncio.run(_wait_status(bounced, "BOUNCED", seconds=60.0))
        assert _journal_outcome(bounced) == "PAID"

        report = asyncio.run(month_end_close(month, TAX))
        assert report.differences == [], report.markdown()  # a bounce after the run is news, not a difference
        assert _journal_outcome(bounced) == "BOUNCED"  # the journal caught up
        assert any(bounced in n and "bounced-order" in n for n in report.notes), report.notes
        t = report.totals
        assert (t.recharged, t.paid) == (D("20000.00"), D("1950.50"))
        assert t.fees == sum((line.service_amount for line in paid.lines), D(0))
        assert t.refunded == D("700.00") + paid.lines[2].service_amount + paid.lines[3].service_amount
        assert t.closing_balance == t.opening_balance + t.recharged - t.paid - t.fees + t.refunded
        assert report.orders == {"SUCCESS": 2, "FAILED": 1, "BOUNCED": 1}
        receipts = {d.key: d for d in report.documents if d.kind == "receipt"}
        assert [receipts[line.out_order_no].state for line in paid.lines] == [
            "fetched",
            "fetched",
            "unavailable",
            "unavailable",
        ]
        assert "bounced" in receipts[bounced].detail  # the platform's clear answer, with the refund
        assert "RF" in receipts[bounced].detail or "refund" in receipts[bounced].detail
        assert report.count("tax certificate", "pending") == 2  # issued once the month is over
        assert "run the close again" in " ".join(report.notes)

        folder = tmp_path / "documents" / TAX / month
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        paid_keys = [line.out_order_no for line in paid.lines[:2]]
        assert files == sorted([*(f"receipts/{k}.pdf" for k in paid_keys), "manifest.json", "summary.md"])
        manifest = json.loads((folder / "manifest.json").read_text())["files"]
        first = folder / f"receipts/{paid_keys[0]}.pdf"
        assert first.read_bytes().startswith(b"%PDF")
        assert manifest[f"receipts/{paid_keys[0]}.pdf"]["size"] == first.stat().st_size
        assert people[0].id_card_no not in (folder / "summary.md").read_text() + json.dumps(manifest)

        asked = _requests(platform, "SFT0506")
        again = asyncio.run(month_end_close(month, TAX))
        assert _requests(platform, "SFT0506") == asked + 1  # only the bounced order's answer, read again
        assert again.count("receipt", "fetched") == 0
        assert again.count("receipt", "already stored") == 2
        assert again.differences == []
        assert not any("bounced-order" in n for n in again.notes)  # told once: the journal knows it now

        first.write_bytes(first.read_bytes()[:-10])  # a damaged file is fetched again, and only it
        mended = asyncio.run(month_end_close(month, TAX))
        assert mended.count("receipt", "fetched") == 1
        assert [d.key for d in mended.documents if d.state == "fetched"] == [paid_keys[0]]
        assert first.read_bytes().rstrip().endswith(b"%%EOF")


def test_a_past_month_gets_its_tax_certificates_and_any_fsspec_url_holds_them(tmp_path: Path) -> None:
    last = previous_month()
    pay_time = datetime(int(last[:4]), int(last[5:7]), 15, 10, 0, tzinfo=now().tzinfo)
    with fresh_platform(tmp_path) as platform:
        people = team(2, seed=1952)
        asyncio.run(fund_account(amount="5000.00", recharge_time=now(), tax_base_code=TAX, reference="past"))
        asyncio.run(
            onboard_freelancers(
                store_people(
                    [
                        Freelancer(name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no)
                        for p in people
                    ]
                ),
                TAX,
                publish=False,
            )
        )

        async def report_payouts_made_last_month() -> None:
            async with open_client() as client:
                for i, p in enumerate(people):
                    await client.settlement.sync(
                        out_order_no=f"SYNC-{last}-{i}",
                        tax_base_code=TAX,
                        name=p.name,
                        id_card_no=p.id_card_no,
                        amount=D("800.00"),
                        service_amount=D("48.00"),
                        pay_time=pay_time,
                    )

        asyncio.run(report_payouts_made_last_month())
        url = f"memory://lingong-close-{tmp_path.name}"
        report = asyncio.run(month_end_close(last, TAX, storage_url=url))
        certificates = [d for d in report.documents if d.kind == "tax certificate"]
        assert [d.state for d in certificates] == ["fetched", "fetched"]
        assert all("income 800.00, tax 8.00" in d.detail for d in certificates)
        fs = fsspec.filesystem("memory")
        for d in certificates:
            assert fs.cat_file(f"{url.removeprefix('memory://')}/{TAX}/{last}/{d.file}").startswith(b"%PDF")
        # The money left the account this month (the payouts were reported now): last month's books are empty.
        assert report.totals.paid == D("0.00")
        assert report.differences == []

        fetched = _requests(platform, "SFT1001")
        again = asyncio.run(month_end_close(last, TAX, storage_url=url))
        assert [d.state for d in again.documents] == ["already stored", "already stored"]
        assert _requests(platform, "SFT1001") == fetched + 1  # the list is read; no file is fetched again

        with pytest.raises(MonthError, match="month: must be yyyy-MM"):
            asyncio.run(month_end_close("2026-13", TAX))
        future = now() + timedelta(days=40)
        with pytest.raises(MonthError, match="has not begun"):
            asyncio.run(month_end_close(f"{future:%Y-%m}", TAX))


def test_the_close_survives_a_platform_that_fails_reads_and_reports_what_differs(tmp_path: Path) -> None:
    month = f"{now():%Y-%m}"
    with fresh_platform(tmp_path) as platform:
        people = team(3, seed=1953)
        asyncio.run(fund_account(amount="9000.00", recharge_time=now(), tax_base_code=TAX, reference="faulty"))
        payroll = [
            PayeeRow(
                name=p.name, id_card_no=p.id_card_no, mobile=p.mobile, bank_card_no=p.bank_card_no, amount="100.00"
            )
            for p in people
        ]
        paid = asyncio.run(payroll_run(month, payees=payroll, tax_base_code=TAX, batch_ref="FAULTY"))
        assert {line.outcome for line in paid.lines} == {Outcome.PAID}
        reads = "SFT0303+SFT0305+SFT0505+SFT0506+SFT0606+SFT0801+SFT1001"
        platform.admin("PUT", "faults", spec=f"error_after=0.3,reset_after=0.1,only={reads}", seed=19)
        try:
            report = asyncio.run(month_end_close(month, TAX))
        finally:
            platform.admin("PUT", "faults", spec="")
        assert platform.admin("GET", "faults")["counts"], "no fault was injected"
        assert report.differences == []
        assert report.count("receipt", "fetched") == 3

        from lingong_payroll.journal import Journal, JournalOrder

        journal = Journal()  # a run that says it paid someone the platform never heard of
        journal.record([JournalOrder("PO-GHOST", "manual", month, TAX, "", "", "", D("5.00"), D("0.30"), "PAID")])
        journal.close()
        kinds = {(d.kind, d.key) for d in asyncio.run(month_end_close(month, TAX)).differences}
        assert kinds == {("missing on platform", "PO-GHOST")}
