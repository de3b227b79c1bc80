"""Advisories: the warnings the nurse must acknowledge (contraindications, values above limits, antibiotic timing).

Called Advisory in code so as not to shadow Python's own Warning; on screen and in the note they are warnings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .setup import COVERAGE, SCREEN_FLAGS, level_index
from .state import DONE, CaseState
from .values import value_warnings

T5, L5 = level_index("T5"), level_index("L5")
# Pre-check answers that raise the same warnings as the set-up screen: (field, value) -> screen flag.
_PRECHECK_FLAGS = {
    ("infection", "active"): "active_infection",
    ("anticoagulant", True): "anticoagulant",
    ("pregnancy", "possible_or_confirmed"): "pregnancy",
}
_PRECHECK_ALLERGIES = {"cement_pmma": "cement_allergy", "contrast": "contrast_allergy"}


@dataclass(frozen=True)
class Advisory:
    """A condition to acknowledge (not a block). `id` is stable so its acknowledgement sticks."""

    id: str
    source: str
    message: str

    def acknowledged_in(self, state: CaseState) -> bool:
        return self.id in state.acknowledged_warnings


def advisories(state: CaseState) -> list[Advisory]:
    """Every warning the case has raised so far, acknowledged or not."""
    if state.setup is None:
        return []
    found = _setup_warnings(state) + _precheck_warnings(state) + _value_warnings(state)
    found += _antibiotic_warnings(state) + _anaesthetic_warnings(state) + _temperature_warnings(state)
    found += _dose_warnings(state)
    unique: dict[str, Advisory] = {}
    for warning in found:
        unique.setdefault(warning.id, warning)
    return list(unique.values())


def unacknowledged(state: CaseState) -> list[Advisory]:
    return [w for w in advisories(state) if not w.acknowledged_in(state)]


def _setup_warnings(state: CaseState) -> list[Advisory]:
    setup = state.setup
    assert setup is not None
    found = []
    if len(setup.levels) > 3:
        found.append(Advisory("levels:count", "Set-up", f"{len(setup.levels)} levels planned (more than 3)"))
    outside = [p.level for p in setup.levels if not T5 <= level_index(p.level) <= L5]
    if outside:
        found.append(Advisory("levels:range", "Set-up", f"Level outside T5–L5: {', '.join(outside)}"))
    for flag, label in SCREEN_FLAGS.items():
        if setup.screen.get(flag):
            found.append(Advisory(f"screen:{flag}", "Contraindication screen", label))
    found += _lab_warnings(state, setup.screen, "Contraindication screen")
    missing = [COVERAGE[key][0] for key in COVERAGE if key not in setup.coverage]
    if missing and state.template_version >= 3:  # cases set up before coverage was asked are not flagged
        found.append(Advisory("coverage:incomplete", "Set-up", f"Coverage evidence not recorded: {'; '.join(missing)}"))
    return found


def _lab_warnings(state: CaseState, values: Mapping[str, Any], source: str) -> list[Advisory]:
    found = []
    inr, platelets = values.get("inr"), values.get("platelets")
    inr_max, plt_min = float(state.settings.get("inr_max")), float(state.settings.get("platelets_min"))
    if isinstance(inr, (int, float)) and inr > inr_max:
        found.append(Advisory("lab:inr", source, f"INR {inr:g} is above {inr_max:g}"))
    if isinstance(platelets, (int, float)) and platelets < plt_min:
        found.append(Advisory("lab:platelets", source, f"Platelets {platelets:g} ×10⁹/L are below {plt_min:g} ×10⁹/L"))
    return found


def _precheck_warnings(state: CaseState) -> list[Advisory]:
    if not state.has_instance("prechecks"):
        return []
    entry = state.instance("prechecks").entry
    if entry is None or entry.status != DONE:
        return []
    values = entry.values
    # INR above the limit is a value warning of the field itself (template warn_above).
    found = [w for w in _lab_warnings(state, values, "Pre-procedure checks") if w.id != "lab:inr"]
    flags = [flag for (name, answer), flag in _PRECHECK_FLAGS.items() if values.get(name) == answer]
    flags += [flag for allergy, flag in _PRECHECK_ALLERGIES.items() if allergy in (values.get("allergies") or [])]
    found += [Advisory(f"screen:{flag}", "Pre-procedure checks", SCREEN_FLAGS[flag]) for flag in flags]
    return found


def _value_warnings(state: CaseState) -> list[Advisory]:
    found = []
    for instance in state.instances:
        entry = instance.entry
        if entry is None or entry.status != DONE:
            continue
        for field_id, message in value_warnings(state, instance.spec, entry.values):
            found.append(Advisory(f"value:{entry.seq}:{field_id}", instance.label, message))
    return found


def _antibiotic_warnings(state: CaseState) -> list[Advisory]:
    """SPEC §3/§4: the dose is timed to the first incision (PST) with the drug's window (60 min; 120 for
    vancomycin and fluoroquinolones). Before the incision, the time-out checks it against its own time;
    once the incision is recorded, against the incision, and a dose after the incision is flagged.
    The dose is checked against the recommended dose for the patient's weight."""
    dose = state.facts.antibiotic
    if dose is None:
        return []
    found = []
    window = dose.window_min if dose.window_min is not None else float(state.settings.get("antibiotic_max_minutes"))
    incision = state.facts.milestone("PST")
    time_out = state.instance("time_out").entry if state.has_instance("time_out") else None
    if incision is not None:
        before = (incision - dose.time).total_seconds() / 60
        if before < 0:
            found.append(
                Advisory(
                    "antibiotic:after_incision",
                    "Prophylactic antibiotic",
                    f"{dose.drug_name} given {-before:.0f} min after the first incision: prophylaxis should be "
                    "in the tissues before the incision",
                )
            )
        elif before > window:
            found.append(
                Advisory(
                    "antibiotic:timing",
                    "Prophylactic antibiotic",
                    f"{dose.drug_name} given {before:.0f} min before the first incision (more than {window:g} min)",
                )
            )
    elif time_out is not None and time_out.status == DONE:
        age = (time_out.clinical_time - dose.time).total_seconds() / 60
        if age > window:
            found.append(
                Advisory(
                    "antibiotic:timing",
                    "WHO Time Out",
                    f"{dose.drug_name} given {age:.0f} min before the time-out (more than {window:g} min before "
                    "the incision)",
                )
            )
    low = float(state.settings.get("antibiotic_dose_min_percent")) / 100
    if dose.recommended_mg is not None and dose.dose_mg is not None and dose.dose_mg < dose.recommended_mg * low:
        weight = state.setup.patient.weight_kg if state.setup else None
        found.append(
            Advisory(
                "antibiotic:dose",
                "Prophylactic antibiotic",
                f"{dose.drug_name} {dose.dose_mg:g} mg is below the recommended {dose.recommended_mg:g} mg "
                f"for {weight:g} kg",
            )
        )
    return found


