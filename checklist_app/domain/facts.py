"""One typed projection of a case: every value a rule, a timer, the note or an outbound message reads.

The fold (state.py) keeps the log's structure: steps, their entries, corrections and retractions.
The facts say what the case *is*: the batches with their windows, the injections and inflations
with the batch or kit each used, the milestones, the labs and the dose, the signatures and the
status. They are computed once per snapshot (`state.facts`), so each value is read in one place
and every reader gets the same number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from . import events as ev
from .catalogue import BalloonProduct, CementProduct
from .events import Event

if TYPE_CHECKING:
    from .state import CaseState, Entry, StepInstance

P = TypeVar("P")
DONE = "done"
MILESTONES = ("PIR", "AS", "PST", "PF", "AF", "POR")
STATUS_LABELS = {
    "in_progress": "in progress",
    "complete": "ready to sign",
    "nurse_signed": "nurse signed",
    "signed": "signed",
    "amended": "amended",
}


@dataclass(frozen=True)
class Window:
    """A cement batch's times from its mix start: ready to inject, end of working time, set (hard)."""

    ready: datetime
    working_end: datetime
    set: datetime


@dataclass(frozen=True)
class Batch:
    """A cement batch as mixed: its product, lot and its working window (None if the product is unknown)."""

    seq: int
    product_id: str
    product: CementProduct | None
    lot: str
    expiry: str | None
    gtin: str | None
    t0: datetime
    room_temperature: float | None
    window: Window | None
    entry: Entry


@dataclass(frozen=True)
class Kit:
    """A balloon kit as opened."""

    seq: int
    product_id: str
    product: BalloonProduct | None
    lot: str
    expiry: str | None
    gtin: str | None
    serial: str | None
    opened: datetime
    entry: Entry


@dataclass(frozen=True)
class Injection:
    """One cement injection: where, when, how much, from which batch, why it stopped, any leak."""

    seq: int
    level: str
    side: str
    time: datetime
    volume_ml: float | None
    batch_seq: int | None
    stop_reason: str | None
    leaks: tuple[str, ...]
    symptomatic: bool


@dataclass(frozen=True)
class Inflation:
    """One balloon inflation: the kit it used (or, recorded before kits were named, its own product and lot)."""

    seq: int
    level: str
    side: str
    time: datetime
    kit_seq: int | None
    product_id: str
    lot: str
    pressure_psi: float | None
    volume_ml: float | None
    end_point: str | None


@dataclass(frozen=True)
class Lab:
    """A laboratory value (INR, platelets) with where it was recorded."""

    name: str
    value: float
    unit: str
    source: str  # "set-up" or the step that recorded it
    drawn_at: datetime | None = None


@dataclass(frozen=True)
class DoseReport:
    """The radiation dose read from the modality's display."""

    fluoro_min: float | None
    air_kerma_mgy: float | None
    kap_gycm2: float | None
    runs: int | None


