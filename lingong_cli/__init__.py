"""The ``lingong`` command line."""
