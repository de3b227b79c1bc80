"""Anchors outside the file: the backup manifest and the note's record reference, and their checks.

The file alone cannot show that a whole case vanished, that the tail of a chain was cut together
with its record, or that every hash was recomputed. Something kept elsewhere can: each anchor
names a case's head (last seq and hash) as it was at one moment, and the chain only ever grows.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from checklist_app.domain.events import canonical_json, format_time, parse_reference
from checklist_app.store.rows import Problem

MANIFEST_FORMAT = "checklist-app backup manifest 1"


def manifest_path(backup: Path) -> Path:
    """Where the manifest of a backup is written: beside it, `<backup>.manifest.json`."""
    return backup.with_name(backup.name + ".manifest.json")


def case_heads(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every case's head as its events say it is: case, last seq and that event's hash."""
    rows = db.execute(
        "SELECT e.case_id, e.seq, e.hash FROM events e JOIN "
        "(SELECT case_id, max(seq) AS last FROM events GROUP BY case_id) m "
        "ON e.case_id = m.case_id AND e.seq = m.last ORDER BY e.case_id"
    )
    return [{"case": case_id, "seq": seq, "head": hash_} for case_id, seq, hash_ in rows]


def staff_head(db: sqlite3.Connection) -> dict[str, Any] | None:
    """The staff directory chain's last entry (seq and hash), or None before the chain existed."""
    try:
        row = db.execute("SELECT seq, hash FROM staff_log ORDER BY seq DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:
        return None
    return {"seq": row[0], "head": row[1]} if row else None


def build_manifest(db: sqlite3.Connection, database: str, written: datetime) -> dict[str, Any]:
    """The manifest of a copy: every case head and a hash of the whole manifest."""
    body = {
        "format": MANIFEST_FORMAT,
        "database": database,
        "written": format_time(written),
        "cases": case_heads(db),
        "staff": staff_head(db),
    }
    return {**body, "manifest_hash": _digest(body)}


def manifest_text(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, ensure_ascii=False, indent=1) + "\n"


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def read_manifest(path: Path) -> dict[str, Any]:
    """A manifest file; ValueError naming the file if it is not one or its own hash does not hold."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read the manifest {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not a backup manifest (not JSON: {exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT or not isinstance(doc.get("cases"), list):
        raise ValueError(f"{path} is not a backup manifest of this program")
    body = {key: value for key, value in doc.items() if key != "manifest_hash"}
    if doc.get("manifest_hash") != _digest(body):
        raise ValueError(f"the manifest {path} was changed after it was written (its own hash does not hold)")
    return doc


def check_heads(db: sqlite3.Connection, heads: Iterable[tuple[str, int, str]], source: str) -> list[Problem]:
    """Each (case, seq, hash or prefix) must still be in the file: the case there, event seq with that hash."""
    problems = []
    for case_id, seq, hash_ in heads:
        row = db.execute("SELECT hash FROM events WHERE case_id = ? AND seq = ?", [case_id, seq]).fetchone()
        count = db.execute("SELECT count(*) FROM events WHERE case_id = ?", [case_id]).fetchone()[0]
        if count == 0:
            message = f"case {case_id}: missing from the file, but {source} lists it with {seq} events (deleted?)"
            problems.append(Problem(case_id, None, message))
        elif row is None:
            message = (
                f"case {case_id} event {seq}: missing; {source} lists {seq} events, the file has {count} "
                "(the end of the record was cut off?)"
            )
            problems.append(Problem(case_id, seq, message))
        elif not str(row[0]).startswith(hash_):
            message = f"case {case_id} event {seq}: not the event {source} vouches for (the record was rewritten?)"
            problems.append(Problem(case_id, seq, message))
    return problems


def check_manifest(db: sqlite3.Connection, manifest: dict[str, Any], name: str) -> list[Problem]:
    """Cases missing, shortened or rewritten since the backup whose manifest this is."""
    heads = []
    for entry in manifest["cases"]:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("seq"), int)
            or not isinstance(entry.get("head"), str)
        ):
            return [Problem(None, None, f"the manifest {name} holds an entry that is not a case head: {entry!r}")]
        heads.append((str(entry.get("case")), entry["seq"], entry["head"]))
    problems = check_heads(db, heads, f"the backup manifest {name}")
    staff = manifest.get("staff")
    if isinstance(staff, dict):
        row = db.execute("SELECT hash FROM staff_log WHERE seq = ?", [staff.get("seq")]).fetchone()
        if row is None or row[0] != staff.get("head"):
            message = (
                f"staff directory entry {staff.get('seq')}: not the entry the backup manifest {name} vouches for "
                "(the directory was cut short or rewritten?)"
            )
            problems.append(Problem(None, None, message))
    return problems


def check_reference(db: sqlite3.Connection, reference: str) -> tuple[list[Problem], int]:
    """Problems of a printed record reference against the file, and the case's event count now."""
    case_id, seq, prefix = parse_reference(reference)
    problems = check_heads(db, [(case_id, seq, prefix)], f"the printed note ({reference})")
    count = db.execute("SELECT count(*) FROM events WHERE case_id = ?", [case_id]).fetchone()[0]
    return problems, int(count)
