"""The clinical rules of SPEC §3–§7, each tested from the rule (expected code, alarm or refusal
written from the SPEC or the guidance it cites), through the scripting API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from checklist_app.domain import events as ev
from checklist_app.domain.errors import Refusal
from checklist_app.domain.gates import GateClosed
from checklist_app.domain.state import NOT_APPLICABLE, PENDING
from checklist_app.domain.timers import hardening_end, working_window
from tests.conftest import STEP_VALUES, advance, mix_cement, setup_kwargs

INJECTION = {"step": "cement_injection", "level": "T12", "side": "left"}


def inject(service, case_id, override_reason=None, **values):
    values = {**STEP_VALUES["cement_injection"], **values}
    return service.record_step(case_id=case_id, **INJECTION, values=values, override_reason=override_reason)


def at_injection(service, clock, case_id, **mix) -> int:
    """The case at T12 left's injection with a batch mixed and at its dough time; returns the batch."""
    advance(service, clock, case_id, "cement_injection")
    batch = mix_cement(service, case_id, **mix)
    state = service.state(case_id)
    clock.set(working_window(state, state.entry_for(batch))[0])
    return batch


def alarm(service, case_id, prefix: str):
    return next((a for a in service.alarms(case_id) if a.id.startswith(prefix)), None)


def warning_ids(service, case_id) -> set[str]:
    return {w.id for w in service.warnings(case_id, pending_only=True)}


# -- leaks (SPEC §3, §4) ---------------------------------------------------------------------------------


@pytest.mark.parametrize("leak", ["epidural", "foraminal", "pulmonary"])
def test_an_epidural_foraminal_or_pulmonary_leak_is_a_high_priority_alarm_even_without_symptoms(
    service, clock, started, leak
):
    at_injection(service, clock, started)
    inject(service, started, leak=[leak], symptomatic=False)
    raised = alarm(service, started, "leak:")
    assert raised is not None and raised.priority == "high"
    assert "stop injecting, tell the operator, check the legs" in raised.message and "T12 left" in raised.source


def test_a_symptomatic_leak_of_any_kind_is_a_high_priority_alarm(service, clock, started):
    at_injection(service, clock, started)
    inject(service, started, leak=["paravertebral"], symptomatic=True)
    assert alarm(service, started, "leak:").priority == "high"


def test_an_asymptomatic_venous_leak_is_recorded_but_raises_no_alarm(service, clock, started):
    at_injection(service, clock, started)
    state = inject(service, started, leak=["venous", "intradiscal"], symptomatic=False)
    assert alarm(service, started, "leak:") is None
    assert state.facts.injections[0].leaks == ("venous", "intradiscal")


def test_leaks_are_one_or_more_sites_and_no_leak_stands_alone(service, clock, started):
    at_injection(service, clock, started)
    with pytest.raises(Refusal, match="leak: 'No leak' cannot be combined"):
        inject(service, started, leak=["none", "venous"])
    with pytest.raises(Refusal, match="leak: 'Cement leak .*' must be one of"):
        inject(service, started, leak=["epidural_foraminal"])  # the old single choice is no longer offered


def test_the_leak_alarm_stays_until_acknowledged_and_the_acknowledgement_is_logged(service, clock, started):
    at_injection(service, clock, started)
    inject(service, started, leak=["epidural"])
    raised = alarm(service, started, "leak:")
    clock.advance(minutes=5)
    assert alarm(service, started, "leak:") == raised  # never goes away by itself
    service.acknowledge_alarm(case_id=started, alarm_id=raised.id)
    assert alarm(service, started, "leak:") is None
    last = service.store.events(started)[-1]
    assert (last.kind, last.values["priority"]) == (ev.ALARM_ACKNOWLEDGED, "high")


def test_a_dangerous_leak_makes_a_complication_entry_mandatory_at_sign_off(service, clock, started):
    at_injection(service, clock, started)
    inject(service, started, leak=["foraminal"])
    advance(service, clock, started)
    for warning in service.warnings(started, pending_only=True):
        service.acknowledge_warning(case_id=started, warning_id=warning.id)
    service.sign(case_id=started, name="Nurse Dana Demo", role="nurse")
    with pytest.raises(Refusal, match="complications: the record shows .*foraminal.* at T12 left"):
        service.record_findings(case_id=started, findings="Good fill", complications="none", ebl_ml=5)
    service.record_findings(
        case_id=started, findings="Good fill", complications="Foraminal leak T12 left, legs checked: normal", ebl_ml=5
    )
    state = service.sign(case_id=started, name="Dr Ada Demo", role="operator", codes=service.suggested_codes(started))
    assert state.facts.locked


