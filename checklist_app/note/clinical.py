"""The clinical values the note prints in more than one place, each written by one function.

SPEC §5 and issue 11 ("one value, one place"): labs, weight, drugs and their doses, the radiation
dose, the neurological check, the coverage evidence, level outcomes and overrides are read from the
case's facts (`state.facts`) and put into words here, so the operative report and the nursing
record can never print two different numbers for the same value.
"""

from __future__ import annotations

from ..domain.events import Event
from ..domain.facts import DoseReport
from ..domain.settings import Settings
from ..domain.setup import COVERAGE, COVERAGE_LABELS, REMISSION_LABELS
from ..domain.state import NOT_APPLICABLE, CaseState
from .words import DASH, amount, answered, clock, done, join_words, lower_first, qty

NEURO_EXAM = {"normal": "neuro exam normal", "deficit": "neurological deficit"}


# -- patient --------------------------------------------------------------------------------------
def weight(state: CaseState) -> str:
    """'70 kg', or 'not recorded' (a case set up before weight was asked)."""
    value = state.setup.patient.weight_kg if state.setup else None
    return amount(value, "kg") if value is not None else "not recorded"


IMAGING_EVIDENCE = {
    "mri_stir": "MRI STIR oedema",
    "bone_scan": "bone scan uptake",
    "ct": "CT only",
    "none": "no imaging evidence of an acute fracture",
}


def coverage(state: CaseState) -> str:
    """The coverage evidence recorded at set-up (SPEC §5), in one line, and what is missing."""
    assert state.setup is not None
    given = state.setup.coverage
    parts = []
    if "pain_score" in given:
        parts.append(f"baseline pain {given['pain_score']}/10")
    if "neuro_exam" in given:
        parts.append(NEURO_EXAM.get(str(given["neuro_exam"]), str(given["neuro_exam"])))
    if "imaging" in given:
        parts.append(IMAGING_EVIDENCE.get(str(given["imaging"]), str(given["imaging"])))
    if "height_loss_pct" in given:
        parts.append(f"height loss {amount(given['height_loss_pct'], '%', 0)}")
    if "conservative_care" in given:
        care = COVERAGE_LABELS.get(str(given["conservative_care"]), str(given["conservative_care"]))
        parts.append(f"conservative care {care}")
    missing = [COVERAGE[key][0] for key in COVERAGE if key not in given]
    text = "; ".join(parts)
    text = text[:1].upper() + text[1:]
    if missing:
        text += ("; n" if text else "N") + f"ot recorded: {join_words(lower_first(m) for m in missing)}"
    return text


def neoplasm(state: CaseState) -> str:
    """'Multiple myeloma not in remission', 'primary C50.911', or empty."""
    assert state.setup is not None
    setup = state.setup
    if setup.indication == "myeloma" and setup.myeloma_remission:
        return f"Myeloma {REMISSION_LABELS.get(setup.myeloma_remission, setup.myeloma_remission)}"
    if setup.indication == "metastatic" and setup.primary_neoplasm:
        primary = state.coding.describe_icd10(setup.primary_neoplasm) or ""
        return f"Primary neoplasm {setup.primary_neoplasm}" + (f" ({lower_first(primary)})" if primary else "")
    return ""


# -- labs -----------------------------------------------------------------------------------------
def labs(state: CaseState) -> str:
    """'INR 1.1; platelets 220 ×10⁹/L; drawn 2026-03-02 06:40' — the one value of each (SPEC §5)."""
    found = state.facts.labs()
    parts = []
    for name, label, unit in (("inr", "INR", "ratio"), ("platelets", "platelets", "×10⁹/L")):
        lab = found.get(name)
        parts.append(f"{label} {amount(lab.value, unit)}" if lab is not None else f"{label} not measured")
    drawn = {lab.drawn_at for lab in found.values() if lab.drawn_at is not None}
    text = "; ".join(parts)
    if drawn:
        text += f" (drawn {', '.join(clock(d, _day(state)) for d in sorted(drawn))})"
    elif found and all(lab.source != "Pre-procedure checks" for lab in found.values()):
        text += " (entered at set-up)"
    return text[0].upper() + text[1:]


