"""What the operative note says: a pure function of the case state (SPEC §7), no reportlab and no Qt."""

from __future__ import annotations

from datetime import date, datetime

from .. import __version__
from ..domain.coding import CptLine
from ..domain.present import summarize_values
from ..domain.settings import Settings
from ..domain.setup import INDICATION_LABELS, INDICATIONS, PROCEDURE_LABELS, SCREEN_FLAGS
from ..domain.state import CaseState
from .model import AMENDED, DRAFT, FINAL, Block, Fields, Header, Metadata, NoteContent, Section, Table, Text
from .narrative import technique
from .record import addenda_blocks, changes_blocks, signature_blocks, team_history, timeline_table
from .safety import safety_blocks
from .tables import biopsy_levels, implants_blocks, levels_table, specimen_blocks, treated_levels
from .words import DASH, access, choice, clock, decimal, done, join_words, lower_first, number, qty, stamp, utc_offset

MILESTONE_LABELS = {
    "PIR": "Patient in room (PIR)",
    "AS": "Anaesthesia start (AS)",
    "PST": "Procedure start (PST)",
    "PF": "Procedure finish (PF)",
    "AF": "Anaesthesia finish (AF)",
    "POR": "Patient out of room (POR)",
}


def note_content(state: CaseState, *, settings: Settings | None = None) -> NoteContent:
    """Everything the operative note of this case says, in print order."""
    if state.setup is None or not state.events:
        raise ValueError("the case has no set-up event")
    settings = settings or state.settings
    day = service_day(state)
    cpt = _cpt(state)
    dose_section, flagged = _dose(state, settings)
    sections = (
        Section("Times and team", _times_and_team(state)),
        Section("Diagnosis and indication", _diagnosis(state)),
        Section("Consent and safety checks", safety_blocks(state)),
        Section("Procedure and codes", _procedure(state, cpt)),
        Section("Technique", technique(state)),
        Section("Levels treated", (levels_table(state),)),
        Section("Implants", implants_blocks(state)),
        Section("Specimens", specimen_blocks(state)),
        Section("Radiation dose", dose_section),
        Section("Outcome", _outcome(state)),
        Section("Timeline", (timeline_table(state, day),)),
        Section("Corrections, retractions and overrides", changes_blocks(state)),
        Section("Signatures", signature_blocks(state)),
        *((Section("Addenda", addenda_blocks(state)),) if state.addenda else ()),
    )
    return NoteContent(_header(state, settings, day), _metadata(state, cpt), sections, tuple(cpt), flagged)


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
        title=f"Operative note: {PROCEDURE_LABELS[state.setup.procedure]}",
        patient_name=patient.name,
        mrn=patient.mrn,
        date_of_birth=patient.date_of_birth.isoformat() if patient.date_of_birth else "not recorded",
        date_of_service=day.isoformat(),
        record_id=state.case_id,
        status=status,
        status_detail=detail,
    )


def _metadata(state: CaseState, cpt: list[CptLine]) -> Metadata:
    assert state.setup is not None
    last = state.events[-1]
    procedure = PROCEDURE_LABELS[state.setup.procedure]
    codes = [f"CPT {line.code}" for line in cpt] + [f"ICD-10-CM {code}" for code, _ in _icd10(state)]
    return Metadata(
        title=f"Operative note: {procedure}, {state.setup.patient.name}, MRN {state.setup.patient.mrn}",
        author=_operator_name(state),
        subject=f"{procedure} {' '.join(state.setup.level_names)}; record {state.case_id}; {document_status(state)}",
        creator=f"checklist-app {__version__}",
        keywords=", ".join(codes),
        created=last.recorded_time,
        document_id=f"{state.case_id}:{last.seq}:{last.hash}",
    )


def _operator_name(state: CaseState) -> str:
    signed = state.facts.signature("operator")
    if signed is not None:
        return str(signed.values.get("name", signed.actor))
    changes = team_history(state, "operator")
    return changes[-1][0] if changes else state.setup.team.operator if state.setup else ""