def test_complications_are_a_mandatory_answer_none_or_which(service, clock, started):
    with pytest.raises(Refusal, match="complications: answer 'none'"):
        service.record_findings(case_id=started, findings="Good fill", ebl_ml=5)
    state = service.record_findings(case_id=started, findings="Good fill", complications="None.", ebl_ml=5)
    assert state.findings.values["complications"] == "none"


# -- the batch window and temperature (SPEC §3) ----------------------------------------------------------


def test_an_injection_before_the_dough_time_is_a_hard_stop_with_override_and_reason(service, clock, started):
    advance(service, clock, started, "cement_injection")
    mix_cement(service, started)  # example cement A at 20 °C: dough at 2 min
    clock.advance(minutes=1)
    with pytest.raises(GateClosed) as closed:
        inject(service, started)
    assert [g.id for g in closed.value.gates] == ["batch_window"] and "not ready" in str(closed.value)
    state = inject(service, started, override_reason="Operator judged the cement ready by touch")
    override = state.overrides[-1]
    assert (override.values["gate"], override.reason) == ("batch_window", "Operator judged the cement ready by touch")


def test_an_injection_after_the_working_time_is_a_hard_stop(service, clock, started):
    batch = at_injection(service, clock, started)
    clock.set(
        working_window(service.state(started), service.state(started).entry_for(batch))[1] + timedelta(seconds=30)
    )
    with pytest.raises(GateClosed, match="past its working time"):
        inject(service, started, batch=batch)


def test_the_room_temperature_changes_the_window_from_the_ifu_table_interpolated(service, clock, started):
    # Example cement A's IFU table (resources/products.toml): 20 °C -> 2 / 10 / 15 min, 23 °C -> 1.5 / 8 / 12 min.
    # At 21.5 °C, halfway: 1.75 / 9 / 13.5 min from T0.
    advance(service, clock, started, "cement_injection")
    t0 = clock.now()
    batch = mix_cement(service, started, room_temperature=21.5)
    window = service.state(started).facts.batch(batch).window
    assert (window.ready - t0, window.working_end - t0, window.set - t0) == (
        timedelta(minutes=1.75),
        timedelta(minutes=9),
        timedelta(minutes=13.5),
    )


def test_beyond_the_ifu_table_the_nearest_row_is_used_and_a_warning_says_so(service, clock, started):
    advance(service, clock, started, "cement_injection")
    t0 = clock.now()
    batch = mix_cement(service, started, room_temperature=30.0)  # table ends at 25 °C: 1 / 6.5 / 10 min
    window = service.state(started).facts.batch(batch).window
    assert window.working_end - t0 == timedelta(minutes=6.5)
    assert f"cement:temperature:{batch}" in warning_ids(service, started)


def test_a_cement_without_an_ifu_table_warns_beyond_two_degrees_of_its_reference(service, clock, started):
    advance(service, clock, started, "cement_injection")
    lv_cement = service.catalogue.cements[2]  # example C: no table, reference 20 °C
    assert not lv_cement.temperature_table
    at_22 = mix_cement(service, started, product=lv_cement.id, room_temperature=22.0, gtin=lv_cement.gtin)
    assert f"cement:temperature:{at_22}" not in warning_ids(service, started)  # within ±2 °C
    at_23 = mix_cement(service, started, product=lv_cement.id, room_temperature=22.5, gtin=lv_cement.gtin)
    assert f"cement:temperature:{at_23}" in warning_ids(service, started)


# -- the time-out guards every invasive step (SPEC §3, Joint Commission UP.01.03.01) -------------------


