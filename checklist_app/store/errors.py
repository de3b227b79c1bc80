"""Storage failures, each with a one-line message saying what happened and what to do."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Primary SQLite result codes (the low byte of an extended code).
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 26


class StoreError(Exception):
    """Any storage failure; str(error) is a single line meant for the person at the screen."""


# The names below are the public API agreed with the other packages, hence noqa: N818.
class StoreFull(StoreError):  # noqa: N818
    """The disk (or the configured size limit) is full; nothing of the failed write was kept."""


class StoreReadOnly(StoreError):  # noqa: N818
    """The database cannot be written: read-only file, folder or read-only mode."""


class StoreLocked(StoreError):  # noqa: N818
    """Another program (or checklist window) holds the database."""


class StoreCorrupt(StoreError):  # noqa: N818
    """The file is not an intact checklist database; it has been left exactly as it was."""


class StoreTooNew(StoreError):  # noqa: N818
    """The database was written by a newer version of the program."""


def full(path: Path) -> StoreFull:
    return StoreFull(
        f"Could not save to {path}: the disk is full (or the database reached its size limit). "
        "Nothing already saved was lost; free some space and try again."
    )


def read_only(path: Path) -> StoreReadOnly:
    return StoreReadOnly(
        f"The database file {path} is read-only, so nothing can be saved. "
        "Fix the file's permissions, or open it read-only just to view it."
    )


def busy(path: Path) -> StoreLocked:
    return StoreLocked(
        f"The database {path} is busy in another program. Nothing was saved; close the other program and try again."
    )


def corrupt(path: Path, detail: str = "it may be damaged") -> StoreCorrupt:
    return StoreCorrupt(
        f"The file {path} is not a checklist database ({detail}). It has not been changed. "
        "Restore a backup (open it with --db BACKUP_PATH) or start a new file with --db NEW_PATH."
    )


def cannot_open(path: Path) -> StoreError:
    return StoreError(
        f"Could not open the database {path}: check that the file and its folder exist and that you may read them."
    )


def translate(exc: sqlite3.Error, path: Path) -> StoreError:
    """The StoreError that explains a sqlite3 error to a person."""
    code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    text = str(exc).lower()
    if code == _FULL or "disk is full" in text:
        return full(path)
    if code == _READONLY or "readonly database" in text:
        return read_only(path)
    if code in (_BUSY, _LOCKED) or "is locked" in text:
        return busy(path)
    if code in (_CORRUPT, _NOTADB) or "not a database" in text or "malformed" in text:
        return corrupt(path, "it is damaged")
    if code == _CANTOPEN or "unable to open" in text:
        return cannot_open(path)
    if code == _IOERR or "i/o error" in text:
        return StoreError(f"Could not read or write {path}: the disk reported an error. Nothing was saved; check it.")
    return StoreError(f"Could not save to {path}: {exc}. Nothing was saved.")


@contextmanager
def translated(path: Path) -> Iterator[None]:
    """Re-raise any sqlite3 error inside the block as the matching StoreError."""
    try:
        yield
    except sqlite3.Error as exc:
        raise translate(exc, path) from exc
