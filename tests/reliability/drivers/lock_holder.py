"""Another program holding the database: BEGIN EXCLUSIVE on a plain sqlite3 connection.

    python lock_holder.py DB

Prints LOCKED once it holds the write lock, keeps it until its stdin is closed, then rolls back,
prints RELEASED and exits. Used by the locked-database tests (no checklist code involved).
"""

from __future__ import annotations

import sqlite3
import sys

conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("LOCKED", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
conn.close()
print("RELEASED", flush=True)
