"""The Qt-free Python API: every change to a case goes through here (validate, append durably, return).

`ChecklistService` is a thin facade over composed parts: the case log (the one writer and the
published snapshots), the step use cases, the signing use cases and the staff directory. Each use
case takes keyword arguments only, refuses bad input with a `Refusal` naming the field (before
anything is written), appends its events in one durable transaction and returns the case's new
snapshot, whose `changes` says what was appended. The window, the command line and scripts all use
it the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import paths
from .caselog import CaseLog, OutboxPolicy, no_messages
from .domain.advisories import Advisory, advisories, unacknowledged
from .domain.alarms import Alarm, alarms
from .domain.catalogue import Catalogue
from .domain.clock import Clock, SystemClock
from .domain.findings import Finding, RoomStatus, room_status
from .domain.gates import closed_gates
from .domain.settings import Settings
from .domain.state import CaseState
from .domain.template import Gate, Template
from .domain.timers import Timer, timers
from .inputs import Draft
from .records import RecordKeeping
from .signing import DEFAULT_MEANING, MEANINGS, MEANINGS_BY_ROLE, SigningUseCases
from .site import SiteConfig, load_site_config, load_templates
from .staff_directory import ROLES, StaffDirectory
from .steps import StepUseCases
from .store import CaseRow, Store, StoreError

__all__ = [
    "DEFAULT_MEANING",
    "MEANINGS",
    "MEANINGS_BY_ROLE",
    "ROLES",
    "ChecklistService",
    "Draft",
    "CaseRow",
    "SiteConfig",
    "StoreError",
    "load_templates",
]


def _delegate(part: str, name: str) -> Any:
    """A facade attribute that is the composed part's own bound method (its signature and docstring)."""

    def bound(self: ChecklistService) -> Any:
        return getattr(getattr(self, part), name)

    return property(bound, doc=f"The use case `{part}.{name}` (see its own documentation).")


class ChecklistService:
    """The use cases of the checklist over one store, one clock and the site's configuration."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        site: SiteConfig | None = None,
        outbox: OutboxPolicy = no_messages,
        **overrides: Any,
    ) -> None:
        """`site` defaults to the shipped resources and the site files (load it once and pass it in
        where several services are made); `catalogue=`, `settings=` or `templates=` replace one part."""
        base = site or load_site_config()
        self.site = SiteConfig(
            settings=overrides.pop("settings", None) or base.settings,
            catalogue=overrides.pop("catalogue", None) or base.catalogue,
            templates=dict(overrides.pop("templates", None) or base.templates),
            alarm_policy=base.alarm_policy,
            coding=base.coding,
        )
        if overrides:
            raise TypeError(f"unknown arguments: {', '.join(sorted(overrides))}")
        self.store = store
        self.log = CaseLog(store, clock or SystemClock(), self.site, outbox)
        self.staff_directory = StaffDirectory(store, now=lambda: self.log.clock.now(), settings=lambda: self.settings)
        self.steps = StepUseCases(self.log)
        self.signing = SigningUseCases(self.log, self.staff_directory)
        self.records = RecordKeeping(store, status_of=self.log.status_of)

    @classmethod
    def open(
        cls, db_path: Path | None = None, *, readonly: bool = False, clock: Clock | None = None
    ) -> ChecklistService:
        """Open the database at `db_path` (default: the per-user data directory) with site configuration."""
        from .store import open_store

        site = load_site_config()
        return cls(open_store(Path(db_path or paths.default_db_path()), readonly=readonly), clock=clock, site=site)

    def close(self) -> None:
        self.store.close()

    @property
    def clock(self) -> Clock:
        """Where "now" comes from, for every use case (the case log's clock)."""
        return self.log.clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self.log.clock = clock

    # -- the site's configuration ------------------------------------------------------------------
    @property
    def catalogue(self) -> Catalogue:
        return self.site.catalogue

    @property
    def settings(self) -> Settings:
        return self.site.settings

    @property
    def templates(self) -> Mapping[str, Template]:
        return self.site.templates

    # -- queries -----------------------------------------------------------------------------------
    def state(self, case_id: str) -> CaseState:
        """The case as its stored events say it is: a snapshot that never changes."""
        return self.log.state(case_id)

    def list_cases(self, *, limit: int | None = None) -> list[CaseRow]:
        return self.store.list_cases(limit=limit)

    def case_in_progress(self) -> str | None:
        """The newest case not yet signed by the operator: the one to resume after a restart."""
        # Only a case with events: a case row without any (made outside the program) is no case to resume.
        rows = self.store.list_cases(limit=1, statuses=("in_progress", "complete", "nurse_signed"), recorded_only=True)
        return rows[0].id if rows else None

    def timers(self, case_id: str) -> list[Timer]:
        return timers(self.state(case_id), self.clock.now())

    def alarms(self, case_id: str) -> list[Alarm]:
        return alarms(self.state(case_id), self.clock.now())

    def warnings(self, case_id: str, *, pending_only: bool = False) -> list[Advisory]:
        state = self.state(case_id)
        return unacknowledged(state) if pending_only else advisories(state)

    def blocking_gates(
        self, *, case_id: str, step: str, level: str | None = None, side: str | None = None
    ) -> list[Gate]:
        """The hard stops that would refuse this step now (for showing them before a tap)."""
        state = self.state(case_id)
        return closed_gates(state, state.template.step(step), level, side, self.clock.now())

    def room_status(self, case_id: str) -> RoomStatus:
        """Timers, alarms, warnings to acknowledge and hard stops now: what the window's tick shows."""
        return room_status(self.state(case_id), self.clock.now())

    def findings(self, case_id: str) -> list[Finding]:
        """Every hard stop, alarm and warning the rules raise on the case now."""
        return self.room_status(case_id).findings()

    # -- use cases: the facade's names for the composed parts' methods ------------------------------
    start_case = _delegate("steps", "start_case")
    record_step = _delegate("steps", "record_step")
    mark_not_applicable = _delegate("steps", "mark_not_applicable")
    correct = _delegate("steps", "correct")
    retract = _delegate("steps", "retract")
    override_gate = _delegate("steps", "override_gate")
    acknowledge_warning = _delegate("steps", "acknowledge_warning")
    acknowledge_alarm = _delegate("steps", "acknowledge_alarm")
    change_staff = _delegate("steps", "change_staff")
    record_findings = _delegate("signing", "record_findings")
    sign = _delegate("signing", "sign")
    suggested_codes = _delegate("signing", "suggested_codes")
    add_addendum = _delegate("signing", "add_addendum")
    add_staff = _delegate("staff_directory", "add")

    def staff(self, role: str | None = None) -> list[dict[str, Any]]:
        return self.staff_directory.people(role)
