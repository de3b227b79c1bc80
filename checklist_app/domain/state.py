"""Case state: what the event log says about a case, folded one event at a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import events as ev
from .catalogue import Catalogue
from .changes import Changes
from .events import Event
from .settings import Settings
from .setup import CaseSetup
from .template import StepSpec, Template

PENDING, DONE, NOT_APPLICABLE = "pending", "done", "not_applicable"
STATUS_LABELS = {
    "in_progress": "in progress",
    "complete": "ready to sign",
    "nurse_signed": "nurse signed",
    "signed": "signed",
    "amended": "amended",
}
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
    """A step as it applies to this case: once, or for one level, or for one side of one level."""

    spec: StepSpec
    level: str | None = None
    side: str | None = None
    entries: list[Entry] = field(default_factory=list)

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
        return entry.status if entry else PENDING

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

    def __init__(self, template: Template, catalogue: Catalogue, settings: Settings) -> None:
        self.template = template
        self.catalogue = catalogue
        self.settings = settings
        self.frozen = False
        self.changes: Changes | None = None
        self._reset()

    def successor(self) -> CaseState:
        """An unfrozen copy to fold new events into; this snapshot stays exactly as it is."""
        twin = CaseState(self.template, self.catalogue, self.settings)
        twin.case_id, twin.setup, twin.current_nurse = self.case_id, self.setup, self.current_nurse
        twin.events = list(self.events)
        entries = {seq: Entry(e.event, list(e.corrections), e.retraction) for seq, e in self.entries_by_seq.items()}
        twin.entries_by_seq = entries
        twin.instances = [
            StepInstance(i.spec, i.level, i.side, [entries[e.seq] for e in i.entries]) for i in self.instances
        ]
        twin._index = {inst.key: inst for inst in twin.instances}
        twin.records = {step: [entries[e.seq] for e in found] for step, found in self.records.items()}
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
        self.instances: list[StepInstance] = []
        self._index: dict[tuple[str, str | None, str | None], StepInstance] = {}
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
        self._expand()

    def _on_entry(self, event: Event) -> None:
        entry = Entry(event)
        self.entries_by_seq[event.seq] = entry
        spec = self.template.step(event.step or "")
        if spec.repeat == "any":
            self.records.setdefault(spec.id, []).append(entry)
        else:
            self._index[(spec.id, event.level, event.side)].entries.append(entry)

    def _on_correction(self, event: Event) -> None:
        self.entries_by_seq[event.ref or 0].corrections.append(event)

    def _on_retraction(self, event: Event) -> None:
        self.entries_by_seq[event.ref or 0].retraction = event

    def _on_staff(self, event: Event) -> None:
        self.staff_changes.append(event)
        if event.values.get("role") == "nurse":
            self.current_nurse = str(event.values.get("name", ""))

    def _expand(self) -> None:
        assert self.setup is not None
        for phase in ("before", "level", "after"):
            self._expand_phase(phase)
        self._index = {inst.key: inst for inst in self.instances}

    def _expand_phase(self, phase: str) -> None:
        assert self.setup is not None
        steps = [s for s in self.template.steps if s.phase == phase and s.repeat != "any"]
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

    def live_records(self, step: str) -> list[Entry]:
        return [e for e in self.records.get(step, []) if not e.retracted]

    @property
    def batches(self) -> list[Entry]:
        return self.live_records("cement_mix")

    @property
    def balloon_kits(self) -> list[Entry]:
        return self.live_records("balloon_kit")

    def milestone(self, name: str) -> datetime | None:
        """PIR, AS, PST, PF, AF or POR, from the steps the template marks with that milestone."""
        times = [
            i.entry.clinical_time
            for i in self.instances
            if i.spec.milestone == name and i.entry and i.entry.status == DONE
        ]
        return min(times) if times else None

    @property
    def milestones(self) -> dict[str, datetime | None]:
        return {name: self.milestone(name) for name in ("PIR", "AS", "PST", "PF", "AF", "POR")}

    def signature(self, role: str) -> Event | None:
        return next((s for s in self.signatures if s.values.get("role") == role), None)

    @property
    def locked(self) -> bool:
        """Signed by the operator: from now on only addenda."""
        return self.signature("operator") is not None

    @property
    def status(self) -> str:
        if self.locked:
            return "amended" if self.addenda else "signed"
        if self.signature("nurse"):
            return "nurse_signed"
        return "complete" if self.current is None else "in_progress"

    def gate_overridden(self, gate: str, step: str, level: str | None, side: str | None) -> Event | None:
        for override in self.overrides:
            if (
                override.values.get("gate") == gate
                and override.step == step
                and override.level in (None, level)
                and override.side in (None, side)
            ):
                return override
        return None

    def entry_for(self, seq: int) -> Entry | None:
        return self.entries_by_seq.get(seq)

    def step_spec_of(self, entry: Entry) -> StepSpec:
        return self.template.step(entry.event.step or "")


def _append_to(attr: str):
    def handler(state: CaseState, event: Event) -> None:
        getattr(state, attr).append(event)

    return handler


def _keyed(attr: str, key: str):
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


def fold(events: list[Event], template: Template, catalogue: Catalogue, settings: Settings) -> CaseState:
    """The state of a case from its whole log."""
    state = CaseState(template, catalogue, settings)
    for event in events:
        state.apply(event)
    return state