@pytest.mark.parametrize("step", ["local_anesthetic", "incision", "cannula_placement"])
def test_no_invasive_step_before_a_completed_time_out(service, clock, started, step):
    advance(service, clock, started, "time_out")
    side = "left" if step == "cannula_placement" else None
    values = STEP_VALUES.get(step)
    with pytest.raises(GateClosed, match="no invasive step before the time-out"):
        service.record_step(case_id=started, step=step, level="T12", side=side, values=values)


# -- local anaesthetic totals (SPEC §3) ------------------------------------------------------------------


def local(service, case_id, level, drug="lidocaine", strength=1.0, volume=10.0):
    values = {"drug": drug, "concentration": strength, "volume": volume}
    return service.record_step(case_id=case_id, step="local_anesthetic", level=level, values=values)


def test_local_anaesthetic_totals_across_levels_are_checked_in_mg_per_kg(service, clock):
    # 50 kg: lidocaine 4.5 mg/kg = 225 mg. 1 % is 10 mg/mL: 10 mL at T12 (100 mg) is fine, +15 mL at L1 (250 mg,
    # 5 mg/kg) is above the maximum.
    patient = {"name": "Light Example", "mrn": "LA1", "weight_kg": 50.0}
    case_id = service.start_case(**setup_kwargs(patient=patient)).case_id
    advance(service, clock, case_id, "local_anesthetic")
    local(service, case_id, "T12", volume=10)
    assert not any(w.startswith("anaesthetic:") for w in warning_ids(service, case_id))
    advance(service, clock, case_id, "local_anesthetic")
    state = local(service, case_id, "L1", volume=15)
    (total,) = state.facts.anaesthetic_totals
    assert (total.mg, total.mg_per_kg) == (250.0, 5.0)
    message = next(w for w in service.warnings(case_id, pending_only=True) if w.id == "anaesthetic:max:lidocaine")
    assert "250 mg (5.0 mg/kg)" in message.message and "4.5 mg/kg" in message.message


def test_lidocaine_with_adrenaline_has_its_own_higher_maximum(service, clock):
    patient = {"name": "Light Example", "mrn": "LA2", "weight_kg": 50.0}
    case_id = service.start_case(**setup_kwargs(patient=patient)).case_id
    advance(service, clock, case_id, "local_anesthetic")
    local(service, case_id, "T12", drug="lidocaine_adrenaline", volume=15)
    advance(service, clock, case_id, "local_anesthetic")
    local(service, case_id, "L1", drug="lidocaine_adrenaline", volume=15)  # 300 mg = 6 mg/kg < 7 mg/kg
    assert not any(w.startswith("anaesthetic:") for w in warning_ids(service, case_id))


def test_two_local_anaesthetics_add_up_against_their_maxima(service, clock):
    patient = {"name": "Light Example", "mrn": "LA3", "weight_kg": 50.0}
    case_id = service.start_case(**setup_kwargs(patient=patient)).case_id
    advance(service, clock, case_id, "local_anesthetic")
    local(service, case_id, "T12", volume=15)  # lidocaine 150 mg: 3 of 4.5 mg/kg (67 %)
    advance(service, clock, case_id, "local_anesthetic")
    local(service, case_id, "L1", drug="bupivacaine", strength=0.5, volume=10)  # 50 mg: 1 of 2.5 mg/kg (40 %)
    assert "anaesthetic:combined" in warning_ids(service, case_id)


# -- antibiotic (SPEC §3: timed to the incision, ASHP/IDSA/SIS/SHEA 2013) ---------------------------------


def antibiotic_then_incision(service, clock, case_id, drug, dose, minutes_before):
    advance(service, clock, case_id, "antibiotic")
    service.record_step(case_id=case_id, step="antibiotic", values={"given": True, "drug": drug, "dose": dose})
    clock.advance(minutes=minutes_before - 10)
    advance(service, clock, case_id, "incision", minutes=1)  # about 10 more minutes of steps
    incision_at = clock.now() + timedelta(minutes=1)
    clock.set(incision_at)
    service.record_step(case_id=case_id, step="incision", level="T12")
    dose_at = service.state(case_id).facts.antibiotic.time
    return (incision_at - dose_at).total_seconds() / 60


def test_cefazolin_more_than_60_minutes_before_the_incision_warns(service, clock, started):
    before = antibiotic_then_incision(service, clock, started, "cefazolin", 2000, 75)
    assert before > 60 and "antibiotic:timing" in warning_ids(service, started)


