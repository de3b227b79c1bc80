"""What the operative note says: a pure function of the case state (SPEC §7), no reportlab and no Qt.

The note is three documents, each starting on a new page with its own title:

- ``report``: the operative report the operator signs (Joint Commission RC.02.01.03: operator and
  assistants, procedure and codes, findings, technique, specimens, blood loss, complications, pre-
  and post-operative diagnosis), with the per-level table, implants and the radiation dose;
- ``nursing``: the intraoperative nursing record (times, team, checks, counts, alarms, staff changes);
- ``audit``: the audit trail (every event, correction, retraction, override, acknowledgement, addendum).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from .. import __version__
from ..domain.events import record_reference
from ..domain.present import summarize_values
from ..domain.settings import Settings
from ..domain.setup import INDICATION_LABELS, PROCEDURE_LABELS
from ..domain.state import CaseState
from .codes import NoteCodes, codes_blocks, note_codes
from .model import AMENDED, DRAFT, FINAL, Block, Document, Fields, Header, Metadata, NoteContent, Section, Text
from .narrative import technique
from .nursing import nursing_sections
from .record import addenda_blocks, assistants, audit_sections, people, signature_blocks, team_history
from .safety import time_out_overrides
from .tables import implants_blocks, levels_table, specimen_summary
from .words import (
    DASH,
    access,
    answered,
    choice,
    clock,
    done,
    join_words,
    leak_codes,
    leak_words,
    lower_first,
    qty,
    stamp,
)

DOCUMENTS = ("report", "nursing", "audit")
REPORT_LABEL_SHARE = 0.235  # the operative report's labels line up whether one or two pairs share a line
DOCUMENT_TITLES = {
    "report": "Operative report",
    "nursing": "Intraoperative nursing record",
    "audit": "Audit trail",
}


def note_content(
    state: CaseState, documents: Iterable[str] = DOCUMENTS, *, settings: Settings | None = None
) -> NoteContent:
    """Everything the note of this case says: the chosen documents (all three by default), in print order."""
    if state.setup is None or not state.events:
        raise ValueError("the case has no set-up event")
    keys = _documents(documents)
    settings = settings or state.settings
    day = service_day(state)
    codes = note_codes(state)
    flagged = substantial_dose(state, settings)
    builders = {
        "report": lambda: report_sections(state, settings, codes),
        "nursing": lambda: nursing_sections(state, day),
        "audit": lambda: audit_sections(state, day),
    }
    docs = tuple(Document(key, DOCUMENT_TITLES[key], builders[key]()) for key in keys)
    header = _header(state, settings, day)
    return NoteContent(header, _metadata(state, codes, keys), docs, codes.cpt, flagged)


def _documents(documents: Iterable[str]) -> tuple[str, ...]:
    keys = (documents,) if isinstance(documents, str) else tuple(documents)
    unknown = [key for key in keys if key not in DOCUMENTS]
    if unknown or not keys:
        raise ValueError(f"documents must be one or more of {', '.join(DOCUMENTS)}, not {unknown or 'none'}")
    return tuple(key for key in DOCUMENTS if key in keys)  # always in print order, each once


def document_status(state: CaseState) -> str:
    """DRAFT until the operator signs, FINAL after, AMENDED once addenda exist."""
    if not state.facts.locked:
        return DRAFT
    return AMENDED if state.addenda else FINAL


def service_day(state: CaseState) -> date:
    """The local date of service: the day the patient came into the room (or the case was opened)."""
    moment = state.facts.milestone("PIR") or state.events[0].clinical_time
    return moment.astimezone().date()


def _header(state: CaseState, settings: Settings, day: date) -> Header:
    assert state.setup is not None
    patient = state.setup.patient
    status = document_status(state)
    operator = state.facts.signature("operator")
    detail = {
        DRAFT: "not signed by the operator",
        FINAL: f"signed {stamp(operator.recorded_time) if operator else DASH}",
        AMENDED: f"{len(state.addenda)} addend{'um' if len(state.addenda) == 1 else 'a'} after signing",
    }[status]
    return Header(
        facility=settings.facility_name,
        title=PROCEDURE_LABELS[state.setup.procedure],
        patient_name=patient.name,
        mrn=patient.mrn,
        date_of_birth=patient.date_of_birth.isoformat() if patient.date_of_birth else "not recorded",
        date_of_service=day.isoformat(),
        record_id=state.case_id,
        status=status,
        status_detail=detail,
        reference=record_reference(state.case_id, state.events[-1].seq, state.events[-1].hash),
        training=state.events[0].values.get("training") is True,
    )


def _metadata(state: CaseState, codes: NoteCodes, keys: tuple[str, ...]) -> Metadata:
    assert state.setup is not None
    last = state.events[-1]
    procedure = PROCEDURE_LABELS[state.setup.procedure]
    keywords = [f"CPT {'+' if line.add_on else ''}{line.code}" for line in codes.cpt]
    keywords += [f"ICD-10-CM {code}" for code, _ in codes.icd10]
    titles = [DOCUMENT_TITLES[key] for key in keys]
    what = join_words([titles[0], *(lower_first(t) for t in titles[1:])])
    return Metadata(
        title=f"{what}: {procedure}, {state.setup.patient.name}, MRN {state.setup.patient.mrn}",
        author=_operator_name(state),
        subject=f"{procedure} {' '.join(state.setup.level_names)}; record {state.case_id}; {document_status(state)}",
        creator=f"checklist-app {__version__}",
        keywords=", ".join(keywords),
        created=last.recorded_time,
        document_id=f"{state.case_id}:{last.seq}:{last.hash}",
    )


def _operator_name(state: CaseState) -> str:
    signed = state.facts.signature("operator")
    if signed is not None:
        return str(signed.values.get("name", signed.actor))
    changes = team_history(state, "operator")
    return changes[-1][0] if changes else state.setup.team.operator if state.setup else ""


# -- the operative report ---------------------------------------------------------------------------
def report_sections(state: CaseState, settings: Settings, codes: NoteCodes) -> tuple[Section, ...]:
    """The operative report: what the operator signs, in the order an operative report is read."""
    return (
        Section("Procedure", _procedure(state)),
        Section("Findings and outcome", _outcome(state, settings)),
        Section(codes.title, codes_blocks(state, codes)),
        Section("Technique", technique(state)),
        Section("Levels treated", (levels_table(state),)),
        Section("Implants", implants_blocks(state)),
        Section("Signatures", signature_blocks(state)),
        *((Section("Addenda", addenda_blocks(state)),) if state.addenda else ()),
    )


def _procedure(state: CaseState) -> tuple[Block, ...]:
    assert state.setup is not None
    setup = state.setup
    levels = [f"{p.level} ({access(state, p.level, p.sides)})" for p in setup.levels]
    imaging = done(state, "imaging_setup")
    anaesthesia = done(state, "anesthesia_start")
    kind = choice(state, "anesthesia_start", "type", anaesthesia.values.get("type")) if anaesthesia else DASH
    provider = people(state, "anaesthesia", setup.team.anaesthesia)
    findings = state.findings.values if state.findings else {}
    indication = INDICATION_LABELS[setup.indication] + (
        f". {setup.indication_detail}" if setup.indication_detail else ""
    )
    imaging_text = choice(state, "imaging_setup", "modality", imaging.values.get("modality")) if imaging else DASH
    share = REPORT_LABEL_SHARE
    blocks: list[Block] = [
        Fields((("Procedure", f"{PROCEDURE_LABELS[setup.procedure]}, {join_words(levels)}"),), label_share=share),
        Fields(
            (
                ("Operator", people(state, "operator", setup.team.operator)),
                ("Assistants", assistants(state, setup.team.assistants)),
                ("Procedure time", _span(state, "PST", "PF")),
                ("Estimated blood loss", _blood_loss(state)),
            ),
            pairs_per_row=2,
            label_share=share,
        ),
        Fields(
            (
                ("Anaesthesia", _anaesthesia(kind, provider) if anaesthesia else provider),
                ("Imaging guidance", imaging_text),
                ("Pre-operative diagnosis", f"{INDICATION_LABELS[setup.indication]}, {join_words(setup.level_names)}"),
                ("Post-operative diagnosis", str(findings.get("postop_diagnosis") or "Same")),
                ("Indication", indication),
                ("Consent and time-out", _consent_and_time_out(state)),
            ),
            label_share=share,
        ),
    ]
    overrides = [Text(text, label="Time-out override:", tone="alert") for text in time_out_overrides(state)]
    return (*blocks, *overrides)


def _anaesthesia(kind: str, provider: str) -> str:
    """'General, Dr A'; the provider's handovers on lines of their own."""
    return f"{kind}\n{provider}" if "\n" in provider else f"{kind}, {provider}"


