"""Benchmarks of issue 8: ``python -m bench [--quick] [--only NAME ...]`` (``make bench``).

One module per scenario, run in this order: signing, core_cost, floor, onboarding, payroll, first_payroll, demo_cold,
followup, sandbox_scale, receiver, sheets.
Figures and analysis: ``bench/results.md``; the record they are made from: ``bench/results.json`` (committed).
"""

SCENARIOS = (
    "signing",
    "core_cost",
    "floor",
    "onboarding",
    "payroll",
    "first_payroll",
    "demo_cold",
    "followup",
    "sandbox_scale",
    "receiver",
    "sheets",
)
