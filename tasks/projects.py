"""Projects (SFT0703) and their confirmation sheets (SFT0705), each created exactly once.

``ensure_project`` asks for the project by ``outProjectNo`` (SFT0702) and creates it only if the platform
has none; a lost answer is reconciled by the same key. ``file_confirmations`` files one sheet per paid
batch: the platform keeps one per (project, batch) and answers 409 with its ``confirmNo`` to a second,
so a re-run — or a write whose answer was lost, sent again — files nothing twice.

In ``payroll_run``: ``ensure_project`` once before the first SFT0502 (its ``projectNo`` goes on every
batch), ``file_confirmations`` once the batches are final, for those that paid someone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date

from prefect import task

from lingong_core.errors import ConflictError, NotFoundError, OutcomeUnknownError
from lingong_core.reconcile import StillUnknownError, submit_once
from lingong_core.timeutil import now
from lingong_payroll.projects import Confirmation, ProjectRef

from .common import PLATFORM_TASK, open_client, retry_if_busy

ATTEMPTS = 5


@task(name="ensure-project", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def ensure_project(
    out_project_no: str,
    project_name: str,
    tax_base_code: str,
    description: str | None = None,
    credentials_block: str | None = None,
) -> ProjectRef:
    """The project keyed ``out_project_no``: found (SFT0702), or created once (SFT0703)."""
    async with open_client(credentials_block) as client:

        async def lookup() -> ProjectRef | None:
            try:
                found = await client.project.detail(out_project_no=out_project_no)
            except NotFoundError:
                return None
            return ProjectRef(
                project_no=found.project_no,
                out_project_no=out_project_no,
                project_name=found.project_name,
                created=False,
            )

        existing = await lookup()
        if existing is not None:
            return existing

        async def write() -> ProjectRef:
            made = await client.project.create(
                out_project_no=out_project_no,
                project_name=project_name,
                tax_base_code=tax_base_code,
                description=description,
            )
            return ProjectRef(
                project_no=made.project_no, out_project_no=out_project_no, project_name=project_name, created=True
            )

        return await submit_once(write, lookup)


@task(name="file-confirmations", retry_condition_fn=retry_if_busy, **PLATFORM_TASK)
async def file_confirmations(
    project_no: str,
    out_batch_nos: Sequence[str],
    confirm_content: str,
    confirm_date: date | None = None,
    credentials_block: str | None = None,
) -> list[Confirmation]:
    """One confirmation sheet (SFT0705) per batch that was paid under ``project_no`` (SFT0503 says), once:
    a sheet filed before is reported, not filed again."""
    when = confirm_date or now().date()  # today in Asia/Shanghai, as the platform counts days
    gate = asyncio.Semaphore(4)
    async with open_client(credentials_block) as client:

        async def one(out_batch_no: str) -> Confirmation:
            async with gate:
                batch = await client.settlement.batch(out_batch_no=out_batch_no)
                named = batch.project_no or ""
                if named != project_no:  # paid before the project was named: its sheet is not ours to file
                    return Confirmation(
                        out_batch_no=out_batch_no,
                        batch_no=batch.batch_no,
                        reason=f"the batch was paid under {named or 'no project'}, not {project_no}",
                    )
                if str(batch.status) != "COMPLETED" or not batch.success_count:
                    return Confirmation(
                        out_batch_no=out_batch_no,
                        batch_no=batch.batch_no,
                        reason=f"the batch is {batch.status} with {batch.success_count} paid: no work to confirm yet",
                    )
                for _ in range(ATTEMPTS):
                    try:
                        sheet = await client.project.confirm(
                            project_no=project_no,
                            out_batch_no=out_batch_no,
                            confirm_date=when,
                            confirm_content=confirm_content,
                        )
                    except ConflictError as exc:  # one sheet per (project, batch): filed already
                        return Confirmation(out_batch_no=out_batch_no, confirm_no=exc.existing_no or "", earlier=True)
                    except OutcomeUnknownError:
                        continue  # sent again: the platform answers 409 with the sheet if the first got through
                    return Confirmation(
                        out_batch_no=out_batch_no,
                        batch_no=sheet.batch_no or "",
                        confirm_no=sheet.confirm_no,
                        status=str(sheet.status),
                    )
            raise StillUnknownError(f"confirmation sheet for batch {out_batch_no}: no answer after {ATTEMPTS} attempts")

        return list(await asyncio.gather(*(one(b) for b in out_batch_nos)))
