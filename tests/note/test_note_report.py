"""The operative report a surgeon signs (SPEC §7, issue 11 item 6): each test is named after the rule it proves.

Cases are recorded through the real service (SQLite in tmp_path, a fake clock) and the note is read
as data (`note_content`) or, where the page matters, from the PDF with pypdf.
"""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

import pytest

from checklist_app.domain.timers import working_window
from checklist_app.note import note_content, render_note, render_pdf
from checklist_app.note.model import Fields, Table, Text
from tests.conftest import STEP_VALUES, mix_cement, setup_kwargs
from tests.note.note_cases import finish, page_documents, pdf_pages, record_default, walk

SAMPLE = Path(__file__).resolve().parents[2] / "scripts" / "sample_note.py"


def fields(content, title) -> dict[str, str]:
    return {k: v for b in content.section(title).blocks if isinstance(b, Fields) for k, v in b.rows}


def alerts(content, title) -> str:
    return "\n".join(f"{b.label} {b.text}" for b in content.section(title).blocks if isinstance(b, Text))


def table(content, title) -> Table:
    return next(b for b in content.section(title).blocks if isinstance(b, Table))


def run(service, clock, special=None, *, findings=None, **setup):
    """A two-level kyphoplasty (T12, L1, both sides) walked to the end and signed."""
    case_id = service.start_case(**setup_kwargs(**setup)).case_id
    handlers = {key: (lambda h=h: h(case_id)) for key, h in (special or {}).items()}
    walk(service, clock, case_id, handlers)
    for alarm in service.alarms(case_id):
        service.acknowledge_alarm(case_id=case_id, alarm_id=alarm.id)
    finish(service, clock, case_id, findings=findings or {"findings": "Good fill.", "ebl_ml": 5.0})
    return service.state(case_id)