def test_vancomycin_has_a_120_minute_window(service, clock, started):
    # 15 mg/kg for 70 kg = 1050 mg
    before = antibiotic_then_incision(service, clock, started, "vancomycin", 1050, 95)
    assert 60 < before <= 120 and "antibiotic:timing" not in warning_ids(service, started)


def test_an_antibiotic_after_the_incision_warns(service, clock, started):
    advance(service, clock, started, "antibiotic")
    service.mark_not_applicable(case_id=started, step="antibiotic", reason="to be given later")
    advance(service, clock, started, "local_anesthetic")
    advance(service, clock, started, "cannula_placement")  # the T12 incision is recorded
    entry = service.state(started).instance("antibiotic").entry
    service.retract(case_id=started, seq=entry.seq, reason="given after all")
    clock.advance(minutes=2)
    service.record_step(case_id=started, step="antibiotic", values={"given": True, "drug": "cefazolin", "dose": 2000})
    assert "antibiotic:after_incision" in warning_ids(service, started)


def test_cefazolin_is_3_g_from_120_kg(service, clock):
    patient = {"name": "Heavy Example", "mrn": "AB1", "weight_kg": 130.0}
    case_id = service.start_case(**setup_kwargs(patient=patient)).case_id
    advance(service, clock, case_id, "antibiotic")
    service.record_step(case_id=case_id, step="antibiotic", values={"given": True, "drug": "cefazolin", "dose": 2000})
    message = next(w.message for w in service.warnings(case_id, pending_only=True) if w.id == "antibiotic:dose")
    assert "2000 mg is below the recommended 3000 mg for 130 kg" in message


# -- cannula: gauge range, tip on both views, after the incision (SPEC §3) -------------------------------


def cannula(service, case_id, level="T12", side="left", **values):
    return service.record_step(
        case_id=case_id,
        step="cannula_placement",
        level=level,
        side=side,
        values={**STEP_VALUES["cannula_placement"], **values},
    )


def test_a_cannula_gauge_outside_the_procedures_usual_range_warns(service, clock, started):
    advance(service, clock, started, "cannula_placement")
    state = cannula(service, started, gauge=13)  # kyphoplasty: typically 8–11 G
    seq = state.instance("cannula_placement", "T12", "left").entry.seq
    assert f"value:{seq}:gauge" in warning_ids(service, started)
    vertebro = service.start_case(**setup_kwargs("vertebroplasty", [("L2", "left")])).case_id
    advance(service, clock, vertebro, "cannula_placement")
    service.record_step(
        case_id=vertebro,
        step="cannula_placement",
        level="L2",
        side="left",
        values={**STEP_VALUES["cannula_placement"], "gauge": 13},  # vertebroplasty: 10–15 G
    )
    assert not any(w.startswith("value:") for w in warning_ids(service, vertebro))


def test_a_tip_not_confirmed_on_both_views_needs_an_explicit_answer_and_reason(service, clock, started):
    advance(service, clock, started, "cannula_placement")
    with pytest.raises(Refusal, match="tip_reason: the tip is not confirmed on both AP and lateral views"):
        cannula(service, started, tip_lateral=False)
    with pytest.raises(Refusal, match="tip_lateral"):
        cannula(service, started, tip_lateral=None)
    state = cannula(service, started, tip_lateral=False, tip_reason="Lateral view obscured by the scapula")
    assert state.instance("cannula_placement", "T12", "left").entry.values["tip_reason"].startswith("Lateral")


def test_an_approach_is_offered_only_where_it_exists(service, clock, started):
    """SPEC §3: sacral short-/long-axis approaches are for the sacrum; costotransverse is thoracic."""
    advance(service, clock, started, "cannula_placement")  # T12 and L1
    with pytest.raises(Refusal, match="approach: 'Sacrum: short-axis' is not offered at T12"):
        cannula(service, started, approach="sacral_short_axis")
    state = cannula(service, started, approach="costotransverse")  # T12: thoracic
    entry = state.instance("cannula_placement", "T12", "left").entry
    with pytest.raises(Refusal, match="approach: 'Sacrum: long-axis' is not offered at T12"):
        service.correct(
            case_id=started, seq=entry.seq, values={**entry.values, "approach": "sacral_long_axis"}, reason="Misread"
        )
    spec = state.template.step("cannula_placement").field("approach")
    assert [c.value for c in spec.choices_at("L1")] == ["transpedicular", "extrapedicular"]
    assert [c.value for c in spec.choices_at("S1")] == [
        "transpedicular",
        "extrapedicular",
        "sacral_short_axis",
        "sacral_long_axis",
    ]


