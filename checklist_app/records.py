"""Record keeping for IT: verify the file and the chains, back up, restore, anchors, the outbox."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from .domain.events import Event
from .store import Problem, Store
from .store import files as store_files
from .store.outbox import OutboxRow

StatusOf = Callable[[list[Event]], str]


class RecordKeeping:
    """What the command line and the window ask of the database as a whole (never of a case's use cases)."""

    def __init__(self, store: Store, status_of: StatusOf | None = None) -> None:
        self.store = store
        self.status_of = status_of  # a case's events -> its status (the fold), so verify checks the list's status

    def verify(self) -> list[Problem]:
        """Check the file, its schema, every case's chain and list entry, and the staff chain; [] means intact."""
        return self.store.verify(self.status_of)

    def verify_case(self, case_id: str) -> list[Problem]:
        """Re-walk one case's chain and check its record (quick: for opening a case)."""
        return self.store.verify_case(case_id, self.status_of)

    def verify_manifest(self, manifest: Path) -> list[Problem]:
        """Cases missing, shortened or rewritten since the backup whose manifest this is."""
        return self.store.verify_manifest(Path(manifest))

    def verify_reference(self, reference: str) -> tuple[list[Problem], int]:
        """A record reference printed on a note against the file: (problems, the case's events now)."""
        return self.store.verify_reference(reference)

    def record_reference(self, case_id: str) -> str:
        return self.store.record_reference(case_id)

    def backup(
        self, dest: Path, *, force: bool = False, known: Sequence[Path] = (), written: datetime | None = None
    ) -> Path:
        """A consistent owner-only copy at `dest` and its manifest (returned), safe while the program runs."""
        return self.store.backup(Path(dest), force=force, known=known, written=written)

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
