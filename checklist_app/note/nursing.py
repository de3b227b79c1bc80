"""The intraoperative nursing record: times PIR to POR, team and staff changes, checks, care, counts, alarms."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from ..domain.advisories import advisories
from ..domain.present import ROLE_LABELS
from ..domain.state import NOT_APPLICABLE, CaseState
from ..domain.wristband import SOURCES
from . import clinical
from .model import Block, Fields, Section, Table, Text
from .record import assistants, nurse_signature_blocks, people
from .safety import checks_blocks, who_blocks
from .tables import specimen_blocks
from .words import DASH, answered, choice, clock, done, join_words, summarize, utc_offset

MILESTONE_LABELS = {
    "PIR": "Patient in room (PIR)",
    "AS": "Anaesthesia start (AS)",
    "PST": "Procedure start (PST)",
    "PF": "Procedure finish (PF)",
    "AF": "Anaesthesia finish (AF)",
    "POR": "Patient out of room (POR)",
}


def nursing_sections(state: CaseState, day: date) -> tuple[Section, ...]:
    """The nursing record, section by section."""
    return (
        Section("Times", _times(state, day)),
        Section("Team", _team(state)),
        Section("Pre-procedure checks", checks_blocks(state)),
        Section("WHO checks", who_blocks(state)),
        Section("Patient care", _care(state)),
        Section("Counts and specimens", _counts(state)),
        Section("Alarms and warnings", _alarms(state)),
        Section("Nurse's signature", nurse_signature_blocks(state)),
    )


# -- times and team -----------------------------------------------------------------------------------
def _times(state: CaseState, day: date) -> tuple[Block, ...]:
    marks = state.facts.milestones
    times = [(MILESTONE_LABELS[k], clock(v, day)) for k, v in marks.items()]
    times += [
        ("Procedure time (PST to PF)", _minutes(marks["PST"], marks["PF"])),
        ("Anaesthesia time (AS to AF)", _minutes(marks["AS"], marks["AF"])),
        ("Time in room (PIR to POR)", _minutes(marks["PIR"], marks["POR"])),
    ]
    caption = f"All times are local 24-hour times ({utc_offset(state.events[0].clinical_time)})."
    return (Text(caption, tone="muted"), Fields(tuple(times), pairs_per_row=3))


def _minutes(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return DASH
    return f"{round((end - start).total_seconds() / 60)} min"


def _team(state: CaseState) -> tuple[Block, ...]:
    assert state.setup is not None
    team = state.setup.team
    anaesthesia = done(state, "anesthesia_start")
    rows = (
        ("Operator", people(state, "operator", team.operator)),
        ("Assistants", assistants(state, team.assistants)),
        ("Circulating nurse", people(state, "nurse", team.nurse)),
        ("Anaesthesia provider", people(state, "anaesthesia", team.anaesthesia)),
        (
            "Anaesthesia type",
            choice(state, "anesthesia_start", "type", anaesthesia.values.get("type")) if anaesthesia else DASH,
        ),
    )
    blocks: list[Block] = [Fields(rows)]
    changes = tuple(
        (
            clock(event.clinical_time),
            ROLE_LABELS.get(str(event.values.get("role")), str(event.values.get("role"))),
            _change(event.values),
            event.reason or DASH,
            event.actor,
        )
        for event in state.staff_changes
    )
    if changes:
        header = ("Time", "Role", "Change", "Reason", "Recorded by")
        blocks.append(Table(header, changes, (0.6, 1.3, 2.6, 1.8, 1.4), caption="Staff changes"))
    else:
        blocks.append(Text("No staff change during the case.", tone="muted"))
    return tuple(blocks)


def _change(values: Mapping[str, Any]) -> str:
    name = str(values.get("name", ""))
    if values.get("previous"):
        return f"{values['previous']} → {name}"
    return f"{name} joined" if values.get("role") == "assistant" else f"Now {name}"


# -- care -------------------------------------------------------------------------------------------------
def _care(state: CaseState) -> tuple[Block, ...]:
    rows = [
        ("Patient identity", _identity(state)),
        ("Position", _step_text(state, "prone_positioning")),
        ("Imaging", _step_text(state, "imaging_setup")),
        ("Level localisation", _localisation(state)),
        ("Skin prep and drape", _step_text(state, "skin_prep")),
        ("Local anaesthetic", _local_anaesthetic(state)),
        ("Closure and dressing", _step_text(state, "closure")),
    ]
    if state.template.has_step("neuro_check"):
        rows.append(("Neurological check", clinical.neuro_check(state)))
    return (Fields(tuple(rows)),)


def _identity(state: CaseState) -> str:
    """Where the set-up's identity came from and every wristband check (SPEC §13)."""
    first = state.events[0].values.get("identity") if state.events else None
    found = []
    if isinstance(first, Mapping):
        source = SOURCES.get(str(first.get("source", "")), "")
        which = {"adt": " (HL7 ADT)", "fhir": " (FHIR)"}.get(str(first.get("list", "")), "")
        found.append(f"Set-up: {source}{which}" if source else "")
        if first.get("wristband"):
            found.append("wristband scanned at set-up: matched")
    else:
        found.append("Set-up: typed by hand (recorded before the source was kept)")
    for step in ("identity_consent", "sign_in", "time_out"):
        entry = answered(state, step)
        if entry is not None and entry.values.get("wristband"):
            found.append(f"wristband scanned at {state.template.step(step).title}: matched")
    return "; ".join(text for text in found if text)


