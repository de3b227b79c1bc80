"""The persistent `PatientList`: patient records kept in the owner-only patient file, purged after some days."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from ..store.patient_file import PatientFile, PatientRow
from .errors import PatientDataError
from .patients import Identifier, PatientRecord, Visit, fold_text


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def record_json(record: PatientRecord) -> str:
    """The record as stored (its fields, dates as ISO text)."""
    visit = record.visit
    data: dict[str, Any] = {
        "mrn": record.mrn.value,
        "authority": record.mrn.authority,
        "family": record.family,
        "given": list(record.given),
        "birth_date": record.birth_date.isoformat() if record.birth_date else None,
        "sex": record.sex,
        "visit": None
        if visit is None
        else {
            "number": visit.number,
            "patient_class": visit.patient_class,
            "location": visit.location,
            "admitted": visit.admitted.isoformat() if visit.admitted else None,
        },
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def record_from_json(text: str) -> PatientRecord:
    """A stored record read back (checked again: the file could have been edited)."""
    try:
        data = json.loads(text)
        visit = data.get("visit")
        return PatientRecord(
            mrn=Identifier(data["mrn"], data.get("authority", "")),
            family=data.get("family", ""),
            given=tuple(data.get("given", ())),
            birth_date=date.fromisoformat(data["birth_date"]) if data.get("birth_date") else None,
            sex=data.get("sex", "unknown"),
            visit=None
            if not visit
            else Visit(
                number=visit.get("number", ""),
                patient_class=visit.get("patient_class", ""),
                location=visit.get("location", ""),
                admitted=datetime.fromisoformat(visit["admitted"]) if visit.get("admitted") else None,
            ),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PatientDataError("a stored patient record cannot be read") from exc


class StoredPatientList:
    """A `PatientList` in the patient file. `source` says where its records come from ("adt", "fhir")."""

    def __init__(self, path: Path, *, source: str = "adt") -> None:
        self.file = PatientFile(path)
        self.source = source

    def __len__(self) -> int:
        return self.file.count()

    def _row(self, record: PatientRecord, at: datetime, source: str = "") -> tuple[PatientRow, dict[str, Any]]:
        row = PatientRow(record.mrn.authority, record.mrn.value, record_json(record), _stamp(at), source or self.source)
        folded = fold_text(" ".join([record.name, record.family, *record.given]))
        return row, {"name_fold": folded, "birth_date": record.birth_date.isoformat() if record.birth_date else None}

    def upsert(self, record: PatientRecord, *, at: datetime, source: str = "") -> None:
        """Add or replace the patient; `source` ("adt", "fhir") defaults to this list's."""
        row, extra = self._row(record, at, source)
        self.file.upsert(row, **extra)

    def source_of(self, mrn: Identifier) -> str:
        """Where the stored record with this MRN came from ("adt", "fhir"), "" if it is not stored."""
        rows = [r for r in self.file.search(mrn=mrn.value) if r.authority == mrn.authority]
        return rows[0].source if rows else ""

    def merge(self, *, prior: Identifier, record: PatientRecord, at: datetime) -> None:
        row, extra = self._row(record, at)
        self.file.replace(prior.key, row, **extra)

    def search(
        self, *, name: str | None = None, mrn: str | None = None, birth_date: date | None = None, limit: int = 50
    ) -> list[PatientRecord]:
        rows = self.file.search(
            name_fold=fold_text(name) if name else "",
            mrn=mrn.strip() if mrn else None,
            birth_date=birth_date.isoformat() if birth_date else None,
            limit=limit,
        )
        found = []
        for row in rows:
            try:
                found.append(record_from_json(row.record_json))
            except PatientDataError:
                continue  # an unreadable row is never offered for picking
        return found

    def purge_older_than(self, age: timedelta, *, now: datetime) -> int:
        return self.file.purge_before(_stamp(now - age))

    def close(self) -> None:
        self.file.close()
