"""Thin Prefect tasks, one per business step, over the core's service methods."""
