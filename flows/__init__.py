"""Prefect flows, one file per business process. Each is also runnable as ``python -m flows.<name>``."""

DEFAULT_TAX_BASE_CODE = "2000064001"
