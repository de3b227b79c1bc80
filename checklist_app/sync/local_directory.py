"""The room's offline copy of the department's staff directory and catalogue: a file beside the database.

The copy holds the hub's entries exactly as pulled (canonical text and hash), so it stays one hash
chain per directory: every load re-checks each entry against its hash and its link to the one
before, and a pull asks the hub to prove it still holds the room's last entry (`since_hash`). It is
its own file, apart from the room's staff table (which the room keeps for itself); written
atomically, owner-only.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from checklist_app.sync.directory import CATALOGUE, STAFF, DirectoryEntry, StaffMember, check_chain, entry_from_row
from checklist_app.sync.directory import fold_staff as _fold_staff
from checklist_app.sync.hub import Hub


class LocalDirectoryError(ValueError):
    """The local copy cannot be read or does not verify (it is then pulled afresh from the hub)."""


@dataclass(frozen=True)
class PullResult:
    """How many entries of each directory a pull added."""

    staff: int
    catalogue: int


def directory_path(db_path: Path) -> Path:
    """Where the copy of a room's database lives: `<database>.department.json`."""
    return db_path.with_name(db_path.name + ".department.json")


def load(path: Path) -> dict[str, list[DirectoryEntry]]:
    """The verified entries of both directories ({} lists if there is no copy yet)."""
    if not path.is_file():
        return {STAFF: [], CATALOGUE: []}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        copy = {
            name: [entry_from_row(name, row["seq"], row["canonical"], row["hash"]) for row in data[name]]
            for name in (STAFF, CATALOGUE)
        }
        for entries in copy.values():
            check_chain(entries)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LocalDirectoryError(f"The department directory copy {path} does not verify: {exc}") from None
    return copy


def pull(hub: Hub, path: Path) -> PullResult:
    """Pull what the copy lacks from the hub and write the copy again (atomically)."""
    try:
        copy = load(path)
    except LocalDirectoryError:
        copy = {STAFF: [], CATALOGUE: []}  # a damaged copy is replaced by the hub's verified chain
    added = {}
    for name, fetch in ((STAFF, hub.pull_staff), (CATALOGUE, hub.pull_catalogue)):
        last = copy[name][-1] if copy[name] else None
        new = fetch(last.seq, last.hash) if last else fetch()
        copy[name] = [*copy[name], *new]
        added[name] = len(new)
    _write(path, copy)
    return PullResult(added[STAFF], added[CATALOGUE])


def staff(path: Path) -> dict[str, StaffMember]:
    """The department's people as the local copy says (offline), by person id."""
    return _fold_staff(load(path)[STAFF])


def catalogue_in_force(path: Path) -> tuple[str, str] | None:
    """(version, products TOML) of the newest catalogue in the local copy, or None."""
    entries = load(path)[CATALOGUE]
    if not entries:
        return None
    body = entries[-1].body
    return str(body["version"]), str(body["toml"])


def _write(path: Path, copy: dict[str, list[DirectoryEntry]]) -> None:
    data = {
        name: [{"seq": e.seq, "hash": e.hash, "canonical": e.canonical} for e in entries]
        for name, entries in copy.items()
    }
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
