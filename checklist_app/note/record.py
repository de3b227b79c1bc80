"""The record behind the note: full timeline, corrections, retractions, overrides, signatures and addenda."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from ..domain import events as ev
from ..domain.advisories import advisories
from ..domain.chronology import LATE_REASONS
from ..domain.events import Event
from ..domain.present import ROLE_LABELS, describe_event, format_value, summarize_values
from ..domain.state import CaseState, Entry, instance_suffix
from .model import Block, Table, Text
from .words import DASH, clock, stamp

TIMELINE_ADDENDUM_CHARS = 300  # a table row must fit on one page
MEANINGS = {"performed": "Performed", "reviewed": "Reviewed", "approved": "Approved"}


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
    return Table(header, tuple(rows), (0.45, 0.7, 4.2, 1.35, 1.8), flagged=tuple(flagged), caption=caption)


def _what(state: CaseState, event: Event) -> str:
    """The event in words; a long addendum is shortened here because the Addenda section prints it whole."""
    text = describe_event(state, event)
    if event.kind == ev.ADDENDUM and len(text) > TIMELINE_ADDENDUM_CHARS:
        return text[:TIMELINE_ADDENDUM_CHARS].rstrip() + "… (full text under Addenda)"
    return text


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
    lines = []
    for field in spec.fields:
        before, after = old.values.get(field.id), new.values.get(field.id)
        if before != after:
            lines.append(f"{field.label}: {format_value(state, field, before)} → {format_value(state, field, after)}")
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
            withdrawn = summarize_values(state, spec, entry.values).replace("; ", "\n") or "Step done (no values)"
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
def warnings_table(state: CaseState) -> Table | None:
    """Warnings acknowledged during the case, with who accepted them and when."""
    if not state.acknowledged_warnings:
        return None
    sources = {w.id: w.source for w in advisories(state)}
    rows = tuple(
        (str(e.values.get("message", "")), sources.get(key, DASH), e.actor, clock(e.clinical_time))
        for key, e in state.acknowledged_warnings.items()
    )
    header = ("Warning acknowledged", "Source", "By", "When")
    return Table(header, rows, (3.4, 1.8, 1.4, 0.7), caption="Warnings acknowledged")


def signature_blocks(state: CaseState) -> tuple[Block, ...]:
    """Who signed, in which role, when and with what meaning; a draft says who still has to sign."""
    rows = tuple(
        (
            str(s.values.get("name", s.actor)),
            ROLE_LABELS.get(str(s.values.get("role")), str(s.values.get("role"))),
            stamp(s.recorded_time),
            MEANINGS.get(str(s.values.get("meaning")), str(s.values.get("meaning"))),
        )
        for s in state.signatures
    )
    blocks: list[Block] = []
    if rows:
        header = ("Electronically signed by", "Role", "Date and time", "Meaning")
        blocks.append(Table(header, rows, (2.6, 1.6, 1.4, 1.2)))
    if not state.facts.signature("nurse"):
        blocks.append(Text("The circulating nurse has not signed the record yet.", tone="alert"))
    if not state.facts.locked:
        blocks.append(
            Text("Not signed by the operator: this note is a DRAFT and is not valid for the record.", tone="alert")
        )
    else:
        blocks.append(
            Text(
                "Signed electronically in the procedure-room record; every entry and signature is held in an "
                "append-only, hash-chained case log. Later changes are added as dated addenda.",
                tone="muted",
            )
        )
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
