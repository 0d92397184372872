"""The project's own state (run journal, receiver's store, payee store) on one SQLAlchemy 2 database.

``lingong_store.db.Database`` owns the engine; each store defines the tables of its own ``MetaData``.
Never imports Prefect.
"""

from lingong_store.db import Database, database_url, sqlite_url

__all__ = ["Database", "database_url", "sqlite_url"]