def _day(state: CaseState):
    moment = state.facts.milestone("PIR") or state.events[0].clinical_time
    return moment.astimezone().date()


# -- drugs ----------------------------------------------------------------------------------------
def antibiotic(state: CaseState) -> str:
    """'Cefazolin 2000 mg at 07:52, 35 min before the first incision', 'Not given: reason'."""
    entry = answered(state, "antibiotic")
    if entry is None:
        return "Not recorded yet"
    if entry.status == NOT_APPLICABLE:
        return f"Not applicable: {entry.event.reason}"
    if not entry.values.get("given"):
        return f"Not given: {entry.values.get('not_given_reason') or DASH}"
    dose = state.facts.antibiotic
    if dose is None:
        return "Not recorded yet"
    text = f"{dose.drug_name[:1].upper()}{dose.drug_name[1:]} {amount(dose.dose_mg, 'mg')} at {clock(dose.time)}"
    incision = state.facts.milestone("PST")
    if incision is None:
        return text + " (no incision recorded yet)"
    lead = round((incision - dose.time).total_seconds() / 60)
    if lead < 0:
        return text + f", {-lead} min AFTER the first incision"
    timing = f", {lead} min before the first incision"
    if dose.window_min is not None and lead > dose.window_min:
        timing += f" (more than the {amount(dose.window_min, 'min')} window)"
    if dose.recommended_mg is not None and dose.dose_mg is not None and dose.dose_mg < dose.recommended_mg:
        timing += f"; below the recommended {amount(dose.recommended_mg, 'mg')} for {weight(state)}"
    return text + timing


def anaesthetic_doses(state: CaseState) -> list[str]:
    """Per level: 'T12: lidocaine 1%, 8 mL (80 mg)'."""
    found = []
    for dose in state.facts.local_anaesthetics:
        entry = done(state, "local_anesthetic", dose.level)
        v = entry.values if entry is not None else {}
        mg = f" ({amount(dose.mg, 'mg')})" if dose.mg else ""
        strength = amount(v.get("concentration"), "%")
        found.append(f"{dose.level}: {lower_first(dose.drug_name)} {strength}, {amount(v.get('volume'), 'mL')}{mg}")
    return found


def anaesthetic_totals(state: CaseState) -> str:
    """'Lidocaine 240 mg in total, 3.4 mg/kg for 70 kg (maximum 4.5 mg/kg)', one drug a line."""
    lines = []
    for total in state.facts.anaesthetic_totals:
        name = total.drug_name[:1].upper() + total.drug_name[1:]
        text = f"{name} {amount(total.mg, 'mg')} in total"
        if total.mg_per_kg is not None:
            text += f", {amount(total.mg_per_kg, 'mg/kg')} for {weight(state)}"
        limits = []
        if total.max_mg_per_kg:
            limits.append(amount(total.max_mg_per_kg, "mg/kg"))
        if total.max_mg:
            limits.append(amount(total.max_mg, "mg"))
        if limits:
            share = total.fraction_of_max
            over = " — ABOVE THE MAXIMUM" if share is not None and share > 1 else ""
            text += f" (maximum {' and '.join(limits)}){over}"
        lines.append(text)
    return "\n".join(lines) or "No local anaesthetic recorded"


# -- neurological check ---------------------------------------------------------------------------
def neuro_check(state: CaseState) -> str:
    """'Legs move and feel as before; pain 2/10 (10:41)', or the new deficit, in capitals."""
    if not state.template.has_step("neuro_check"):
        return ""
    entry = answered(state, "neuro_check")
    if entry is None:
        return "Not recorded yet"
    if entry.status == NOT_APPLICABLE:
        return f"Not applicable: {entry.event.reason}"
    v = entry.values
    if v.get("legs_as_before") is False:
        text = f"NEW NEUROLOGICAL FINDING: {v.get('deficit') or 'not described'}"
    else:
        text = "Legs move and feel as before"
    if v.get("pain_score") is not None:
        text += f"; pain {amount(v.get('pain_score'), '')}/10"
    return f"{text} (at {clock(entry.clinical_time)})"


