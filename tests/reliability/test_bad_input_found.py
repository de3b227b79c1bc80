"""Each crash the bad-input properties found, as a plain named example (what to fix, one by one).

Every call below raised TypeError, AttributeError, OverflowError, UnicodeEncodeError or
StoreError, or was silently accepted, when it found it; each must be a Refusal naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from checklist_app.domain.errors import Refusal
from checklist_app.service import ChecklistService
from tests.conftest import STEP_VALUES, setup_kwargs

from .ledger import LEDGER

UTC_PLUS_14 = timezone(timedelta(hours=14))


def _in_room(service: ChecklistService, case_id: str) -> str:
    service.record_step(case_id=case_id, step="patient_in_room")
    return case_id


def _late(service: ChecklistService, case_id: str, **extra: Any) -> None:
    service.clock.advance(minutes=20)  # type: ignore[attr-defined]
    service.record_step(
        case_id=case_id,
        step="identity_consent",
        values=STEP_VALUES["identity_consent"],
        clinical_time=service.clock.now() - timedelta(minutes=10),
        **extra,
    )


BAD_CALLS: dict[str, tuple[str, Callable[[ChecklistService, str], object]]] = {
    "case_id_a_list": ("case", lambda s, c: s.record_step(case_id=[c], step="incision", level="T12")),
    "case_id_a_tuple": ("case", lambda s, c: s.record_step(case_id=(c,), step="incision", level="T12")),
    "case_id_a_huge_number": ("case", lambda s, c: s.record_step(case_id=10**30, step="incision", level="T12")),
    "case_id_with_a_lone_surrogate": ("case", lambda s, c: s.retract(case_id=c + "\ud800", seq=2, reason="x")),
    "level_a_list": ("level", lambda s, c: s.record_step(case_id=c, step="incision", level=["T12"])),
    "side_a_boolean": ("side", lambda s, c: s.record_step(case_id=c, step="balloon_removal", level="T12", side=True)),
    "level_a_dict_for_not_applicable": (
        "level",
        lambda s, c: s.mark_not_applicable(case_id=c, step="incision", level={}, reason="x"),
    ),
    "clinical_time_as_text": (
        "clinical_time",
        lambda s, c: s.record_step(case_id=c, step="incision", level="T12", clinical_time="08:00"),
    ),
    "correction_time_as_text": (
        "clinical_time",
        lambda s, c: s.correct(case_id=c, seq=2, reason="typo", clinical_time="08:00"),
    ),
    "late_reason_a_list": ("late_reason", lambda s, c: _late(s, c, late_reason=[])),
    "value_name_empty": (
        "values",
        lambda s, c: s.record_step(case_id=c, step="identity_consent", values={"": True}),
    ),
    "number_too_big_for_a_float": (
        "volume",
        lambda s, c: s.record_step(
            case_id=c,
            step="local_anesthetic",
            level="T12",
            values={"drug": "lidocaine", "concentration": 1.0, "volume": 10**400},
        ),
    ),
    "override_gate_id_a_list": (
        "gate",
        lambda s, c: s.override_gate(case_id=c, step="cannula_placement", gate=["time_out"], reason="x"),
    ),
    "override_level_a_list": (
        "level",
        lambda s, c: s.override_gate(case_id=c, step="cannula_placement", gate="time_out", reason="x", level=["T12"]),
    ),
    "override_level_not_planned": (
        "level",
        lambda s, c: s.override_gate(case_id=c, step="cannula_placement", gate="time_out", reason="x", level="Z99"),
    ),
    "override_level_not_text": (
        "level",
        lambda s, c: s.override_gate(case_id=c, step="cannula_placement", gate="time_out", reason="x", level=object()),
    ),
    "override_side_lone_surrogate": (
        "side",
        lambda s, c: s.override_gate(
            case_id=c, step="cannula_placement", gate="time_out", reason="x", level="T12", side="\ud800"
        ),
    ),
    "warning_id_a_list": (
        "warning",
        lambda s, c: s.acknowledge_warning(case_id=c, warning_id=["screen:cement_allergy"]),
    ),
    "alarm_id_a_dict": ("alarm", lambda s, c: s.acknowledge_alarm(case_id=c, alarm_id={})),
    "signing_role_a_list": ("role", lambda s, c: s.sign(case_id=c, name="Nurse Dana Demo", role=["nurse"])),
    "icd10_a_number": ("icd10", lambda s, c: s.start_case(**setup_kwargs(icd10=5))),
    "screen_a_list": ("screen", lambda s, c: s.start_case(**setup_kwargs(screen=["inr"]))),
    "sides_a_number": ("levels", lambda s, c: s.start_case(**setup_kwargs(levels=[{"level": "T12", "sides": 5}]))),
    "assistants_a_number": (
        "assistants",
        lambda s, c: s.start_case(**setup_kwargs(team={"operator": "A", "nurse": "B", "assistants": 5})),
    ),
    "date_of_birth_a_datetime": (
        "date_of_birth",
        lambda s, c: s.start_case(
            **setup_kwargs(patient={"name": "A", "weight_kg": 70.0, "mrn": "1", "date_of_birth": datetime(2090, 1, 1)})
        ),
    ),
    "patient_in_room_at_year_one_east_of_utc": (
        "clinical_time",
        lambda s, c: s.record_step(
            case_id=c,
            step="identity_consent",
            values=STEP_VALUES["identity_consent"],
            clinical_time=datetime(1, 1, 1, tzinfo=UTC_PLUS_14),
            late_reason="other",
        ),
    ),
    "staff_member_added_twice": (
        "name",
        lambda s, c: [s.add_staff(name="Nurse Twice", role="nurse") for _ in range(2)],
    ),
}


@pytest.mark.parametrize("bug", sorted(BAD_CALLS))
def test_bad_argument_found_by_the_properties_is_refused_by_name(service: ChecklistService, bug: str) -> None:
    """Each of these raised TypeError, AttributeError, OverflowError, UnicodeEncodeError or StoreError."""
    field, call = BAD_CALLS[bug]
    case_id = _in_room(service, service.start_case(**setup_kwargs(screen={"cement_allergy": True})).case_id)
    before = (len(service.store.events(case_id)), len(service.list_cases()))
    LEDGER.add("inputs.service")
    with pytest.raises(Refusal) as refused:
        call(service, case_id)
    assert refused.value.field == field, refused.value
    assert (len(service.store.events(case_id)), len(service.list_cases())) == before
    assert service.store.verify() == []


def test_patient_in_room_centuries_ago_is_refused(service: ChecklistService) -> None:
    """A PIR typed with the wrong year (here year 1) is not a plausible clinical time."""
    case_id = service.start_case(**setup_kwargs()).case_id
    with pytest.raises(Refusal) as refused:
        service.record_step(
            case_id=case_id, step="patient_in_room", clinical_time=datetime(1, 1, 1, tzinfo=UTC), late_reason="other"
        )
    assert refused.value.field == "clinical_time"


def test_pin_of_superscript_digits_is_refused(service: ChecklistService) -> None:
    """'¹²³⁴' passes str.isdigit() but cannot be typed on the signing keypad."""
    with pytest.raises(Refusal) as refused:
        service.add_staff(name="Nurse Superscript", role="nurse", pin="¹²³⁴")
    assert refused.value.field == "pin"
