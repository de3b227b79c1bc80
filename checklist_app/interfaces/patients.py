"""Patients the hospital sent us (HL7 ADT or FHIR search), and the small list the new-case form picks from."""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from .errors import PatientDataError

SEXES = ("female", "male", "other", "unknown")
MAX_TEXT = 200
# Bidirectional embedding/override/isolate controls: they can make a name display as another one.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean(text: str, what: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    """Trimmed text with no control, bidi-override or surrogate characters; the error names `what` only."""
    if not isinstance(text, str):
        raise PatientDataError(f"{what} must be text")
    value = text.strip()
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cs") or ch in _BIDI_CONTROLS:
            raise PatientDataError(f"{what} contains a control or direction-override character")
    if required and not value:
        raise PatientDataError(f"{what} is missing")
    if len(value) > limit:
        raise PatientDataError(f"{what} is longer than {limit} characters")
    return value


@dataclass(frozen=True)
class Identifier:
    """A patient identifier (MRN) and the authority that assigned it (HL7 CX-4, FHIR Identifier.system)."""

    value: str
    authority: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", clean(self.value, "MRN", required=True, limit=64))
        object.__setattr__(self, "authority", clean(self.authority, "assigning authority", limit=200))

    @property
    def key(self) -> tuple[str, str]:
        return (self.authority, self.value)


@dataclass(frozen=True)
class Visit:
    """The encounter the patient is in, when the hospital sent one (PV1 or Encounter)."""

    number: str = ""
    patient_class: str = ""  # HL7 table 0004: I inpatient, O outpatient, E emergency...
    location: str = ""
    admitted: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("number", "patient_class", "location"):
            object.__setattr__(self, name, clean(getattr(self, name), f"visit {name.replace('_', ' ')}"))


@dataclass(frozen=True)
class PatientRecord:
    """One patient as the hospital knows them. Names may be in any script; `text` is the full name."""

    mrn: Identifier
    family: str = ""
    given: tuple[str, ...] = ()
    birth_date: date | None = None
    sex: str = "unknown"
    visit: Visit | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "family", clean(self.family, "family name"))
        object.__setattr__(self, "given", tuple(clean(g, "given name") for g in self.given if g.strip()))
        if not self.family and not self.given:
            raise PatientDataError("patient name is missing")
        if self.sex not in SEXES:
            raise PatientDataError(f"sex must be one of {', '.join(SEXES)}")
        if self.birth_date is not None and not isinstance(self.birth_date, date):
            raise PatientDataError("birth date must be a date")

    @property
    def name(self) -> str:
        """The name as the new-case form shows it: given names, then the family name."""
        return " ".join([*self.given, self.family]).strip()


class PatientOperation:
    """What an inbound message asks of the patient list."""

    UPSERT = "upsert"
    MERGE = "merge"


class PatientList(Protocol):
    """The patients the room may pick from. Kept small on purpose; the persistent one lives in the store.

    Records are keyed by MRN (value and assigning authority). `at` is when the message arrived,
    from the caller's clock; `purge_older_than` forgets patients not updated since.
    """

    def upsert(self, record: PatientRecord, *, at: datetime) -> None:
        """Add the patient, or replace the record with the same MRN."""

    def merge(self, *, prior: Identifier, record: PatientRecord, at: datetime) -> None:
        """The prior MRN is retired into `record` (HL7 A40): afterwards only `record` is listed."""

    def search(
        self, *, name: str | None = None, mrn: str | None = None, birth_date: date | None = None, limit: int = 50
    ) -> list[PatientRecord]:
        """Patients matching every criterion given: name as a case-insensitive part, MRN and birth date exactly."""
        ...

    def purge_older_than(self, age: timedelta, *, now: datetime) -> int:
        """Forget patients last updated more than `age` before `now`; returns how many."""
        ...


def fold_text(text: str) -> str:
    """Text for matching names typed in any script: NFKC, case-folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


class InMemoryPatientList:
    """A `PatientList` in a dict, for tests and for a room without a store. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[tuple[str, str], tuple[PatientRecord, datetime]] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def upsert(self, record: PatientRecord, *, at: datetime) -> None:
        with self._lock:
            self._records[record.mrn.key] = (record, at)

    def merge(self, *, prior: Identifier, record: PatientRecord, at: datetime) -> None:
        with self._lock:
            self._records.pop(prior.key, None)
            self._records[record.mrn.key] = (record, at)

    def search(
        self, *, name: str | None = None, mrn: str | None = None, birth_date: date | None = None, limit: int = 50
    ) -> list[PatientRecord]:
        wanted = fold_text(name) if name else ""
        with self._lock:
            records = [record for record, _ in self._records.values()]
        found = [
            r
            for r in records
            if (not wanted or wanted in fold_text(r.name) or wanted in fold_text(" ".join([r.family, *r.given])))
            and (mrn is None or r.mrn.value == mrn.strip())
            and (birth_date is None or r.birth_date == birth_date)
        ]
        found.sort(key=lambda r: (fold_text(r.family), fold_text(" ".join(r.given)), r.mrn.key))
        return found[: max(0, limit)]

    def purge_older_than(self, age: timedelta, *, now: datetime) -> int:
        cutoff = now - age
        with self._lock:
            stale = [key for key, (_, at) in self._records.items() if at < cutoff]
            for key in stale:
                del self._records[key]
        return len(stale)
