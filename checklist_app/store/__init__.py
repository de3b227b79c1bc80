"""Storage: the only package that talks to SQLite (cases, append-only hash-chained events, staff)."""

from checklist_app.store.errors import (
    StoreCorrupt,
    StoreError,
    StoreFull,
    StoreLocked,
    StoreReadOnly,
    StoreTooNew,
)
from checklist_app.store.rows import CaseRow, Problem
from checklist_app.store.schema import MIGRATIONS
from checklist_app.store.store import Store, open_store, restore

__all__ = [
    "MIGRATIONS",
    "CaseRow",
    "Problem",
    "Store",
    "StoreCorrupt",
    "StoreError",
    "StoreFull",
    "StoreLocked",
    "StoreReadOnly",
    "StoreTooNew",
    "open_store",
    "restore",
]
