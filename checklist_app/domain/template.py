"""Procedure templates: the steps of a procedure as validated data (loaded from TOML)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PHASES = ("before", "level", "after")
REPEATS = ("once", "per_level", "per_side", "any")
FIELD_TYPES = (
    "bool",
    "number",
    "integer",
    "choice",
    "multi",
    "text",
    "date",
    "datetime",
    "product",
    "batch",
    "staff",
)
MILESTONES = ("PIR", "AS", "PST", "PF", "AF", "POR")
GATE_SCOPES = ("case", "level")
GATE_KINDS = ("step", "batch_window")  # a step done first; the cement batch within its working window
CATALOGUES = ("cement", "balloon", "anaesthetic", "antibiotic")
COUNTDOWNS = ("hardening",)


class TemplateError(ValueError):
    """A template file that does not describe a valid procedure; the message names file, step and field."""


@dataclass(frozen=True)
class Choice:
    """One allowed value of a choice field, with the words shown to people.

    `waives` (a level's outcome): the steps of that level this answer makes unnecessary ("*": every
    step still pending at the level), so they stop being pending and print as not done, with why.
    `regions` (C, T, L, S): the spine regions where the answer makes sense (a sacral approach at
    the sacrum only); empty means everywhere.
    """

    value: str
    label: str
    waives: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    def fits(self, level: str | None) -> bool:
        """Whether this answer is offered at `level` (always for a step recorded once per case)."""
        return not self.regions or not level or level[0] in self.regions


@dataclass(frozen=True)
class AskedWhen:
    """A field asked only when another step's answer is one of `answers` (the dose fields by imaging).

    While that step has no answer, the field is asked when `unknown` is true.
    """

    step: str
    field: str
    answers: tuple[str, ...]
    unknown: bool = False


@dataclass(frozen=True)
class FieldSpec:
    """One value the nurse records for a step: its type, unit, limits and warning threshold.

    `warn_above` is a number, or a reference resolved at run time: ``setting:NAME`` (a site
    setting) or ``product:FIELD`` (a limit of the device chosen in this step's product field, or
    of the product of the batch or kit it refers to). A ``batch`` field refers to an entry of the
    repeatable step named by `record` (a cement batch for an injection, a balloon kit for an
    inflation), so the note attributes each use to the batch or kit actually chosen.
    """

    id: str
    label: str
    type: str
    unit: str | None = None
    accept_units: tuple[str, ...] = ()
    choices: tuple[Choice, ...] = ()
    min: float | None = None
    max: float | None = None
    warn_above: float | str | None = None
    required: bool = True
    required_if: str | None = None  # a yes/no field of the step: this one is asked only after that answer
    required_when: bool = True  # ...when it is this answer (yes, or no for `required_if_no`)
    controls: tuple[str, ...] = ()  # every yes/no field that can make it relevant (any one of them)
    asked_when: AskedWhen | None = None  # asked only for some answers of another step
    required_with: tuple[str, ...] = ()  # required as soon as any of these fields has a value (a draw time)
    typical: str | None = None  # "catalogue:NAME": warn outside the procedure's usual range (cannula gauge)
    missing: str = ""  # what a refusal says when the field is required and left out
    exclusive: tuple[str, ...] = ()  # choices of a multi field that stand alone ("no known allergy")
    catalogue: str | None = None
    record: str | None = None  # a "batch" field: the repeatable step whose entries it refers to
    max_length: int = 500
    help: str = ""

    def choices_at(self, level: str | None) -> tuple[Choice, ...]:
        """The choices offered at a level (see `Choice.regions`)."""
        return tuple(c for c in self.choices if c.fits(level))

    def choice_label(self, value: str) -> str:
        for choice in self.choices:
            if choice.value == value:
                return choice.label
        return value


@dataclass(frozen=True)
class Gate:
    """A hard stop: this step needs `requires` done first (case-wide or at the same level), or (kind
    "batch_window") the cement batch it uses within its window at the step's clinical time."""

    id: str
    requires: str
    scope: str
    message: str
    countdown: str | None = None
    kind: str = "step"


@dataclass(frozen=True)
class StepSpec:
    """One checklist step as the template defines it."""

    id: str
    title: str
    phase: str
    repeat: str
    fields: tuple[FieldSpec, ...] = ()
    optional: bool = False
    milestone: str | None = None
    gates: tuple[Gate, ...] = ()
    help: str = ""
    since: int = 1  # the template version that added the step: older cases are not asked it
    on_demand: bool = False  # never pending: answered only when something happens (a level's plan changes)
    after: tuple[str, ...] = ()  # steps of the same level that must come first in clinical time
    who_check: bool = False  # a WHO Surgical Safety Checklist check: no signature while it is not done

    def field(self, field_id: str) -> FieldSpec:
        for spec in self.fields:
            if spec.id == field_id:
                return spec
        raise KeyError(field_id)

    @property
    def needs_values(self) -> bool:
        """True when completing the step needs the nurse to enter something."""
        return any(f.required and f.required_if is None for f in self.fields)