def test_a_cannula_before_its_levels_incision_is_refused_unless_a_late_entry_with_reason(service, clock, started):
    advance(service, clock, started, "cannula_placement")
    incision = service.state(started).instance("incision", "T12").entry.clinical_time
    before = incision - timedelta(minutes=1)
    with pytest.raises(Refusal, match="clinical_time: .* is before Stab incision \\(T12\\)"):
        service.record_step(
            case_id=started,
            step="cannula_placement",
            level="T12",
            side="left",
            values=STEP_VALUES["cannula_placement"],
            clinical_time=before,
        )
    state = service.record_step(
        case_id=started,
        step="cannula_placement",
        level="T12",
        side="left",
        values=STEP_VALUES["cannula_placement"],
        clinical_time=before,
        late_reason="catch_up",
    )
    assert state.instance("cannula_placement", "T12", "left").entry.event.late_reason == "catch_up"


def test_an_injection_before_its_batch_was_mixed_is_refused(service, clock, started):
    batch = at_injection(service, clock, started)
    t0 = service.state(started).facts.batch(batch).t0
    with pytest.raises(Refusal, match="before the mix start of cement batch"):
        service.record_step(
            case_id=started,
            **INJECTION,
            values={**STEP_VALUES["cement_injection"], "batch": batch},
            clinical_time=t0 - timedelta(minutes=1),
        )


# -- alarm priorities (SPEC §4, IEC 60601-1-8) ------------------------------------------------------------


def test_working_time_ending_and_over_are_medium_and_only_for_the_batch_in_use(service, clock, started):
    advance(service, clock, started, "cement_injection")
    old = mix_cement(service, started)  # ends at 10 min
    clock.advance(minutes=5)
    new = mix_cement(service, started, lot="CM0002")  # a newer batch: the old one is no longer in use
    clock.advance(minutes=5, seconds=30)  # past the old batch's end
    ids = {a.id: a.priority for a in service.alarms(started)}
    assert f"working_end:{old}" not in ids and f"working_warning:{old}" not in ids
    clock.advance(minutes=5)  # the new batch ends at 15 min
    assert {a.id: a.priority for a in service.alarms(started)}[f"working_end:{new}"] == "medium"


def test_hardening_done_is_medium_and_skin_prep_dry_is_low(service, clock, started):
    advance(service, clock, started, "skin_prep")
    service.record_step(case_id=started, step="skin_prep", values={"agent": "chlorhexidine_alcohol"})
    clock.advance(minutes=3)
    assert alarm(service, started, "skin_prep_dry").priority == "low"
    service.acknowledge_alarm(case_id=started, alarm_id="skin_prep_dry")
    at_injection(service, clock, started)
    state = advance(service, clock, started, "hardening_wait")
    clock.set(hardening_end(state, "T12"))
    assert alarm(service, started, "hardening:T12").priority == "medium"


def test_cannulas_removed_before_the_cement_is_hard_raise_a_high_priority_alarm(service, clock, started):
    at_injection(service, clock, started)
    inject(service, started)
    clock.advance(minutes=1)
    service.record_step(
        case_id=started, step="cement_injection", level="T12", side="right", values=STEP_VALUES["cement_injection"]
    )
    service.record_step(case_id=started, step="hardening_wait", level="T12", values={"sample_hard": True})
    with pytest.raises(GateClosed):
        service.record_step(case_id=started, step="cannula_removal", level="T12", values={"haemostasis": True})
    service.record_step(
        case_id=started,
        step="cannula_removal",
        level="T12",
        values={"haemostasis": True},
        override_reason="Sample on the table hard",
    )
    assert alarm(service, started, "early_removal:").priority == "high"


# -- radiation dose (SPEC §3) ---------------------------------------------------------------------------