def _anaesthetic_warnings(state: CaseState) -> list[Advisory]:
    """SPEC §3: the running total of each local anaesthetic across levels against its maxima (mg/kg
    with the set-up weight, and mg), and the drugs together (their toxicity adds up)."""
    totals = state.facts.anaesthetic_totals
    found = []
    for total in totals:
        share = total.fraction_of_max
        if share is None or share <= 1:
            continue
        limits = [f"{v:g} mg/kg" for v in (total.max_mg_per_kg,) if v] + [f"{v:g} mg" for v in (total.max_mg,) if v]
        per_kg = f" ({total.mg_per_kg:.1f} mg/kg)" if total.mg_per_kg is not None else ""
        found.append(
            Advisory(
                f"anaesthetic:max:{total.drug_id}",
                "Local anaesthetic",
                f"{total.drug_name} total {total.mg:g} mg{per_kg} is above the maximum of {' or '.join(limits)}",
            )
        )
    shares = [t.fraction_of_max for t in totals if t.fraction_of_max is not None]
    if len(shares) > 1 and sum(shares) > 1 and not found:
        found.append(
            Advisory(
                "anaesthetic:combined",
                "Local anaesthetic",
                f"Local anaesthetics together reach {sum(shares) * 100:.0f}% of their maxima (their toxicity adds up)",
            )
        )
    return found


def _temperature_warnings(state: CaseState) -> list[Advisory]:
    """SPEC §3: a cement without an IFU temperature table, mixed in a room more than the tolerance
    (2 °C) from its reference temperature; or a room outside the table's range."""
    found = []
    tolerance = float(state.settings.get("cement_temperature_tolerance_c"))
    for batch in state.facts.batches:
        product, room = batch.product, batch.room_temperature
        if product is None or room is None:
            continue
        table = product.temperature_table
        if not table and abs(room - product.reference_temperature_c) > tolerance:
            found.append(
                Advisory(
                    f"cement:temperature:{batch.seq}",
                    "Cement batch",
                    f"Room {room:g} °C is more than {tolerance:g} °C from {product.name}'s reference "
                    f"{product.reference_temperature_c:g} °C and the catalogue has no IFU table: its times may be "
                    "shorter (warm) or longer (cold) than shown",
                )
            )
        elif table and not table[0].temperature_c <= room <= table[-1].temperature_c:
            found.append(
                Advisory(
                    f"cement:temperature:{batch.seq}",
                    "Cement batch",
                    f"Room {room:g} °C is outside {product.name}'s IFU table ({table[0].temperature_c:g}–"
                    f"{table[-1].temperature_c:g} °C): the nearest row's times are shown",
                )
            )
    return found


def _dose_warnings(state: CaseState) -> list[Advisory]:
    report = state.facts.dose()
    over = report.substantial(state.settings) if report is not None else []
    if not over:
        return []
    return [
        Advisory(
            "dose:substantial",
            "Radiation dose",
            f"Substantial radiation dose: {'; '.join(over)}. Arrange patient follow-up.",
        )
    ]