def _step_text(state: CaseState, step: str) -> str:
    """'10:42: Label: value; Label: value' for a once-per-case step, or why it is missing."""
    entry = answered(state, step)
    if entry is None:
        return "Not recorded yet"
    if entry.status == NOT_APPLICABLE:
        return f"Not applicable: {entry.event.reason}"
    detail = summarize(state, step, entry.values)
    return f"{clock(entry.clinical_time)}" + (f": {detail}" if detail else "")


def _localisation(state: CaseState) -> str:
    assert state.setup is not None
    lines = []
    for level in state.setup.level_names:
        entry = done(state, "level_localization", level)
        if entry is None:
            lines.append(f"{level}: not recorded yet")
            continue
        views = [v for v, key in (("AP", "ap_confirmed"), ("lateral", "lateral_confirmed")) if entry.values.get(key)]
        seen = f"confirmed on {join_words(views)}" if views else "NOT confirmed on imaging"
        lines.append(f"{level}: {seen} views at {clock(entry.clinical_time)}" if views else f"{level}: {seen}")
    return "\n".join(lines) or DASH


def _local_anaesthetic(state: CaseState) -> str:
    """Per level: drug, strength, volume and the dose in mg; then the total per drug in mg and mg/kg."""
    lines = clinical.anaesthetic_doses(state)
    if not lines:
        return "Not recorded yet"
    return "\n".join([*lines, clinical.anaesthetic_totals(state)])


# -- counts and alarms ------------------------------------------------------------------------------------
def _counts(state: CaseState) -> tuple[Block, ...]:
    out = done(state, "sign_out")
    if out is None:
        rows: tuple[tuple[str, str], ...] = (("Needle and sharps counts", "Not recorded yet (WHO sign-out)"),)
    else:
        v = out.values
        counts = "Correct" if v.get("counts_correct") else "NOT correct"
        equipment = "No problem reported"
        if v.get("equipment_problems"):
            equipment = f"Reported: {v.get('equipment_details') or 'no details given'}"
        rows = (
            ("Needle and sharps counts", f"{counts} (WHO sign-out at {clock(out.clinical_time)})"),
            ("Specimens at sign-out", choice(state, "sign_out", "specimens", v.get("specimens"))),
            ("Equipment problems", equipment),
            ("Key concerns for recovery", str(v.get("recovery_concerns") or "No concern recorded")),
        )
    return (Fields(rows), *specimen_blocks(state))


def _alarms(state: CaseState) -> tuple[Block, ...]:
    blocks: list[Block] = []
    alarms = tuple(
        (
            clock(event.clinical_time),
            str(event.values.get("priority", DASH)).capitalize(),
            str(event.values.get("message", "")),
            event.actor,
        )
        for event in sorted(state.acknowledged_alarms.values(), key=lambda e: e.seq)
    )
    if alarms:
        header = ("Time", "Priority", "Alarm", "Acknowledged by")
        blocks.append(Table(header, alarms, (0.9, 0.8, 4.2, 1.5), caption="Alarms acknowledged"))
    else:
        blocks.append(Text("No alarm was acknowledged during the case.", tone="muted"))
    sources = {w.id: w.source for w in advisories(state)}
    warnings = tuple(
        (clock(event.clinical_time), str(event.values.get("message", "")), sources.get(key, DASH), event.actor)
        for key, event in state.acknowledged_warnings.items()
    )
    if warnings:
        header = ("Time", "Warning", "Source", "Acknowledged by")
        blocks.append(Table(header, warnings, (0.9, 3.4, 1.6, 1.5), caption="Warnings acknowledged"))
    else:
        blocks.append(Text("No warning was acknowledged during the case.", tone="muted"))
    return tuple(blocks)


__all__ = ["MILESTONE_LABELS", "nursing_sections"]
