"""Hard stops: what a step needs done first (the time-out, the cement hardened), the cement batch
within its working window, and expired lots.

A closed gate refuses the step (`GateClosed`, which turns straight into an override request) unless
an override with a reason was recorded for it; the override is printed in the note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from .errors import Refusal
from .events import Event
from .state import DONE, CaseState
from .template import Gate, StepSpec


class GateClosed(Refusal):
    """A hard stop: the step may not be recorded yet. `gates` says which, for an override."""

    def __init__(self, gates: list[Gate]) -> None:
        super().__init__("gate", "; ".join(g.message for g in gates))
        self.gates = gates


def gate_overridden(state: CaseState, gate: str, step: str, level: str | None, side: str | None) -> Event | None:
    """The override that opened this gate for this step instance (level/side None cover every one)."""
    for override in state.overrides:
        if (
            override.values.get("gate") == gate
            and override.step == step
            and override.level in (None, level)
            and override.side in (None, side)
        ):
            return override
    return None


def closed_gates(
    state: CaseState,
    spec: StepSpec,
    level: str | None,
    side: str | None,
    when: datetime,
    values: Mapping[str, Any] | None = None,
) -> list[Gate]:
    """The template's hard stops still closed for this step instance, at clinical time `when`.

    `values` are the step's values being recorded (the batch chosen); without them (the tick's
    look-ahead for a pending step) the newest batch recorded stands in for the one the form offers.
    """
    closed = []
    for gate in spec.gates:
        if gate_overridden(state, gate.id, spec.id, level, side):
            continue
        if gate.kind == "batch_window":
            shut = _outside_batch_window(state, spec, gate, values, when)
            closed += [shut] if shut else []
            continue
        scope_level = level if gate.scope == "level" else None
        required = state.instances_of(gate.requires, scope_level)
        done = bool(required) and all(i.status == DONE for i in required)
        if not done or (gate.countdown == "hardening" and not _hardened(state, level, when)):
            closed.append(gate)
    return closed


def _outside_batch_window(
    state: CaseState, spec: StepSpec, gate: Gate, values: Mapping[str, Any] | None, when: datetime
) -> Gate | None:
    """SPEC §3: cement is injected only between its dough time (before: liquid, it leaks) and the end
    of its working time (after: it cannot be injected safely), both temperature-adjusted."""
    field = next((f for f in spec.fields if f.type == "batch" and f.record == "cement_mix"), None)
    if field is None:
        return None
    if values is not None:
        seq = values.get(field.id)
    else:
        live = state.live_records("cement_mix")
        seq = live[-1].seq if live else None
    batch = state.facts.batch(seq)
    if batch is None or batch.window is None:  # no batch yet (refused as missing) or an unknown product
        return None
    window, lot = batch.window, batch.lot or "?"
    if when < window.ready:
        why = f"cement batch lot {lot} is not ready: dough time at {_local(window.ready)} (liquid cement leaks)"
    elif when > window.working_end:
        why = f"cement batch lot {lot} is past its working time (ended {_local(window.working_end)}): mix a new batch"
    else:
        return None
    return replace(gate, message=why[0].upper() + why[1:])


def _local(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M")


def _hardened(state: CaseState, level: str | None, when: datetime) -> bool:
    end = state.facts.hardening_end(level or "")
    return end is None or when >= end


def expired_lot_gate(spec: StepSpec, values: Mapping[str, Any], when: datetime) -> Gate | None:
    """An expired cement or balloon lot is refused unless overridden with a reason."""
    expiry = values.get("expiry")
    if not expiry or date.fromisoformat(str(expiry)) >= when.astimezone().date():  # the room's local date
        return None
    return Gate(
        id="expired_lot",
        requires=spec.id,
        scope="case",
        message=f"Lot {values.get('lot', '')} expired on {expiry}: use another lot or override with a reason",
    )
