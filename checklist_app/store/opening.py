"""Opening the database file: the read-only and immutable cases, and the check that a file is ours."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from checklist_app.store import files, schema
from checklist_app.store.errors import translated


def connect(path: Path, readonly: bool) -> sqlite3.Connection:
    """A connection in autocommit mode (the store opens its own transactions); read-only if asked."""
    if readonly:
        # On read-only media (a backup share, a write-protected folder) SQLite cannot create the
        # shared-memory file a WAL database needs; with no journal left to replay the file is
        # complete, and nobody can be writing it, so it is opened as immutable.
        wal = files.sibling(path, "-wal")
        settled = not wal.exists() or wal.stat().st_size == 0
        frozen = settled and not os.access(path.parent, os.W_OK)
        options = "?mode=ro&immutable=1" if frozen else "?mode=ro"
        return sqlite3.connect(path.as_uri() + options, uri=True, isolation_level=None)
    return sqlite3.connect(path, isolation_level=None)


def check_ours(path: Path) -> None:
    """Check an existing file through a read-only connection, before creating the lock beside it."""
    with translated(path):
        conn = connect(path, readonly=True)
        try:
            schema.existing_version(conn, path)
        finally:
            conn.close()
