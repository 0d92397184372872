"""The Prefect UI in a real browser: open the payroll deployment, fill its form, run it, see it complete.

The form takes a payroll file the worker can read (people are never typed into a Prefect form: they
would rest in Prefect's database); the upload page's own browser test is ``test_upload_ui.py``.

Debian's ``chromium`` driven by the ``playwright`` package (the ``ui`` extra) with an explicit executable
path — no browser download. Every request not to 127.0.0.1 is aborted (the UI phones an analytics host).
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lingong_cli.stack import Stack
from lingong_sandbox.people import team
from tests.integration.stack_helpers import (
    admin,
    artifacts_of,
    decide,
    eventually,
    fund,
    read_run,
    runs_of,
    start_run,
    wait_run,
)

CHROMIUM = next(
    (Path(p) for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).is_file()), None
)

pytestmark = [
    pytest.mark.integration_slow,
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="the playwright package is not installed (pip install -e '.[ui]'; `make integration` does it)",
    ),
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no Chromium at /usr/bin/chromium (Debian: apt-get install -y chromium; .ci/run does it in CI)",
    ),
]

BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def page(stack: Stack) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            page.route(
                "**/*",
                lambda route: route.continue_() if route.request.url.startswith("http://127.0.0.1") else route.abort(),
            )
            yield page
        finally:
            browser.close()


def test_an_operator_runs_a_payroll_from_the_ui_form(stack: Stack, page: Any, tmp_path: Path) -> None:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect

    person = team(1, seed=8201)[0]
    sheet = tmp_path / "payroll.csv"  # shared storage, as far as this one-machine worker is concerned
    sheet.write_text(
        f"姓名,身份证号,手机号,银行卡号,金额\n{person.name},{person.id_card_no},{person.mobile},{person.bank_card_no},1234.50\n",
        encoding="utf-8",
    )
    fund(stack, "5000.00", "IT-UI-FUND")
    before = {r.id for r in runs_of(stack, "payroll-run")}

    def parameter(label: str) -> Any:
        """The form's block for one parameter (the innermost group holding its label)."""
        return page.locator("div.group").filter(has=page.get_by_text(label, exact=True)).last

    def text_field(label: str) -> Any:
        return parameter(label).locator("textarea, input:not([type=checkbox])").first

    page.goto(f"{stack.config.ui_url}/v2/deployments")
    page.locator('a[href*="/deployments/deployment/"]').filter(has_text=re.compile(r"^payroll-run$")).click()
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Custom run").click()

    page.get_by_label("period", exact=True).fill("2026-12")
    expect(page.get_by_text("payees (Optional)", exact=True)).to_have_count(0)  # no typed-in people
    parameter("payroll_file (Optional)").get_by_role("tab", name="str", exact=True).click()
    text_field("payroll_file (Optional)").fill(str(sheet))
    parameter("batch_ref (Optional)").get_by_role("tab", name="str", exact=True).click()
    text_field("batch_ref (Optional)").fill("IT-UI")
    page.get_by_role("button", name="Submit").click()

    page.get_by_role("link", name="View run").click()
    page.get_by_role("tab", name="Job Variables").wait_for()  # the run's page, not the deployment's

    # Four-eyes (tasks/approval.py; make up asks for every payment): the run stops, suspended, until a
    # second person approves the masked summary in the Resume form.
    expect(page.get_by_text("Suspended", exact=True).first).to_be_visible(timeout=240_000)
    page.get_by_role("button", name="Open menu").first.click()
    page.get_by_role("menuitem", name="Resume").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Approval needed: payroll 2026-12", exact=False)).to_be_visible(timeout=60_000)
    expect(dialog.get_by_text(person.id_card_no)).to_have_count(0)  # masked
    dialog.get_by_role("button", name="Select Decision").click()
    page.get_by_role("option", name="approve", exact=True).click()
    dialog.get_by_role("textbox", name="Approver").fill("Wang Fang")
    dialog.get_by_role("textbox", name="Comment (Optional)").fill("checked against the timesheets")
    page.screenshot(path=str(tmp_path / "approval-form.png"))
    (new,) = [r for r in runs_of(stack, "payroll-run") if r.id not in before]
    # Prefect 3.9 on SQLite: the resume request fails at once ("database is locked" in the server's log) when
    # another write commits between its read of the run and its write of the new state — the events of the
    # run's suspension are persisted a few seconds after it, just when a quick approver presses Resume — and
    # the dialog stays open, its button ready again; or it waits on the lock, the button spinning, and goes
    # through. An operator whose Resume did not take presses it again; so does this test, at most 3 times.
    resume = dialog.get_by_role("button", name="Resume", exact=True)
    resume.click()
    presses, last_press, deadline = 1, time.monotonic(), time.monotonic() + 240
    while read_run(stack, new.id).state_name == "Suspended":
        assert time.monotonic() < deadline, "the run is still Suspended 240 s after Resume"
        if time.monotonic() - last_press > 10 and presses < 3 and resume.is_visible() and resume.is_enabled():
            page.screenshot(path=str(tmp_path / f"resume-not-taken-{presses}.png"))
            with contextlib.suppress(PlaywrightError):  # the dialog closing meanwhile: the resume went through
                resume.click(timeout=5_000)
                presses, last_press = presses + 1, time.monotonic()
        page.wait_for_timeout(1_000)  # not time.sleep: the page's requests pass through this process's route
    expect(page.get_by_text("Completed", exact=True).first).to_be_visible(timeout=240_000)

    assert new.id.hex in page.url.replace("-", "")
    finished = wait_run(stack, new.id)
    assert finished.state_name == "Completed"
    assert finished.parameters["period"] == "2026-12"
    assert finished.parameters["batch_ref"] == "IT-UI"
    assert finished.parameters["payroll_file"] == str(sheet)
    assert person.id_card_no not in repr(finished.parameters)
    audit = admin(stack, "GET", "audit")  # the sandbox's own ledger: paid once, after the approval
    assert audit["paid_twice"] == []
    assert audit["balanced"] is True


