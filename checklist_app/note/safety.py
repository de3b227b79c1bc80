"""Consent and safety checks for the nursing record: consent, pre-procedure checks, labs, the three WHO pauses."""

from __future__ import annotations

from ..domain.setup import SCREEN_FLAGS
from ..domain.state import NOT_APPLICABLE, CaseState
from . import clinical
from .model import Block, Fields, Text
from .words import DASH, answered, checked_items, choice, clock, done, join_words, lower_first, summarize


def checks_blocks(state: CaseState) -> tuple[Block, ...]:
    """Consent, pre-procedure checks, the laboratory values (one value each), the screen and the antibiotic."""
    rows = (
        ("Consent and identity", _consent(state)),
        ("Pre-procedure checks", _prechecks(state)),
        ("Weight", clinical.weight(state)),
        ("Laboratory values", lab_values(state)),
        ("Contraindication screen", _screen(state)),
        ("Antibiotic prophylaxis", _antibiotic(state)),
    )
    return (Fields(rows),)


def who_blocks(state: CaseState) -> tuple[Block, ...]:
    """The WHO sign-in, time-out and sign-out, and any cannula placed before the time-out."""
    rows = (
        ("WHO sign-in", _summary(state, "sign_in")),
        ("WHO time-out", _time_out(state)),
        ("WHO sign-out", _summary(state, "sign_out")),
    )
    overrides = [Text(text, label="Time-out override:", tone="alert") for text in time_out_overrides(state)]
    return (Fields(rows), *overrides)


def time_out_overrides(state: CaseState) -> list[str]:
    """Each invasive step done before the time-out was completed, with the reason and who recorded it."""
    return clinical.overrides(state, only=("time_out",))


def lab_values(state: CaseState) -> str:
    """'INR 1.0; platelets 220 ×10⁹/L (drawn 06:40)' — the one value of each (SPEC §5)."""
    return clinical.labs(state)


def _screen(state: CaseState) -> str:
    assert state.setup is not None
    flagged = [text for key, text in SCREEN_FLAGS.items() if state.setup.screen.get(key)]
    return "; ".join(flagged) if flagged else "No contraindication flagged at set-up"


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
        f"Checked at {clock(entry.clinical_time)}",
        f"Allergies: {allergies}",
        f"Anticoagulation: {anticoag}",
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
    return f"Completed at {clock(entry.clinical_time)}\n{summarize(state, step, entry.values, separator=chr(10))}"


def _antibiotic(state: CaseState) -> str:
    return clinical.antibiotic(state)


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