def load_sample():
    spec = importlib.util.spec_from_file_location("sample_note", SAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_three_level_kyphoplasty_report_fits_two_pages_then_the_nursing_record_then_the_audit_trail(service, clock):
    state = service.state(load_sample().kyphoplasty(service, clock))
    assert len(state.setup.levels) == 3
    report = pdf_pages(render_note(state, ("report",)))
    assert 1 <= len(report) <= 2, f"the operative report of a 3-level case takes {len(report)} pages"
    content = note_content(state)
    owners = [d.key for d in page_documents(pdf_pages(render_pdf(content)), content)]
    assert owners == sorted(owners, key=["report", "nursing", "audit"].index) and owners[0] == "report"
    assert owners.count("report") == len(report)


def test_a_dangerous_leak_prints_as_a_complication_with_its_high_priority_alarm(service, clock):
    def epidural(case_id):
        leak = {"leak": ["epidural", "venous"], "stop_reason": "leak", "symptomatic": False}
        record_default(service, clock, case_id, **leak)

    findings = {"findings": "Fill adequate.", "complications": "Small epidural leak at T12 left, legs normal."}
    state = run(service, clock, {("cement_injection", "T12", "left"): epidural}, findings=findings)
    complications = fields(note_content(state), "Findings and outcome")["Complications"]
    assert findings["complications"] in complications
    assert "epidural and venous (basivertebral / segmental) cement leak at T12 left" in complications
    assert "(high-priority alarm acknowledged by Nurse Dana Demo at" in complications


def test_a_cement_injection_outside_its_batch_window_prints_the_override_and_its_reason(service, clock):
    reason = "Cement still doughy on the spatula; operator decision"

    def late_injection(case_id):
        seq = mix_cement(service, case_id, room_temperature=21.0)
        state = service.state(case_id)
        clock.set(working_window(state, state.facts.batch(seq))[1] + timedelta(minutes=2))
        values = {**STEP_VALUES["cement_injection"], "batch": seq}
        service.record_step(
            case_id=case_id, step="cement_injection", level="T12", side="left", values=values, override_reason=reason
        )

    content = note_content(run(service, clock, {("cement_injection", "T12", "left"): late_injection}))
    overridden = alerts(content, "Procedure")
    assert "Hard stop overridden: Cement injection (T12 left, " in overridden
    assert "outside the cement batch's working window (cement batch lot CM0001 is past its working time" in overridden
    assert f"Reason: {reason} (recorded by Nurse Dana Demo)." in overridden
    assert reason in alerts(content, "Technique"), "and in the narrative of the level"


def test_a_level_converted_to_vertebroplasty_is_printed_and_coded_as_one_without_balloon_values(service, clock):
    why = "Balloon would not inflate past the endplate"

    def convert(case_id):
        values = {"outcome": "converted_to_vertebroplasty", "reason": why}
        service.record_step(case_id=case_id, step="level_outcome", level="L1", values=values)

    state = run(service, clock, {("balloon_inflation", "L1", "left"): convert})
    content = note_content(state)
    procedure = fields(content, "Procedure")["Procedure"]
    assert procedure == "Balloon kyphoplasty, T12 (bipedicular); vertebroplasty (converted), L1 (bipedicular)"
    assert f"L1 converted to vertebroplasty: {why}" in fields(content, "Findings and outcome")["Change of plan"]
    assert "L1 (bipedicular, converted to vertebroplasty)." in alerts(content, "Technique")
    rows = [r for r in table(content, "Levels treated").rows if r[0] == "L1"]
    assert all(r[4:7] == ("—", "—", "—") and "converted to vertebroplasty" in r[8].lower() for r in rows)
    assert [(c.code, c.level) for c in content.cpt] == [("22513", "T12"), ("22511", "L1")]


def test_a_new_neurological_deficit_is_a_complication_and_prints_in_capitals(service, clock):
    def deficit(case_id):
        record_default(service, clock, case_id, legs_as_before=False, deficit="Numb left L4 dermatome", pain_score=4)

    findings = {"findings": "Fill adequate.", "complications": "New left L4 numbness; CT requested."}
    content = note_content(run(service, clock, {("neuro_check", None, None): deficit}, findings=findings))
    outcome = fields(content, "Findings and outcome")
    assert outcome["Neurological check"].startswith("NEW NEUROLOGICAL FINDING: Numb left L4 dermatome; pain 4/10")
    assert "new neurological finding: Numb left L4 dermatome" in outcome["Complications"]
    assert fields(content, "Patient care")["Neurological check"] == outcome["Neurological check"]


def test_local_anaesthetic_totals_print_in_mg_and_mg_per_kg_against_the_maximum(service, clock):
    content = note_content(run(service, clock))  # 8 mL of lidocaine 1% at each of two levels, 70 kg
    total = "Lidocaine 160 mg in total, 2.3 mg/kg for 70 kg (maximum 4.5 mg/kg and 300 mg)"
    assert fields(content, "Procedure")["Local anaesthetic"] == total
    care = fields(content, "Patient care")["Local anaesthetic"].splitlines()
    assert care == ["T12: lidocaine 1%, 8 mL (80 mg)", "L1: lidocaine 1%, 8 mL (80 mg)", total]


def test_the_antibiotic_is_timed_to_the_first_incision_and_an_early_dose_says_so(service, clock):
    def late_time_out(case_id):
        clock.advance(minutes=70)  # the incision comes more than an hour after the dose
        record_default(service, clock, case_id)

    content = note_content(run(service, clock, {("time_out", None, None): late_time_out}))
    antibiotic = fields(content, "Procedure")["Antibiotic prophylaxis"]
    assert antibiotic.startswith("Cefazolin 2000 mg at ")
    assert "min before the first incision (more than the 60 min window)" in antibiotic
    assert fields(content, "Pre-procedure checks")["Antibiotic prophylaxis"] == antibiotic


@pytest.mark.parametrize(
    ("coverage", "shown"),
    [
        (
            {"pain_score": 8, "neuro_exam": "normal", "imaging": "mri_stir", "height_loss_pct": 30.0},
            "Baseline pain 8/10; neuro exam normal; MRI STIR oedema; height loss 30%; not recorded: conservative care",
        ),
        ({}, "Not recorded: baseline pain score (0–10)"),
    ],
)
def test_the_coverage_evidence_recorded_at_set_up_prints_in_the_report_and_says_what_is_missing(
    service, coverage, shown
):
    content = note_content(service.start_case(**setup_kwargs(coverage=coverage)))
    assert fields(content, "Procedure")["Coverage evidence"].startswith(shown)


def test_a_nurse_signature_voided_by_a_later_change_prints_as_voided_and_not_as_in_force(service, clock):
    case_id = service.start_case(**setup_kwargs()).case_id
    walk(service, clock, case_id)
    for warning in service.warnings(case_id, pending_only=True):
        service.acknowledge_warning(case_id=case_id, warning_id=warning.id)
    service.sign(case_id=case_id, name="Nurse Dana Demo", role="nurse")
    entry = service.state(case_id).instance("closure").entry
    clock.advance(minutes=2)
    service.correct(
        case_id=case_id, seq=entry.seq, values={**entry.values, "closure": "suture"}, reason="Sutured after all"
    )
    state = service.state(case_id)
    content = note_content(state)
    assert state.facts.voided and state.facts.signature("nurse") is None
    assert not any(isinstance(b, Table) for b in content.section("Signatures").blocks), "no signature in force"
    assert "voided by a later change" in alerts(content, "Signatures")
    audit = table(content, "Signatures and addenda").rows
    assert "VOIDED by entry" in audit[0][4]
    timeline = table(content, "Timeline").rows
    signed = next(r for r in timeline if r[2].startswith("Signed by Nurse Dana Demo"))
    assert "VOIDED by the change in entry #" in signed[2]
    assert "Performed" in audit[0][4] and "performed" in signed[2]


def test_an_antibiotic_given_after_the_first_incision_says_after_in_capitals(service, clock):
    case_id = service.start_case(**setup_kwargs()).case_id
    walk(service, clock, case_id)
    entry = service.state(case_id).instance("antibiotic").entry
    incision = service.state(case_id).facts.milestone("PST")
    service.correct(
        case_id=case_id,
        seq=entry.seq,
        values=dict(entry.values),
        clinical_time=incision + timedelta(minutes=4),
        reason="Given after the incision; time corrected from the anaesthetic chart",
    )
    content = note_content(service.state(case_id))
    antibiotic = fields(content, "Procedure")["Antibiotic prophylaxis"]
    assert antibiotic.endswith(", 4 min AFTER the first incision")


def test_the_nursing_record_says_where_the_identity_came_from_and_each_wristband_check(service, clock):
    """SPEC §13: a patient picked from the hospital's list, and the wristband scanned at the time-out."""
    kwargs = setup_kwargs()
    mrn = kwargs["patient"]["mrn"]
    case_id = service.start_case(**kwargs, identity={"source": "hospital_list", "list": "adt"}).case_id
    walk(
        service,
        clock,
        case_id,
        {
            ("time_out", None, None): lambda: service.record_step(
                case_id=case_id, step="time_out", values=STEP_VALUES["time_out"], wristband=mrn
            )
        },
    )
    text = dict(
        (k, v)
        for section in note_content(service.state(case_id)).document("nursing").sections
        for b in section.blocks
        if isinstance(b, Fields)
        for k, v in b.rows
    )["Patient identity"]
    assert text == (
        "Set-up: picked from the hospital's patient list (HL7 ADT); wristband scanned at WHO Time Out: matched"
    )


def test_a_patient_typed_by_hand_is_marked_so_in_the_nursing_record(service, clock):
    case_id = service.start_case(**setup_kwargs()).case_id
    content = note_content(service.state(case_id))
    rows = {
        k: v for s in content.document("nursing").sections for b in s.blocks if isinstance(b, Fields) for k, v in b.rows
    }
    assert rows["Patient identity"] == "Set-up: typed by hand"