# -- times and team -------------------------------------------------------------------------
def _times_and_team(state: CaseState) -> tuple[Block, ...]:
    assert state.setup is not None
    marks = state.facts.milestones
    day = service_day(state)
    times = [(MILESTONE_LABELS[k], clock(v, day)) for k, v in marks.items()]
    times += [
        ("Procedure time (PST to PF)", _minutes(marks["PST"], marks["PF"])),
        ("Anaesthesia time (AS to AF)", _minutes(marks["AS"], marks["AF"])),
        ("Time in room (PIR to POR)", _minutes(marks["PIR"], marks["POR"])),
    ]
    caption = f"All times are local 24-hour times ({utc_offset(state.events[0].clinical_time)})."
    team = state.setup.team
    anaesthesia = done(state, "anesthesia_start")
    people = [
        ("Operator", _people(state, "operator", team.operator)),
        ("Assistants", _assistants(state, team.assistants)),
        ("Circulating nurse", _people(state, "nurse", team.nurse)),
        ("Anaesthesia provider", _people(state, "anaesthesia", team.anaesthesia)),
        (
            "Anaesthesia type",
            choice(state, "anesthesia_start", "type", anaesthesia.values.get("type")) if anaesthesia else DASH,
        ),
    ]
    return (Text(caption, tone="muted"), Fields(tuple(times), pairs_per_row=3), Fields(tuple(people)))


