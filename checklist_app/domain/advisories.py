"""Advisories: the warnings the nurse must acknowledge (contraindications, values above limits, antibiotic timing).

Called Advisory in code so as not to shadow Python's own Warning; on screen and in the note they are warnings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from .setup import SCREEN_FLAGS, level_index
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
    found += _antibiotic_warning(state)
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


def _antibiotic_warning(state: CaseState) -> list[Advisory]:
    """At the time-out, an antibiotic dose older than the limit (default 60 min) is flagged."""
    if not (state.has_instance("antibiotic") and state.has_instance("time_out")):
        return []
    dose, time_out = state.instance("antibiotic").entry, state.instance("time_out").entry
    if not dose or not time_out or dose.status != DONE or time_out.status != DONE:
        return []
    if dose.values.get("given") is not True:
        return []
    limit = timedelta(minutes=float(state.settings.get("antibiotic_max_minutes")))
    age = time_out.clinical_time - dose.clinical_time
    if age <= limit:
        return []
    return [
        Advisory(
            "antibiotic:timing",
            "WHO Time Out",
            f"Antibiotic given {age.total_seconds() / 60:.0f} min before the time-out "
            f"(more than {limit.total_seconds() / 60:g} min)",
        )
    ]
