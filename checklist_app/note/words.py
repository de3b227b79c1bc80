"""Small wording helpers for the note: numbers with units, local times, choice labels, lists in prose."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from ..domain.present import batch_label, local_datetime, local_time, product_name
from ..domain.state import DONE, CaseState, Entry
from ..domain.template import FieldSpec

DASH = "—"
SIDE_WORDS = {"left": "left", "right": "right"}


def _rounded(value: float, places: int) -> Decimal:
    """`value` rounded half up, as people round ('2.25' -> '2.3', '2.5' -> '3'), from its shortest decimal form."""
    try:
        return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than the decimal context holds: far outside any field's range
        return Decimal(f"{float(value):.{places}f}")


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def number(value: Any, places: int = 1) -> str:
    """A number rounded to at most `places` decimals, without trailing zeros ('3', '3.5', '250')."""
    if not _is_number(value):
        return DASH
    text = f"{_rounded(value, places):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fixed(value: Any, places: int = 1) -> str:
    """A number with exactly `places` decimals, so columns line up ('2.0', '1.5')."""
    if not _is_number(value):
        return DASH
    text = f"{_rounded(value, places):f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def decimal(value: Any, places: int = 2) -> str:
    """A measurement with at least one decimal and at most `places`: INR '1.0', '1.25'."""
    shown = number(value, places)
    return shown if shown == DASH or "." in shown else f"{shown}.0"


# How people write each unit's values: at most this many decimals, never a trailing ".0" (cement and
# balloon volumes use `ml`, always one decimal). A unit not listed keeps up to two decimals. Counts
# ('runs') print without a unit word: the label already says what is counted.
UNIT_PLACES: dict[str, int] = {
    "mL": 1,
    "psi": 0,
    "atm": 1,
    "ratio": 2,
    "%": 2,
    "mg": 1,
    "g": 2,
    "mg/kg": 1,
    "×10⁹/L": 0,
    "min": 1,
    "s": 0,
    "mGy": 1,
    "Gy·cm²": 2,
    "mGy·cm": 1,
    "°C": 1,
    "kg": 1,
    "G": 0,
    "mm": 1,
    "runs": 0,
}
COUNT_UNITS = ("runs",)


def amount(value: Any, unit: str, places: int | None = None) -> str:
    """A value with its unit as people write it: '191 psi', '8.8 min', '1%', INR '1.0', '21 °C'.

    `places` overrides the unit's usual number of decimals. A dash when the value was not recorded.
    """
    if not _is_number(value):
        return DASH
    most = UNIT_PLACES.get(unit, 2) if places is None else places
    if unit == "ratio":
        return decimal(value, most)
    shown = number(value, most)
    if unit == "%":
        return f"{shown}%"
    if unit in COUNT_UNITS or not unit:
        return shown
    return f"{shown} {unit}"


def qty(value: Any, unit: str, places: int | None = None) -> str:
    """'3.5 mL'; a dash when the value was not recorded (see `amount`)."""
    return amount(value, unit, places)


def ml(value: Any) -> str:
    """A cement or balloon volume, always to one decimal so columns line up: '2.0 mL'."""
    if not _is_number(value):
        return DASH
    return f"{fixed(value, 1)} mL"


def clock(moment: datetime | None, service_day: date | None = None) -> str:
    """Local 24-hour 'HH:MM', with the date in front when it is not the day of service."""
    if moment is None:
        return DASH
    if service_day is not None and moment.astimezone().date() != service_day:
        return local_datetime(moment)
    return local_time(moment)


def stamp(moment: datetime | None) -> str:
    """Local 'YYYY-MM-DD HH:MM'."""
    return local_datetime(moment)


def utc_offset(moment: datetime) -> str:
    """The local offset from UTC in force at `moment`, e.g. 'UTC+01:00'."""
    offset = moment.astimezone().utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def lower_first(label: str) -> str:
    """'Venous (basivertebral)' -> 'venous (basivertebral)'; acronyms such as 'MAC' or 'CT-guided' stay."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def article(word: str) -> str:
    """'a' or 'an' before a word or a gauge number ('an 11 G', 'an 8 G', 'a 13 G')."""
    head = word.split()[0] if word.split() else word
    if head.isdigit():
        return "an" if head in ("8", "11", "18") or head.startswith("8") else "a"
    return "an" if head[:1].lower() in "aeiou" else "a"