class Facts:
    """The typed projection of one case snapshot (see the module docstring)."""

    def __init__(self, state: CaseState) -> None:
        self.state = state

    # Each projection is built the first time it is read, then kept: asking a snapshot for its
    # status does not build its batches, and a snapshot is frozen so nothing goes stale.
    @cached_property
    def batches(self) -> tuple[Batch, ...]:
        return tuple(_batch(self.state, e) for e in self.state.live_records("cement_mix"))

    @cached_property
    def kits(self) -> tuple[Kit, ...]:
        return tuple(_kit(self.state, e) for e in self.state.live_records("balloon_kit"))

    @cached_property
    def injections(self) -> tuple[Injection, ...]:
        return tuple(_injection(e, i.level, i.side) for i, e in _done(self.state, "cement_injection"))

    @cached_property
    def inflations(self) -> tuple[Inflation, ...]:
        return tuple(_inflation(self.state, e, i.level, i.side) for i, e in _done(self.state, "balloon_inflation"))

    @cached_property
    def milestones(self) -> dict[str, datetime | None]:
        return {name: _milestone(self.state, name) for name in MILESTONES}

    @cached_property
    def signatures(self) -> dict[str, Event]:
        return {str(s.values.get("role")): s for s in reversed(self.state.signatures)}

    # -- records, milestones, signatures -----------------------------------------------------------
    def batch(self, seq: Any) -> Batch | None:
        return next((b for b in self.batches if b.seq == seq), None)

    def kit(self, seq: Any) -> Kit | None:
        return next((k for k in self.kits if k.seq == seq), None)

    def milestone(self, name: str) -> datetime | None:
        return self.milestones.get(name)

    def signature(self, role: str) -> Event | None:
        """The first signature of `role` (nurse, operator), or None."""
        return self.signatures.get(role)

    @property
    def locked(self) -> bool:
        """Signed by the operator: from now on only addenda."""
        return "operator" in self.signatures

    @property
    def status(self) -> str:
        if self.locked:
            return "amended" if self.state.addenda else "signed"
        if "nurse" in self.signatures:
            return "nurse_signed"
        return "complete" if self.state.current is None else "in_progress"

    # -- people ------------------------------------------------------------------------------------
    def held(self, role: str) -> set[str]:
        """Everyone who held `role` (nurse, operator...) in this case: at set-up or by a handover."""
        state, setup = self.state, self.state.setup
        people = {str(e.values.get("name")) for e in state.staff_changes if e.values.get("role") == role}
        if setup is not None:
            people |= {setup.team.nurse} if role == "nurse" else {setup.team.operator} if role == "operator" else set()
        if role == "nurse":
            people.add(state.current_nurse)
        return {p for p in people if p}

    def team(self) -> list[str]:
        """Everyone on the case now, the signed-in nurse included, without repeats (the time-out's team)."""
        setup = self.state.setup
        if setup is None:
            return []
        team = setup.team
        people = [team.operator, self.state.current_nurse, team.anaesthesia, *team.assistants]
        return list(dict.fromkeys(p for p in people if p))

    # -- per level ---------------------------------------------------------------------------------
    def injections_at(self, level: str) -> tuple[Injection, ...]:
        return tuple(i for i in self.injections if i.level == level)

    def hardening_end(self, level: str) -> datetime | None:
        """When the cement of a level is hard: the set time of the batch of its last injection.

        None when nothing was injected at that level (nothing to wait for) or the product is unknown.
        """
        done = self.injections_at(level)
        if not done:
            return None
        last = max(done, key=lambda i: i.time)
        batch = self.batch(last.batch_seq)
        if batch is None or batch.window is None:
            return None
        return max(batch.window.set, last.time)

    # -- labs and dose -----------------------------------------------------------------------------
    def labs(self) -> dict[str, Lab]:
        """INR and platelets: the pre-procedure checks' value where recorded, else the set-up screen's."""
        found: dict[str, Lab] = {}
        screen = self.state.setup.screen if self.state.setup else {}
        prechecks = _entry(self.state, "prechecks")
        for name, unit in (("inr", ""), ("platelets", "×10⁹/L")):
            if prechecks is not None and isinstance(prechecks.values.get(name), (int, float)):
                found[name] = Lab(name, float(prechecks.values[name]), unit, "Pre-procedure checks")
            elif isinstance(screen.get(name), (int, float)):
                found[name] = Lab(name, float(screen[name]), unit, "Contraindication screen")
        return found

    def dose(self) -> DoseReport | None:
        entry = _entry(self.state, "radiation_dose")
        if entry is None:
            return None
        v = entry.values
        return DoseReport(v.get("fluoro_time"), v.get("air_kerma"), v.get("kap"), v.get("runs"))


# -- building the facts ----------------------------------------------------------------------------
def _done(state: CaseState, step: str) -> list[tuple[StepInstance, Entry]]:
    """The instances of `step` answered as done, each with its entry in force."""
    found = []
    for inst in state.instances_of(step):
        entry = inst.entry
        if entry is not None and entry.status == DONE:
            found.append((inst, entry))
    return found


