"""The operator's upload page (FastAPI): a payroll sheet in, a masked preview, a ``payroll-run`` started
with the stored payroll's reference. ``lingong upload serve`` runs it; ``make up`` starts it too."""
