"""Persistence: SQLAlchemy 2 models, Alembic migrations, and the hash-chained audit trail.

SQLite file by default (WAL), PostgreSQL by URL (``METSPINE_DB_URL``). Cases are versioned, assessments
are immutable snapshots with the engine, knowledge and policy versions that produced them, and every
change appends one row to the audit trail in the same transaction.
"""

from __future__ import annotations

from metspine.store.db import Store, default_db_url
from metspine.store.errors import ConflictError, NotFoundError, StoreError

__all__ = ["ConflictError", "NotFoundError", "Store", "StoreError", "default_db_url"]
