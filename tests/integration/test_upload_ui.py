"""The upload page in a real browser (Debian's chromium, with a CJK font so Chinese renders): an operator
uploads an .xlsx, sees the masked preview with totals, starts the run, and sees it complete in the Prefect
UI. Screenshots of the preview and of the finished run land in the test's directory (and, when
``LINGONG_SCREENSHOTS`` names a directory, there too)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from openpyxl import Workbook

from lingong_cli.stack import Stack, upload_token
from lingong_sandbox.people import team
from tests.integration.stack_helpers import fund, read_run, wait_run, wait_run_approving
from tests.integration.test_ui import BROWSER_ARGS, CHROMIUM, pytestmark  # noqa: F401  (the same skips)


@pytest.fixture
def browser_page(stack: Stack) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 1300, "height": 900},
                http_credentials={"username": "operator", "password": upload_token(stack.config)},
                locale="zh-CN",
            )
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.route(
                "**/*",
                lambda route: route.continue_() if route.request.url.startswith("http://127.0.0.1") else route.abort(),
            )
            yield page
        finally:
            browser.close()


def _shot(page: Any, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)
    if target := os.environ.get("LINGONG_SCREENSHOTS"):
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)


def test_an_operator_uploads_a_sheet_previews_it_masked_and_the_run_completes(
    stack: Stack, browser_page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = browser_page
    people = team(3, seed=8301)
    fund(stack, "8000.00", "IT-UPLOAD-FUND")
    sheet = tmp_path / "十二月工资.xlsx"
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["姓名", "身份证号", "手机号", "银行卡号", "金额", "备注"])
    for p, amount in zip(people, ["1200.00", "880.50", "99.00"], strict=True):
        ws.append([p.name, p.id_card_no, p.mobile, p.bank_card_no, amount, "项目佣金"])
    book.save(sheet)

    page.goto(stack.config.upload_url + "/")
    page.locator('input[name="sheet"]').set_input_files(str(sheet))
    page.locator('input[name="period"]').fill("2026-12")
    page.locator('input[name="batch_ref"]').fill("IT-UPLOAD")
    page.get_by_role("button", name="Check the sheet").click()

    expect(page.locator("#totals")).to_contain_text("3 payees")
    expect(page.locator("#totals")).to_contain_text("¥2,179.50")
    preview = page.locator("#preview")
    for p in people:
        expect(preview).to_contain_text(p.id_card_no[:6] + "********" + p.id_card_no[-4:])
        expect(preview).to_contain_text(p.name[0] + "*")
    content = page.content()
    for p in people:
        assert p.id_card_no not in content
        assert p.mobile not in content
        assert p.bank_card_no not in content
    _shot(page, tmp_path / "upload-preview.png")

    page.get_by_role("button", name="Start the payroll run").click()
    link = page.locator("#run-link")
    expect(link).to_be_visible()
    href = link.get_attribute("href") or ""
    run_id = UUID(re.search(r"/runs/flow-run/([0-9a-f-]{36})", href).group(1))  # type: ignore[union-attr]
    link.click()
    page.get_by_role("tab", name="Job Variables").wait_for()  # the run's page in the Prefect UI
    # make up asks a second person to approve every payment (four-eyes): they approve it, and the run pays.
    assert wait_run_approving(stack, run_id).state_name == "Completed"
    expect(page.get_by_text("Completed", exact=True).first).to_be_visible(timeout=180_000)
    _shot(page, tmp_path / "upload-run-completed.png")

    finished = wait_run(stack, run_id)
    assert finished.state_name == "Completed"
    assert set(finished.parameters) == {"period", "payroll_ref", "tax_base_code", "batch_ref"}
    assert finished.parameters["payroll_ref"].startswith("PR")
    assert read_run(stack, run_id).parameters == finished.parameters
