"""The case log: the one writer of case events, and the published snapshots of the cases in use.

Every use case goes through `writable()` (the case exists and is not signed) and `append()` (the
drafts become events, stored in one durable transaction with the messages they cause, then folded
into a new snapshot). A snapshot once handed out never changes: the next one is a successor copy,
so nobody ever sees an event before it is on disk, and the snapshot's events carry their stored
hashes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from .domain import events as ev
from .domain.changes import changes_of
from .domain.clock import Clock
from .domain.errors import Refusal
from .domain.events import Event
from .domain.state import CaseState
from .inputs import Draft, check_case_id
from .site import SiteConfig
from .store import Store
from .store.outbox import Outbound

MAX_CACHED_CASES = 16
# Which messages events cause (the operator's signature, an addendum); none unless a site has
# configured its interfaces. Called with the snapshot the events make and those events.
OutboxPolicy = Callable[[CaseState, list[Event]], Sequence[Outbound]]


def no_messages(_state: CaseState, _events: list[Event]) -> Sequence[Outbound]:
    return ()


class CaseLog:
    """Snapshots of the most recently used cases, and the durable append that makes the next one."""

    def __init__(self, store: Store, clock: Clock, site: SiteConfig, outbox: OutboxPolicy = no_messages) -> None:
        self.store, self.clock, self.site, self.outbox = store, clock, site, outbox
        self._states: OrderedDict[str, CaseState] = OrderedDict()

    def state(self, case_id: str) -> CaseState:
        """The case as its stored events say it is (a frozen snapshot)."""
        check_case_id(case_id)
        cached = self._states.get(case_id)
        if cached is not None:
            self._states.move_to_end(case_id)
            return cached
        stored = self.store.events(case_id)
        if not stored:
            raise Refusal("case", f"no case {case_id!r}")
        state = self._fresh(stored[0].values["setup"]["procedure"])
        for event in stored:
            state.apply(event)
        return self._publish(state.freeze())

    def status_of(self, events: list[Event]) -> str:
        """The status a case's events give it (for verify, which checks the case list against it)."""
        if not events:
            raise ValueError("a case without events has no status")
        state = self._fresh(events[0].values["setup"]["procedure"])
        for event in events:
            state.apply(event)
        return state.facts.status

    def writable(self, case_id: str) -> CaseState:
        """The case, refused if the operator has signed it (only addenda then)."""
        state = self.state(case_id)
        if state.facts.locked:
            raise Refusal("case", "the case is signed and locked; add an addendum instead")
        return state

    def start(self, first: Event, row: dict[str, Any]) -> CaseState:
        """Store a new case's opening event and record; its first snapshot."""
        procedure = first.values["setup"]["procedure"]
        stored = self.store.append(first.case_id, [first], case_row=row)
        state = self._fresh(procedure)
        state.apply(stored[0])
        return self._publish(state.freeze(changes_of(first.case_id, stored, None, state.facts.status)))

    def append(self, state: CaseState, drafts: list[Draft]) -> CaseState:
        """Store the drafts as one transaction (with the messages they cause); the new snapshot."""
        now = self.clock.now()
        base = len(state.events)
        new = [_event(state.case_id, base + i, d, now) for i, d in enumerate(drafts, start=1)]
        trial = state.successor()  # what the case will be: its status goes in the same transaction
        for event in new:
            trial.apply(event)
        stored = self.store.append(state.case_id, new, status=trial.facts.status, outbox=self.outbox(trial, new))
        after = state.successor()  # the published snapshot holds the events as stored (hashes included)
        for event in stored:
            after.apply(event)
        return self._publish(after.freeze(changes_of(state.case_id, stored, state.facts.status, after.facts.status)))

    def forget(self) -> None:
        self._states.clear()

    def _fresh(self, procedure: str) -> CaseState:
        template = self.site.templates.get(procedure)
        if template is None:
            raise Refusal("procedure", f"no template installed for {procedure}")
        return CaseState(template, self.site.catalogue, self.site.settings, self.site.coding)

    def _publish(self, state: CaseState) -> CaseState:
        """Keep the snapshots of the most recently used cases (a demo of 10,000 cases stays small)."""
        self._states[state.case_id] = state
        self._states.move_to_end(state.case_id)
        while len(self._states) > MAX_CACHED_CASES:
            self._states.popitem(last=False)
        return state


def _event(case_id: str, seq: int, draft: Draft, now: datetime) -> Event:
    return Event(
        case_id=case_id,
        seq=seq,
        kind=draft.kind,
        clinical_time=draft.clinical_time or now,
        recorded_time=now,
        actor=draft.actor,
        step=draft.step,
        level=draft.level,
        side=draft.side,
        values=dict(draft.values or {}),
        reason=draft.reason,
        late_reason=draft.late_reason,
        ref=draft.ref,
    )


__all__ = ["CaseLog", "OutboxPolicy", "ev", "no_messages"]