def join_words(items: Iterable[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    words = [w for w in items if w]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def sentence(text: str) -> str:
    """Capitalised first letter and a closing full stop."""
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def choice(state: CaseState, step: str, field_id: str, value: Any) -> str:
    """The template's label for a recorded choice value (never the stored code)."""
    if value is None or value == "":
        return DASH
    if not state.template.has_step(step):
        return str(value)
    try:
        spec = state.template.step(step).field(field_id)
    except KeyError:
        return str(value)
    return spec.choice_label(str(value))


def done(state: CaseState, step: str, level: str | None = None, side: str | None = None) -> Entry | None:
    """The entry in force for a step instance when it was done (not pending, not marked not applicable)."""
    if not state.has_instance(step, level, side):
        return None
    entry = state.instance(step, level, side).entry
    return entry if entry is not None and entry.status == DONE else None


def answered(state: CaseState, step: str, level: str | None = None, side: str | None = None) -> Entry | None:
    """The entry in force, done or not applicable."""
    if not state.has_instance(step, level, side):
        return None
    return state.instance(step, level, side).entry


def side_word(side: str | None) -> str:
    """'left' or 'right' (empty when there is no side)."""
    return SIDE_WORDS.get(side or "", side or "")


def sides_phrase(sides: Iterable[str]) -> str:
    """'left', 'right' or 'left and right'."""
    return join_words(side_word(s) for s in sides)


def is_sacral(level: str | None) -> bool:
    """S1 to S5: the sacrum has no pedicles, so its wording never speaks of them."""
    return bool(level) and str(level).startswith("S")


def access(state: CaseState, level: str, sides: tuple[str, ...]) -> str:
    """How a level was reached: 'bipedicular' only when both sides were transpedicular, 'unipedicular,
    left' for one transpedicular side; otherwise (different or other approaches, an approach not yet
    recorded, or the sacrum) 'bilateral' or 'unilateral, left'."""
    approaches = [
        str(entry.values.get("approach", "")) if (entry := done(state, "cannula_placement", level, side)) else ""
        for side in sides
    ]
    pedicular = bool(sides) and not is_sacral(level) and all(a == "transpedicular" for a in approaches)
    if len(sides) > 1:
        return "bipedicular" if pedicular else "bilateral"
    side = side_word(sides[0]) if sides else DASH
    return f"{'unipedicular' if pedicular else 'unilateral'}, {side}"


# -- recorded values in the note's words ---------------------------------------------------------
# Cement and balloon volumes are measured to a tenth of a millilitre and printed that way everywhere.
TENTHS_OF_ML = {("cement_injection", "volume"), ("balloon_inflation", "volume")}
# Template labels reworded for the note, by procedure (None: every procedure). A vertebroplasty
# note never mentions balloons, even where a shared checklist item does.
LABELS: dict[tuple[str, str], dict[str | None, str]] = {
    ("time_out", "implants_available"): {
        "kyphoplasty": "Implants and devices available (cement, balloon kits)",
        None: "Implants available (cement)",
    },
}


def field_label(state: CaseState, step: str, spec: FieldSpec) -> str:
    """The label a recorded value prints under: the template's, unless the note words it for this procedure."""
    reworded = LABELS.get((step, spec.id))
    if reworded is None:
        return spec.label
    procedure = state.setup.procedure if state.setup else None
    return reworded.get(procedure, reworded.get(None, spec.label))


def value_text(state: CaseState, step: str, spec: FieldSpec, value: Any) -> str:
    """A recorded value as people write it, with its unit: '191 psi', 'INR 1.0', '2.0 mL', 'Yes'."""
    if value is None or value == "" or value == []:
        return DASH
    if spec.type == "bool":
        return "Yes" if value else "No"
    if spec.type in ("number", "integer"):
        if (step, spec.id) in TENTHS_OF_ML:
            return ml(value)
        return amount(value, spec.unit or "")
    if spec.type == "choice" or spec.type == "multi":
        codes = value if isinstance(value, (list, tuple)) else [value]
        return ", ".join(spec.choice_label(str(v)) for v in codes)
    if spec.type == "staff":
        return ", ".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)
    if spec.type == "datetime" and isinstance(value, str):
        try:
            return local_datetime(datetime.fromisoformat(value))
        except ValueError:
            return value
    if spec.type == "product":
        return "Other" if value == "other" else product_name(state, spec.catalogue or "", str(value))
    if spec.type == "batch" and isinstance(value, int) and not isinstance(value, bool):
        return batch_label(state, value)
    return str(value)


def step_values(state: CaseState, step: str, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, text) for every value recorded for a step, in template order."""
    if not state.template.has_step(step):
        return [(key, str(value)) for key, value in values.items()]
    spec = state.template.step(step)
    fields = [f for f in spec.fields if f.id in values]
    return [(field_label(state, step, f), value_text(state, step, f, values[f.id])) for f in fields]


def summarize(state: CaseState, step: str, values: Mapping[str, Any], separator: str = "; ") -> str:
    """'Label: value; Label: value' for a step's recorded values."""
    return separator.join(f"{label}: {text}" for label, text in step_values(state, step, values))


def leak_codes(values: Mapping[str, Any]) -> tuple[str, ...]:
    """The leaks an injection recorded, none left out: one choice or several (never 'none')."""
    leak = values.get("leak")
    found = leak if isinstance(leak, (list, tuple)) else [leak] if leak else []
    return tuple(str(x) for x in found if x and x != "none")


def leak_words(state: CaseState, values: Mapping[str, Any]) -> str:
    """'Venous (basivertebral / segmental)' or 'Paravertebral and intradiscal'; empty for no leak."""
    labels = [choice(state, "cement_injection", "leak", code) for code in leak_codes(values)]
    return join_words([labels[0], *(lower_first(x) for x in labels[1:])]) if labels else ""


def checked_items(state: CaseState, step: str, values: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The yes/no items of a checklist step as short phrases: (answered yes, answered no)."""
    yes: list[str] = []
    no: list[str] = []
    for spec in state.template.step(step).fields:
        if spec.type != "bool" or spec.id not in values:
            continue
        label = field_label(state, step, spec)
        phrase = lower_first(" ".join(label.replace(" confirmed", "").split()))
        (yes if values[spec.id] else no).append(phrase)
    return yes, no