def dose_case(service, clock, modality):
    case_id = service.start_case(**setup_kwargs()).case_id
    advance(service, clock, case_id, "imaging_setup")
    service.record_step(case_id=case_id, step="imaging_setup", values={"modality": modality})
    advance(service, clock, case_id, "radiation_dose")
    return case_id


def test_a_ct_guided_case_records_ctdivol_and_dlp_not_the_c_arm_figures(service, clock):
    case_id = dose_case(service, clock, "ct_guided")
    with pytest.raises(Refusal, match="ctdi_vol"):
        service.record_step(case_id=case_id, step="radiation_dose", values={"fluoro_time": 3})
    state = service.record_step(case_id=case_id, step="radiation_dose", values={"ctdi_vol": 25.0, "dlp": "1.2 Gy·cm"})
    report = state.facts.dose()
    assert (report.ctdi_vol_mgy, report.dlp_mgycm, report.air_kerma_mgy) == (25.0, 1200.0, None)


def test_a_biplane_case_records_each_plane_and_adds_them_for_the_substantial_dose_level(service, clock):
    case_id = dose_case(service, clock, "biplane")
    values = {
        "fluoro_time": "12:30",  # mm:ss, as the display shows it
        "air_kerma": 3000.0,
        "kap": "2000 dGy·cm²",  # 200 Gy·cm²
        "air_kerma_lateral": 2100.0,
        "kap_lateral": 150.0,
    }
    state = service.record_step(case_id=case_id, step="radiation_dose", values=values)
    report = state.facts.dose()
    assert (report.fluoro_min, report.kap_gycm2, report.air_kerma_total_mgy) == (12.5, 200.0, 5100.0)
    # SIR substantial radiation dose level: Ka,r 5 Gy -- reached only by the two planes together.
    assert "dose:substantial" in warning_ids(service, case_id)
    assert alarm(service, case_id, "dose:substantial").priority == "medium"


# -- neurological check and a level's change of plan (SPEC §3) --------------------------------------------


def test_legs_not_as_before_at_the_neuro_check_is_a_complication(service, clock, started):
    advance(service, clock, started, "neuro_check")
    with pytest.raises(Refusal, match="deficit"):
        service.record_step(case_id=started, step="neuro_check", values={"legs_as_before": False, "pain_score": 3})
    state = service.record_step(
        case_id=started,
        step="neuro_check",
        values={"legs_as_before": False, "deficit": "New weakness of left hip flexion", "pain_score": 3},
    )
    assert state.facts.complications_required() == ["new neurological finding: New weakness of left hip flexion"]


def test_a_level_converted_to_vertebroplasty_waives_its_balloon_steps_and_is_coded_as_one(service, clock, started):
    advance(service, clock, started, "balloon_inflation")  # T12 left
    state = service.record_step(
        case_id=started,
        step="level_outcome",
        level="T12",
        values={"outcome": "converted_to_vertebroplasty", "reason": "Balloon did not hold pressure"},
    )
    balloons = [i for i in state.instances if i.spec.id.startswith("balloon_") and i.level == "T12"]
    assert balloons and {i.status for i in balloons} == {NOT_APPLICABLE}
    assert all("Converted to vertebroplasty" in (i.waived or "") for i in balloons)
    assert state.current.key == ("cement_injection", "T12", "left")
    # SPEC §7.4: a converted level is coded as vertebroplasty (T12: 22510), L1 stays kyphoplasty (22514).
    assert state.facts.suggested_codes()["cpt"] == ["22510", "22514"]


def test_an_abandoned_level_waives_its_remaining_steps_and_retracting_it_brings_them_back(service, clock, started):
    advance(service, clock, started, "cannula_placement")  # T12: local and incision done
    state = service.record_step(
        case_id=started,
        step="level_outcome",
        level="T12",
        values={"outcome": "abandoned", "reason": "Pedicle too narrow on the lateral view"},
    )
    t12 = [i for i in state.instances if i.level == "T12" and i.spec.phase == "level"]
    assert {i.spec.id for i in t12 if i.status == PENDING} == set()
    assert state.instance("local_anesthetic", "T12").entry is not None  # what was done stays done
    assert state.current.level == "L1"
    line = next(c for c in state.facts.cpt_lines() if "T12" in c.levels)
    assert line.modifier is not None and "52" in line.modifier
    seq = state.facts.level_outcomes["T12"].seq
    back = service.retract(case_id=started, seq=seq, reason="Recorded on the wrong level")
    assert back.instance("cannula_placement", "T12", "left").status == PENDING


