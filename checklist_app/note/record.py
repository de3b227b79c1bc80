"""The audit trail: every event with its times and actor, corrections, retractions, overrides,
acknowledgements, signatures and addenda, with their reasons; and the signature blocks of the other documents."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from ..domain import events as ev
from ..domain.advisories import advisories
from ..domain.chronology import LATE_REASONS
from ..domain.events import Event
from ..domain.present import ROLE_LABELS, describe_event, step_title
from ..domain.state import CaseState, Entry, instance_suffix
from .codes import confirmed_codes_of
from .model import Block, Fields, Section, Table, Text
from .words import DASH, clock, field_label, stamp, summarize, value_text

TIMELINE_ADDENDUM_CHARS = 300  # a table row must fit on one page
# SPEC §6: the nurse performed or recorded the checks; the operator is the author of the report.
MEANINGS = {
    "performed": "Performed",
    "recorded": "Recorded",
    "author": "Author",
    "reviewed": "Reviewed",
    "approved": "Approved",
}


def audit_sections(state: CaseState, service_day: date) -> tuple[Section, ...]:
    """The audit trail, section by section."""
    return (
        Section("Case log", _log_summary(state)),
        Section("Timeline", (timeline_table(state, service_day),)),
        Section("Corrections, retractions and overrides", changes_blocks(state)),
        Section("Acknowledgements", acknowledgement_blocks(state)),
        Section("Signatures and addenda", _signatures_and_addenda(state)),
    )


def _log_summary(state: CaseState) -> tuple[Block, ...]:
    first, last = state.events[0], state.events[-1]
    late = sum(1 for e in state.events if e.late_reason)
    rows = (
        ("Entries", f"{len(state.events)}, recorded {stamp(first.recorded_time)} to {stamp(last.recorded_time)}"),
        ("Late entries", f"{late}" if late else "No late entry"),
        ("Record reference", f"{state.case_id}:{last.seq}:{last.hash[:12]}"),
    )
    text = (
        "The case log is append-only: nothing in it is edited or deleted. A correction or retraction is a new "
        "entry that names the entry it changes, and both print here. Each entry carries the hash of the one "
        "before it, so the record reference identifies this exact log."
    )
    return (Fields(rows, pairs_per_row=1), Text(text, tone="muted"))


def timeline_table(state: CaseState, service_day: date) -> Table:
    """Every event in order: clinical time, what, who, and any reason; late entries flagged."""
    rows: list[tuple[str, ...]] = []
    flagged: list[int] = []
    for event in state.events:
        if event.late_reason:
            flagged.append(len(rows))
        rows.append(
            (
                str(event.seq),
                clock(event.clinical_time, service_day),
                _what(state, event),
                event.actor,
                _notes(event, service_day),
            )
        )
    header = ("No.", "Time", "Event", "By", "Reason / late entry")
    caption = "Every entry of the case log in order. Late entries show when they were recorded and why."
    return Table(header, tuple(rows), (0.42, 0.58, 4.5, 1.5, 1.6), flagged=tuple(flagged), caption=caption)


def _what(state: CaseState, event: Event) -> str:
    """The event in words; a long addendum is shortened here because the addenda section prints it whole."""
    text = describe(state, event)
    if event.kind == ev.ADDENDUM and len(text) > TIMELINE_ADDENDUM_CHARS:
        return text[:TIMELINE_ADDENDUM_CHARS].rstrip() + "… (full text under Signatures and addenda)"
    return text


def describe(state: CaseState, event: Event) -> str:
    """One line saying what an event recorded, its values written as people write them.

    Steps and signatures are worded for the note (values as people write them; a signature's
    meaning, codes and voiding); every other kind reads as in the window (`describe_event`)."""
    kind, values = event.kind, event.values
    if kind in (ev.STEP_DONE, ev.CORRECTION):
        title = step_title(state, event.step) + instance_suffix(event.level, event.side)
        detail = summarize(state, event.step or "", values)
        prefix = f"Correction of entry #{event.ref}: " if kind == ev.CORRECTION else ""
        return f"{prefix}{title}" + (f" — {detail}" if detail else "")
    if kind == ev.SIGNATURE:
        role = ROLE_LABELS.get(str(values.get("role")), str(values.get("role")))
        meaning = MEANINGS.get(str(values.get("meaning")), str(values.get("meaning"))).lower()
        voided = state.facts.voided.get(event.seq)
        void = f"; VOIDED by the change in entry #{voided.seq}" if voided is not None else ""
        return f"Signed by {values.get('name')} ({role}), meaning: {meaning}" + _signed_codes(values) + void
    return describe_event(state, event)


def _signed_codes(values: Mapping[str, Any]) -> str:
    codes = confirmed_codes_of(values)
    if codes is None:
        return ""
    listed = [", ".join(codes.cpt) or "none", ", ".join(codes.icd10) or "none"]
    return f"; codes confirmed: CPT {listed[0]}; ICD-10-CM {listed[1]}"


def _notes(event: Event, service_day: date) -> str:
    notes = []
    if event.reason:
        notes.append(f"Reason: {event.reason}")
    if event.late_reason:
        why = LATE_REASONS.get(event.late_reason, event.late_reason)
        notes.append(f"LATE ENTRY, recorded {clock(event.recorded_time, service_day)}: {why}")
    return "\n".join(notes)


# -- corrections and the like ---------------------------------------------------------------
def changes_blocks(state: CaseState) -> tuple[Block, ...]:
    """Corrections (original and new values), retractions, overrides and steps marked not applicable."""
    blocks: list[Block] = []
    who = ("By", "When")
    header: tuple[str, ...]
    corrections = _corrections(state)
    if corrections:
        header = ("Entry", "Step", "Original → corrected", "Reason", *who)
        blocks.append(Table(header, corrections, (0.8, 1.4, 2.1, 2.3, 1.0, 0.6), caption="Corrections"))
    retractions = _retractions(state)
    if retractions:
        header = ("Entry", "Step", "Withdrawn values", "Reason", *who)
        blocks.append(Table(header, retractions, (0.8, 1.4, 2.1, 2.3, 1.0, 0.6), caption="Retractions"))
    overrides = tuple(_override_row(state, e) for e in state.overrides)
    if overrides:
        header = ("Entry", "Hard stop overridden", "Step", "Reason", *who)
        blocks.append(Table(header, overrides, (0.5, 2.4, 1.6, 1.8, 1.1, 0.7), caption="Hard-stop overrides"))
    skipped = _not_applicable(state)
    if skipped:
        header = ("Entry", "Step marked not applicable", "Reason", *who)
        blocks.append(Table(header, skipped, (0.5, 2.6, 3.1, 1.1, 0.7), caption="Steps marked not applicable"))
    if not blocks:
        blocks.append(Text("No entry was corrected, retracted or overridden, and no step was marked not applicable."))
    return tuple(blocks)


def _corrections(state: CaseState) -> tuple[tuple[str, ...], ...]:
    rows = []
    for entry in state.entries_by_seq.values():
        before: Event = entry.event
        for correction in entry.corrections:
            rows.append(
                (
                    f"{correction.seq}\ncorrects {entry.seq}",
                    _step_label(state, correction),
                    _diff(state, entry, before, correction),
                    correction.reason or DASH,
                    correction.actor,
                    clock(correction.recorded_time),
                )
            )
            before = correction
    return tuple(sorted(rows, key=lambda r: int(r[0].split()[0])))


def _diff(state: CaseState, entry: Entry, old: Event, new: Event) -> str:
    """'Cement volume: 3 mL → 3.5 mL', one line per changed value, and the clinical time if it moved."""
    spec = state.step_spec_of(entry)
    step = spec.id
    lines = []
    for field in spec.fields:
        before, after = old.values.get(field.id), new.values.get(field.id)
        if before != after:
            was, now = value_text(state, step, field, before), value_text(state, step, field, after)
            lines.append(f"{field_label(state, step, field)}: {was} → {now}")
    if old.clinical_time != new.clinical_time:
        lines.append(f"Time: {clock(old.clinical_time)} → {clock(new.clinical_time)}")
    if entry.event.kind == ev.NOT_APPLICABLE and not lines:
        lines.append("Not applicable (reason restated)")
    return "\n".join(lines) or DASH


def _retractions(state: CaseState) -> tuple[tuple[str, ...], ...]:
    rows = []
    for entry in state.entries_by_seq.values():
        retraction = entry.retraction
        if retraction is None:
            continue
        spec = state.step_spec_of(entry)
        if entry.status == "not_applicable":
            withdrawn = f"Not applicable ({entry.latest.reason})"
        else:
            withdrawn = summarize(state, spec.id, entry.values, separator="\n") or "Step done (no values)"
        rows.append(
            (
                f"{retraction.seq}\nretracts {entry.seq}",
                _step_label(state, entry.event),
                withdrawn,
                retraction.reason or DASH,
                retraction.actor,
                clock(retraction.recorded_time),
            )
        )
    return tuple(sorted(rows, key=lambda r: int(r[0].split()[0])))


def _override_row(state: CaseState, event: Event) -> tuple[str, ...]:
    message = str(event.values.get("message", "hard stop"))
    return (
        str(event.seq),
        message,
        _step_label(state, event),
        event.reason or DASH,
        event.actor,
        clock(event.clinical_time),
    )


def _not_applicable(state: CaseState) -> tuple[tuple[str, ...], ...]:
    rows = []
    for entry in state.entries_by_seq.values():
        if entry.event.kind == ev.NOT_APPLICABLE:
            event = entry.event
            withdrawn = " (later retracted)" if entry.retracted else ""
            rows.append(
                (
                    str(event.seq),
                    _step_label(state, event) + withdrawn,
                    entry.latest.reason or DASH,
                    event.actor,
                    clock(event.clinical_time),
                )
            )
    return tuple(rows)


def _step_label(state: CaseState, event: Event) -> str:
    step = event.step or ""
    title = state.template.step(step).title if state.template.has_step(step) else step
    return title + instance_suffix(event.level, event.side)


# -- acknowledgements, signatures, addenda ----------------------------------------------------
def acknowledgement_blocks(state: CaseState) -> tuple[Block, ...]:
    """Every warning and alarm acknowledged, in order: what it said, who accepted it and when."""
    sources = {w.id: w.source for w in advisories(state)}
    events = sorted([*state.acknowledged_warnings.values(), *state.acknowledged_alarms.values()], key=lambda e: e.seq)
    rows = tuple(
        (
            str(e.seq),
            clock(e.clinical_time),
            _acknowledged_kind(e, sources),
            str(e.values.get("message", "")),
            e.actor,
        )
        for e in events
    )
    if not rows:
        return (Text("No warning or alarm was acknowledged."),)
    header = ("Entry", "Time", "Warning or alarm", "Message", "Acknowledged by")
    return (Table(header, rows, (0.5, 0.6, 1.6, 3.6, 1.4)),)


def _acknowledged_kind(event: Event, sources: Mapping[str, str]) -> str:
    if event.kind == ev.WARNING_ACKNOWLEDGED:
        source = sources.get(str(event.values.get("warning")), "")
        return f"Warning ({source})" if source else "Warning"
    return f"Alarm, {event.values.get('priority', DASH)} priority"


def _signature_rows(state: CaseState, signatures: list[Event]) -> tuple[tuple[str, ...], ...]:
    return tuple(
        (
            str(s.values.get("name", s.actor)),
            ROLE_LABELS.get(str(s.values.get("role")), str(s.values.get("role"))),
            stamp(s.recorded_time),
            MEANINGS.get(str(s.values.get("meaning")), str(s.values.get("meaning")))
            + (f"\nVOIDED by entry {state.facts.voided[s.seq].seq}" if s.seq in state.facts.voided else ""),
        )
        for s in signatures
    )


def in_force(state: CaseState) -> list[Event]:
    """The signatures in force (a nurse's signature voided by a later change is not), in signing order."""
    return sorted(state.facts.signatures.values(), key=lambda e: e.seq)


SIGNATURE_HEADER = ("Electronically signed by", "Role", "Date and time", "Meaning")
SIGNATURE_WIDTHS = (2.6, 1.6, 1.4, 1.2)


def signature_blocks(state: CaseState) -> tuple[Block, ...]:
    """The operative report's signature block: who signed, in which role, when and with what meaning;
    a draft says who still has to sign."""
    rows = _signature_rows(state, in_force(state))
    blocks: list[Block] = []
    if rows:
        blocks.append(Table(SIGNATURE_HEADER, rows, SIGNATURE_WIDTHS))
    if not state.facts.signature("nurse"):
        voided = " (her signature was voided by a later change: she signs again)" if state.facts.voided else ""
        blocks.append(Text(f"The circulating nurse has not signed the record yet{voided}.", tone="alert"))
    if not state.facts.locked:
        blocks.append(
            Text("Not signed by the operator: this note is a DRAFT and is not valid for the record.", tone="alert")
        )
    # Signed: the table's heading says "Electronically signed by"; the audit trail explains the log.
    return tuple(blocks)


def nurse_signature_blocks(state: CaseState) -> tuple[Block, ...]:
    """The nursing record's signature block: the circulating nurse's signature(s)."""
    nurses = [s for s in state.signatures if s.values.get("role") == "nurse"]
    if not nurses:
        return (Text("The circulating nurse has not signed the record yet.", tone="alert"),)
    blocks: list[Block] = [Table(SIGNATURE_HEADER, _signature_rows(state, nurses), SIGNATURE_WIDTHS)]
    if state.facts.signature("nurse") is None:
        blocks.append(Text("The nurse's signature was voided by a later change: she signs again.", tone="alert"))
    else:
        blocks.append(Text("Signed electronically in the procedure-room record.", tone="muted"))
    return tuple(blocks)


def _signatures_and_addenda(state: CaseState) -> tuple[Block, ...]:
    blocks: list[Block] = []
    if state.signatures:
        header = ("Entry", *SIGNATURE_HEADER)
        rows = tuple(
            (str(s.seq), *row)
            for s, row in zip(state.signatures, _signature_rows(state, state.signatures), strict=True)
        )
        blocks.append(Table(header, rows, (0.5, *SIGNATURE_WIDTHS), caption="Signatures"))
    else:
        blocks.append(Text("Nobody has signed yet.", tone="muted"))
    addenda = addenda_blocks(state)
    if addenda:
        blocks += addenda
    else:
        blocks.append(Text("No addendum.", tone="muted"))
    return tuple(blocks)


def addenda_blocks(state: CaseState) -> tuple[Block, ...]:
    """Each addendum with its author, date and time, reason and text."""
    blocks: list[Block] = []
    for number, event in enumerate(state.addenda, start=1):
        label = f"Addendum {number}, {stamp(event.recorded_time)}, by {event.actor}."
        blocks.append(Text(f"Reason: {event.reason or DASH}", label=label))
        blocks.append(Text(str(event.values.get("text", ""))))
    return tuple(blocks)


def team_history(state: CaseState, role: str) -> list[tuple[str, Mapping[str, Any], Event]]:
    """Staff changes for one role, oldest first: (new name, values, event)."""
    return [(str(e.values.get("name", "")), e.values, e) for e in state.staff_changes if e.values.get("role") == role]


def people(state: CaseState, role: str, initial: str) -> str:
    """The person in a role, with every handover: 'A (until 10:45)' then 'B (from 10:45, handover)'."""
    changes = team_history(state, role)
    if not changes:
        return initial or "not recorded"
    lines = [f"{initial} (until {clock(changes[0][2].clinical_time)})"] if initial else []
    for index, (name, _values, event) in enumerate(changes):
        until = f", until {clock(changes[index + 1][2].clinical_time)}" if index + 1 < len(changes) else ""
        lines.append(f"{name} (from {clock(event.clinical_time)}{until}; {event.reason or 'handover'})")
    return "\n".join(lines)


def assistants(state: CaseState, initial: tuple[str, ...]) -> str:
    """The assistants named at set-up and those who joined later."""
    joined = [f"{name} (joined {clock(event.clinical_time)})" for name, _v, event in team_history(state, "assistant")]
    names = [*initial, *joined]
    return "\n".join(names) if names else "No assistant"
