"""Shared fixtures: a real database in tmp_path, a fake clock, and a way to walk a case forward."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from checklist_app.demo import TYPICAL_COVERAGE, TYPICAL_VALUES  # noqa: E402
from checklist_app.domain.clock import FakeClock  # noqa: E402
from checklist_app.service import ChecklistService  # noqa: E402
from checklist_app.store import open_store  # noqa: E402

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

# Valid values for every step, as a nurse would enter them (shared with the demo and scripts).
STEP_VALUES: dict[str, dict] = TYPICAL_VALUES


COVERAGE = TYPICAL_COVERAGE  # complete coverage evidence (SPEC §5)


def setup_kwargs(procedure: str = "kyphoplasty", levels=None, **extra) -> dict:
    kwargs = {
        "patient": {
            "name": "Alba Example",
            "weight_kg": 70.0,
            "mrn": "TEST0001",
            "date_of_birth": "1950-04-01",
            "sex": "female",
        },
        "procedure": procedure,
        "levels": levels or [{"level": "T12", "sides": ["left", "right"]}, {"level": "L1", "sides": ["left", "right"]}],
        "indication": "osteoporotic",
        "team": {"operator": "Dr Ada Demo", "nurse": "Nurse Dana Demo", "anaesthesia": "Dr Gita Demo"},
        "coverage": COVERAGE,
    }
    kwargs.update(extra)
    return kwargs


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "data" / "checklist.sqlite3"


def enrol_team(service: ChecklistService) -> ChecklistService:
    """The demo's operators and nurses in the staff directory: signers come from it only (SPEC §6)."""
    from checklist_app.demo import enrol_demo_staff

    enrol_demo_staff(service)
    return service


def give_pin(service: ChecklistService, name: str, role: str, pin: str) -> int:
    """Set the PIN of someone already in the staff directory (the fixtures enrol the team without PINs)."""
    person = next(p["id"] for p in service.staff(role) if p["name"] == name)
    service.staff_directory.change_pin(staff_id=person, pin=pin)
    return person


@pytest.fixture
def service(db_path, clock):
    svc = enrol_team(ChecklistService(open_store(db_path), clock=clock))
    yield svc
    svc.close()


def first_cement(service: ChecklistService) -> str:
    return service.catalogue.cements[0].id


def mix_cement(service: ChecklistService, case_id: str, **values) -> int:
    """Record a cement batch mixed now and return its event number."""
    state = service.record_step(
        case_id=case_id,
        step="cement_mix",
        values={"product": first_cement(service), "lot": "CM0001", "expiry": "2030-01-01", **values},
    )
    return state.facts.batches[-1].seq


def open_balloon_kit(service: ChecklistService, case_id: str, **values) -> int:
    """Record a balloon kit opened now and return its event number."""
    kit = {"product": service.catalogue.balloons[1].id, "lot": "BK12345", "expiry": "2030-01-01", **values}
    return service.record_step(case_id=case_id, step="balloon_kit", values=kit).facts.kits[-1].seq


def advance(service: ChecklistService, clock: FakeClock, case_id: str, until: str | None = None, *, minutes=1.0):
    """Record every pending step with valid values (a minute apart) until `until` is current.

    Cement is mixed when no batch is within its working time and the clock jumps to the dough
    time; a balloon kit is opened before the first inflation; the hardening wait jumps the clock
    to the set time, so gates stay open.
    """
    from checklist_app.domain.choices import preselected
    from checklist_app.domain.timers import hardening_end, working_window

    while True:
        state = service.state(case_id)
        current = state.current
        if current is None or current.spec.id == until:
            return state
        clock.advance(minutes=minutes)
        step = current.spec.id
        if step == "cement_injection" and preselected(state, current.spec.field("batch"), clock.now()) is None:
            mix_cement(service, case_id)
            window = working_window(service.state(case_id), service.state(case_id).facts.batches[-1])
            clock.set(window[0])
        if step == "balloon_inflation" and not state.facts.kits:
            open_balloon_kit(service, case_id)
        if step == "hardening_wait":
            end = hardening_end(state, current.level)
            if end and end > clock.now():
                clock.set(end)
        values = STEP_VALUES.get(step)
        service.record_step(case_id=case_id, step=step, level=current.level, side=current.side, values=values)


@pytest.fixture
def started(service):
    """A started two-level bipedicular kyphoplasty; returns its case id."""
    return service.start_case(**setup_kwargs()).case_id


__all__ = ["START", "STEP_VALUES", "advance", "mix_cement", "open_balloon_kit", "open_store", "setup_kwargs"]
