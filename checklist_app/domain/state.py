"""Case state: what the event log says about a case, folded one event at a time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import events as ev
from .catalogue import Catalogue
from .changes import Changes
from .coding import CodingTables
from .events import Event
from .facts import Facts
from .settings import Settings
from .setup import CaseSetup
from .template import StepSpec, Template

PENDING, DONE, NOT_APPLICABLE = "pending", "done", "not_applicable"
SIDE_LABELS = {"left": "left", "right": "right"}


@dataclass
class Entry:
    """One answer to a step (done or not applicable) and everything later said about it."""

    event: Event
    corrections: list[Event] = field(default_factory=list)
    retraction: Event | None = None

    @property
    def seq(self) -> int:
        return self.event.seq

    @property
    def latest(self) -> Event:
        return self.corrections[-1] if self.corrections else self.event

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.latest.values)

    @property
    def clinical_time(self) -> datetime:
        return self.latest.clinical_time

    @property
    def status(self) -> str:
        return NOT_APPLICABLE if self.event.kind == ev.NOT_APPLICABLE else DONE

    @property
    def retracted(self) -> bool:
        return self.retraction is not None


@dataclass
class StepInstance:
    """A step as it applies to this case: once, or for one level, or for one side of one level.

    `waived` says why a step nobody answered is no longer needed (its level converted to
    vertebroplasty, or abandoned): it then counts as not applicable, with that reason.
    """

    spec: StepSpec
    level: str | None = None
    side: str | None = None
    entries: list[Entry] = field(default_factory=list)
    waived: str | None = None

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        return (self.spec.id, self.level, self.side)

    @property
    def entry(self) -> Entry | None:
        """The answer in force: the latest one not retracted."""
        for entry in reversed(self.entries):
            if not entry.retracted:
                return entry
        return None

    @property
    def status(self) -> str:
        entry = self.entry
        if entry is not None:
            return entry.status
        return NOT_APPLICABLE if self.waived else PENDING

    @property
    def label(self) -> str:
        return self.spec.title + instance_suffix(self.level, self.side)


def instance_suffix(level: str | None, side: str | None) -> str:
    parts = [p for p in (level, side) if p]
    return f" ({' '.join(parts)})" if parts else ""


class CaseState:
    """Everything derived from a case's events. Built by `apply`-ing events in order.

    A state handed out by the service is a snapshot: `frozen`, never changed again, with
    `changes` saying what the use case that produced it appended. The service makes the next
    snapshot with `successor()` (a copy the new events are folded into), so the cost of a step does
    not grow with the case and a snapshot someone holds never shows an unsaved event.
    """

    def __init__(self, template: Template, catalogue: Catalogue, settings: Settings, coding: CodingTables) -> None:
        self.template = template
        self.catalogue = catalogue
        self.settings = settings
        self.coding = coding
        self.frozen = False
        self.changes: Changes | None = None
        self._reset()

    def successor(self) -> CaseState:
        """An unfrozen copy to fold new events into; this snapshot stays exactly as it is.

        The copy shares the step instances and entries, which the fold never changes in place: a
        new entry or a correction replaces the objects it touches (copy on write), so making a
        successor and folding one event costs the same at the thousandth event as at the tenth.
        """
        twin = CaseState(self.template, self.catalogue, self.settings, self.coding)
        twin.case_id, twin.setup, twin.current_nurse = self.case_id, self.setup, self.current_nurse
        twin.template_version = self.template_version
        twin.events = list(self.events)
        twin.entries_by_seq = dict(self.entries_by_seq)
        twin.instances = list(self.instances)
        twin._index = dict(self._index)
        twin._position = self._position  # where each instance sits: fixed once the case is expanded
        twin.records = dict(self.records)  # each list is replaced, never appended to, when it grows
        twin.overrides = list(self.overrides)
        twin.acknowledged_warnings = dict(self.acknowledged_warnings)
        twin.acknowledged_alarms = dict(self.acknowledged_alarms)
        twin.staff_changes = list(self.staff_changes)
        twin.findings = self.findings
        twin.signatures = list(self.signatures)
        twin.addenda = list(self.addenda)
        return twin

    def freeze(self, changes: Changes | None = None) -> CaseState:
        """Publish this state as a snapshot: from now on `apply` refuses."""
        self.frozen, self.changes = True, changes
        return self

    def _reset(self) -> None:
        self.case_id = ""
        self.setup: CaseSetup | None = None
        self.events: list[Event] = []
        self.template_version = self.template.version  # the version the case was started on
        self.instances: list[StepInstance] = []
        self._index: dict[tuple[str, str | None, str | None], StepInstance] = {}
        self._position: dict[tuple[str, str | None, str | None], int] = {}
        self.records: dict[str, list[Entry]] = {}  # repeat="any" steps: cement batches, balloon kits
        self.entries_by_seq: dict[int, Entry] = {}
        self.overrides: list[Event] = []
        self.acknowledged_warnings: dict[str, Event] = {}
        self.acknowledged_alarms: dict[str, Event] = {}
        self.staff_changes: list[Event] = []
        self.current_nurse = ""
        self.findings: Event | None = None
        self.signatures: list[Event] = []
        self.addenda: list[Event] = []
        self._facts: Facts | None = None
        self._facts_version = -1

    # -- folding -----------------------------------------------------------------------------
    def apply(self, event: Event) -> None:
        """Add one event to the state (never to a published snapshot)."""
        if self.frozen:
            raise RuntimeError("a published case snapshot never changes; fold into its successor()")
        handler = _HANDLERS.get(event.kind)
        if handler is None:
            raise ValueError(f"unknown event kind {event.kind!r} (seq {event.seq})")
        handler(self, event)
        self.events.append(event)

    def _on_started(self, event: Event) -> None:
        self.case_id = event.case_id
        self.setup = CaseSetup.from_dict(event.values["setup"])
        self.current_nurse = self.setup.team.nurse
        started_on = event.values.get("template", {})
        version = started_on.get("version") if isinstance(started_on, dict) else None
        self.template_version = version if isinstance(version, int) else 1
        self._expand()

    def _on_entry(self, event: Event) -> None:
        entry = Entry(event)
        self.entries_by_seq[event.seq] = entry
        spec = self.template.step(event.step or "")
        if _kept_as_record(spec):
            self.records[spec.id] = [*self.records.get(spec.id, []), entry]
            _rewaive(self, spec, event.level)
        else:
            old = self._index[(spec.id, event.level, event.side)]
            _put_instance(self, StepInstance(old.spec, old.level, old.side, [*old.entries, entry], old.waived))

    def _on_correction(self, event: Event) -> None:
        old = self.entries_by_seq[event.ref or 0]
        _put_entry(self, old, Entry(old.event, [*old.corrections, event], old.retraction))
        _rewaive(self, self.template.step(old.event.step or ""), old.event.level)

    def _on_retraction(self, event: Event) -> None:
        old = self.entries_by_seq[event.ref or 0]
        _put_entry(self, old, Entry(old.event, list(old.corrections), event))
        _rewaive(self, self.template.step(old.event.step or ""), old.event.level)

    def _on_staff(self, event: Event) -> None:
        self.staff_changes.append(event)
        if event.values.get("role") == "nurse":
            self.current_nurse = str(event.values.get("name", ""))

    def _expand(self) -> None:
        assert self.setup is not None
        for phase in ("before", "level", "after"):
            self._expand_phase(phase)
        self._index = {inst.key: inst for inst in self.instances}
        self._position = {inst.key: n for n, inst in enumerate(self.instances)}

    def _expand_phase(self, phase: str) -> None:
        assert self.setup is not None
        steps = [
            s
            for s in self.template.steps
            if s.phase == phase and not _kept_as_record(s) and s.since <= self.template_version
        ]
        if phase != "level":
            for spec in steps:
                if spec.repeat == "per_level":
                    self.instances += [StepInstance(spec, lv) for lv in self.setup.level_names]
                else:
                    self.instances.append(StepInstance(spec))
            return
        for planned in self.setup.levels:
            for spec in steps:
                sides = planned.sides if spec.repeat == "per_side" else (None,)
                self.instances += [StepInstance(spec, planned.level, side) for side in sides]

    # -- questions ---------------------------------------------------------------------------
    def instance(self, step: str, level: str | None = None, side: str | None = None) -> StepInstance:
        return self._index[(step, level, side)]

    def has_instance(self, step: str, level: str | None = None, side: str | None = None) -> bool:
        return (step, level, side) in self._index

    def instances_of(self, step: str, level: str | None = None) -> list[StepInstance]:
        return [i for i in self.instances if i.spec.id == step and (level is None or i.level == level)]

    @property
    def current(self) -> StepInstance | None:
        """The first pending step: what the nurse should do next."""
        return next((i for i in self.instances if i.status == PENDING), None)

    @property
    def progress(self) -> tuple[int, int]:
        done = sum(1 for i in self.instances if i.status != PENDING)
        return done, len(self.instances)

    def live_records(self, step: str, level: str | None = None) -> list[Entry]:
        """The entries of a repeatable or on-demand step (cement batches, balloon kits, a level's
        change of plan) that were not retracted; `level` keeps those of one level."""
        return [e for e in self.records.get(step, []) if not e.retracted and (level is None or e.event.level == level)]

    def entry_for(self, seq: int) -> Entry | None:
        return self.entries_by_seq.get(seq)

    def step_spec_of(self, entry: Entry) -> StepSpec:
        return self.template.step(entry.event.step or "")

    @property
    def facts(self) -> Facts:
        """The typed projection of this snapshot (batches, injections, milestones, status...), made once."""
        if self._facts is None or self._facts_version != len(self.events):
            self._facts, self._facts_version = Facts(self), len(self.events)
        return self._facts


def _put_instance(state: CaseState, instance: StepInstance) -> None:
    """Replace a step instance by its new version (the old one may belong to a published snapshot)."""
    state.instances[state._position[instance.key]] = instance
    state._index[instance.key] = instance


def _kept_as_record(spec: StepSpec) -> bool:
    """Steps that are never pending are kept as records, not checklist rows: repeatable ones (cement
    batches, balloon kits) and on-demand ones (a level's change of plan)."""
    return spec.repeat == "any" or spec.on_demand


def _rewaive(state: CaseState, spec: StepSpec, level: str | None) -> None:
    """After a level's change of plan was recorded, corrected or retracted: which of its steps are waived.

    The answer in force names the steps it makes unnecessary (its choice's `waives`, "*" for all);
    each step instance of the level not yet answered is marked waived with the reason, the others
    are left as they are. Retracting the change brings the steps back as pending.
    """
    if not spec.on_demand or level is None:
        return
    live = state.live_records(spec.id, level)
    waives: set[str] = set()
    reason = ""
    if live:
        entry = live[-1]
        for fspec in spec.fields:
            chosen = entry.values.get(fspec.id)
            for choice in fspec.choices:
                if choice.value == chosen and choice.waives:
                    waives |= set(choice.waives)
                    reason = choice.label
    for inst in list(state.instances):
        if inst.level != level or inst.spec.phase != "level":
            continue
        waived = reason if ("*" in waives or inst.spec.id in waives) else None
        if inst.waived != waived:
            _put_instance(state, StepInstance(inst.spec, inst.level, inst.side, list(inst.entries), waived))


def _put_entry(state: CaseState, old: Entry, new: Entry) -> None:
    """Replace an entry by its corrected or retracted version wherever the state holds it."""
    state.entries_by_seq[new.seq] = new
    e = old.event
    spec = state.template.step(e.step or "")
    if _kept_as_record(spec):
        state.records[spec.id] = [new if x is old else x for x in state.records.get(spec.id, [])]
        return
    inst = state._index[(spec.id, e.level, e.side)]
    entries = [new if x is old else x for x in inst.entries]
    _put_instance(state, StepInstance(inst.spec, inst.level, inst.side, entries, inst.waived))


def _append_to(attr: str) -> Callable[[CaseState, Event], None]:
    def handler(state: CaseState, event: Event) -> None:
        getattr(state, attr).append(event)

    return handler


def _keyed(attr: str, key: str) -> Callable[[CaseState, Event], None]:
    def handler(state: CaseState, event: Event) -> None:
        getattr(state, attr)[str(event.values.get(key))] = event

    return handler


def _set_findings(state: CaseState, event: Event) -> None:
    state.findings = event


_HANDLERS = {
    ev.CASE_STARTED: CaseState._on_started,
    ev.STEP_DONE: CaseState._on_entry,
    ev.NOT_APPLICABLE: CaseState._on_entry,
    ev.CORRECTION: CaseState._on_correction,
    ev.RETRACTION: CaseState._on_retraction,
    ev.GATE_OVERRIDE: _append_to("overrides"),
    ev.WARNING_ACKNOWLEDGED: _keyed("acknowledged_warnings", "warning"),
    ev.ALARM_ACKNOWLEDGED: _keyed("acknowledged_alarms", "alarm"),
    ev.STAFF_CHANGE: CaseState._on_staff,
    ev.FINDINGS: _set_findings,
    ev.SIGNATURE: _append_to("signatures"),
    ev.ADDENDUM: _append_to("addenda"),
}


def fold(
    events: list[Event], template: Template, catalogue: Catalogue, settings: Settings, coding: CodingTables
) -> CaseState:
    """The state of a case from its whole log."""
    state = CaseState(template, catalogue, settings, coding)
    for event in events:
        state.apply(event)
    return state
