"""A payroll run in a process of its own, for the chaos suite to kill (SIGKILL) part-way.

``python -m tests.chaos.runner`` imports the flow (the slow part: Prefect), prints ``READY``, then reads one
JSON line from standard input — the job: the ``LINGONG_*`` environment and ``payroll_run``'s arguments — and
runs it, printing ``REPORT <json>`` when the run returns. Starting the process before its job is known lets
the suite keep one warm while another run is being killed. ``PREFECT_API_URL`` (the suite's Prefect server)
comes from the parent's environment.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys


def main() -> int:
    from flows.payroll_run import payroll_run
    from lingong_payroll.payees import PayeeRow

    print("READY", flush=True)
    line = sys.stdin.readline()
    if not line.strip():
        return 0  # the suite no longer needs this spare
    job = json.loads(line)
    os.environ.update(job["env"])
    report = asyncio.run(
        payroll_run(
            job["period"],
            payees=[PayeeRow(**row) for row in job["payees"]],
            project_no=job.get("project_no"),
            skip_invalid=job.get("skip_invalid", False),
            additional_ref=job.get("additional_ref"),
            batch_ref=job["batch_ref"],
            max_batch=job["max_batch"],
            wait_timeout_seconds=job["wait"],
        )
    )
    print("REPORT " + report.model_dump_json(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