# -- levels, leaks and overrides ------------------------------------------------------------------
def level_outcomes(state: CaseState) -> list[str]:
    """'L1 converted to vertebroplasty: balloon did not inflate', 'T10 abandoned: ...'."""
    found = []
    for level, outcome in state.facts.level_outcomes.items():
        what = "converted to vertebroplasty" if outcome.outcome == "converted_to_vertebroplasty" else "abandoned"
        found.append(f"{level} {what}" + (f": {outcome.reason}" if outcome.reason else ""))
    return found


def leak_alarms(state: CaseState) -> list[str]:
    """Each dangerous leak (SPEC §3): what, where, and who acknowledged its high-priority alarm."""
    found = []
    for injection in state.facts.dangerous_leaks:
        alarm = state.acknowledged_alarms.get(f"leak:{injection.seq}")
        what = join_words(_leak_label(state, k) for k in injection.leaks)
        symptoms = "symptomatic " if injection.symptomatic else ""
        text = f"{symptoms}{what} cement leak" if what else "symptoms during injection without a visible leak"
        text += f" at {injection.where}"
        if alarm is not None:
            text += f" (high-priority alarm acknowledged by {alarm.actor} at {clock(alarm.clinical_time)})"
        else:
            text += " (high-priority alarm)"
        found.append(text)
    return found


def _leak_label(state: CaseState, code: str) -> str:
    from .words import choice

    return lower_first(choice(state, "cement_injection", "leak", code))


GATE_WORDS = {
    "time_out": "before the time-out was completed",
    "batch_window": "outside the cement batch's working window",
    "hardening": "before the end of the hardening countdown",
    "expired_lot": "with an expired lot",
}
ACTIONS = {
    "local_anesthetic": "local anaesthetic",
    "incision": "incision",
    "cannula_placement": "cannula",
    "biopsy": "biopsy",
    "balloon_inflation": "balloon inflation",
    "balloon_removal": "balloon removal",
    "cement_injection": "cement injection",
    "hardening_wait": "hardening confirmed",
    "cannula_removal": "cannulas removed",
    "cement_mix": "cement mixed",
    "balloon_kit": "balloon kit opened",
}
# The hard stop's own message says more than the gate's words (a batch's times, an expiry date).
MESSAGE_KEPT = ("batch_window", "expired_lot")


def overrides(state: CaseState, *, only: tuple[str, ...] = (), skip: tuple[str, ...] = ()) -> list[str]:
    """Every hard stop overridden, with what was done where and when, the reason and who recorded
    it; overrides of one gate for one reason by one person read as one sentence."""
    groups: dict[tuple[str, str, str], list[Event]] = {}
    for event in state.overrides:
        gate = str(event.values.get("gate", ""))
        if gate in skip or (only and gate not in only):
            continue
        groups.setdefault((gate, event.reason or "", event.actor), []).append(event)
    return [override_text(state, events) for events in groups.values()]


def override_text(state: CaseState, events: list[Event]) -> str:
    """'Local anaesthetic (T12, 08:03) and cannula (T12 left, 08:06) before the time-out was
    completed. Reason: ... (recorded by ...).'"""
    first = events[0]
    gate = str(first.values.get("gate", ""))
    done_when = []
    for event in events:
        step = event.step or ""
        what = ACTIONS.get(step) or lower_first(
            state.template.step(step).title if state.template.has_step(step) else step
        )
        where = " ".join(p for p in (event.level, event.side) if p)
        done_when.append(f"{what} ({where + ', ' if where else ''}{clock(event.clinical_time)})")
    text = join_words(done_when)
    text = text[:1].upper() + text[1:] + f" {GATE_WORDS.get(gate, 'despite a hard stop')}"
    message = str(first.values.get("message", "")).rstrip(".")
    if message and (gate in MESSAGE_KEPT or gate not in GATE_WORDS):
        text += f" ({lower_first(message)})"
    return f"{text}. Reason: {first.reason or DASH} (recorded by {first.actor})."


