"""The one place that reads the program's case for the outside world: `CaseState` -> frozen `OutboundCase`.

The MDM and FHIR builders read only `OutboundCase`, never event dicts, so when the case gets a
typed projection (DESIGN-NEXT §1.1) only this module changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..domain.present import product_name
from ..domain.setup import INDICATION_LABELS, INDICATIONS, PROCEDURE_LABELS
from ..domain.state import CaseState, Entry
from ..domain.values import find_product
from ..note.content import note_content
from ..note.words import done
from .errors import ExportError


@dataclass(frozen=True)
class Patient:
    """Who the record is about, as set up in the room (the name is one text, any script)."""

    name: str
    mrn: str
    birth_date: date | None
    sex: str


@dataclass(frozen=True)
class Signature:
    """An electronic signature: who, in which role, meaning, and when."""

    name: str
    role: str  # nurse, operator, addendum
    meaning: str
    signed_at: datetime


@dataclass(frozen=True)
class Injection:
    """One cement injection (one side of one level)."""

    level: str
    side: str
    volume_ml: float | None
    batch_key: int | None
    leak: str
    at: datetime


@dataclass(frozen=True)
class Inflation:
    """One balloon inflation (kyphoplasty, one side of one level)."""

    level: str
    side: str
    pressure_psi: float | None
    volume_ml: float | None
    at: datetime


@dataclass(frozen=True)
class Implant:
    """A cement batch or balloon kit with what its UDI carries; `key` is the event number recording it."""

    key: int
    kind: str  # cement, balloon
    product: str
    manufacturer: str
    gtin: str
    lot: str
    expiry: date | None
    serial: str
    recorded_at: datetime


@dataclass(frozen=True)
class Specimen:
    """A bone biopsy sent to the laboratory."""

    level: str
    side: str
    container: str
    collected_at: datetime


@dataclass(frozen=True)
class Dose:
    """The radiation dose read from the modality (None where not recorded)."""

    fluoro_time_min: float | None
    air_kerma_mgy: float | None
    kap_gycm2: float | None
    runs: float | None
    ctdivol_mgy: float | None
    dlp_mgycm: float | None
    recorded_at: datetime


@dataclass(frozen=True)
class CptCode:
    code: str
    level: str
    description: str
    add_on: bool


@dataclass(frozen=True)
class OutboundCase:
    """Everything the MDM message and the FHIR bundle say about one signed case, at one document version.

    `version` is 1 for the operator-signed record and grows by one with each addendum; `issued`
    is when that version came to be (the operator's signature or the newest addendum).
    """

    case_id: str
    version: int
    status: str  # FINAL or AMENDED
    issued: datetime
    record_reference: str
    patient: Patient
    procedure: str  # kyphoplasty or vertebroplasty
    procedure_label: str
    indication: str
    levels: tuple[str, ...]
    cpt: tuple[CptCode, ...]
    icd10: tuple[tuple[str, str], ...]
    started: datetime | None
    ended: datetime | None
    operator: str
    assistants: tuple[str, ...]
    nurse: str
    anaesthesia: str
    injections: tuple[Injection, ...]
    inflations: tuple[Inflation, ...]
    implants: tuple[Implant, ...]
    specimens: tuple[Specimen, ...]
    dose: Dose | None
    signatures: tuple[Signature, ...]


def outbound_case(state: CaseState) -> OutboundCase:
    """The case as the outside world sees it; `ExportError` until the operator has signed."""
    if state.setup is None or not state.events:
        raise ExportError("the case has no set-up")
    operator = state.facts.signature("operator")
    if operator is None:
        raise ExportError("the case is not signed by the operator yet: nothing is sent before signing")
    setup, content, last = state.setup, note_content(state), state.events[-1]
    issued = state.addenda[-1].recorded_time if state.addenda else operator.recorded_time
    return OutboundCase(
        case_id=state.case_id,
        version=1 + len(state.addenda),
        status=content.status,
        issued=issued,
        record_reference=f"{state.case_id}:{last.seq}:{last.hash[:12]}",
        patient=Patient(setup.patient.name, setup.patient.mrn, setup.patient.date_of_birth, setup.patient.sex),
        procedure=setup.procedure,
        procedure_label=PROCEDURE_LABELS[setup.procedure],
        indication=INDICATION_LABELS[setup.indication],
        levels=setup.level_names,
        cpt=tuple(CptCode(c.code, c.level, c.description, c.add_on) for c in content.cpt),
        icd10=_icd10(state),
        started=state.facts.milestone("PST") or state.facts.milestone("PIR"),
        ended=state.facts.milestone("PF") or state.facts.milestone("POR"),
        operator=str(operator.values.get("name", operator.actor)),
        assistants=setup.team.assistants + _joined(state, "assistant"),
        nurse=state.current_nurse,
        anaesthesia=_last_in_role(state, "anaesthesia", setup.team.anaesthesia),
        injections=tuple(_injections(state)),
        inflations=tuple(_inflations(state)),
        implants=tuple(_implants(state)),
        specimens=tuple(_specimens(state)),
        dose=_dose(state),
        signatures=tuple(_signatures(state)),
    )


def _icd10(state: CaseState) -> tuple[tuple[str, str], ...]:
    """(code, description): the operator's codes from set-up, else those suggested for the indication."""
    assert state.setup is not None
    levels = state.setup.level_names
    if not state.setup.icd10:
        return tuple(state.coding.suggest_icd10(state.setup.indication, levels))
    known = {code: text for indication in INDICATIONS for code, text in state.coding.suggest_icd10(indication, levels)}
    return tuple((code, known.get(code, "")) for code in state.setup.icd10)


def _joined(state: CaseState, role: str) -> tuple[str, ...]:
    return tuple(str(e.values.get("name")) for e in state.staff_changes if e.values.get("role") == role)


def _last_in_role(state: CaseState, role: str, initial: str) -> str:
    joined = _joined(state, role)
    return joined[-1] if joined else initial


def _number(values: dict[str, Any], key: str) -> float | None:
    value = values.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _per_side(state: CaseState, step: str):
    assert state.setup is not None
    for planned in state.setup.levels:
        for side in planned.sides:
            entry = done(state, step, planned.level, side)
            if entry is not None:
                yield planned.level, side, entry


def _injections(state: CaseState):
    for level, side, entry in _per_side(state, "cement_injection"):
        values = entry.values
        batch = values.get("batch")
        yield Injection(
            level,
            side,
            _number(values, "volume"),
            batch if isinstance(batch, int) and not isinstance(batch, bool) else None,
            str(values.get("leak") or "none"),
            entry.clinical_time,
        )


def _inflations(state: CaseState):
    if state.setup is None or state.setup.procedure != "kyphoplasty":
        return
    for level, side, entry in _per_side(state, "balloon_inflation"):
        yield Inflation(
            level, side, _number(entry.values, "pressure"), _number(entry.values, "volume"), entry.clinical_time
        )


def _implants(state: CaseState):
    facts = state.facts
    for kind, records in (("cement", facts.batches), ("balloon", facts.kits)):
        for record in records:
            yield _implant(state, kind, record.entry)


def _implant(state: CaseState, kind: str, entry: Entry) -> Implant:
    values = entry.values
    product_id = str(values.get("product", ""))
    product = find_product(state, kind, product_id)
    expiry = values.get("expiry")
    return Implant(
        key=entry.seq,
        kind=kind,
        product=product_name(state, kind, product_id),
        manufacturer=str(getattr(product, "manufacturer", "") or ""),
        gtin=str(values.get("gtin") or getattr(product, "gtin", "") or ""),
        lot=str(values.get("lot") or ""),
        expiry=date.fromisoformat(str(expiry)) if expiry else None,
        serial=str(values.get("serial") or ""),
        recorded_at=entry.clinical_time,
    )


def _specimens(state: CaseState):
    assert state.setup is not None
    for level in state.setup.level_names:
        entry = done(state, "biopsy", level)
        if entry is not None and entry.values.get("taken"):
            values = entry.values
            yield Specimen(
                level, str(values.get("side") or ""), str(values.get("container") or ""), entry.clinical_time
            )


def _dose(state: CaseState) -> Dose | None:
    entry = done(state, "radiation_dose")
    if entry is None:
        return None
    values = entry.values
    return Dose(
        fluoro_time_min=_number(values, "fluoro_time"),
        air_kerma_mgy=_number(values, "air_kerma"),
        kap_gycm2=_number(values, "kap"),
        runs=_number(values, "runs"),
        ctdivol_mgy=_number(values, "ctdivol"),
        dlp_mgycm=_number(values, "dlp"),
        recorded_at=entry.clinical_time,
    )


def _signatures(state: CaseState):
    for event in state.signatures:
        values = event.values
        yield Signature(
            str(values.get("name", event.actor)),
            str(values.get("role")),
            str(values.get("meaning")),
            event.recorded_time,
        )
    for event in state.addenda:
        yield Signature(event.actor, "addendum", "author", event.recorded_time)
