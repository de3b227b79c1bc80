"""The hub's shared directories as hash-chained entries: staff (people, PIN hashes) and the catalogue.

An entry's canonical text is what its hash covers; it names its directory, seq, kind and the hash of
the entry before, so a replaced PIN hash or a dropped deactivation breaks the chain. Entries are
built and checked here (pure Python); hub_pg.py stores and reads them.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from checklist_app.domain.catalogue import CatalogueError, load_catalogue
from checklist_app.domain.events import GENESIS_HASH, canonical_json, format_time, parse_time
from checklist_app.domain.setup import clean_text

STAFF, CATALOGUE = "staff", "catalogue"
PERSON_ADDED, PIN_CHANGED, DEACTIVATED, REACTIVATED = "person_added", "pin_changed", "deactivated", "reactivated"
CATALOGUE_VERSION = "catalogue_version"
# A room's own directory also logs each PIN refused or accepted at a signature (SPEC §6: every
# failure is logged; five in a row lock the signer for 5 minutes). fold_staff ignores them.
PIN_REFUSED, PIN_ACCEPTED = "pin_refused", "pin_accepted"
KINDS = {
    STAFF: (PERSON_ADDED, PIN_CHANGED, DEACTIVATED, REACTIVATED, PIN_REFUSED, PIN_ACCEPTED),
    CATALOGUE: (CATALOGUE_VERSION,),
}


@dataclass(frozen=True)
class DirectoryEntry:
    """One entry of a directory chain, as pulled from the hub (already checked against its hash)."""

    directory: str
    seq: int
    kind: str
    body: Mapping[str, Any]
    recorded_at: datetime
    prev_hash: str
    hash: str
    canonical: str


@dataclass(frozen=True)
class StaffMember:
    """A person of the department's directory, as its entries leave them."""

    person_id: str
    name: str
    role: str
    pin_hash: str | None
    active: bool


def build_entry(
    directory: str, seq: int, kind: str, body: Mapping[str, Any], prev_hash: str, recorded_at: datetime
) -> tuple[str, str]:
    """(canonical text, hash) of a new entry."""
    if kind not in KINDS.get(directory, ()):
        raise ValueError(f"'{kind}' is not an entry of the {directory} directory")
    text = canonical_json(
        {
            "directory": directory,
            "seq": seq,
            "kind": kind,
            "body": dict(body),
            "prev_hash": prev_hash,
            "recorded_at": format_time(recorded_at),
        }
    )
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_from_row(directory: str, seq: int, canonical: str, hash_: str) -> DirectoryEntry:
    """The entry a stored row holds; ValueError if its text does not match its hash or its place."""
    if hashlib.sha256(canonical.encode("utf-8")).hexdigest() != hash_:
        raise ValueError(f"{directory} entry {seq} does not match its hash")
    doc = json.loads(canonical)
    if not isinstance(doc, dict) or doc.get("directory") != directory or doc.get("seq") != seq:
        raise ValueError(f"{directory} entry {seq} does not hold what its place says")
    return DirectoryEntry(
        directory, seq, doc["kind"], doc["body"], parse_time(doc["recorded_at"]), doc["prev_hash"], hash_, canonical
    )


def check_chain(entries: Sequence[DirectoryEntry], after: tuple[int, str] | None = None) -> None:
    """ValueError unless `entries` continue the chain after `after` ((0, GENESIS) when None)."""
    seq, prev = after or (0, GENESIS_HASH)
    for entry in entries:
        if entry.seq != seq + 1 or entry.prev_hash != prev:
            raise ValueError(f"{entry.directory} entry {entry.seq} does not follow entry {seq}")
        seq, prev = entry.seq, entry.hash


def fold_staff(entries: Sequence[DirectoryEntry]) -> dict[str, StaffMember]:
    """Everyone in the staff directory, by person id, as the entries (in order) leave them."""
    people: dict[str, StaffMember] = {}
    for entry in entries:
        body = entry.body
        person = people.get(str(body.get("person_id")))
        if entry.kind == PERSON_ADDED:
            pid = str(body["person_id"])
            people[pid] = StaffMember(pid, str(body["name"]), str(body["role"]), body.get("pin_hash"), True)
        elif person is not None and entry.kind == PIN_CHANGED:
            people[person.person_id] = replace(person, pin_hash=body.get("pin_hash"))
        elif person is not None and entry.kind in (DEACTIVATED, REACTIVATED):
            people[person.person_id] = replace(person, active=entry.kind == REACTIVATED)
    return people


def staff_change(people: Mapping[str, StaffMember], kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """The checked body of a staff entry; ValueError (naming the field) if it makes no sense now."""
    person_id = clean_text(body.get("person_id"), "person_id", 64)
    known = people.get(person_id)
    if kind == PERSON_ADDED:
        if known is not None:
            raise ValueError(f"person_id: {person_id} is already in the staff directory")
        name, role = clean_text(body.get("name"), "name"), clean_text(body.get("role"), "role", 40)
        return {"person_id": person_id, "name": name, "role": role, "pin_hash": _pin_hash(body.get("pin_hash"))}
    if known is None:
        raise ValueError(f"person_id: {person_id} is not in the staff directory")
    if kind == PIN_CHANGED:
        return {"person_id": person_id, "pin_hash": _pin_hash(body.get("pin_hash"))}
    if kind == DEACTIVATED and not known.active or kind == REACTIVATED and known.active:
        raise ValueError(f"person_id: {person_id} is already {'in' if kind == DEACTIVATED else ''}active")
    return {"person_id": person_id}


def catalogue_version(version: str, toml_text: str) -> dict[str, Any]:
    """The body of a catalogue version, refused unless the program itself can load the catalogue."""
    version = clean_text(version, "version", 40)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "products.toml"
        path.write_text(toml_text, encoding="utf-8")
        try:
            load_catalogue(path)
        except CatalogueError as exc:
            raise ValueError(f"catalogue: {str(exc).replace(str(path), 'the catalogue')}") from None
    return {"version": version, "toml": toml_text}


def _pin_hash(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith("scrypt$") or value.count("$") != 5:
        raise ValueError("pin_hash: must be a salted scrypt hash from the program, never a PIN")
    return value
