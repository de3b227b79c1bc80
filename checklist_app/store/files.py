"""The database's files on disk: header check, private folders, the writer lock and backups."""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from checklist_app.store.errors import StoreError, StoreLocked, StoreReadOnly, corrupt, translate

SQLITE_MAGIC = b"SQLite format 3\x00"
_HEADER_SIZE = 100
_NO_WRITE = (errno.EACCES, errno.EPERM, errno.EROFS)


@contextmanager
def private_umask() -> Iterator[None]:
    """Files created inside the block (the db, -wal, -shm, backups) are owner-only."""
    # umask is process-wide; the store only opens files from the GUI thread.
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def sibling(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def is_new_file(path: Path) -> bool:
    """True if nothing is stored at `path` yet (missing or 0 bytes).

    Raises StoreCorrupt, without touching the file, if it holds anything but an intact SQLite file.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        return True
    except OSError as exc:
        raise StoreError(f"Could not read {path}: {exc.strerror}. Check its permissions.") from exc
    if not stat.S_ISREG(info.st_mode):
        raise corrupt(path, "it is not a regular file")
    if info.st_size == 0:
        return True
    try:
        with open(path, "rb") as handle:
            header = handle.read(_HEADER_SIZE)
    except OSError as exc:
        raise StoreError(f"Could not read {path}: {exc.strerror}. Check its permissions.") from exc
    if len(header) < _HEADER_SIZE or not header.startswith(SQLITE_MAGIC):
        raise corrupt(path, "it is not a SQLite database")
    if _looks_truncated(path, header, info.st_size):
        raise corrupt(path, "it is shorter than its header says: truncated or damaged")
    return False


def _looks_truncated(path: Path, header: bytes, size: int) -> bool:
    """True if the file is shorter than the page count its own header vouches for."""
    wal = sibling(path, "-wal")
    if wal.exists() and wal.stat().st_size > 32:
        # Unapplied WAL frames may legitimately extend the database; SQLite replays them.
        return False
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return True
    pages = int.from_bytes(header[28:32], "big")
    header_count_valid = pages > 0 and header[24:28] == header[92:96]
    return size % page_size != 0 or (header_count_valid and size < pages * page_size)


def make_private_dir(folder: Path) -> None:
    """Create `folder` (and parents) owner-only if it does not exist yet."""
    if folder.is_dir():
        return
    try:
        folder.mkdir(parents=True, mode=0o700, exist_ok=True)  # two programs may start together
        os.chmod(folder, 0o700)
    except OSError as exc:
        message = f"Could not create the folder {folder}: {exc.strerror}. Choose another place with --db."
        raise StoreError(message) from exc


def restrict(*paths: Path) -> None:
    """Make existing files owner-only (best effort: a file owned by someone else is left alone)."""
    for path in paths:
        with suppress(OSError):
            os.chmod(path, 0o600)


class WriterLock:
    """An exclusive advisory lock on `<db>.lock`: one writing program per database."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd = fd
        self.path = path

    @classmethod
    def acquire(cls, db_path: Path) -> WriterLock:
        lock_path = sibling(db_path, ".lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise _cannot_lock(db_path, exc) from exc
        try:
            _lock(fd)
        except OSError as exc:
            holder = _read_pid(fd)
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES, errno.EDEADLK):
                raise _cannot_lock(db_path, exc) from exc
            raise StoreLocked(
                f"The database {db_path} is already open in another checklist window (process {holder}). "
                "Close that one first, or open this one read-only."
            ) from exc
        _write_pid(fd)
        return cls(fd, lock_path)

    def release(self) -> None:
        if self.fd < 0:
            return
        try:
            _unlock(self.fd)
        finally:
            os.close(self.fd)
            self.fd = -1


if sys.platform == "win32":  # pragma: no cover - Windows workstations
    import msvcrt

    def _lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _write_pid(fd: int) -> None:
    with suppress(OSError):
        os.fchmod(fd, 0o600)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)


def _read_pid(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return "unknown"
    return text if text.isdigit() else "unknown"


def _cannot_lock(db_path: Path, exc: OSError) -> StoreError:
    if exc.errno in _NO_WRITE:
        return StoreReadOnly(
            f"Cannot write in the folder {db_path.parent}, so {db_path.name} cannot be opened for saving. "
            "Fix the folder's permissions, or open the database read-only."
        )
    return StoreError(f"Could not open the database {db_path}: {exc.strerror}.")


def same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def backup_to(conn: sqlite3.Connection, live: Path, dest: Path) -> None:
    """Copy the live database consistently to `dest` (owner-only), replacing it atomically."""
    dest = dest.absolute()
    live_files = [live] + [sibling(live, s) for s in ("-wal", "-shm", "-journal", ".lock")]
    if any(same_file(dest, f) for f in live_files):
        raise StoreError(f"Refusing to back up onto the live database {live}. Choose another file name.")
    if not dest.parent.is_dir():
        raise StoreError(f"Could not back up: the folder {dest.parent} does not exist. Create it or choose another.")
    temp = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    try:
        with private_umask():
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            _copy(conn, temp)
        os.replace(temp, dest)
        _fsync_dir(dest.parent)
    except OSError as exc:
        _discard(temp)
        raise StoreError(f"Could not back up to {dest}: {exc.strerror}. Check the folder and free space.") from exc
    except sqlite3.Error as exc:
        _discard(temp)
        raise translate(exc, dest) from exc


def _copy(conn: sqlite3.Connection, temp: Path) -> None:
    target = sqlite3.connect(temp, isolation_level=None)
    try:
        conn.backup(target)
    finally:
        target.close()
    fd = os.open(temp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _discard(path: Path) -> None:
    for leftover in (path, sibling(path, "-journal"), sibling(path, "-wal"), sibling(path, "-shm")):
        with suppress(OSError):
            leftover.unlink()