def test_a_rejected_payroll_pays_nothing(stack: Stack, tmp_path: Path) -> None:
    person = team(1, seed=8202)[0]
    sheet = tmp_path / "payroll.csv"
    sheet.write_text(
        f"姓名,身份证号,手机号,银行卡号,金额\n{person.name},{person.id_card_no},{person.mobile},{person.bank_card_no},2000.00\n",
        encoding="utf-8",
    )
    fund(stack, "5000.00", "IT-UI-FUND-2")
    before = set(admin(stack, "GET", "audit")["orders"])
    run_id = start_run(
        stack, "payroll-run/payroll-run", {"period": "2026-12", "payroll_file": str(sheet), "batch_ref": "IT-NO"}
    )
    eventually(lambda: read_run(stack, run_id).state_name, lambda name: name == "Suspended", "the run waits", 240)
    decide(stack, run_id, "reject", "Li Wei")
    finished = wait_run(stack, run_id, timeout=240)
    assert finished.state_name == "Completed"
    assert set(admin(stack, "GET", "audit")["orders"]) == before  # nothing submitted, nothing paid
    # Resumed, the run starts again and finds the decision under its key: the request is not published twice
    approval = [a.description for a in artifacts_of(stack, run_id) if (a.key or "").startswith("approval-")]
    title = "payroll 2026-12 · 2000064001"
    assert approval == [f"Waiting for approval: {title}", f"Approval of {title}: rejected"]


def test_the_blocks_catalog_lists_the_credentials_block_and_the_run_form_picks_one(stack: Stack, page: Any) -> None:
    """After make up: Blocks → catalog offers "Lingong Credentials"; a deployment's form (payroll-run) takes
    its credentials_block as that Block type, with a picker of the saved ones (make up saves lingong-sandbox)."""
    page.goto(f"{stack.config.ui_url}/v2/blocks/catalog")
    page.get_by_text("Lingong Credentials").first.wait_for()

    page.goto(f"{stack.config.ui_url}/v2/deployments")
    page.locator('a[href*="/deployments/deployment/"]').filter(has_text=re.compile(r"^payroll-run$")).click()
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Custom run").click()
    label = page.get_by_text("credentials_block (Optional)", exact=True)
    label.wait_for()
    field = page.locator("div.group").filter(has=label).last
    field.get_by_role("tab", name="LingongCredentials", exact=True).click()
    field.get_by_text("Select a block...").click()
    page.get_by_role("option", name="lingong-sandbox").wait_for()