def _blood_loss(state: CaseState) -> str:
    if state.findings is None:
        return "Not yet recorded"
    ebl = state.findings.values.get("ebl_ml")
    return qty(ebl, "mL", 0) if ebl is not None else "not recorded"


def _span(state: CaseState, start: str, end: str) -> str:
    """'08:01 to 09:36 (95 min)' between two milestones; what is known so far otherwise."""
    first, last = state.facts.milestone(start), state.facts.milestone(end)
    if first is None:
        return DASH
    if last is None:
        return f"from {clock(first)}"
    return f"{clock(first)} to {clock(last, first.astimezone().date())} ({minutes(first, last)})"


def minutes(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return DASH
    return f"{round((end - start).total_seconds() / 60)} min"


def _consent_and_time_out(state: CaseState) -> str:
    consent = answered(state, "identity_consent")
    if consent is None:
        first = "Consent and identity not checked yet"
    elif consent.status != "done":
        first = f"Consent and identity check not applicable: {consent.event.reason}"
    elif consent.values.get("consent") and consent.values.get("identity"):
        first = f"Identity and signed consent checked at {clock(consent.clinical_time)}"
    else:
        first = f"Identity and consent check at {clock(consent.clinical_time)} NOT fully confirmed"
    time_out = done(state, "time_out")
    if time_out is None:
        second = "WHO time-out not recorded"
    else:
        team = join_words(str(p) for p in time_out.values.get("team") or [])
        second = f"WHO time-out completed at {clock(time_out.clinical_time)}" + (f" ({team})" if team else "")
    return f"{first}. {second}."


# -- findings, outcome and dose ---------------------------------------------------------------------
def _outcome(state: CaseState, settings: Settings) -> tuple[Block, ...]:
    """Findings, complications, specimens, radiation dose, condition and disposition (SPEC §7 item 8)."""
    recorded = _complications_recorded(state)
    dose_text, flag = _dose(state, settings)
    if state.findings is None:
        pending = "Not yet recorded by the operator"
        findings, complications, condition, disposition = pending, [pending, *recorded], pending, pending
    else:
        values = state.findings.values
        findings = str(values.get("findings") or "No findings recorded")
        complications = [str(values["complications"])] if values.get("complications") else []
        complications += recorded or [_nothing_recorded(state)]
        condition = str(values.get("condition") or "not recorded")
        disposition = str(values.get("disposition") or "not recorded")
    rows = (
        ("Findings", findings),
        ("Complications", "\n".join(complications)),
        ("Specimens", specimen_summary(state)),
        ("Radiation dose", dose_text),
        ("Condition", condition),
        ("Disposition", disposition),
    )
    return (Fields(rows, label_share=REPORT_LABEL_SHARE), *flag)


def _nothing_recorded(state: CaseState) -> str:
    assert state.setup is not None
    if state.setup.procedure == "kyphoplasty":
        return "No balloon failure or cement leak was recorded during the procedure."
    return "No cement leak was recorded during the procedure."


def _complications_recorded(state: CaseState) -> list[str]:
    """Balloon failures and cement leaks as the nurse recorded them."""
    found = []
    for inst in state.instances:
        entry = done(state, inst.spec.id, inst.level, inst.side)
        if entry is None:
            continue
        where = f"{inst.level} {inst.side}"
        if inst.spec.id == "balloon_removal" and entry.values.get("intact") is False:
            found.append(f"balloon not intact on removal at {where}")
        if inst.spec.id == "cement_injection" and leak_codes(entry.values):
            leak = lower_first(leak_words(state, entry.values))
            kind = "symptomatic" if entry.values.get("symptomatic") else "asymptomatic"
            found.append(f"{kind} {leak} cement leak at {where}")
    return [f"Recorded during the procedure: {'; '.join(found)}."] if found else []


DOSE_LIMITS = (
    ("air_kerma", "reference air kerma (Ka,r)", "dose_kar_mgy", "mGy"),
    ("kap", "kerma-area product (KAP)", "dose_kap_gycm2", "Gy·cm²"),
    ("fluoro_time", "fluoroscopy time", "dose_fluoro_min", "min"),
)


DOSE_SHORT = (
    ("air_kerma", "Ka,r", "dose_kar_mgy", "mGy"),
    ("kap", "KAP", "dose_kap_gycm2", "Gy·cm²"),
    ("fluoro_time", "fluoroscopy", "dose_fluoro_min", "min"),
)


def _over_limits(state: CaseState, settings: Settings) -> list[str]:
    entry = done(state, "radiation_dose")
    if entry is None:
        return []
    values = entry.values
    over = []
    for key, label, setting, unit in DOSE_LIMITS:
        limit = getattr(settings, setting)
        value = values.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= limit:
            over.append(f"{label} {qty(value, unit)} ≥ {qty(limit, unit)}")
    return over


def substantial_dose(state: CaseState, settings: Settings) -> bool:
    """Whether a recorded dose reached a substantial-dose threshold (the note is flagged for follow-up)."""
    return bool(_over_limits(state, settings))


def _dose(state: CaseState, settings: Settings) -> tuple[str, tuple[Block, ...]]:
    """The dose in one line and, when a threshold is reached, the flag that asks for follow-up."""
    entry = done(state, "radiation_dose")
    if entry is None:
        return "Not recorded yet", ()
    values = entry.values
    runs = values.get("runs")
    parts = [
        f"fluoroscopy time {qty(values.get('fluoro_time'), 'min')}",
        f"reference air kerma (Ka,r) {qty(values.get('air_kerma'), 'mGy')}",
        f"kerma-area product (KAP) {qty(values.get('kap'), 'Gy·cm²')}",
        f"{qty(runs, 'runs')} run{'' if runs == 1 else 's'}" if runs is not None else "runs not counted",
    ]
    text = "; ".join(parts)
    text = text[0].upper() + text[1:]
    over = _over_limits(state, settings)
    if over:
        flag = Text(
            f"{'; '.join(over)}. Patient follow-up required.", label="SUBSTANTIAL RADIATION DOSE:", tone="alert"
        )
        return text, (flag,)
    thresholds = ", ".join(f"{short} {qty(getattr(settings, s), u)}" for _k, short, s, u in DOSE_SHORT)
    return f"{text}\nBelow the substantial-dose thresholds ({thresholds})", ()


__all__ = [
    "DOCUMENTS",
    "DOCUMENT_TITLES",
    "document_status",
    "note_content",
    "service_day",
    "summarize_values",
]