# -- radiation dose -------------------------------------------------------------------------------
def dose_text(state: CaseState) -> str:
    """The dose as read from the modality, in one line: totals, then each plane when biplane."""
    report = state.facts.dose()
    if report is None:
        return "Not recorded yet"
    parts = []
    if report.fluoro_min is not None:
        parts.append(f"fluoroscopy time {qty(report.fluoro_min, 'min')}")
    if report.air_kerma_total_mgy is not None:
        parts.append(
            f"reference air kerma (Ka,r) {qty(report.air_kerma_total_mgy, 'mGy')}"
            + _planes(report.air_kerma_mgy, report.air_kerma_lateral_mgy, "mGy")
        )
    if report.kap_total_gycm2 is not None:
        parts.append(
            f"kerma-area product (KAP) {qty(report.kap_total_gycm2, 'Gy·cm²')}"
            + _planes(report.kap_gycm2, report.kap_lateral_gycm2, "Gy·cm²")
        )
    if report.runs is not None:
        parts.append(f"{amount(report.runs, 'runs')} run{'' if report.runs == 1 else 's'}")
    if report.ctdi_vol_mgy is not None:
        parts.append(f"CTDIvol {qty(report.ctdi_vol_mgy, 'mGy')}")
    if report.dlp_mgycm is not None:
        parts.append(f"dose-length product (DLP) {qty(report.dlp_mgycm, 'mGy·cm')}")
    text = "; ".join(parts) or "No value recorded"
    return text[0].upper() + text[1:]


def _planes(frontal: float | None, lateral: float | None, unit: str) -> str:
    if lateral is None:
        return ""
    front, side = (qty(value, unit).removesuffix(f" {unit}") for value in (frontal, lateral))
    return f" (frontal {front}, lateral {side})"


DOSE_CHECKS = (
    ("reference air kerma (Ka,r)", "Ka,r", "air_kerma_total_mgy", "dose_kar_mgy", "mGy"),
    ("kerma-area product (KAP)", "KAP", "kap_total_gycm2", "dose_kap_gycm2", "Gy·cm²"),
    ("fluoroscopy time", "fluoroscopy", "fluoro_min", "dose_fluoro_min", "min"),
    ("dose-length product (DLP)", "DLP", "dlp_mgycm", "dose_dlp_mgycm", "mGy·cm"),
)


def dose_over(report: DoseReport | None, settings: Settings) -> list[str]:
    """What reached the site's substantial-dose levels (the same checks as DoseReport.substantial),
    as people write it: 'kerma-area product (KAP) 25 Gy·cm² ≥ 25 Gy·cm²'."""
    if report is None:
        return []
    found = []
    for label, _short, attr, setting, unit in DOSE_CHECKS:
        value, limit = getattr(report, attr), getattr(settings, setting, 0)
        if value is not None and limit and value >= limit:
            found.append(f"{label} {qty(value, unit)} ≥ {qty(limit, unit)}")
    return found


def dose_levels(report: DoseReport | None, settings: Settings) -> str:
    """'Ka,r 5000 mGy, KAP 500 Gy·cm², fluoroscopy 60 min' — the thresholds that apply to this modality."""
    ct = report is not None and report.dlp_mgycm is not None and report.fluoro_min is None
    checks = [c for c in DOSE_CHECKS if (c[2] == "dlp_mgycm") == ct]
    return ", ".join(
        f"{short} {qty(getattr(settings, s, 0), u)}" for _l, short, _a, s, u in checks if getattr(settings, s, 0)
    )


__all__ = [
    "anaesthetic_doses",
    "anaesthetic_totals",
    "antibiotic",
    "coverage",
    "dose_levels",
    "dose_over",
    "dose_text",
    "labs",
    "leak_alarms",
    "level_outcomes",
    "neoplasm",
    "neuro_check",
    "override_text",
    "overrides",
    "weight",
]
