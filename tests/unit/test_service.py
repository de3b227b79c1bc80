"""The service layer: the documented use cases, against a real database and a fake clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from checklist_app.domain import events as ev
from checklist_app.domain.alarms import alarms
from checklist_app.domain.errors import Refusal
from checklist_app.domain.gates import GateClosed
from checklist_app.domain.state import DONE, NOT_APPLICABLE, PENDING
from checklist_app.domain.timers import hardening_end, timers, working_window
from checklist_app.service import ChecklistService
from checklist_app.store import open_store
from tests.conftest import STEP_VALUES, advance, mix_cement, open_balloon_kit, setup_kwargs


def stored_kinds(service, case_id):
    return [e.kind for e in service.store.events(case_id)]


def test_start_case_expands_steps_per_level_and_per_side(service):
    state = service.start_case(**setup_kwargs(levels=[{"level": "t12", "sides": ["left", "right"]}, ("L1", "right")]))
    keys = [i.key for i in state.instances]
    assert ("level_localization", "T12", None) in keys and ("level_localization", "L1", None) in keys
    assert [k for k in keys if k[0] == "cannula_placement"] == [
        ("cannula_placement", "T12", "left"),
        ("cannula_placement", "T12", "right"),
        ("cannula_placement", "L1", "right"),
    ]
    assert [k for k in keys if k[0] == "hardening_wait"] == [
        ("hardening_wait", "T12", None),
        ("hardening_wait", "L1", None),
    ]
    assert state.current.key == ("patient_in_room", None, None)
    assert keys.index(("cannula_removal", "T12", None)) < keys.index(("local_anesthetic", "L1", None))


def test_vertebroplasty_has_no_balloon_steps(service):
    state = service.start_case(**setup_kwargs("vertebroplasty", [("L2", "left")]))
    assert not state.instances_of("balloon_inflation") and not state.instances_of("balloon_removal")
    assert len(state.instances_of("cement_injection")) == 1


def test_every_tick_is_on_disk_before_the_call_returns(service, db_path, clock, started):
    service.record_step(case_id=started, step="patient_in_room")
    other = ChecklistService(open_store(db_path, readonly=True), clock=clock)
    try:
        assert other.state(started).instance("patient_in_room").status == DONE
    finally:
        other.close()


def test_date_of_birth_is_checked_against_the_service_clock(service, clock):
    # The clock says 2026-03-02: a birth the next day is refused, whatever the machine's date.
    tomorrow = (clock.now() + timedelta(days=1)).date().isoformat()
    with pytest.raises(Refusal) as err:
        service.start_case(
            **setup_kwargs(patient={"name": "Baby Example", "weight_kg": 70.0, "mrn": "N1", "date_of_birth": tomorrow})
        )
    assert err.value.field == "date_of_birth"
    assert service.list_cases() == []
    clock.advance(minutes=2 * 24 * 60)  # two days later the same date of birth is in the past
    state = service.start_case(
        **setup_kwargs(patient={"name": "Baby Example", "weight_kg": 70.0, "mrn": "N1", "date_of_birth": tomorrow})
    )
    assert service.state(state.case_id).setup.patient.date_of_birth.isoformat() == tomorrow


def test_refused_step_writes_nothing(service, started):
    before = stored_kinds(service, started)
    with pytest.raises(Refusal) as err:
        service.record_step(case_id=started, step="prechecks", values={**STEP_VALUES["prechecks"], "inr": 50})
    assert err.value.field == "inr" and "maximum of 10" in str(err.value)
    assert stored_kinds(service, started) == before


@pytest.mark.parametrize(
    ("step", "values", "field", "words"),
    [
        ("cement_injection", {"volume": 12.5}, "volume", "above the maximum of 12 mL"),
        ("cement_injection", {"volume": 0.2}, "volume", "below the minimum of 0.5 mL"),
        ("cement_injection", {"volume": float("nan")}, "volume", "must be a number"),
        ("cement_injection", {"volume": "lots"}, "volume", "Cement volume"),
        ("cannula_placement", {"gauge": 19}, "gauge", "above the maximum of 18 G"),
        ("cannula_placement", {"gauge": 5}, "gauge", "below the minimum of 6 G"),
        ("cannula_placement", {"gauge": 10.5}, "gauge", "whole number"),
        ("cannula_placement", {"approach": "anterior"}, "approach", "must be one of"),
        ("balloon_inflation", {"pressure": 800}, "pressure", "above the maximum of 700 psi"),
        ("balloon_inflation", {"pressure": "10 bar"}, "pressure", "pressure"),
        ("balloon_inflation", {"volume": 7}, "volume", "above the maximum of 6 mL"),
    ],
)
def test_every_value_is_checked_against_its_limit(service, clock, started, step, values, field, words):
    state = advance(service, clock, started, "cannula_placement")
    level, side = "T12", "left"
    batch = mix_cement(service, started)
    base = {**STEP_VALUES[step], "batch": batch} if step == "cement_injection" else dict(STEP_VALUES[step])
    with pytest.raises(Refusal) as err:
        service.record_step(case_id=started, step=step, level=level, side=side, values={**base, **values})
    assert err.value.field == field
    assert words in str(err.value)
    assert state.instance(step, level, side).status == PENDING


def test_pressure_in_atm_is_stored_in_psi(service, clock, started):
    advance(service, clock, started, "balloon_inflation")
    open_balloon_kit(service, started)
    values = {**STEP_VALUES["balloon_inflation"], "pressure": "17 atm"}
    state = service.record_step(case_id=started, step="balloon_inflation", level="T12", side="left", values=values)
    assert state.instance("balloon_inflation", "T12", "left").entry.values["pressure"] == pytest.approx(249.832)


def test_cannula_before_time_out_is_refused(service, clock, started):
    advance(service, clock, started, "time_out")
    with pytest.raises(GateClosed) as err:
        service.record_step(
            case_id=started, step="cannula_placement", level="T12", side="left", values=STEP_VALUES["cannula_placement"]
        )
    assert [g.id for g in err.value.gates] == ["time_out"]
    assert "time-out" in str(err.value)


def test_time_out_override_needs_a_reason_and_is_recorded(service, clock, started):
    advance(service, clock, started, "time_out")
    args = dict(
        case_id=started, step="cannula_placement", level="T12", side="left", values=STEP_VALUES["cannula_placement"]
    )
    with pytest.raises(Refusal):
        service.record_step(**args, override_reason="   ")
    state = service.record_step(**args, override_reason="Unstable patient; time-out completed verbally")
    kinds = stored_kinds(service, started)
    assert kinds[-2:] == [ev.GATE_OVERRIDE, ev.STEP_DONE]
    assert state.overrides[-1].reason == "Unstable patient; time-out completed verbally"
    assert state.instance("cannula_placement", "T12", "left").status == DONE


def test_standalone_gate_override_opens_every_cannula(service, clock, started):
    advance(service, clock, started, "time_out")
    service.override_gate(case_id=started, step="cannula_placement", gate="time_out", reason="Emergency decompression")
    for side in ("left", "right"):
        service.record_step(
            case_id=started, step="cannula_placement", level="T12", side=side, values=STEP_VALUES["cannula_placement"]
        )


def test_cannula_removal_waits_for_the_hardening_countdown(service, clock, started):
    advance(service, clock, started, "hardening_wait")
    state = service.state(started)
    end = hardening_end(state, "T12")
    assert end is not None and end > clock.now()
    service.record_step(case_id=started, step="hardening_wait", level="T12", values={"sample_hard": True})
    with pytest.raises(GateClosed) as err:
        service.record_step(case_id=started, step="cannula_removal", level="T12", values={"haemostasis": True})
    assert err.value.gates[0].id == "hardening"
    clock.set(end)
    service.record_step(case_id=started, step="cannula_removal", level="T12", values={"haemostasis": True})


def test_cement_injection_needs_a_cement_batch(service, clock, started):
    advance(service, clock, started, "cement_injection")
    with pytest.raises(Refusal) as err:
        service.record_step(
            case_id=started, step="cement_injection", level="T12", side="left", values=STEP_VALUES["cement_injection"]
        )
    assert err.value.field == "batch"


def test_expired_cement_lot_is_refused_unless_overridden(service, clock, started):
    values = {"product": service.catalogue.cements[0].id, "lot": "OLD1", "expiry": "2026-01-31"}
    with pytest.raises(GateClosed) as err:
        service.record_step(case_id=started, step="cement_mix", values=values)
    assert "expired on 2026-01-31" in str(err.value)
    state = service.record_step(
        case_id=started, step="cement_mix", values=values, override_reason="No other lot; operator informed"
    )
    assert state.overrides[-1].values["gate"] == "expired_lot"
    assert state.facts.batches[-1].lot == "OLD1"


def test_late_entry_needs_a_reason_and_keeps_both_times(service, clock, started):
    service.record_step(case_id=started, step="patient_in_room")
    clock.advance(minutes=20)
    when = clock.now() - timedelta(minutes=8)
    with pytest.raises(Refusal) as err:
        service.record_step(
            case_id=started, step="identity_consent", values=STEP_VALUES["identity_consent"], clinical_time=when
        )
    assert err.value.field == "late_reason"
    state = service.record_step(
        case_id=started,
        step="identity_consent",
        values=STEP_VALUES["identity_consent"],
        clinical_time=when,
        late_reason="handover",
    )
    event = state.instance("identity_consent").entry.event
    assert event.clinical_time == when and event.recorded_time == clock.now() and event.late_reason == "handover"


def test_entry_within_five_minutes_is_not_late(service, clock, started):
    service.record_step(case_id=started, step="patient_in_room")
    clock.advance(minutes=10)
    state = service.record_step(
        case_id=started,
        step="identity_consent",
        values=STEP_VALUES["identity_consent"],
        clinical_time=clock.now() - timedelta(minutes=5),
    )
    assert state.instance("identity_consent").entry.event.late_reason is None


def test_clinical_time_in_the_future_or_before_pir_is_refused(service, clock, started):
    service.record_step(case_id=started, step="patient_in_room")
    with pytest.raises(Refusal, match="future"):
        service.record_step(
            case_id=started,
            step="identity_consent",
            values=STEP_VALUES["identity_consent"],
            clinical_time=clock.now() + timedelta(minutes=5),
        )
    with pytest.raises(Refusal, match="before the patient entered"):
        service.record_step(
            case_id=started,
            step="identity_consent",
            values=STEP_VALUES["identity_consent"],
            clinical_time=clock.now() - timedelta(minutes=3),
        )


def test_correction_refers_to_the_original_which_stays_in_the_log(service, clock, started):
    advance(service, clock, started, "local_anesthetic")
    state = service.record_step(
        case_id=started, step="local_anesthetic", level="T12", values=STEP_VALUES["local_anesthetic"]
    )
    original = state.instance("local_anesthetic", "T12").entry
    with pytest.raises(Refusal) as err:
        service.correct(case_id=started, seq=original.seq, values={**original.values, "volume": 15.0}, reason="")
    assert err.value.field == "reason"
    state = service.correct(
        case_id=started, seq=original.seq, values={**original.values, "volume": 15.0}, reason="Misheard volume"
    )
    entry = state.instance("local_anesthetic", "T12").entry
    assert entry.values["volume"] == 15.0 and entry.event.values["volume"] == STEP_VALUES["local_anesthetic"]["volume"]
    correction = service.store.events(started)[-1]
    assert (
        correction.kind == ev.CORRECTION and correction.ref == original.seq and correction.reason == "Misheard volume"
    )


def test_retraction_returns_the_step_to_pending(service, clock, started):
    state = advance(service, clock, started, "prechecks")
    entry = state.instance("identity_consent").entry
    state = service.retract(case_id=started, seq=entry.seq, reason="Ticked on the wrong patient chart")
    assert state.instance("identity_consent").status == PENDING
    assert state.current.spec.id == "identity_consent"
    with pytest.raises(Refusal):
        service.correct(case_id=started, seq=entry.seq, values=STEP_VALUES["identity_consent"], reason="x")


def test_not_applicable_needs_a_reason(service, clock, started):
    advance(service, clock, started, "antibiotic")
    with pytest.raises(Refusal):
        service.mark_not_applicable(case_id=started, step="antibiotic", reason="")
    state = service.mark_not_applicable(case_id=started, step="antibiotic", reason="Not indicated for this patient")
    assert state.instance("antibiotic").status == NOT_APPLICABLE


def test_antibiotic_not_given_needs_a_reason(service, clock, started):
    advance(service, clock, started, "antibiotic")
    with pytest.raises(Refusal) as err:
        service.record_step(case_id=started, step="antibiotic", values={"given": False})
    assert err.value.field == "not_given_reason"


def test_biopsy_no_is_an_answer(service, clock, started):
    advance(service, clock, started, "biopsy")
    state = service.record_step(case_id=started, step="biopsy", level="T12", values={"taken": False})
    assert state.instance("biopsy", "T12").status == DONE
    with pytest.raises(Refusal) as err:
        service.record_step(case_id=started, step="biopsy", level="L1", values={"taken": True})
    assert err.value.field == "side"


def test_contraindications_raise_warnings_that_must_be_acknowledged(service, clock):
    state = service.start_case(
        **setup_kwargs(
            levels=[("T3", "both"), ("T4", "left"), ("T5", "left"), ("T6", "right")],
            screen={"cement_allergy": True, "pregnancy": False},
        )
    )
    ids = {w.id for w in service.warnings(state.case_id, pending_only=True)}
    assert {"levels:count", "levels:range", "screen:cement_allergy"} <= ids
    assert "screen:pregnancy" not in ids
    service.acknowledge_warning(case_id=state.case_id, warning_id="levels:count")
    assert "levels:count" not in {w.id for w in service.warnings(state.case_id, pending_only=True)}
    assert service.store.events(state.case_id)[-1].kind == ev.WARNING_ACKNOWLEDGED


def test_labs_beyond_their_limits_raise_warnings_from_the_pre_procedure_checks(service, clock):
    """SPEC §5: INR above 1.5 or platelets below 50×10⁹/L are warnings, from the one place labs are entered."""
    case_id = service.start_case(**setup_kwargs()).case_id
    advance(service, clock, case_id, "prechecks")
    drawn = (clock.now() - timedelta(hours=3)).isoformat()
    values = {**STEP_VALUES["prechecks"], "inr": 2.0, "platelets": 40, "labs_drawn": drawn}
    state = service.record_step(case_id=case_id, step="prechecks", values=values)
    seq = state.instance("prechecks").entry.seq
    ids = {w.id for w in service.warnings(case_id, pending_only=True)}
    assert {f"value:{seq}:inr", "lab:platelets"} <= ids
    assert state.facts.labs()["inr"].drawn_at == datetime.fromisoformat(drawn)


def test_labs_need_the_time_the_blood_was_drawn_and_not_after_the_checks(service, clock, started):
    advance(service, clock, started, "prechecks")
    with pytest.raises(Refusal) as err:
        service.record_step(case_id=started, step="prechecks", values={**STEP_VALUES["prechecks"], "inr": 1.0})
    assert err.value.field == "labs_drawn"
    later = (clock.now() + timedelta(minutes=30)).isoformat()
    with pytest.raises(Refusal, match="labs_drawn: .*cannot be after"):
        service.record_step(
            case_id=started, step="prechecks", values={**STEP_VALUES["prechecks"], "inr": 1.0, "labs_drawn": later}
        )


def test_cement_volume_above_the_configured_value_warns(service, clock, started):
    advance(service, clock, started, "cement_injection")
    batch = mix_cement(service, started)
    clock.advance(minutes=3)  # dough time
    values = {**STEP_VALUES["cement_injection"], "volume": 8.0, "batch": batch}
    service.record_step(case_id=started, step="cement_injection", level="T12", side="left", values=values)
    messages = [w.message for w in service.warnings(started, pending_only=True)]
    assert any("above the warning limit of 7 mL" in m for m in messages)


def test_antibiotic_older_than_60_minutes_warns_at_time_out(service, clock, started):
    advance(service, clock, started, "prone_positioning")
    clock.advance(minutes=70)
    state = advance(service, clock, started, "local_anesthetic")
    assert "antibiotic:timing" in {w.id for w in service.warnings(state.case_id, pending_only=True)}


def test_working_window_and_hardening_timers_follow_the_fake_clock(service, clock, started):
    """SPEC §4: "ready to inject" is information on the timer, not an alarm; the end of the working
    time is a medium-priority alarm."""
    advance(service, clock, started, "cement_injection")
    batch_seq = mix_cement(service, started)
    state = service.state(started)
    ready, end, set_time = working_window(state, state.entry_for(batch_seq))
    working = next(t for t in timers(state, clock.now()) if t.id == f"working:{batch_seq}")
    assert working.end == end and working.remaining == end - clock.now() and working.ready_at == ready
    assert not alarms(state, clock.now())
    clock.set(ready)
    assert alarms(state, clock.now()) == []
    clock.set(end)
    raised = alarms(state, clock.now())
    assert [(a.id, a.priority) for a in raised] == [(f"working_end:{batch_seq}", "medium")]


def test_a_later_stage_of_the_working_window_supersedes_the_earlier_one(service, clock, started):
    # "Ends in 1 min" ends when the working time is over: never beside "do not inject".
    advance(service, clock, started, "cement_injection")
    batch_seq = mix_cement(service, started)
    state = service.state(started)
    _ready, end, _set_time = working_window(state, state.entry_for(batch_seq))
    clock.set(end - timedelta(minutes=1))
    assert [(a.id, a.priority) for a in service.alarms(started)] == [(f"working_warning:{batch_seq}", "medium")]
    clock.set(end)
    assert [(a.id, a.priority) for a in service.alarms(started)] == [(f"working_end:{batch_seq}", "medium")]
    with pytest.raises(Refusal):  # no longer active: nothing to acknowledge
        service.acknowledge_alarm(case_id=started, alarm_id=f"working_warning:{batch_seq}")
    service.acknowledge_alarm(case_id=started, alarm_id=f"working_end:{batch_seq}")
    assert service.alarms(started) == []


def test_acknowledged_alarm_is_logged_and_does_not_repeat(service, clock, started):
    advance(service, clock, started, "cement_injection")
    batch_seq = mix_cement(service, started)
    clock.advance(minutes=30)
    ids = [a.id for a in service.alarms(started)]
    assert f"working_end:{batch_seq}" in ids
    service.acknowledge_alarm(case_id=started, alarm_id=f"working_end:{batch_seq}", actor="Nurse Dana Demo")
    clock.advance(minutes=5)
    assert f"working_end:{batch_seq}" not in [a.id for a in service.alarms(started)]
    last = service.store.events(started)[-1]
    assert last.kind == ev.ALARM_ACKNOWLEDGED and last.actor == "Nurse Dana Demo"
    with pytest.raises(Refusal):
        service.acknowledge_alarm(case_id=started, alarm_id=f"working_end:{batch_seq}")


def test_alcohol_skin_prep_starts_a_dry_time_timer(service, clock, started):
    advance(service, clock, started, "skin_prep")
    service.record_step(case_id=started, step="skin_prep", values={"agent": "chlorhexidine_alcohol"})
    timer = next(t for t in service.timers(started) if t.id == "skin_prep_dry")
    assert timer.remaining == timedelta(minutes=3)
    clock.advance(minutes=3)
    assert "skin_prep_dry" in [a.id for a in service.alarms(started)]


def test_timers_survive_a_restart(service, db_path, clock, started):
    advance(service, clock, started, "cement_injection")
    batch_seq = mix_cement(service, started)
    clock.advance(minutes=4)
    before = service.timers(started)
    service.close()
    reopened = ChecklistService(open_store(db_path), clock=clock)
    try:
        assert reopened.timers(started) == before
        assert reopened.state(started).facts.batches[-1].seq == batch_seq
    finally:
        reopened.close()


def test_handover_changes_who_entries_are_logged_under(service, clock, started):
    service.record_step(case_id=started, step="patient_in_room")
    service.change_staff(case_id=started, role="nurse", name="Nurse Eli Example", reason="Lunch break handover")
    state = service.record_step(case_id=started, step="identity_consent", values=STEP_VALUES["identity_consent"])
    assert state.instance("identity_consent").entry.event.actor == "Nurse Eli Example"
    assert state.instance("patient_in_room").entry.event.actor == "Nurse Dana Demo"


def complete_case(service, clock, case_id):
    advance(service, clock, case_id)
    return service.state(case_id)


def test_signing_order_and_lock(service, clock, started):
    with pytest.raises(Refusal, match="WHO check 'WHO Sign In' is not completed"):
        service.sign(case_id=started, name="Nurse Dana Demo", role="nurse")
    complete_case(service, clock, started)
    with pytest.raises(Refusal, match="nurse signs"):
        service.sign(case_id=started, name="Dr Ada Demo", role="operator", codes=service.suggested_codes(started))
    service.sign(case_id=started, name="Nurse Dana Demo", role="nurse")
    with pytest.raises(Refusal, match="findings"):
        service.sign(case_id=started, name="Dr Ada Demo", role="operator", codes=service.suggested_codes(started))
    service.record_findings(case_id=started, findings="Good fill", complications="None", ebl_ml=5)
    with pytest.raises(Refusal, match="not the operator"):
        service.sign(case_id=started, name="Dr Someone Else", role="operator", codes=service.suggested_codes(started))
    state = service.sign(case_id=started, name="Dr Ada Demo", role="operator", codes=service.suggested_codes(started))
    assert state.facts.locked and state.facts.status == "signed"
    assert service.list_cases()[0].status == "signed"
    entry = state.instance("closure").entry
    with pytest.raises(Refusal, match="locked"):
        service.correct(case_id=started, seq=entry.seq, values=entry.values, reason="late change")
    with pytest.raises(Refusal, match="locked"):
        service.record_step(case_id=started, step="cement_mix", values={})
    state = service.add_addendum(
        case_id=started, text="Patient reports pain relief.", reason="Follow-up call", author="Dr Ada Demo"
    )
    assert state.facts.status == "amended" and state.addenda[-1].actor == "Dr Ada Demo"


def test_pin_is_checked_and_stored_only_as_a_slow_hash(service, clock, started):
    staff_id = next(p["id"] for p in service.staff("nurse") if p["name"] == "Nurse Dana Demo")  # enrolled, no PIN
    service.staff_directory.change_pin(staff_id=staff_id, pin="4821")
    stored = service.store.staff.staff_pin_hash(staff_id)
    assert "4821" not in stored and stored.startswith("scrypt$")
    complete_case(service, clock, started)
    with pytest.raises(Refusal) as err:
        service.sign(case_id=started, name="Nurse Dana Demo", role="nurse", pin="0000")
    assert err.value.field == "pin"
    service.sign(case_id=started, name="Nurse Dana Demo", role="nurse", pin="4821")


def test_unknown_step_level_or_case_is_refused(service, started):
    with pytest.raises(Refusal) as err:
        service.record_step(case_id=started, step="teleport")
    assert err.value.field == "step"
    with pytest.raises(Refusal) as err:
        service.record_step(case_id=started, step="incision", level="L5")
    assert err.value.field == "level"
    with pytest.raises(Refusal) as err:
        service.state("20990101-001")
    assert err.value.field == "case"


def test_failed_write_is_not_shown_and_nothing_is_lost(service, clock, started, monkeypatch):
    from checklist_app.store import StoreFull

    service.record_step(case_id=started, step="patient_in_room")

    def full(*args, **kwargs):
        raise StoreFull("Could not save: the disk is full.")

    monkeypatch.setattr(service.store, "append", full)
    with pytest.raises(StoreFull):
        service.record_step(case_id=started, step="identity_consent", values=STEP_VALUES["identity_consent"])
    state = service.state(started)
    assert state.instance("identity_consent").status == PENDING
    assert state.instance("patient_in_room").status == DONE


def test_only_a_nurse_of_the_case_signs_as_nurse(service, clock, started):
    complete_case(service, clock, started)
    with pytest.raises(Refusal) as err:
        service.sign(case_id=started, name="Somebody Else", role="nurse")
    assert err.value.field == "name"
    service.change_staff(case_id=started, role="nurse", name="Nurse Eli Example", reason="handover")
    service.sign(case_id=started, name="Nurse Eli Example", role="nurse")


def test_gtin_must_match_the_chosen_product(service, started):
    cement, other = service.catalogue.cements[0], service.catalogue.cements[1]
    values = {"product": cement.id, "lot": "L1", "expiry": "2030-01-01", "gtin": other.gtin}
    with pytest.raises(Refusal) as err:
        service.record_step(case_id=started, step="cement_mix", values=values)
    assert err.value.field == "gtin" and other.name in str(err.value)
    with pytest.raises(Refusal, match="GTIN"):
        service.record_step(
            case_id=started,
            step="cement_mix",
            values={**values, "gtin": cement.gtin[:-1] + str((int(cement.gtin[-1]) + 1) % 10)},
        )
    service.record_step(case_id=started, step="cement_mix", values={**values, "gtin": cement.gtin})


def test_a_used_up_batch_stops_alarming_once_a_new_batch_is_mixed(service, clock, started):
    advance(service, clock, started, "cement_injection")
    first = mix_cement(service, started)
    clock.advance(minutes=30)
    assert f"working_end:{first}" in [a.id for a in service.alarms(started)]
    second = mix_cement(service, started, lot="CM0002")
    ids = [t.id for t in service.timers(started)]
    assert f"working:{second}" in ids and f"working:{first}" not in ids
    assert not [a for a in service.alarms(started) if a.id.endswith(f":{first}")]


def test_the_unsigned_case_is_resumed_even_when_newer_cases_are_signed(service, clock):
    open_case = service.start_case(**setup_kwargs()).case_id
    for _ in range(2):
        case_id = service.start_case(**setup_kwargs("vertebroplasty", [("L2", "left")])).case_id
        complete_case(service, clock, case_id)
        service.sign(case_id=case_id, name="Nurse Dana Demo", role="nurse")
        service.record_findings(case_id=case_id, complications="none", findings="Good fill")
        service.sign(case_id=case_id, name="Dr Ada Demo", role="operator", codes=service.suggested_codes(case_id))
    assert service.list_cases()[0].id != open_case
    assert service.case_in_progress() == open_case


@pytest.mark.parametrize(
    ("level", "side", "field"), [(["T12"], None, "level"), ("T12", {"left"}, "side"), (12, None, "level")]
)
def test_level_and_side_of_the_wrong_type_are_refused(service, started, level, side, field):
    with pytest.raises(Refusal) as err:
        service.record_step(case_id=started, step="cannula_placement", level=level, side=side)
    assert err.value.field == field


def test_naive_clinical_time_is_refused(service, started):
    from datetime import datetime

    with pytest.raises(Refusal) as err:
        service.record_step(case_id=started, step="patient_in_room", clinical_time=datetime(2026, 3, 2, 8, 0))
    assert err.value.field == "clinical_time"


def test_alarms_from_different_sources_stay_side_by_side_highest_priority_first(service, clock, started):
    advance(service, clock, started, "cement_injection")
    batch = mix_cement(service, started)
    clock.advance(minutes=3)
    leak = {**STEP_VALUES["cement_injection"], "batch": batch, "leak": ["epidural"]}
    service.record_step(case_id=started, step="cement_injection", level="T12", side="left", values=leak)
    state = advance(service, clock, started, "hardening_wait")  # T12 injected: its hardening wait runs
    hardening = hardening_end(state, "T12")
    batch_seq = mix_cement(service, started)  # a second batch for L1
    state = service.state(started)
    _ready, end, _set_time = working_window(state, state.entry_for(batch_seq))
    clock.set(max(end, hardening))
    raised = service.alarms(started)
    assert {a.id for a in raised} >= {
        f"working_end:{batch_seq}",
        "hardening:T12",
        f"leak:{state.facts.injections[0].seq}",
    }
    ranks = [("high", "medium", "low").index(a.priority) for a in raised]
    assert ranks == sorted(ranks) and raised[0].priority == "high" and raised[0].id.startswith("leak:")