def _minutes(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return DASH
    return f"{round((end - start).total_seconds() / 60)} min"


def _people(state: CaseState, role: str, initial: str) -> str:
    """The person in a role, with every handover: 'A (until 10:45)' then 'B (from 10:45, handover)'."""
    changes = team_history(state, role)
    if not changes:
        return initial or "not recorded"
    lines = [f"{initial} (until {clock(changes[0][2].clinical_time)})"] if initial else []
    for index, (name, _values, event) in enumerate(changes):
        until = f", until {clock(changes[index + 1][2].clinical_time)}" if index + 1 < len(changes) else ""
        lines.append(f"{name} (from {clock(event.clinical_time)}{until}; {event.reason or 'handover'})")
    return "\n".join(lines)


def _assistants(state: CaseState, initial: tuple[str, ...]) -> str:
    joined = [f"{name} (joined {clock(event.clinical_time)})" for name, _v, event in team_history(state, "assistant")]
    people = [*initial, *joined]
    return "\n".join(people) if people else "No assistant"


# -- diagnosis ------------------------------------------------------------------------------
def _icd10(state: CaseState) -> list[tuple[str, str]]:
    """(code, description): the codes given at set-up, else the suggestions for the indication."""
    assert state.setup is not None
    levels = state.setup.level_names
    if not state.setup.icd10:
        return state.coding.suggest_icd10(state.setup.indication, levels)
    known = {code: text for indication in INDICATIONS for code, text in state.coding.suggest_icd10(indication, levels)}
    return [(code, known.get(code, "")) for code in state.setup.icd10]


def _diagnosis(state: CaseState) -> tuple[Block, ...]:
    assert state.setup is not None
    setup = state.setup
    label = INDICATION_LABELS[setup.indication]
    codes = "\n".join(f"{code} {text}".strip() for code, text in _icd10(state))
    source = "" if setup.icd10 else "\n(suggested from the indication)"
    findings = state.findings.values if state.findings else {}
    indication = label + (f". {setup.indication_detail}" if setup.indication_detail else "")
    rows = (
        ("Pre-operative diagnosis", f"{label}, {join_words(setup.level_names)}"),
        ("ICD-10-CM", codes + source),
        ("Post-operative diagnosis", str(findings.get("postop_diagnosis") or "Same")),
        ("Indication", indication),
        ("Contraindication screen", _screen(state)),
    )
    return (Fields(rows),)


def _screen(state: CaseState) -> str:
    assert state.setup is not None
    screen = state.setup.screen
    flagged = [text for key, text in SCREEN_FLAGS.items() if screen.get(key)]
    labs = []
    if screen.get("inr") is not None:
        labs.append(f"INR {decimal(screen['inr'])}")
    if screen.get("platelets") is not None:
        labs.append(f"platelets {number(screen['platelets'], 0)} ×10⁹/L")
    found = "; ".join(flagged) if flagged else "no contraindication flagged"
    return "; ".join([found, *labs])


# -- procedure and codes ----------------------------------------------------------------------
def _cpt(state: CaseState) -> list[CptLine]:
    assert state.setup is not None
    levels = treated_levels(state) or list(state.setup.level_names)
    return state.coding.cpt_codes(state.setup.procedure, levels)


def _procedure(state: CaseState, cpt: list[CptLine]) -> tuple[Block, ...]:
    assert state.setup is not None
    setup = state.setup
    planned = "; ".join(f"{p.level} ({access(p.sides)})" for p in setup.levels)
    imaging = done(state, "imaging_setup")
    rows = (
        ("Procedure", f"{PROCEDURE_LABELS[setup.procedure]}: {planned}"),
        (
            "Imaging guidance",
            choice(state, "imaging_setup", "modality", imaging.values.get("modality")) if imaging else DASH,
        ),
        ("Diagnosis codes", ", ".join(code for code, _ in _icd10(state))),
    )
    table_rows = tuple(
        (
            line.code if not line.add_on else f"+{line.code}",
            line.level,
            line.description,
            "Add-on, 1 unit" if line.add_on else "Primary, 1 unit",
        )
        for line in cpt
    )
    table = Table(("CPT", "Level", "Description", "Reporting"), table_rows, (0.7, 0.6, 4.6, 1.2))
    return (Fields(rows), table, *_coding_notes(state))


def _coding_notes(state: CaseState) -> tuple[Block, ...]:
    assert state.setup is not None
    treated = treated_levels(state)
    notes: list[Block] = [Text("Imaging guidance is included in these codes.", tone="muted")]
    if not treated:
        notes.append(Text("No cement injection recorded yet: codes shown for the planned levels.", tone="alert"))
    missed = [lv for lv in state.setup.level_names if treated and lv not in treated]
    if missed:
        notes.append(
            Text(f"Planned but not treated (no cement injected), not coded: {join_words(missed)}.", tone="alert")
        )
    for level in biopsy_levels(state):
        if level in treated or not treated:
            text = f"Bone biopsy at {level}, a treated level: included in the code above, not reported separately."
        else:
            text = f"Bone biopsy at {level}, a level not treated: report the biopsy separately."
        notes.append(Text(text))
    return tuple(notes)


# -- dose and outcome -------------------------------------------------------------------------
def _dose(state: CaseState, settings: Settings) -> tuple[tuple[Block, ...], bool]:
    entry = done(state, "radiation_dose")
    if entry is None:
        return (Text("The radiation dose has not been recorded yet.", tone="muted"),), False
    values = entry.values
    limits = (
        ("air_kerma", "reference air kerma (Ka,r)", settings.dose_kar_mgy, "mGy"),
        ("kap", "kerma-area product (KAP)", settings.dose_kap_gycm2, "Gy·cm²"),
        ("fluoro_time", "fluoroscopy time", settings.dose_fluoro_min, "min"),
    )
    rows = (
        ("Fluoroscopy time", qty(values.get("fluoro_time"), "min")),
        ("Reference air kerma (Ka,r)", qty(values.get("air_kerma"), "mGy")),
        ("Kerma-area product (KAP)", qty(values.get("kap"), "Gy·cm²", 2)),
        ("Number of runs", number(values["runs"], 0) if values.get("runs") is not None else "not counted"),
    )
    over = [
        f"{label} {qty(values[key], unit, 2)} ≥ {qty(limit, unit)}"
        for key, label, limit, unit in limits
        if isinstance(values.get(key), (int, float)) and values[key] >= limit
    ]
    if over:
        flag = Text(
            f"{'; '.join(over)}. Patient follow-up required.", label="SUBSTANTIAL RADIATION DOSE:", tone="alert"
        )
    else:
        thresholds = ", ".join(f"{label} {qty(limit, unit)}" for _k, label, limit, unit in limits)
        flag = Text(f"Below the substantial-dose thresholds ({thresholds}).", tone="muted")
    return (Fields(rows, pairs_per_row=2), flag), bool(over)


def _outcome(state: CaseState) -> tuple[Block, ...]:
    recorded = _complications_recorded(state)
    if state.findings is None:
        pending = "Not yet recorded by the operator"
        labels = ("Findings", "Estimated blood loss", "Complications", "Condition", "Disposition")
        waiting = {label: pending for label in labels} | {"Complications": "\n".join([pending, *recorded])}
        return (Fields(tuple(waiting.items())),)
    values = state.findings.values
    complications = [str(values["complications"])] if values.get("complications") else []
    complications += recorded or ["No balloon failure or cement leak was recorded during the procedure."]
    ebl = values.get("ebl_ml")
    rows = (
        ("Findings", str(values.get("findings") or "No findings recorded")),
        ("Estimated blood loss", qty(ebl, "mL", 0) if ebl is not None else "not recorded"),
        ("Complications", "\n".join(complications)),
        ("Condition", str(values.get("condition") or "not recorded")),
        ("Disposition", str(values.get("disposition") or "not recorded")),
    )
    return (
        Fields(rows),
        Text(f"Recorded by {state.findings.actor} at {stamp(state.findings.recorded_time)}.", tone="muted"),
    )


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
        if inst.spec.id == "cement_injection" and entry.values.get("leak") not in (None, "none"):
            leak = lower_first(choice(state, "cement_injection", "leak", entry.values.get("leak")))
            kind = "symptomatic" if entry.values.get("symptomatic") else "asymptomatic"
            found.append(f"{kind} {leak} cement leak at {where}")
    return [f"Recorded during the procedure: {'; '.join(found)}."] if found else []


__all__ = ["document_status", "note_content", "service_day", "summarize_values"]
