"""Writing a note file safely: checked folder, never over the database or a file that is not a PDF, atomic, 0600."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ..domain.errors import Refusal

PDF_MAGIC = b"%PDF-"


def check_writable(target: Path, *, protected: Iterable[Path] = ()) -> None:
    """Refuse, before any work, a path the note must not or cannot be written to."""
    folder = target.parent
    if target.is_dir():
        raise Refusal("output", f"{target} is a folder; give a file name such as note.pdf")
    if not folder.is_dir():
        raise Refusal("output", f"the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise Refusal("output", f"cannot write to the folder {folder} (permission denied)")
    if any(_same(target, path) for path in protected):
        raise Refusal("output", f"{target} is the case database; choose another file name")
    if target.exists() and not _is_pdf(target):
        raise Refusal("output", f"{target} already exists and is not a PDF; choose another file name")


def write_private(target: Path, data: bytes, *, protected: Iterable[Path] = ()) -> None:
    """Write `data` to a temporary file (mode 0600) beside `target`, flush it to disk, then rename it over."""
    protected = tuple(protected)
    check_writable(target, protected=protected)
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise Refusal("output", f"cannot write to the folder {target.parent}: {exc.strerror or exc}") from None
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
        _fsync_folder(target.parent)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise Refusal("output", f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def database_files(service) -> tuple[Path, ...]:
    """The database of `service` and its companion files (journal, WAL, shared memory, lock)."""
    return tuple(service.records.database_files())


def _same(target: Path, other: Path) -> bool:
    with contextlib.suppress(OSError):
        if target.exists() and other.exists():
            return os.path.samefile(target, other)
    return target.absolute() == Path(other).absolute()


def _is_pdf(path: Path) -> bool:
    try:
        with path.open("rb") as existing:
            return existing.read(len(PDF_MAGIC)) == PDF_MAGIC
    except OSError:
        return False


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); not possible or needed everywhere."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
