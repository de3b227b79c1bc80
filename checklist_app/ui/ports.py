"""What the window needs of the service: the one dependency of every view, typed as a Protocol.

`ChecklistService` is the implementation; a view never reaches its store, its case log or its
parts. Keeping the list here makes the window's dependency visible and checkable, and lets a
hub-backed "department" service (read-only views of other rooms' cases) stand in for it.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..domain.advisories import Advisory
from ..domain.catalogue import Catalogue
from ..domain.clock import Clock
from ..domain.findings import RoomStatus
from ..domain.state import CaseState
from ..domain.timers import Timer
from ..records import RecordKeeping
from ..service import CaseRow
from ..site import SiteConfig


class RoomService(Protocol):
    """The use cases and queries the room window calls."""

    clock: Clock
    site: SiteConfig
    records: RecordKeeping

    @property
    def catalogue(self) -> Catalogue: ...

    def state(self, case_id: str) -> CaseState: ...

    def room_status(self, case_id: str) -> RoomStatus: ...

    def timers(self, case_id: str) -> list[Timer]: ...

    def warnings(self, case_id: str, *, pending_only: bool = False) -> list[Advisory]: ...

    def list_cases(self, *, limit: int | None = None) -> list[CaseRow]: ...

    def case_in_progress(self) -> str | None: ...

    def staff(self, role: str | None = None) -> list[dict[str, Any]]: ...

    # The use cases: keyword arguments only, each returns the case's new snapshot.
    def start_case(self, **setup: Any) -> CaseState: ...

    def record_step(self, **step: Any) -> CaseState: ...

    def mark_not_applicable(self, **step: Any) -> CaseState: ...

    def correct(self, **correction: Any) -> CaseState: ...

    def retract(self, **retraction: Any) -> CaseState: ...

    def acknowledge_warning(self, **acknowledgement: Any) -> CaseState: ...

    def acknowledge_alarm(self, **acknowledgement: Any) -> CaseState: ...

    def change_staff(self, **handover: Any) -> CaseState: ...

    def record_findings(self, **findings: Any) -> CaseState: ...

    def sign(self, **signature: Any) -> CaseState: ...

    def suggested_codes(self, case_id: str) -> dict[str, list[str]]: ...

    def add_addendum(self, **addendum: Any) -> CaseState: ...

    def add_staff(self, **person: Any) -> int: ...
