"""Record keeping for IT: verify the file and the chains, back up, list the database's files, the outbox."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from .store import Problem, Store
from .store import files as store_files
from .store.outbox import OutboxRow


class RecordKeeping:
    """What the command line and the window ask of the database as a whole (never of a case's use cases)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def verify(self) -> list[Problem]:
        """Check the SQLite file and re-walk every case's hash chain; [] means intact."""
        return self.store.verify()

    def verify_case(self, case_id: str) -> list[Problem]:
        """Re-walk one case's chain and check its record (quick: for opening a case)."""
        return self.store.verify_case(case_id)

    def backup(self, dest: Path) -> None:
        """A consistent owner-only copy at `dest`, safe while the program keeps running."""
        self.store.backup(Path(dest))

    def database_files(self) -> list[Path]:
        """The database and its companion files (journal, WAL, shared memory, lock)."""
        path = self.store.path
        return [path, *(store_files.sibling(path, suffix) for suffix in ("-wal", "-shm", "-journal", ".lock"))]

    def outbox(self, *, statuses: tuple[str, ...] = ()) -> list[OutboxRow]:
        return self.store.outbox(statuses=statuses)

    def record_delivery(
        self, message_id: int, outcome: str, detail: str, *, at: datetime, next_attempt: datetime | None = None
    ) -> bool:
        """The outbox worker's result for one message (written here, by the store's one writer thread)."""
        return self.store.messages.record_attempt(message_id, outcome, detail, at=at, next_attempt=next_attempt)

    def retry_message(self, message_id: int) -> OutboxRow:
        """IT's retry of a parked message: due again now."""
        return self.store.messages.retry(message_id)
