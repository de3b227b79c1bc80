"""The wristband: the MRN read by the site's pattern, the hard stop on another patient, and where the
set-up's identity came from, recorded in the case's first event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checklist_app.domain.errors import Refusal
from checklist_app.domain.gates import GateClosed
from checklist_app.domain.wristband import MATCHED, WrongPatient, confirm_wristband, mrn_from_scan
from tests.conftest import advance, setup_kwargs

PREFIXED = r"MRN(?P<mrn>[0-9]{4,10})(?:\^V[0-9]+)?"


def test_the_default_pattern_takes_the_whole_code_and_a_site_pattern_takes_the_mrn_out():
    assert mrn_from_scan(" TEST0001\r\n") == "TEST0001"
    assert mrn_from_scan("MRN00123456^V77", PREFIXED) == "00123456"
    with pytest.raises(Refusal, match="does not fit the pattern"):
        mrn_from_scan("00123456", PREFIXED)


def test_another_patients_wristband_is_a_hard_stop_that_quotes_neither_mrn():
    with pytest.raises(WrongPatient) as caught:
        confirm_wristband("TEST0001", "TEST0002")
    assert "STOP" in caught.value.message and "TEST000" not in caught.value.message
    assert confirm_wristband("TEST0001", "TEST0001") == MATCHED
    with pytest.raises(WrongPatient):
        confirm_wristband("TEST0001", "test0001")  # nothing close counts


def test_a_bad_site_pattern_is_a_clear_refusal():
    with pytest.raises(Refusal, match="no group named 'mrn'"):
        mrn_from_scan("X", r"[A-Z]+")
    with pytest.raises(Refusal, match="not a valid regular expression"):
        mrn_from_scan("X", r"(?P<mrn>")


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=600), st.sampled_from([r"\s*(?P<mrn>[^\s]{1,64})\s*", PREFIXED]))
def test_any_scan_gives_an_mrn_or_a_refusal(scan, pattern):
    try:
        mrn = mrn_from_scan(scan, pattern)
    except Refusal as exc:
        assert exc.field == "wristband"
    else:
        assert mrn and mrn == mrn.strip() and mrn in scan


def test_typing_the_patient_by_hand_is_recorded_as_such(service):
    state = service.start_case(**setup_kwargs())
    assert state.events[0].values["identity"] == {"source": "typed", "list": "", "wristband": ""}


def test_a_patient_picked_from_the_list_and_confirmed_by_wristband_is_recorded_as_such(service):
    identity = {"source": "hospital_list", "list": "adt", "wristband": "TEST0001"}
    state = service.start_case(**setup_kwargs(), identity=identity)
    assert state.events[0].values["identity"] == {"source": "hospital_list", "list": "adt", "wristband": MATCHED}


def test_a_wrong_wristband_at_set_up_stores_nothing(service):
    with pytest.raises(WrongPatient):
        service.start_case(**setup_kwargs(), identity={"source": "typed", "wristband": "OTHER99"})
    assert service.list_cases() == []


@pytest.mark.parametrize(
    "identity",
    [{"source": "pasted"}, {"source": "typed", "list": "adt"}, {"source": "hospital_list", "list": "x"}, {"who": 1}],
)
def test_a_made_up_identity_provenance_is_refused(service, identity):
    with pytest.raises(Refusal) as caught:
        service.start_case(**setup_kwargs(), identity=identity)
    assert caught.value.field == "identity"


def test_the_wristband_at_time_out_is_recorded_with_it_and_a_mismatch_stops_it(service, clock, started):
    advance(service, clock, started, until="time_out")
    from tests.conftest import STEP_VALUES

    values = STEP_VALUES["time_out"]
    with pytest.raises(WrongPatient):
        service.record_step(case_id=started, step="time_out", values=values, wristband="TEST0002")
    with pytest.raises(WrongPatient):  # no override opens it
        service.record_step(
            case_id=started, step="time_out", values=values, wristband="TEST0002", override_reason="sure"
        )
    assert service.state(started).instance("time_out", None, None).status == "pending"
    state = service.record_step(case_id=started, step="time_out", values=values, wristband="TEST0001")
    assert state.events[-1].values["wristband"] == MATCHED
    assert not isinstance(WrongPatient(), GateClosed)


def test_correcting_a_time_out_keeps_its_wristband_check_and_it_cannot_be_typed(service, clock, started):
    from tests.conftest import STEP_VALUES

    advance(service, clock, started, until="time_out")
    state = service.record_step(case_id=started, step="time_out", values=STEP_VALUES["time_out"], wristband="TEST0001")
    seq = state.events[-1].seq
    clock.advance(minutes=1)
    corrected = service.correct(
        case_id=started, seq=seq, reason="time entered late", clinical_time=clock.now() - timedelta(minutes=2)
    )
    assert corrected.events[-1].values["wristband"] == MATCHED
    typed = {**STEP_VALUES["time_out"], "wristband": "typed, not scanned"}
    again = service.correct(case_id=started, seq=seq, reason="forged", values=typed, clinical_time=clock.now())
    assert again.events[-1].values["wristband"] == MATCHED
