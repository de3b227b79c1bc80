"""The database schema as numbered migrations; PRAGMA user_version records how many have run."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from checklist_app.store.errors import StoreError, StoreTooNew, corrupt

if TYPE_CHECKING:
    from sqlite_utils import Database

TABLES = frozenset({"cases", "events", "staff", "meta"})  # what every version since the first has
TABLES_BY_VERSION = {1: TABLES, 2: TABLES | {"outbox", "hub_marks"}, 3: TABLES | {"outbox", "hub_marks", "staff_log"}}


def _create_everything(db: Database) -> None:
    """Migration 1: cases, their append-only events, staff and settings."""
    db.table("cases").create(
        {
            "id": str,
            "created": str,
            "service_date": str,  # YYYY-MM-DD, the local date of the case
            "patient_name": str,
            "mrn": str,
            "procedure": str,
            "levels": str,  # e.g. "T12 L1"
            "status": str,
            "event_count": int,
            "head_hash": str,  # hash of the last event, so the last one cannot vanish unnoticed
        },
        pk="id",
        not_null={"created", "service_date", "status", "event_count", "head_hash"},
        defaults={"event_count": 0},
    )
    db.table("cases").create_index(["service_date", "id"], index_name="cases_by_date")
    db.table("cases").create_index(["status"], index_name="cases_by_status")
    db.table("events").create(
        {
            "id": int,
            "case_id": str,
            "seq": int,
            "kind": str,
            "step": str,
            "level": str,
            "side": str,
            "values_json": str,
            "clinical_time": str,
            "recorded_time": str,
            "actor": str,
            "reason": str,
            "late_reason": str,
            "ref": int,
            "prev_hash": str,
            "hash": str,
        },
        pk="id",
        foreign_keys=[("case_id", "cases", "id")],
        not_null={"case_id", "seq", "kind", "values_json", "clinical_time", "recorded_time", "actor"},
    )
    # UNIQUE(case_id, seq): also the index every per-case read and the head lookup use.
    db.table("events").create_index(["case_id", "seq"], index_name="events_by_case_seq", unique=True)
    db.table("staff").create(
        {"id": int, "name": str, "role": str, "pin_hash": str, "active": int},
        pk="id",
        not_null={"name", "role"},
        defaults={"active": 1},
    )
    db.table("staff").create_index(["name", "role"], index_name="staff_name_role", unique=True)
    db.table("meta").create({"key": str, "value": str}, pk="key")


def _outbox(db: Database) -> None:
    """Migration 2: messages waiting for the outside world, and how far each case reached the hub.

    An outbox row is written in the same transaction as the events that cause it, so a message is
    never lost and never sent for an event that was not stored. `dedupe_key` makes a second enqueue
    of the same message (same channel, case and document version) impossible.
    """
    db.table("outbox").create(
        {
            "id": int,
            "channel": str,  # "mllp" (HL7 v2 MDM) or "fhir" (transaction bundle)
            "kind": str,  # what to build: "mdm", "fhir_bundle"
            "case_id": str,
            "upto_seq": int,  # the message is built from the case's events 1..upto_seq
            "dedupe_key": str,
            "created": str,
            "status": str,  # waiting, sent, parked (rejected: needs a person)
            "attempts": int,
            "next_attempt": str,
            "last_error": str,
            "sent": str,
        },
        pk="id",
        foreign_keys=[("case_id", "cases", "id")],
        not_null={"channel", "kind", "case_id", "upto_seq", "dedupe_key", "created", "status", "attempts"},
        defaults={"status": "waiting", "attempts": 0},
    )
    db.table("outbox").create_index(["dedupe_key"], index_name="outbox_dedupe", unique=True)
    db.table("outbox").create_index(["status", "next_attempt"], index_name="outbox_due")
    db.table("hub_marks").create(
        {"case_id": str, "pushed_seq": int, "pushed_hash": str, "updated": str},
        pk="case_id",
        foreign_keys=[("case_id", "cases", "id")],
        not_null={"pushed_seq", "pushed_hash", "updated"},
    )


def _staff_log(db: Database) -> None:
    """Migration 3: the staff directory as an append-only hash chain (SPEC §6).

    Each entry (a person added, a PIN changed, deactivated or reactivated, a PIN refused or
    accepted at a signature) is the canonical text its hash covers, linked to the entry before,
    in the shape of the hub's directories (checklist_app/sync/directory.py). The `staff` table
    stays as the quick list the window shows; verify checks it against the chain, and PINs are
    checked against the chain, never the list. Existing staff are carried over as entries.
    """
    from checklist_app.store.staff import carry_over_staff

    db.table("staff_log").create(
        {"seq": int, "kind": str, "canonical": str, "hash": str},
        pk="seq",
        not_null={"kind", "canonical", "hash"},
    )
    carry_over_staff(db)


# Append only: never edit or reorder a migration that has shipped.
MIGRATIONS: list[Callable[[Database], None]] = [_create_everything, _outbox, _staff_log]
LATEST = len(MIGRATIONS)


def user_version(db: sqlite3.Connection | Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def existing_version(db: sqlite3.Connection | Database, path: Path) -> int:
    """The schema version of an opened file, after checking (read-only) that it is ours."""
    version = user_version(db)
    # The query sqlite-utils' Database.table_names() runs; plain, so opening needs no sqlite-utils.
    tables = {row[0] for row in db.execute("select name from sqlite_master where type = 'table'")}
    if version == 0 and tables:
        raise corrupt(path, "it holds tables from another program")
    if version > LATEST:
        raise StoreTooNew(
            f"The database {path} was made by a newer version of the program (schema {version}, "
            f"this one knows {LATEST}). It has not been changed; open it with the newer version."
        )
    if version > 0 and not tables >= TABLES_BY_VERSION.get(version, TABLES):
        raise corrupt(path, "its tables are missing")
    return version


def migrate(db: Database, current: int) -> None:
    """Run the migrations after `current`; the caller holds the transaction."""
    if current > LATEST:
        raise StoreError(f"Cannot migrate down from schema {current}.")
    for migration in MIGRATIONS[current:]:
        migration(db)
    db.execute(f"PRAGMA user_version = {LATEST:d}")
