"""Pure domain rules that need no database: set-up, events and their hashes, PINs, clocks, wording."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from checklist_app.domain.clock import FakeClock, SystemClock
from checklist_app.domain.errors import Refusal
from checklist_app.domain.events import Event, canonical_json, format_time, parse_time
from checklist_app.domain.pins import hash_pin, verify_pin
from checklist_app.domain.present import duration
from checklist_app.domain.setup import CaseSetup, build_setup, canonical_level
from tests.conftest import setup_kwargs

DAY = date(2026, 3, 14)  # the day the case is set up (the service passes its clock's)


def setup_on_day(**changes):
    return build_setup(**setup_kwargs(**changes), today=DAY)


T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "level"), [("t12", "T12"), ("T-12", "T12"), (" l 1 ", "L1"), ("C07", "C7"), ("s5", "S5")]
)
def test_levels_are_written_in_canonical_form(text, level):
    assert canonical_level(text) == level


@pytest.mark.parametrize("text", ["T13", "L6", "C0", "X1", "", "T", "12"])
def test_impossible_levels_are_refused(text):
    with pytest.raises(Refusal) as err:
        canonical_level(text)
    assert err.value.field == "levels"


def test_setup_orders_levels_down_the_spine_and_reads_sides():
    setup = setup_on_day(levels=[("L1", "right"), {"level": "T12", "sides": "both"}])
    assert [(p.level, p.sides) for p in setup.levels] == [("T12", ("left", "right")), ("L1", ("right",))]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"levels": "T12"}, "levels"),
        ({"levels": [("T12", "both"), ("t12", "left")]}, "levels"),
        ({"levels": [("T12", "middle")]}, "levels"),
        ({"procedure": "fusion"}, "procedure"),
        ({"indication": "boredom"}, "indication"),
        ({"icd10": ["M8"]}, "icd10"),
        ({"icd10": ["not a code"]}, "icd10"),
        ({"screen": {"inr": 42}}, "inr"),
        ({"screen": {"pregnancy": "maybe"}}, "pregnancy"),
        ({"screen": {"spleen": True}}, "spleen"),
    ],
)
def test_bad_setup_is_refused_naming_the_field(change, field):
    with pytest.raises(Refusal) as err:
        setup_on_day(**change)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("patient", "field"),
    [
        ({"name": "", "weight_kg": 70.0, "mrn": "1"}, "patient_name"),
        ({"name": "A\x07B", "weight_kg": 70.0, "mrn": "1"}, "patient_name"),
        ({"name": "x" * 201, "weight_kg": 70.0, "mrn": "1"}, "patient_name"),
        ({"name": "Alba", "weight_kg": 70.0, "mrn": ""}, "mrn"),
        ({"name": "Alba", "weight_kg": 70.0, "mrn": "1", "date_of_birth": "31/12/1950"}, "date_of_birth"),
        ({"name": "Alba", "weight_kg": 70.0, "mrn": "1", "date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"name": "Alba", "weight_kg": 70.0, "mrn": "1", "sex": "x"}, "sex"),
    ],
)
def test_bad_patient_details_are_refused_naming_the_field(patient, field):
    with pytest.raises(Refusal) as err:
        setup_on_day(patient=patient)
    assert err.value.field == field


def test_a_case_needs_at_least_one_level():
    with pytest.raises(Refusal, match="at least one level"):
        build_setup(**{**setup_kwargs(), "levels": []}, today=DAY)


def test_setup_round_trips_through_its_stored_form():
    coverage = {"pain_score": 8, "neuro_exam": "normal", "imaging": "mri_stir", "height_loss_pct": 30.0}
    setup = setup_on_day(icd10=["m80.08xa"], screen={"pregnancy": False}, coverage=coverage)
    assert type(setup).from_dict(setup.to_dict()) == setup
    assert setup.icd10 == ("M80.08XA",) and setup.coverage == coverage and setup.patient.weight_kg == 70.0


def test_labs_are_not_taken_at_set_up_but_an_older_stored_set_up_keeps_them():
    """SPEC §5: INR and platelets are entered once (in the pre-procedure checks, with the draw time)."""
    with pytest.raises(Refusal, match="inr: .*pre-procedure checks"):
        setup_on_day(screen={"inr": 1.2})
    stored = setup_on_day().to_dict()
    stored["screen"] = {"inr": 1.2, "platelets": 180.0}
    assert CaseSetup.from_dict(stored).screen == {"inr": 1.2, "platelets": 180.0}


def test_weight_is_required_for_a_new_case_but_not_for_one_stored_before_it_was_asked():
    with pytest.raises(Refusal, match="weight_kg"):
        setup_on_day(patient={"name": "A", "mrn": "1"})
    with pytest.raises(Refusal, match="weight_kg"):
        setup_on_day(patient={"name": "A", "mrn": "1", "weight_kg": 900})
    stored = setup_on_day().to_dict()
    del stored["patient"]["weight_kg"]
    assert CaseSetup.from_dict(stored).patient.weight_kg is None


def test_names_in_any_script_are_kept_verbatim():
    name = "Жанна Ωmega Zoë Đặng O'Brien <Jr> & Sons"
    assert setup_on_day(patient={"name": name, "weight_kg": 70.0, "mrn": "1"}).patient.name == name


def make_event(**changes) -> Event:
    event = Event(case_id="c1", seq=1, kind="step_done", clinical_time=T0, recorded_time=T0, actor="N", values={"a": 1})
    return replace(event, **changes)


def test_event_hash_covers_every_field_and_the_previous_hash():
    base = make_event().chained("0" * 64)
    assert base.hash == base.compute_hash()
    for change in ({"values": {"a": 2}}, {"actor": "M"}, {"seq": 2}, {"clinical_time": T0 + timedelta(seconds=1)}):
        assert make_event(**change).chained("0" * 64).hash != base.hash
    assert make_event().chained("1" * 64).hash != base.hash


def test_canonical_json_is_stable_and_refuses_non_finite_numbers():
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_times_are_stored_as_utc_with_offset_and_naive_times_refused():
    assert format_time(T0) == "2026-03-02T08:00:00.000000+00:00"
    assert parse_time(format_time(T0)) == T0
    with pytest.raises(ValueError):
        format_time(datetime(2026, 1, 1))


def test_pin_is_a_salted_slow_hash():
    first, second = hash_pin("4821"), hash_pin("4821")
    assert first != second and "4821" not in first
    assert verify_pin("4821", first) and verify_pin("4821", second)
    assert not verify_pin("4822", first) and not verify_pin("4821", "garbage")
    for bad in ("12", "abcd", "1" * 13):
        with pytest.raises(Refusal):
            hash_pin(bad)


def test_fake_clock_moves_only_when_told():
    clock = FakeClock(T0)
    assert clock.now() == T0
    assert clock.advance(minutes=2) == T0 + timedelta(minutes=2)


def test_system_clock_is_monotonic_after_its_anchor():
    clock = SystemClock()
    first = clock.now()
    assert clock.now() >= first and first.tzinfo is not None


@pytest.mark.parametrize(
    ("span", "text"),
    [(timedelta(seconds=65), "1:05"), (timedelta(hours=1, seconds=5), "1:00:05"), (timedelta(seconds=-30), "-0:30")],
)
def test_durations_read_like_a_clock(span, text):
    assert duration(span) == text


def test_date_of_birth_accepts_a_date_object():
    setup = setup_on_day(patient={"name": "A", "weight_kg": 70.0, "mrn": "1", "date_of_birth": date(1950, 1, 2)})
    assert setup.patient.date_of_birth == date(1950, 1, 2)


def test_date_of_birth_is_checked_against_the_given_day_not_the_machines():
    assert (
        setup_on_day(patient={"name": "A", "weight_kg": 70.0, "mrn": "1", "date_of_birth": DAY}).patient.date_of_birth
        == DAY
    )
    with pytest.raises(Refusal) as err:
        setup_on_day(patient={"name": "A", "weight_kg": 70.0, "mrn": "1", "date_of_birth": DAY + timedelta(days=1)})
    assert err.value.field == "date_of_birth"


def test_a_stored_setup_reads_back_whatever_the_day():
    # Recorded on a day far ahead of this machine's clock (as if the clock was later set back):
    # reading the record back must not refuse the date of birth that was valid when it was taken.
    later = date(2999, 1, 1)
    stored = build_setup(
        **setup_kwargs(patient={"name": "A", "weight_kg": 70.0, "mrn": "1", "date_of_birth": later}), today=later
    )
    assert CaseSetup.from_dict(stored.to_dict()).patient.date_of_birth == later
