"""Checking what the nurse enters: every value against its field in the template, and where it must be."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from .catalogue import BalloonProduct, CementProduct, Drug, Product, gtin14
from .choices import preselected
from .errors import Refusal
from .setup import SIDES, clean_text
from .state import DONE, CaseState
from .template import FieldSpec, StepSpec
from .units import UnitError, convert, parse_quantity


def check_gtin_matches(state: CaseState, spec: StepSpec, values: Mapping[str, Any]) -> None:
    """A scanned or typed GTIN must belong to the product chosen for a batch or kit."""
    product_field = next((f for f in spec.fields if f.type == "product"), None)
    gtin = values.get("gtin")
    if product_field is None or not gtin or product_field.id not in values:
        return
    try:
        gtin14(str(gtin))
    except ValueError as exc:
        raise Refusal("gtin", str(exc)) from None
    product = find_product(state, product_field.catalogue or "", str(values[product_field.id]))
    scanned = state.catalogue.by_gtin(str(gtin))
    if product is not None and scanned is not None and scanned.id != product.id:
        raise Refusal("gtin", f"GTIN {gtin} belongs to {scanned.name}, not to {product.name}")


def validate_values(
    state: CaseState, spec: StepSpec, raw: Mapping[str, Any], when: datetime | None = None
) -> dict[str, Any]:
    """Clean, convert and range-check every value of a step; refuse unknown or missing ones.

    A batch or kit left out means the one the form would propose at clinical time `when` (the
    newest usable, `domain.choices`); without `when`, the newest recorded.
    """
    if not isinstance(raw, Mapping):
        raise Refusal("values", "must be a set of named values")
    known = {f.id for f in spec.fields}
    for name in raw:
        if name not in known:
            raise Refusal("values", f"{name!r} is not a value of '{spec.title}'")
    values: dict[str, Any] = {}
    for fspec in spec.fields:
        given = raw.get(fspec.id)
        if given is None or given == "" or given == []:
            proposed = _proposed_record(state, fspec, when) if fspec.type == "batch" else None
            if proposed is not None:
                values[fspec.id] = proposed
            continue
        values[fspec.id] = _clean(state, fspec, given)
    asked = asked_fields(state, spec, values)
    for fspec in spec.fields:
        if fspec.id not in asked:
            values.pop(fspec.id, None)  # not asked for these answers (the answer that made it relevant was not given)
            continue
        if _needed(fspec, values) and fspec.id not in values:
            raise Refusal(fspec.id, fspec.missing or _missing(state, fspec))
        _check_exclusive(fspec, values.get(fspec.id))
    _check_times(spec, values, when)
    check_gtin_matches(state, spec, values)
    return values


def asked_fields(state: CaseState, spec: StepSpec, values: Mapping[str, Any]) -> set[str]:
    """The fields of `spec` asked, given these answers and the case: the form shows exactly these.

    A field with `required_if(_no)` is asked once one of its yes/no fields has that answer (the
    biopsy's container once "taken" is yes; why the tip is not confirmed once either view is no);
    a field with `asked_when` follows another step's answer (the CT dose fields for a CT-guided case).
    """
    asked = set()
    for fspec in spec.fields:
        if fspec.controls and not any(values.get(c) is fspec.required_when for c in fspec.controls):
            continue
        if fspec.asked_when is not None and not _asked_now(state, spec, fspec, values):
            continue
        asked.add(fspec.id)
    return asked


def _asked_now(state: CaseState, spec: StepSpec, fspec: FieldSpec, values: Mapping[str, Any]) -> bool:
    cond = fspec.asked_when
    assert cond is not None
    if cond.step == spec.id:
        answer = values.get(cond.field)
    else:
        entry = state.instance(cond.step).entry if state.has_instance(cond.step) else None
        answer = entry.values.get(cond.field) if entry is not None and entry.status == DONE else None
    return cond.unknown if answer is None else answer in cond.answers


def _needed(fspec: FieldSpec, values: Mapping[str, Any]) -> bool:
    """Required (the field is asked): by a yes/no answer, by its own flag, or once its companions have a value."""
    if fspec.controls:
        return True
    if fspec.required_with:
        return any(values.get(other) is not None for other in fspec.required_with)
    return fspec.required


def _check_times(spec: StepSpec, values: Mapping[str, Any], when: datetime | None) -> None:
    """A date and time given in a step (a blood sample drawn) cannot be after the step itself."""
    if when is None:
        return
    for fspec in spec.fields:
        value = values.get(fspec.id)
        if fspec.type == "datetime" and value is not None and datetime.fromisoformat(value) > when:
            raise Refusal(fspec.id, f"'{fspec.label}' cannot be after the time of '{spec.title}'")


def _check_exclusive(fspec: FieldSpec, picked: Any) -> None:
    """A choice that stands alone ("no known allergy") is never combined with another one."""
    if not fspec.exclusive or not isinstance(picked, list) or len(picked) < 2:
        return
    alone = next((choice for choice in picked if choice in fspec.exclusive), None)
    if alone is not None:
        raise Refusal(fspec.id, f"'{fspec.choice_label(alone)}' cannot be combined with another answer")


def _clean(state: CaseState, fspec: FieldSpec, value: Any) -> Any:
    kind = fspec.type
    if kind == "bool":
        if not isinstance(value, bool):
            raise Refusal(fspec.id, f"'{fspec.label}' must be yes or no")
        return value
    if kind in ("number", "integer"):
        return _number(fspec, value)
    if kind == "choice":
        return _choice(fspec, value)
    if kind == "multi":
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise Refusal(fspec.id, f"'{fspec.label}' must be a list of choices")
        picked = [_choice(fspec, v) for v in value]
        if len(set(picked)) != len(picked):
            raise Refusal(fspec.id, f"'{fspec.label}' lists a choice twice")
        return picked
    if kind == "text":
        return clean_text(value, fspec.id, fspec.max_length)
    if kind == "date":
        return _date(fspec, value).isoformat()
    if kind == "datetime":
        return _datetime(fspec, value).isoformat()
    if kind == "product":
        return _product(state, fspec, value)
    if kind == "batch":
        return _batch(state, fspec, value)
    if kind == "staff":
        if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
            raise Refusal(fspec.id, f"'{fspec.label}' must list at least one person")
        return [clean_text(v, fspec.id) for v in value]
    raise Refusal(fspec.id, f"unsupported field type {kind}")


def _number(fspec: FieldSpec, value: Any) -> float | int:
    unit = fspec.unit or ""
    if isinstance(value, str):
        try:
            value = parse_quantity(value, default_unit=unit)
        except UnitError as exc:
            raise Refusal(fspec.id, f"'{fspec.label}': {exc}") from None
    if isinstance(value, tuple) and len(value) == 2:
        number, given_unit = value
        if given_unit not in fspec.accept_units:
            raise Refusal(fspec.id, f"'{fspec.label}' accepts {', '.join(fspec.accept_units)}, not {given_unit}")
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
            raise Refusal(fspec.id, f"'{fspec.label}' must be a number")
        try:
            value = convert(float(number), given_unit, unit) if given_unit != unit else number
        except (OverflowError, UnitError) as exc:
            raise Refusal(fspec.id, f"'{fspec.label}': {exc}") from None
    try:
        finite = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    except OverflowError:  # an int too large for a float
        finite = False
    if not finite:
        raise Refusal(fspec.id, f"'{fspec.label}' must be a number in {unit}")
    if fspec.type == "integer":
        if float(value) != int(value):
            raise Refusal(fspec.id, f"'{fspec.label}' must be a whole number of {unit}")
        value = int(value)
    else:
        value = round(float(value), 3)
    if fspec.min is not None and value < fspec.min:
        raise Refusal(fspec.id, f"'{fspec.label}' {value:g} {unit} is below the minimum of {fspec.min:g} {unit}")
    if fspec.max is not None and value > fspec.max:
        raise Refusal(fspec.id, f"'{fspec.label}' {value:g} {unit} is above the maximum of {fspec.max:g} {unit}")
    return int(value) if fspec.type == "integer" else float(value)


def check_choices_at(spec: StepSpec, values: Mapping[str, Any], level: str | None) -> None:
    """Every answer must make sense at the step's level (a sacral approach only at the sacrum)."""
    for fspec in spec.fields:
        given = values.get(fspec.id)
        picked = given if isinstance(given, list) else [given]
        for choice in fspec.choices:
            if choice.value in picked and not choice.fits(level):
                regions = ", ".join(choice.regions)
                raise Refusal(fspec.id, f"'{choice.label}' is not offered at {level} (only at {regions} levels)")


def _choice(fspec: FieldSpec, value: Any) -> str:
    allowed = [c.value for c in fspec.choices]
    if value not in allowed:
        raise Refusal(fspec.id, f"'{fspec.label}' must be one of: {', '.join(c.label for c in fspec.choices)}")
    return str(value)


def _date(fspec: FieldSpec, value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise Refusal(fspec.id, f"'{fspec.label}' must be a date (YYYY-MM-DD)")


def _datetime(fspec: FieldSpec, value: Any) -> datetime:
    """A moment with its time zone (stored in UTC): a datetime, or ISO text such as 2026-12-03T07:40+01:00."""
    moment = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
    if moment is None:
        raise Refusal(fspec.id, f"'{fspec.label}' must be a date and time (YYYY-MM-DD HH:MM)")
    if moment.tzinfo is None:
        raise Refusal(fspec.id, f"'{fspec.label}' must include a time zone")
    if moment.year < 1900:
        raise Refusal(fspec.id, f"'{fspec.label}' is not a plausible date")
    return moment.astimezone(UTC)


def _product(state: CaseState, fspec: FieldSpec, value: Any) -> str:
    if not isinstance(value, str) or catalogue_entry(state, fspec.catalogue or "", value) is None:
        raise Refusal(fspec.id, f"'{fspec.label}': unknown product {value!r}; choose one from the catalogue")
    return str(value)


def _proposed_record(state: CaseState, fspec: FieldSpec, when: datetime | None) -> int | None:
    if when is not None:
        return preselected(state, fspec, when)
    records = state.live_records(fspec.record or "")
    return records[-1].seq if records else None


def _missing(state: CaseState, fspec: FieldSpec) -> str:
    if fspec.type != "batch":
        return f"'{fspec.label}' is required"
    if fspec.record == "cement_mix" and state.live_records("cement_mix"):
        return "no cement batch is within its working time: record the cement batch just mixed, or choose one"
    return MISSING_RECORD.get(fspec.record or "", f"'{fspec.label}' is required")


MISSING_RECORD = {
    "cement_mix": "record the cement batch (product, lot, expiry, mix time) before injecting",
    "balloon_kit": "record the balloon kit (product, lot, expiry) before inflating",
}


def _batch(state: CaseState, fspec: FieldSpec, value: Any) -> int:
    seqs = [b.seq for b in state.live_records(fspec.record or "")]
    if isinstance(value, bool) or value not in seqs:
        raise Refusal(fspec.id, MISSING_RECORD.get(fspec.record or "", f"choose a recorded '{fspec.label}'"))
    return int(value)


def find_product(state: CaseState, kind: str, product_id: str) -> Product | None:
    """The cement or balloon, or None when the site catalogue does not (or no longer) list it."""
    entry = catalogue_entry(state, kind, product_id)
    return entry if isinstance(entry, (CementProduct, BalloonProduct)) else None


def catalogue_entry(state: CaseState, kind: str, entry_id: str) -> Product | Drug | None:
    """Any catalogue entry a product field may name (a cement, a balloon, a drug), or None."""
    try:
        return state.catalogue.product(kind, entry_id)
    except KeyError:
        return None


# -- warnings on values --------------------------------------------------------------------
def value_warnings(state: CaseState, spec: StepSpec, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field id, message) for each value above its warning threshold."""
    found = []
    for fspec in spec.fields:
        value = values.get(fspec.id)
        limit = warn_limit(state, spec, fspec, values)
        if not isinstance(value, (int, float)) or limit is None:
            continue
        # Substantial radiation dose levels (SIR) count when reached; other limits when exceeded.
        dose = str(fspec.warn_above).startswith("setting:dose_")
        if value > limit or (dose and value == limit):
            verb = "reaches the substantial-dose level" if dose else "is above the warning limit"
            found.append((fspec.id, f"{fspec.label} {value:g} {fspec.unit} {verb} of {limit:g} {fspec.unit}"))
    for fspec in spec.fields:
        value = values.get(fspec.id)
        if fspec.typical is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        procedure = state.template.procedure
        usual = state.catalogue.typical_range(fspec.typical.removeprefix("catalogue:"), procedure)
        if usual is not None and not usual[0] <= value <= usual[1]:
            found.append(
                (
                    fspec.id,
                    f"{fspec.label} {value:g} {fspec.unit} is outside the usual {usual[0]:g}–{usual[1]:g} "
                    f"{fspec.unit} for {procedure}",
                )
            )
    return found


def warn_limit(state: CaseState, spec: StepSpec, fspec: FieldSpec, values: Mapping[str, Any]) -> float | None:
    ref = fspec.warn_above
    if ref is None or isinstance(ref, (int, float)):
        return ref
    source, _, name = ref.partition(":")
    if source == "setting":
        return float(state.settings.get(name))
    product = chosen_product(state, spec, values)
    limit = getattr(product, name, None) if product else None
    return float(limit) if limit is not None else None


def chosen_product(state: CaseState, spec: StepSpec, values: Mapping[str, Any]) -> Product | None:
    """The catalogue product a step's values name: directly, or through the batch or kit chosen."""
    for fspec in spec.fields:
        value = values.get(fspec.id)
        if value is None:
            continue
        if fspec.type == "product":
            return find_product(state, fspec.catalogue or "", str(value))
        if fspec.type == "batch" and isinstance(value, int) and not isinstance(value, bool):
            record = state.entry_for(value)
            if record is not None and record.event.step == fspec.record:
                return chosen_product(state, state.step_spec_of(record), record.values)
    return None


def check_instance(state: CaseState, spec: StepSpec, level: str | None, side: str | None) -> None:
    """The step, level and side must exist in this case's plan."""
    for name, value in (("level", level), ("side", side)):
        if value is not None and not isinstance(value, str):
            raise Refusal(name, "must be text such as 'T12' or 'left'")
    if spec.repeat == "any":
        if level is not None or side is not None:
            raise Refusal("level", f"'{spec.title}' is recorded for the case, not per level or side")
        return
    if spec.on_demand:
        planned = state.setup.level_names if state.setup else ()
        if level not in planned or side is not None:
            raise Refusal("level", f"'{spec.title}' is recorded for one planned level ({', '.join(planned)}), no side")
        return
    if not state.has_instance(spec.id, level, side):
        where = " ".join(p for p in (level, side) if p) or "the case"
        if side is not None and side not in SIDES:
            raise Refusal("side", f"'{side}' is not a side (left or right)")
        raise Refusal("level", f"'{spec.title}' is not planned for {where}")
