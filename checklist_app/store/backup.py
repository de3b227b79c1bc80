"""Backups and restores that never destroy: checked destinations, a temporary file renamed into place.

A backup never replaces an existing file unless asked (`force`), and even then never a database
that is open (its writer lock held, or a journal beside it), never a database the program knows
(the live one, the default one), never a device, FIFO or a symlink leading out of its folder.
A restore only ever writes a new file, and checks the copy before it appears.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
from collections.abc import Callable, Iterable
from contextlib import suppress
from datetime import datetime
from pathlib import Path

from checklist_app.store import anchors, files
from checklist_app.store.errors import StoreError, translate
from checklist_app.store.rows import Problem

_LIVE_SUFFIXES = ("-wal", "-shm", "-journal", ".lock")


def real(path: Path) -> Path:
    """`path` with every symlink and `..` resolved (the file that would really be written)."""
    return Path(os.path.realpath(path))


def database_family(path: Path) -> list[Path]:
    """A database and its companion files, by their real paths."""
    base = real(path)
    return [base, *(files.sibling(base, suffix) for suffix in _LIVE_SUFFIXES)]


def check_destination(dest: Path, *, live: Path, known: Iterable[Path] = (), force: bool = False) -> None:
    """Raise StoreError unless writing a new database at `dest` can destroy nothing.

    `live` is the database being copied; `known` are the other databases the program knows (the
    default one). Neither may ever be replaced, with or without `force`.
    """
    dest = Path(dest).absolute()
    target = real(dest)
    guarded = [p for db in (live, *known) for p in database_family(db)]
    if any(target == g or files.same_file(target, g) for g in guarded):
        raise StoreError(
            f"Refusing to write onto {dest}: it is the live database {live} or one the program uses (or one of "
            "their journal files). Choose another file name."
        )
    if not dest.parent.is_dir():
        raise StoreError(f"The folder {dest.parent} does not exist. Create it or choose another.")
    if writer_lock_held(target):
        raise StoreError(
            f"Refusing to write onto {dest}: it is a live database, open in a checklist window. "
            "Choose another file name."
        )
    if not os.path.lexists(dest):
        return
    if not force:
        raise StoreError(
            f"{dest} already exists and was not changed. Choose a new file name "
            "(or add --force to replace an old backup that is not in use)."
        )
    _check_replaceable(dest, target)


def _check_replaceable(dest: Path, target: Path) -> None:
    """What --force may replace: a regular file in that folder that no program has open as a database."""
    if dest.is_symlink() and target.parent != real(dest.parent):
        raise StoreError(f"Refusing to replace {dest}: it is a link to a file in another folder ({target}).")
    try:
        info = target.stat()
    except OSError:
        return  # a dangling link inside the folder: only the link itself is replaced
    if not stat.S_ISREG(info.st_mode):
        raise StoreError(f"Refusing to replace {dest}: it is not a regular file (a device, a pipe or a folder).")
    for suffix in ("-wal", "-journal"):
        companion = files.sibling(target, suffix)
        if companion.exists() and companion.stat().st_size > 0:
            raise StoreError(
                f"Refusing to replace {dest}: it is a live database (it has an open journal, {companion.name})."
            )


def writer_lock_held(db: Path) -> bool:
    """True if a program holds the writer lock of the database at `db` (by its real path or identity)."""
    target = real(db)
    return any(_held(lock) for lock in (files.sibling(target, ".lock"), files.identity_lock_path(target)) if lock)


def _held(lock: Path) -> bool:
    try:
        fd = os.open(lock, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False  # no lock file (or no name for one): nobody holds it
    try:
        try:
            files.lock_fd(fd, shared=True)
        except OSError as exc:
            return exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES, errno.EDEADLK)
        files.unlock_fd(fd)
        return False
    finally:
        os.close(fd)


def write_copy(source: sqlite3.Connection, dest: Path) -> Path:
    """Copy `source` consistently into a temporary file beside `dest` and return that file (fsynced)."""
    temp = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    try:
        with files.private_umask():
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            target = sqlite3.connect(temp, isolation_level=None)
            try:
                source.backup(target)
                target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            finally:
                target.close()
            _fsync(temp)
    except OSError as exc:
        discard(temp)
        raise StoreError(f"Could not write {dest}: {exc.strerror}. Check the folder and free space.") from exc
    except sqlite3.Error as exc:
        discard(temp)
        raise translate(exc, dest) from exc
    return temp


def publish(temp: Path, dest: Path, *, replace: bool) -> None:
    """Move the finished `temp` to `dest`: atomically, and without ever replacing a file unless `replace`."""
    try:
        if replace:
            os.replace(temp, dest)
        else:
            _rename_no_replace(temp, dest)
        files.fsync_dir(dest.parent)
    except FileExistsError:
        discard(temp)
        raise StoreError(f"{dest} appeared while the copy was being written; it was not changed.") from None
    except OSError as exc:
        discard(temp)
        raise StoreError(f"Could not write {dest}: {exc.strerror}. Check the folder and free space.") from exc


def _rename_no_replace(temp: Path, dest: Path) -> None:
    try:
        os.link(temp, dest)  # fails with EEXIST rather than replace anything
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        # A filesystem without hard links (FAT on a USB stick): check, then rename.
        if os.path.lexists(dest):
            raise FileExistsError(errno.EEXIST, "exists", str(dest)) from None
        os.rename(temp, dest)
        return
    os.unlink(temp)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def discard(path: Path) -> None:
    for leftover in (path, *(files.sibling(path, s) for s in ("-journal", "-wal", "-shm"))):
        with suppress(OSError):
            leftover.unlink()


def backup_database(
    conn: sqlite3.Connection, live: Path, dest: Path, *, written: datetime, force: bool, known: Iterable[Path]
) -> Path:
    """Copy the live database to `dest` and its manifest beside it; returns the manifest's path.

    Both go through temporary files renamed into place: a failure leaves nothing behind and an
    existing file is never replaced unless `force` (and check_destination) allow it.
    """
    dest = Path(dest).absolute()
    manifest = anchors.manifest_path(dest)
    check_destination(dest, live=live, known=known, force=force)
    check_destination(manifest, live=live, known=known, force=force)
    temp = write_copy(conn, dest)
    try:
        copy = sqlite3.connect(temp.as_uri() + "?mode=ro", uri=True, isolation_level=None)
        try:
            name = os.fsencode(dest.name).decode("utf-8", "backslashreplace")  # any bytes a file name may hold
            text = anchors.manifest_text(anchors.build_manifest(copy, name, written))
        finally:
            copy.close()
        temp_manifest = _write_text(manifest, text)
    except BaseException:
        discard(temp)
        raise
    publish(temp, dest, replace=force)
    publish(temp_manifest, manifest, replace=force)
    return manifest


def restore_database(
    backup: Path, dest: Path, *, known: Iterable[Path], verify: Callable[[Path], list[Problem]]
) -> int:
    """Copy the backup into the new file `dest` (never an existing one), checked before it appears.

    `verify` checks the copy (the chains, and the backup's manifest if it has one); any problem
    and nothing is written. Returns the number of cases restored.
    """
    backup, dest = Path(backup).absolute(), Path(dest).absolute()
    check_destination(dest, live=backup, known=known, force=False)
    conn = sqlite3.connect(backup.as_uri() + "?mode=ro", uri=True, isolation_level=None)
    try:
        temp = write_copy(conn, dest)
    finally:
        conn.close()
    try:
        problems = verify(temp)
        if problems:
            raise StoreError(
                f"The backup {backup} does not verify ({len(problems)} problem(s), first: {problems[0].message}); "
                f"nothing was restored. Run 'checklist-app --db {backup} verify' for the list."
            )
        check = sqlite3.connect(temp.as_uri() + "?mode=ro", uri=True, isolation_level=None)
        try:
            cases = int(check.execute("SELECT count(*) FROM cases").fetchone()[0])
        finally:
            check.close()
    except BaseException:
        discard(temp)
        raise
    publish(temp, dest, replace=False)
    return cases


def _write_text(dest: Path, text: str) -> Path:
    temp = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    try:
        with files.private_umask():
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
    except OSError as exc:
        discard(temp)
        raise StoreError(f"Could not write {dest}: {exc.strerror}. Check the folder and free space.") from exc
    return temp