def _entry(state: CaseState, step: str) -> Entry | None:
    if not state.has_instance(step):
        return None
    entry = state.instance(step).entry
    return entry if entry is not None and entry.status == DONE else None


def _milestone(state: CaseState, name: str) -> datetime | None:
    """PIR, AS, PST, PF, AF or POR, from the steps the template marks with that milestone."""
    times = [
        i.entry.clinical_time
        for i in state.instances
        if i.spec.milestone == name and i.entry is not None and i.entry.status == DONE
    ]
    return min(times) if times else None


def _minutes(value: float) -> timedelta:
    return timedelta(minutes=float(value))


def _product(lookup: Callable[[str], P], entry: Entry) -> tuple[str, P | None]:
    """The product id an entry names and its catalogue entry (None when the catalogue lacks it)."""
    product_id = str(entry.values.get("product", ""))
    try:
        return product_id, lookup(product_id)
    except KeyError:
        return product_id, None


def _batch(state: CaseState, entry: Entry) -> Batch:
    values = entry.values
    product_id, product = _product(state.catalogue.cement, entry)
    t0 = entry.clinical_time
    window = None
    if product is not None:
        window = Window(
            t0 + _minutes(product.dough_time_min),
            t0 + _minutes(product.working_end_min),
            t0 + _minutes(product.set_time_min),
        )
    temperature = values.get("room_temperature")
    return Batch(
        seq=entry.seq,
        product_id=product_id,
        product=product,
        lot=str(values.get("lot", "")),
        expiry=values.get("expiry"),
        gtin=values.get("gtin"),
        t0=t0,
        room_temperature=float(temperature) if isinstance(temperature, (int, float)) else None,
        window=window,
        entry=entry,
    )


def _kit(state: CaseState, entry: Entry) -> Kit:
    values = entry.values
    product_id, product = _product(state.catalogue.balloon, entry)
    return Kit(
        seq=entry.seq,
        product_id=product_id,
        product=product,
        lot=str(values.get("lot", "")),
        expiry=values.get("expiry"),
        gtin=values.get("gtin"),
        serial=values.get("serial"),
        opened=entry.clinical_time,
        entry=entry,
    )


def _injection(entry: Entry, level: str | None, side: str | None) -> Injection:
    v = entry.values
    leak = v.get("leak")
    leaks: tuple[str, ...] = tuple(leak) if isinstance(leak, (list, tuple)) else ((str(leak),) if leak else ())
    leaks = tuple(x for x in leaks if x != "none")
    batch = v.get("batch")
    return Injection(
        seq=entry.seq,
        level=level or "",
        side=side or "",
        time=entry.clinical_time,
        volume_ml=_number(v.get("volume")),
        batch_seq=batch if isinstance(batch, int) and not isinstance(batch, bool) else None,
        stop_reason=v.get("stop_reason"),
        leaks=leaks,
        symptomatic=v.get("symptomatic") is True,
    )


def _inflation(state: CaseState, entry: Entry, level: str | None, side: str | None) -> Inflation:
    v = entry.values
    kit_seq = v.get("kit") if isinstance(v.get("kit"), int) and not isinstance(v.get("kit"), bool) else None
    kit = state.entry_for(kit_seq) if kit_seq is not None else None
    if kit is not None:  # the kit named: its product and lot
        product_id, lot = str(kit.values.get("product", "")), str(kit.values.get("lot", ""))
    else:  # recorded before kits were named (template version 1): its own product and lot/UDI
        product_id, lot = str(v.get("balloon", "")), str(v.get("lot_udi", ""))
    return Inflation(
        seq=entry.seq,
        level=level or "",
        side=side or "",
        time=entry.clinical_time,
        kit_seq=kit.seq if kit is not None else None,
        product_id=product_id,
        lot=lot,
        pressure_psi=_number(v.get("pressure")),
        volume_ml=_number(v.get("volume")),
        end_point=v.get("end_point"),
    )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


__all__ = ["Batch", "DoseReport", "Facts", "Inflation", "Injection", "Kit", "Lab", "Window", "ev"]
