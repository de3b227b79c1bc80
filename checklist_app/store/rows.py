"""Conversions between domain events / case records and database rows."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from checklist_app.domain.events import Event, canonical_json, format_time, parse_time

CASE_KEYS = ("id", "created", "service_date", "patient_name", "mrn", "procedure", "levels", "status")


@dataclass(frozen=True)
class CaseRow:
    """One line of the case list: a case's record without its chain head (times as stored text)."""

    id: str
    created: str
    service_date: str
    patient_name: str | None
    mrn: str | None
    procedure: str | None
    levels: str | None
    status: str
    event_count: int


CASE_COLUMNS = tuple(f.name for f in fields(CaseRow))


@dataclass(frozen=True)
class Problem:
    """One integrity problem found by verify(); `message` names the case and event it concerns."""

    case_id: str | None
    seq: int | None
    message: str


def event_to_row(event: Event) -> dict[str, Any]:
    """The events-table row for a chained event."""
    return {
        "case_id": event.case_id,
        "seq": event.seq,
        "kind": event.kind,
        "step": event.step,
        "level": event.level,
        "side": event.side,
        "values_json": canonical_json(dict(event.values)),
        "clinical_time": format_time(event.clinical_time),
        "recorded_time": format_time(event.recorded_time),
        "actor": event.actor,
        "reason": event.reason,
        "late_reason": event.late_reason,
        "ref": event.ref,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def row_to_event(row: dict[str, Any]) -> Event:
    """The event a row holds; raises ValueError/TypeError if the row cannot be read back."""
    values = json.loads(row["values_json"])
    if not isinstance(values, dict):
        raise ValueError("values are not a JSON object")
    return Event(
        case_id=row["case_id"],
        seq=row["seq"],
        kind=row["kind"],
        clinical_time=parse_time(row["clinical_time"]),
        recorded_time=parse_time(row["recorded_time"]),
        actor=row["actor"],
        step=row["step"],
        level=row["level"],
        side=row["side"],
        values=values,
        reason=row["reason"],
        late_reason=row["late_reason"],
        ref=row["ref"],
        prev_hash=row["prev_hash"] or "",
        hash=row["hash"] or "",
    )


def case_record(case_id: str, case_row: dict[str, Any]) -> dict[str, Any]:
    """The cases-table row for a new case; dates and times may be given as objects or text."""
    missing = [key for key in ("id", "created", "service_date", "status") if case_row.get(key) is None]
    unknown = sorted(set(case_row) - set(CASE_KEYS))
    if missing or unknown:
        raise ValueError(f"case_row: missing {missing}, unknown {unknown}")
    if case_row["id"] != case_id:
        raise ValueError(f"case_row id {case_row['id']!r} is not the case being appended to ({case_id!r})")
    record = {key: case_row.get(key) for key in CASE_KEYS}
    if isinstance(record["created"], datetime):
        record["created"] = format_time(record["created"])
    service_date = record["service_date"]
    if isinstance(service_date, datetime):
        service_date = service_date.date()
    if isinstance(service_date, date):
        record["service_date"] = service_date.isoformat()
    return record
