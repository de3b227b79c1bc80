"""Names (patient, team, staff, signers) may be in any script but never hold line breaks, controls or bidi overrides."""

from __future__ import annotations

import pytest

from checklist_app.domain.errors import Refusal
from checklist_app.domain.setup import CaseSetup, clean_name
from tests.conftest import setup_kwargs

BAD = {
    "line feed": "Ann\nSmith",
    "tab": "Ann\tSmith",
    "carriage return": "Ann\rSmith",
    "line separator": "Ann\u2028Smith",
    "next line (C1)": "Ann\x85Smith",
    "C1 control": "Ann\x9bSmith",
    "left-to-right embedding": "Ann\u202aSmith",
    "right-to-left override": "\u202eAnn Smith",
    "pop directional formatting": "Ann Smith\u202c",
    "first-strong isolate": "\u2068محمد\u2069",
    "right-to-left isolate": "Ann \u2067Smith",
}
GOOD = ["王小明", "山田花子", "김민준", "राम शर्मा", "สมชาย ใจดี", "محمد أحمد", "דוד כהן", "Nguyễn Thị Hương"]
GOOD.append("مهدی\u200cزاده")  # a Persian name with its zero-width non-joiner


@pytest.mark.parametrize("what", sorted(BAD))
def test_name_with_a_line_break_control_or_bidi_override_is_refused_naming_the_field(what):
    with pytest.raises(Refusal) as refused:
        clean_name(BAD[what], "patient_name")
    assert refused.value.field == "patient_name"
    assert str(refused.value).startswith("patient_name: ")


@pytest.mark.parametrize("name", GOOD)
def test_name_in_any_script_with_its_joiners_is_accepted(name):
    assert clean_name(f"  {name} ", "operator") == name


def test_free_text_still_keeps_line_breaks_and_tabs(service, clock):
    state = service.start_case(**setup_kwargs(indication_detail="Fall at home.\n\tPain for 6 weeks"))
    assert state.setup.indication_detail == "Fall at home.\n\tPain for 6 weeks"


@pytest.mark.parametrize(
    ("where", "field"),
    [
        (
            {"patient": {"name": "Ann\nSmith", "weight_kg": 70.0, "mrn": "M1", "date_of_birth": "1950-01-01"}},
            "patient_name",
        ),
        ({"team": {"operator": "Dr\u202eEvil", "nurse": "N"}}, "operator"),
        ({"team": {"operator": "Dr A", "nurse": "Nurse\tB"}}, "nurse"),
        ({"team": {"operator": "Dr A", "nurse": "N", "anaesthesia": "Dr\u2066C"}}, "anaesthesia"),
        ({"team": {"operator": "Dr A", "nurse": "N", "assistants": ["Ok", "Bad\nName"]}}, "assistants"),
    ],
)
def test_start_case_refuses_a_bad_patient_or_team_name_and_writes_nothing(service, where, field):
    with pytest.raises(Refusal) as refused:
        service.start_case(**setup_kwargs(**where))
    assert refused.value.field == field
    assert service.store.list_cases() == []


def test_staff_change_signer_addendum_author_and_staff_list_names_are_checked(service, clock):
    case_id = service.start_case(**setup_kwargs()).case_id
    with pytest.raises(Refusal, match="name: must be on one line"):
        service.change_staff(case_id=case_id, role="nurse", name="New\nNurse", reason="break")
    with pytest.raises(Refusal, match="name: contains a bidirectional control"):
        service.sign(case_id=case_id, name="Nurse Dana Demo\u202e", role="nurse")
    with pytest.raises(Refusal, match="name: "):
        service.add_staff(name="Ann\x85Smith", role="nurse")
    with pytest.raises(Refusal, match="actor: "):
        service.record_step(case_id=case_id, step=service.state(case_id).current.spec.id, actor="A\tB")
    with pytest.raises(Refusal, match="actor: "):
        service.record_findings(case_id=case_id, findings="ok", complications="none", actor="Dr\u2067X")


def test_a_stored_set_up_with_an_old_tab_in_a_name_still_reads_back(service):
    state = service.start_case(**setup_kwargs())
    data = state.setup.to_dict()
    data["patient"]["name"] = "Ann\tSmith"  # recorded before names were checked as names
    assert CaseSetup.from_dict(data).patient.name == "Ann\tSmith"


def test_refusal_message_says_which_character_and_why():
    with pytest.raises(Refusal, match=r"must be on one line: it contains a line break or tab \(U\+000A\)"):
        clean_name("Ann\nSmith", "patient_name")
    with pytest.raises(Refusal, match=r"bidirectional control character \(U\+202E\)"):
        clean_name("\u202eAnn", "operator")