@dataclass(frozen=True)
class Template:
    """A whole procedure: its steps in order."""

    id: str
    name: str
    procedure: str
    version: int
    steps: tuple[StepSpec, ...] = field(default_factory=tuple)
    source: str = ""

    def step(self, step_id: str) -> StepSpec:
        for spec in self.steps:
            if spec.id == step_id:
                return spec
        raise KeyError(step_id)

    def has_step(self, step_id: str) -> bool:
        return any(spec.id == step_id for spec in self.steps)


def load_template(path: Path) -> Template:
    """Read and validate one template file."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise TemplateError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{path}: not valid TOML: {exc}") from exc
    return parse_template(data, source=str(path))


def parse_template(data: dict[str, Any], *, source: str = "<template>") -> Template:
    """Validate template data (as read from TOML) and build a Template."""
    head = data.get("template")
    if not isinstance(head, dict):
        raise TemplateError(f"{source}: missing [template] table")
    for key in ("id", "name", "procedure"):
        if not isinstance(head.get(key), str) or not head[key].strip():
            raise TemplateError(f"{source}: [template] needs a non-empty text '{key}'")
    version = head.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise TemplateError(f"{source}: [template] 'version' must be a positive whole number")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise TemplateError(f"{source}: needs at least one [[steps]] entry")
    steps: list[StepSpec] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_steps, start=1):
        step = _parse_step(raw, source, index)
        if step.id in seen:
            raise TemplateError(f"{source}: step '{step.id}': defined twice")
        seen.add(step.id)
        steps.append(step)
    repeatable = {step.id for step in steps if step.repeat == "any"}
    for step in steps:
        for spec in step.fields:
            if spec.type == "batch" and spec.record not in repeatable:
                raise TemplateError(
                    f"{source}: step '{step.id}': field '{spec.id}': 'record' must name a step with "
                    f'repeat = "any" (got {spec.record!r})'
                )
        for spec in step.fields:
            if spec.asked_when is not None and spec.asked_when.step not in seen:
                raise TemplateError(
                    f"{source}: step '{step.id}': field '{spec.id}': asked_when names unknown step "
                    f"'{spec.asked_when.step}'"
                )
            for choice in spec.choices:
                unknown = [w for w in choice.waives if w != "*" and w not in seen]
                if unknown:
                    raise TemplateError(
                        f"{source}: step '{step.id}': field '{spec.id}': choice '{choice.value}' waives "
                        f"unknown step '{unknown[0]}'"
                    )
        for before in step.after:
            if before not in seen:
                raise TemplateError(f"{source}: step '{step.id}': 'after' names unknown step '{before}'")
        for gate in step.gates:
            if gate.kind == "step" and gate.requires not in seen:
                raise TemplateError(
                    f"{source}: step '{step.id}': gate '{gate.id}' requires unknown step '{gate.requires}'"
                )
    return Template(
        id=head["id"],
        name=head["name"],
        procedure=head["procedure"],
        version=version,
        steps=tuple(steps),
        source=source,
    )


def _parse_step(raw: Any, source: str, index: int) -> StepSpec:
    where = f"{source}: step #{index}"
    if not isinstance(raw, dict):
        raise TemplateError(f"{where}: must be a table")
    step_id = raw.get("id")
    if not isinstance(step_id, str) or not step_id.isidentifier():
        raise TemplateError(f"{where}: 'id' must be a lower-case identifier")
    where = f"{source}: step '{step_id}'"
    title = _text(raw, "title", where)
    phase = _one_of(raw, "phase", PHASES, where)
    repeat = _one_of(raw, "repeat", REPEATS, where, default="once")
    milestone = raw.get("milestone")
    if milestone is not None and milestone not in MILESTONES:
        raise TemplateError(f"{where}: 'milestone' must be one of {', '.join(MILESTONES)}")
    if phase != "level" and repeat == "per_side":
        raise TemplateError(f"{where}: 'repeat = per_side' is only allowed in the 'level' phase")
    optional = _flag(raw, "optional", where, default=False)
    on_demand = _flag(raw, "on_demand", where, default=False)
    if on_demand and (phase != "level" or repeat != "per_level"):
        raise TemplateError(f"{where}: an on_demand step must be per_level in the 'level' phase")
    since = raw.get("since", 1)
    if isinstance(since, bool) or not isinstance(since, int) or since < 1:
        raise TemplateError(f"{where}: 'since' must be a positive whole number (a template version)")
    after = _list(raw, "after", where)
    if not all(isinstance(a, str) for a in after):
        raise TemplateError(f"{where}: 'after' must be a list of step ids")
    fields = tuple(_parse_field(f, where, i) for i, f in enumerate(_list(raw, "fields", where), start=1))
    ids = [f.id for f in fields]
    if len(set(ids)) != len(ids):
        raise TemplateError(f"{where}: field ids must be unique")
    types = {f.id: f.type for f in fields}
    for spec in fields:
        for other in spec.required_with:
            if other not in types:
                raise TemplateError(f"{where}: field '{spec.id}': required_with names unknown field '{other}'")
        for control in spec.controls:
            if types.get(control) != "bool":
                raise TemplateError(
                    f"{where}: field '{spec.id}': required_if(_no) must name a yes/no field of this step, "
                    f"not '{control}'"
                )
    gates = tuple(_parse_gate(g, where) for g in _list(raw, "gates", where))
    return StepSpec(
        id=step_id,
        title=title,
        phase=phase,
        repeat=repeat,
        fields=fields,
        optional=optional,
        milestone=milestone,
        gates=gates,
        help=_help(raw, where),
        since=since,
        on_demand=on_demand,
        after=tuple(after),
        who_check=_flag(raw, "who_check", where, default=False),
    )


def _parse_field(raw: Any, step_where: str, index: int) -> FieldSpec:
    if not isinstance(raw, dict):
        raise TemplateError(f"{step_where}: field #{index} must be a table")
    field_id = raw.get("id")
    if not isinstance(field_id, str) or not field_id.isidentifier():
        raise TemplateError(f"{step_where}: field #{index}: 'id' must be an identifier")
    where = f"{step_where}: field '{field_id}'"
    ftype = _one_of(raw, "type", FIELD_TYPES, where)
    choices = tuple(_parse_choice(c, where) for c in _list(raw, "choices", where))
    if ftype in ("choice", "multi") and not choices:
        raise TemplateError(f"{where}: a {ftype} field needs 'choices'")
    low, high = _number(raw, "min", where), _number(raw, "max", where)
    if low is not None and high is not None and low > high:
        raise TemplateError(f"{where}: 'min' ({low:g}) is above 'max' ({high:g})")
    warn = raw.get("warn_above")
    if warn is not None and not (
        (isinstance(warn, (int, float)) and not isinstance(warn, bool))
        or (isinstance(warn, str) and warn.split(":", 1)[0] in ("setting", "product"))
    ):
        raise TemplateError(f"{where}: 'warn_above' must be a number, 'setting:NAME' or 'product:FIELD'")
    unit = raw.get("unit")
    if ftype in ("number", "integer") and not unit:
        raise TemplateError(f"{where}: a {ftype} field needs a 'unit'")
    catalogue = raw.get("catalogue")
    if ftype == "product" and catalogue not in CATALOGUES:
        raise TemplateError(f"{where}: a product field needs 'catalogue' = one of {', '.join(CATALOGUES)}")
    accept = raw.get("accept_units", [])
    if not isinstance(accept, list) or not all(isinstance(u, str) and u for u in accept):
        raise TemplateError(f"{where}: 'accept_units' must be a list of unit names")
    if accept and unit not in accept:
        raise TemplateError(f"{where}: 'accept_units' must include the field's own unit '{unit}'")
    _known_units(accept, where)
    controls, required_when = _controls(raw, "required_if", where), True
    if raw.get("required_if_no") is not None:
        if controls:
            raise TemplateError(f"{where}: give 'required_if' or 'required_if_no', not both")
        controls, required_when = _controls(raw, "required_if_no", where), False
    exclusive = raw.get("exclusive", [])
    if (
        not isinstance(exclusive, list)
        or not all(isinstance(e, str) for e in exclusive)
        or not set(exclusive) <= {c.value for c in choices}
        or (exclusive and ftype != "multi")
    ):
        raise TemplateError(f"{where}: 'exclusive' must list choices of a multi field")
    max_length = raw.get("max_length", 500)
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        raise TemplateError(f"{where}: 'max_length' must be a positive whole number")
    return FieldSpec(
        id=field_id,
        label=_text(raw, "label", where),
        type=ftype,
        unit=unit,
        accept_units=tuple(accept) or ((unit,) if unit else ()),
        choices=choices,
        min=low,
        max=high,
        warn_above=warn,
        required=_flag(raw, "required", where, default=True),
        required_if=controls[0] if controls else None,
        required_when=required_when,
        controls=controls,
        asked_when=_asked_when(raw, where),
        required_with=_controls(raw, "required_with", where),
        typical=_typical(raw, where),
        missing=_optional_text(raw, "missing", where) or "",
        exclusive=tuple(exclusive),
        catalogue=catalogue,
        record=_optional_text(raw, "record", where),
        max_length=max_length,
        help=_help(raw, where),
    )


def _parse_choice(raw: Any, where: str) -> Choice:
    if isinstance(raw, str):
        return Choice(raw, raw.replace("_", " ").capitalize())
    if isinstance(raw, dict) and isinstance(raw.get("value"), str) and isinstance(raw.get("label"), str):
        waives = raw.get("waives", [])
        if not isinstance(waives, list) or not all(isinstance(w, str) for w in waives):
            raise TemplateError(f"{where}: choice '{raw['value']}': 'waives' must be a list of step ids")
        regions = raw.get("regions", [])
        if not isinstance(regions, list) or not all(r in ("C", "T", "L", "S") for r in regions):
            raise TemplateError(f"{where}: choice '{raw['value']}': 'regions' must be a list of C, T, L, S")
        return Choice(raw["value"], raw["label"], tuple(waives), tuple(regions))
    raise TemplateError(f"{where}: each choice must be text or a table with 'value' and 'label'")


def _controls(raw: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    """required_if / required_if_no: one yes/no field of the step, or a list of them (any one)."""
    value = raw.get(key)
    if value is None:
        return ()
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise TemplateError(f"{where}: '{key}' must be a field id or a list of field ids")
    return tuple(names)


def _asked_when(raw: dict[str, Any], where: str) -> AskedWhen | None:
    value = raw.get("asked_when")
    if value is None:
        return None
    answers = value.get("in") if isinstance(value, dict) else None
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("step"), str)
        or not isinstance(value.get("field"), str)
        or not isinstance(answers, list)
        or not answers
        or not all(isinstance(a, str) for a in answers)
        or not isinstance(value.get("unknown", False), bool)
    ):
        raise TemplateError(f"{where}: 'asked_when' must be {{ step, field, in = [answers], unknown = true/false }}")
    return AskedWhen(value["step"], value["field"], tuple(answers), bool(value.get("unknown", False)))


def _typical(raw: dict[str, Any], where: str) -> str | None:
    value = _optional_text(raw, "typical", where)
    if value is not None and not value.startswith("catalogue:"):
        raise TemplateError(f"{where}: 'typical' must be 'catalogue:NAME' (a usual range in the product catalogue)")
    return value


def _parse_gate(raw: Any, where: str) -> Gate:
    if not isinstance(raw, dict):
        raise TemplateError(f"{where}: each gate must be a table")
    gate_id = _text(raw, "id", f"{where}: gate")
    gwhere = f"{where}: gate '{gate_id}'"
    if raw.get("countdown") not in (None, *COUNTDOWNS):
        raise TemplateError(f"{gwhere}: 'countdown' must be one of {', '.join(COUNTDOWNS)}")
    kind = _one_of(raw, "kind", GATE_KINDS, gwhere, default="step")
    return Gate(
        id=gate_id,
        kind=kind,
        requires=_text(raw, "requires", gwhere) if kind == "step" else "",
        scope=_one_of(raw, "scope", GATE_SCOPES, gwhere, default="case" if kind != "step" else None),
        message=_text(raw, "message", gwhere),
        countdown=raw.get("countdown"),
    )


def _list(raw: dict[str, Any], key: str, where: str) -> list[Any]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise TemplateError(f"{where}: '{key}' must be a list")
    return value


def _optional_text(raw: dict[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise TemplateError(f"{where}: '{key}' must be text")
    return value


def _help(raw: dict[str, Any], where: str) -> str:
    return _optional_text(raw, "help", where) or ""


def _flag(raw: dict[str, Any], key: str, where: str, *, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise TemplateError(f"{where}: '{key}' must be true or false")
    return value


def _known_units(units: list[str], where: str) -> None:
    from .units import UnitError, canonical_unit

    for unit in units:
        try:
            canonical_unit(unit)
        except UnitError:
            raise TemplateError(f"{where}: unknown unit '{unit}' in 'accept_units'") from None


def _text(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise TemplateError(f"{where}: '{key}' must be non-empty text")
    return value


def _one_of(raw: dict[str, Any], key: str, allowed: tuple[str, ...], where: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    if value not in allowed:
        raise TemplateError(f"{where}: '{key}' must be one of {', '.join(allowed)} (got {value!r})")
    return str(value)


def _number(raw: dict[str, Any], key: str, where: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TemplateError(f"{where}: '{key}' must be a number")
    return float(value)
