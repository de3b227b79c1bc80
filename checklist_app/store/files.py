"""The database's files on disk: header check, private folders, the writer lock and backups."""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from checklist_app.store.errors import StoreError, StoreLocked, StoreReadOnly, corrupt

SQLITE_MAGIC = b"SQLite format 3\x00"
_HEADER_SIZE = 100
_NO_WRITE = (errno.EACCES, errno.EPERM, errno.EROFS)


# umask is process-wide, and the outbox worker and the patient list open their files from other
# threads than the window's: one block at a time, so no block ever restores the umask while another
# one still counts on it (a file created then would be readable by others). Re-entrant: blocks nest.
_UMASK_LOCK = threading.RLock()


@contextmanager
def private_umask() -> Iterator[None]:
    """Files created inside the block (the db, -wal, -shm, backups) are owner-only."""
    with _UMASK_LOCK:
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
    """An exclusive advisory lock: one writing program per database.

    Keyed on the file's real path (`<real path>.lock`, so two symlinks or a `..` detour share one
    lock) and, for a file that exists, on its identity (device and inode, in the user's runtime
    folder), so two hard links to one file share one writer too.
    """

    def __init__(self, fds: list[int], path: Path) -> None:
        self.fds = fds
        self.path = path

    @classmethod
    def acquire(cls, db_path: Path) -> WriterLock:
        real = Path(os.path.realpath(db_path))
        lock_path = sibling(real, ".lock")
        fds = [_take(lock_path, db_path, write_pid=True)]
        try:
            identity = identity_lock_path(real)
            if identity is not None:
                fds.append(_take(identity, db_path, write_pid=False))
        except BaseException:
            cls(fds, lock_path).release()
            raise
        return cls(fds, lock_path)

    def release(self) -> None:
        fds, self.fds = self.fds, []
        for fd in fds:
            try:
                unlock_fd(fd)
            finally:
                os.close(fd)


def _take(lock_path: Path, db_path: Path, *, write_pid: bool) -> int:
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise _cannot_lock(db_path, exc) from exc
    try:
        lock_fd(fd)
    except OSError as exc:
        holder = _read_pid(fd)
        os.close(fd)
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES, errno.EDEADLK):
            raise _cannot_lock(db_path, exc) from exc
        raise StoreLocked(
            f"The database {db_path} is already open in another checklist window (process {holder}). "
            "Close that one first, or open this one read-only."
        ) from exc
    if write_pid:
        _write_pid(fd)
    return fd


def identity_lock_path(real: Path) -> Path | None:
    """`<runtime folder>/checklist-app-locks/<device>-<inode>.lock` of an existing file (None if there is none)."""
    if sys.platform == "win32":  # pragma: no cover - hard links to a database are a POSIX concern here
        return None
    try:
        info = real.stat()
    except OSError:
        return None  # a new file: no other name can lead to it yet
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    folder = Path(base) / f"checklist-app-locks-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        owned = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(owned.st_mode) or owned.st_uid != os.getuid() or stat.S_IMODE(owned.st_mode) & 0o077:
        return None  # not ours, or open to others: do not lock through it
    return folder / f"{info.st_dev}-{info.st_ino}.lock"


if sys.platform == "win32":  # pragma: no cover - Windows workstations
    import msvcrt

    def lock_fd(fd: int, shared: bool = False) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def unlock_fd(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def lock_fd(fd: int, shared: bool = False) -> None:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)

    def unlock_fd(fd: int) -> None:
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


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def tighten(paths: list[Path], folder: Path | None = None) -> list[str]:
    """Make existing files owner-only (0600) and `folder` 0700; one notice per mode that was loose.

    Only files of this user are touched (a chmod of someone else's file fails and is left alone).
    """
    notices = []
    for path, wanted in [*((p, 0o600) for p in paths), *(((folder, 0o700),) if folder else ())]:
        try:
            info = path.stat()
        except OSError:
            continue
        loose = stat.S_IMODE(info.st_mode) & 0o077
        if not loose or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
            continue
        try:
            os.chmod(path, stat.S_IMODE(info.st_mode) & ~0o077 | (wanted & 0o700))
        except OSError:
            continue
        notices.append(
            f"{path} was readable by other users (mode {stat.S_IMODE(info.st_mode):04o}); now {wanted:04o}, owner only."
        )
    return notices