def test_a_vertebroplasty_level_cannot_be_converted(service, clock):
    case_id = service.start_case(**setup_kwargs("vertebroplasty", [("L2", "left")])).case_id
    with pytest.raises(Refusal, match="outcome"):
        service.record_step(
            case_id=case_id,
            step="level_outcome",
            level="L2",
            values={"outcome": "converted_to_vertebroplasty", "reason": "x"},
        )


# -- signing (SPEC §3, §6) -----------------------------------------------------------------------------


def ready_to_sign(service, clock, case_id):
    advance(service, clock, case_id)
    for warning in service.warnings(case_id, pending_only=True):
        service.acknowledge_warning(case_id=case_id, warning_id=warning.id)


def test_no_signature_while_a_who_check_is_retracted(service, clock, started):
    ready_to_sign(service, clock, started)
    service.sign(case_id=started, name="Nurse Dana Demo", role="nurse")
    service.record_findings(case_id=started, findings="Good fill", complications="none", ebl_ml=5)
    time_out = service.state(started).instance("time_out").entry
    service.retract(case_id=started, seq=time_out.seq, reason="Recorded before the whole team was present")
    with pytest.raises(Refusal, match="WHO check 'WHO Time Out' is not completed"):
        service.sign(case_id=started, name="Dr Ada Demo", role="operator", codes=service.suggested_codes(started))


def test_a_change_after_the_nurse_signed_voids_her_signature(service, clock, started):
    ready_to_sign(service, clock, started)
    signed = service.sign(case_id=started, name="Nurse Dana Demo", role="nurse")
    assert signed.facts.status == "nurse_signed"
    closure = signed.instance("closure").entry
    changed = service.correct(
        case_id=started, seq=closure.seq, values={**closure.values, "closure": "suture"}, reason="Suture, not strips"
    )
    assert changed.facts.signature("nurse") is None and changed.facts.status == "complete"
    assert changed.facts.voided[signed.signatures[-1].seq].seq == changed.events[-1].seq
    service.record_findings(case_id=started, findings="Good fill", complications="none", ebl_ml=5)
    with pytest.raises(Refusal, match="nurse signs the record before the operator"):
        service.sign(case_id=started, name="Dr Ada Demo", role="operator", codes=service.suggested_codes(started))
    again = service.sign(case_id=started, name="Nurse Dana Demo", role="nurse")  # she signs again
    assert again.facts.status == "nurse_signed"


def test_the_operator_signs_as_author_and_confirms_the_codes(service, clock, started):
    ready_to_sign(service, clock, started)
    service.sign(case_id=started, name="Nurse Dana Demo", role="nurse")
    service.record_findings(case_id=started, findings="Good fill", complications="none", ebl_ml=5)
    with pytest.raises(Refusal, match="codes: confirm the procedure"):
        service.sign(case_id=started, name="Dr Ada Demo", role="operator")
    with pytest.raises(Refusal, match="meaning: the operator signs as: author"):
        service.sign(case_id=started, name="Dr Ada Demo", role="operator", meaning="approved", codes={})
    with pytest.raises(Refusal, match="'2251' is not a CPT code"):
        service.sign(
            case_id=started, name="Dr Ada Demo", role="operator", codes={"cpt": ["2251"], "icd10": ["M80.08XA"]}
        )
    # T12 and L1 kyphoplasty: 22513 (thoracic) + 22515 (each additional); osteoporotic: M80.08XA.
    assert service.suggested_codes(started) == {"cpt": ["22513", "+22515"], "icd10": ["M80.08XA"]}
    state = service.sign(
        case_id=started, name="Dr Ada Demo", role="operator", codes={"cpt": ["22513", "+22515"], "icd10": ["M80.08XA"]}
    )
    signature = state.facts.signature("operator")
    assert signature.values["meaning"] == "author"
    assert state.facts.confirmed_codes() == {"cpt": ["22513", "+22515"], "icd10": ["M80.08XA"]}
