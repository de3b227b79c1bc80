"""Words for people: values with units, choice labels, local times and one-line event summaries."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from . import events as ev
from .events import Event
from .state import CaseState, Entry, instance_suffix
from .template import FieldSpec, StepSpec

KIND_LABELS = {
    ev.CASE_STARTED: "Case opened",
    ev.STEP_DONE: "Done",
    ev.NOT_APPLICABLE: "Not applicable",
    ev.CORRECTION: "Correction",
    ev.RETRACTION: "Retraction",
    ev.GATE_OVERRIDE: "Gate override",
    ev.WARNING_ACKNOWLEDGED: "Warning acknowledged",
    ev.ALARM_ACKNOWLEDGED: "Alarm acknowledged",
    ev.STAFF_CHANGE: "Staff change",
    ev.FINDINGS: "Operator findings",
    ev.SIGNATURE: "Signature",
    ev.ADDENDUM: "Addendum",
}
ROLE_LABELS = {
    "nurse": "Circulating nurse",
    "operator": "Operator",
    "anaesthesia": "Anaesthesia",
    "assistant": "Assistant",
}


def local_time(moment: datetime | None, *, seconds: bool = False) -> str:
    """24-hour local time, e.g. '10:42'."""
    if moment is None:
        return "—"
    return moment.astimezone().strftime("%H:%M:%S" if seconds else "%H:%M")


def local_datetime(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def duration(span: timedelta | None) -> str:
    """'12:05' (minutes:seconds) or '1:02:05'; negative spans shown with a minus sign."""
    if span is None:
        return "—"
    total = int(span.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    hours, rest = divmod(total, 3600)
    mins, secs = divmod(rest, 60)
    return f"{sign}{hours}:{mins:02d}:{secs:02d}" if hours else f"{sign}{mins}:{secs:02d}"


def format_number(value: float | int) -> str:
    """Numbers as read off a device: 249.832 -> '249.8', 1.15 -> '1.15', 2.0 -> '2'."""
    if not isinstance(value, float):
        return str(value)
    return f"{round(value, 1 if abs(value) >= 100 else 2):g}"


def format_value(state: CaseState | None, spec: FieldSpec, value: Any) -> str:
    """A recorded value as a person reads it, always with its unit."""
    if value is None or value == "" or value == []:
        return "—"
    if spec.type == "bool":
        return "Yes" if value else "No"
    if spec.type in ("number", "integer"):
        unit = "" if spec.unit == "ratio" else spec.unit or ""
        return f"{format_number(value)}%" if unit == "%" else f"{format_number(value)} {unit}".strip()
    if spec.type == "choice":
        return spec.choice_label(str(value))
    if spec.type == "multi":
        return ", ".join(spec.choice_label(str(v)) for v in value)
    if spec.type == "staff":
        return ", ".join(str(v) for v in value)
    if spec.type == "product" and state is not None:
        return product_name(state, spec.catalogue or "", str(value))
    if spec.type == "batch" and state is not None:
        return batch_label(state, int(value))
    return str(value)


def product_name(state: CaseState, kind: str, product_id: str) -> str:
    try:
        return state.catalogue.product(kind, product_id).name
    except KeyError:
        return product_id


def record_product(state: CaseState, entry: Entry) -> tuple[str, str]:
    """(catalogue kind, product id) of a cement batch or balloon kit entry."""
    spec = state.step_spec_of(entry)
    field = next((f for f in spec.fields if f.type == "product"), None)
    if field is None:
        return "", ""
    return field.catalogue or "", str(entry.values.get(field.id, ""))


def batch_label(state: CaseState, seq: int) -> str:
    """'Example PMMA A, lot CM1, mixed 10:42' or 'Example tamp 15 mm, lot BK1, opened 10:30'."""
    entry = state.entry_for(seq)
    if entry is None:
        return f"entry {seq}"
    kind, product_id = record_product(state, entry)
    verb = "mixed" if kind == "cement" else "opened"
    name = product_name(state, kind, product_id)
    return f"{name}, lot {entry.values.get('lot', '?')}, {verb} {local_time(entry.clinical_time)}"


def inflation_balloon(state: CaseState, values: Mapping[str, Any]) -> tuple[str, str, int | None]:
    """(balloon product id, lot, kit seq) of an inflation: from the kit it names, or, for inflations
    recorded before kits were referred to (template version 1), from its own product and lot/UDI."""
    kit = state.entry_for(values["kit"]) if isinstance(values.get("kit"), int) else None
    if kit is not None:
        return str(kit.values.get("product", "")), str(kit.values.get("lot", "")), kit.seq
    return str(values.get("balloon", "")), str(values.get("lot_udi", "")), None


def format_values(state: CaseState | None, spec: StepSpec, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, text) for every value recorded, in template order."""
    return [(f.label, format_value(state, f, values[f.id])) for f in spec.fields if f.id in values]


def summarize_values(state: CaseState | None, spec: StepSpec, values: Mapping[str, Any]) -> str:
    return "; ".join(f"{label}: {text}" for label, text in format_values(state, spec, values))


def describe_event(state: CaseState, event: Event) -> str:
    """One line saying what an event recorded, for timelines and the note."""
    kind, values = event.kind, event.values
    title = step_title(state, event.step) + instance_suffix(event.level, event.side) if event.step else ""
    if kind == ev.CASE_STARTED:
        return "Case opened"
    if kind in (ev.STEP_DONE, ev.CORRECTION):
        spec = state.template.step(event.step or "")
        detail = summarize_values(state, spec, values)
        prefix = f"Correction of entry #{event.ref}: " if kind == ev.CORRECTION else ""
        return f"{prefix}{title}" + (f" — {detail}" if detail else "")
    if kind == ev.NOT_APPLICABLE:
        return f"{title}: not applicable"
    if kind == ev.RETRACTION:
        return f"Retraction of entry #{event.ref}: {title}"
    if kind == ev.GATE_OVERRIDE:
        return f"Override of hard stop before {title}: {values.get('message', values.get('gate'))}"
    if kind in (ev.WARNING_ACKNOWLEDGED, ev.ALARM_ACKNOWLEDGED):
        return f"{KIND_LABELS[kind]}: {values.get('message', '')}"
    if kind == ev.STAFF_CHANGE:
        role = ROLE_LABELS.get(str(values.get("role")), str(values.get("role")))
        before = f" (was {values['previous']})" if values.get("previous") else ""
        return f"{role} now {values.get('name')}{before}"
    if kind == ev.SIGNATURE:
        role = ROLE_LABELS.get(str(values.get("role")), str(values.get("role")))
        return f"Signed by {values.get('name')} ({role}), meaning: {values.get('meaning')}"
    if kind == ev.ADDENDUM:
        return f"Addendum: {values.get('text', '')}"
    if kind == ev.FINDINGS:
        return "Operator findings recorded"
    return KIND_LABELS.get(kind, kind)


def step_title(state: CaseState, step_id: str | None) -> str:
    """The step's title in the case's template (the id itself for a step the template lacks)."""
    if step_id and state.template.has_step(step_id):
        return state.template.step(step_id).title
    return step_id or ""


def is_late(event: Event) -> bool:
    return event.late_reason is not None
