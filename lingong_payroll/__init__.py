"""Payroll as the operator hands it over: payees, files, validation, business keys and reports.

Pure logic (no Prefect, no HTTP): the flows in ``flows/`` use it, and so does ``lingong payroll``.
"""
