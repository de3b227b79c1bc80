"""Consent and safety checks for the note: consent, pre-procedure checks, WHO sign-in, time-out, sign-out."""

from __future__ import annotations

from ..domain.present import summarize_values
from ..domain.state import NOT_APPLICABLE, CaseState
from .model import Block, Fields, Text
from .record import warnings_table
from .words import DASH, answered, checked_items, choice, clock, decimal, done, join_words, lower_first, qty


def safety_blocks(state: CaseState) -> tuple[Block, ...]:
    """Consent, checks, antibiotic, the three WHO pauses, any time-out override and acknowledged warnings."""
    rows = (
        ("Consent and identity", _consent(state)),
        ("Pre-procedure checks", _prechecks(state)),
        ("WHO sign-in", _summary(state, "sign_in")),
        ("Antibiotic prophylaxis", _antibiotic(state)),
        ("WHO time-out", _time_out(state)),
        ("WHO sign-out", _summary(state, "sign_out")),
    )
    blocks: list[Block] = [Fields(rows)]
    for override in state.overrides:
        if override.values.get("gate") == "time_out":
            where = " ".join(p for p in (override.level, override.side) if p) or "the case"
            blocks.append(
                Text(
                    f"{override.values.get('message', '')}. The cannula at {where} was placed at "
                    f"{clock(override.clinical_time)}, before the time-out. Reason: {override.reason} "
                    f"(recorded by {override.actor}).",
                    label="Time-out override:",
                    tone="alert",
                )
            )
    table = warnings_table(state)
    if table is not None:
        blocks.append(table)
    return tuple(blocks)


def _consent(state: CaseState) -> str:
    entry = answered(state, "identity_consent")
    if entry is None:
        return "Not recorded yet"
    if entry.status == NOT_APPLICABLE:
        return f"Not applicable: {entry.event.reason}"
    yes, no = checked_items(state, "identity_consent", entry.values)
    text = f"Checked at {clock(entry.clinical_time)}. Confirmed: {join_words(yes) or 'nothing'}."
    return text + (f"\nNOT confirmed: {join_words(no)}." if no else "")


def _prechecks(state: CaseState) -> str:
    entry = answered(state, "prechecks")
    if entry is None:
        return "Not recorded yet"
    if entry.status == NOT_APPLICABLE:
        return f"Not applicable: {entry.event.reason}"
    v = entry.values
    spec = state.template.step("prechecks")
    allergies = ", ".join(spec.field("allergies").choice_label(str(a)) for a in v.get("allergies") or []) or DASH
    if v.get("allergy_details"):
        allergies += f" ({v['allergy_details']})"
    anticoag = "no anticoagulant or antiplatelet drug"
    if v.get("anticoagulant"):
        anticoag = f"{v.get('anticoagulant_drug', 'anticoagulant')}, last dose {v.get('anticoagulant_last_dose', DASH)}"
    lines = [
        f"Allergies: {allergies}",
        f"Anticoagulation: {anticoag}",
        f"INR {decimal(v['inr']) if v.get('inr') is not None else 'not measured'}; "
        f"platelets {qty(v['platelets'], '×10⁹/L', 0) if v.get('platelets') is not None else 'not measured'}",
        f"Pregnancy: {lower_first(choice(state, 'prechecks', 'pregnancy', v.get('pregnancy')))}; "
        f"infection screen: {lower_first(choice(state, 'prechecks', 'infection', v.get('infection')))}",
        "Imaging reviewed and displayed" if v.get("imaging_displayed") else "Imaging NOT reviewed and displayed",
    ]
    return "\n".join(lines)


def _summary(state: CaseState, step: str) -> str:
    entry = answered(state, step)
    if entry is None:
        return "Not recorded yet"
    if entry.status == NOT_APPLICABLE:
        return f"Not applicable: {entry.event.reason}"
    spec = state.template.step(step)
    detail = summarize_values(state, spec, entry.values).replace("; ", "\n")
    return f"Completed at {clock(entry.clinical_time)}\n{detail}"


def _antibiotic(state: CaseState) -> str:
    entry = answered(state, "antibiotic")
    if entry is None:
        return "Not recorded yet"
    if entry.status == NOT_APPLICABLE:
        return f"Not applicable: {entry.event.reason}"
    v = entry.values
    if not v.get("given"):
        return f"Not given: {v.get('not_given_reason', DASH)}"
    text = f"{v.get('drug', DASH)} {qty(v.get('dose'), 'mg', 0)} at {clock(entry.clinical_time)}"
    incision = state.facts.milestone("PST")
    if incision is not None:
        lead = round((incision - entry.clinical_time).total_seconds() / 60)
        text += f" ({lead} min before the first incision)" if lead >= 0 else f" ({-lead} min after the first incision)"
    return text


def _time_out(state: CaseState) -> str:
    entry = done(state, "time_out")
    if entry is None:
        pending = answered(state, "time_out")
        return f"Not applicable: {pending.event.reason}" if pending else "Not recorded yet"
    team = ", ".join(str(p) for p in entry.values.get("team") or []) or DASH
    yes, no = checked_items(state, "time_out", entry.values)
    text = (
        f"Completed at {clock(entry.clinical_time)}. Team present: {team}.\nConfirmed: {join_words(yes) or 'nothing'}."
    )
    return text + (f"\nNOT confirmed: {join_words(no)}." if no else "")
