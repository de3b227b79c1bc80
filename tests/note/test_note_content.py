"""The note as data: every SPEC §7 item, in clinical words, from the events alone (no PDF involved).

The note is three documents: the operative report, the intraoperative nursing record and the audit
trail; `content.section(title)` finds a section in whichever document holds it.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from checklist_app.domain import events as ev
from checklist_app.domain.chronology import LATE_REASONS
from checklist_app.domain.errors import Refusal
from checklist_app.note import AMENDED, DRAFT, FINAL, note_content
from checklist_app.note.codes import CONFIRMED, TITLES
from checklist_app.note.model import Fields, Table, Text
from checklist_app.note.tables import DEVICES_HEADING
from tests.conftest import STEP_VALUES, advance, mix_cement, setup_kwargs
from tests.note.note_cases import BALLOON_KIT, KYPHO, VERTEBRO, build_kyphoplasty

NOTE_PACKAGE = Path(__file__).resolve().parents[2] / "checklist_app" / "note"
REPORT = [
    "Procedure",
    "Findings and outcome",
    TITLES[CONFIRMED],  # the operator confirmed the codes when signing
    "Technique",
    "Levels treated",
    "Implants",
    "Signatures",
]
NURSING = [
    "Times",
    "Team",
    "Pre-procedure checks",
    "WHO checks",
    "Patient care",
    "Counts and specimens",
    "Alarms and warnings",
    "Nurse's signature",
]
AUDIT = ["Case log", "Timeline", "Corrections, retractions and overrides", "Acknowledgements", "Signatures and addenda"]


def fields(content, title) -> dict[str, str]:
    return {label: value for b in content.section(title).blocks if isinstance(b, Fields) for label, value in b.rows}


def texts(content, title) -> str:
    return "\n".join(f"{b.label} {b.text}" for b in content.section(title).blocks if isinstance(b, Text))


def tables(content, title) -> list[Table]:
    return [b for b in content.section(title).blocks if isinstance(b, Table)]


def test_three_documents_in_order_each_with_its_sections_and_addenda_after_the_signatures(kypho):
    _, content = kypho
    titles = [(d.key, d.title) for d in content.documents]
    assert titles == [
        ("report", "Operative report"),
        ("nursing", "Intraoperative nursing record"),
        ("audit", "Audit trail"),
    ]
    assert [s.title for s in content.document("report").sections] == [*REPORT, "Addenda"]
    assert [s.title for s in content.document("nursing").sections] == NURSING
    assert [s.title for s in content.document("audit").sections] == AUDIT
    assert [s.title for s in content.sections] == [*REPORT, "Addenda", *NURSING, *AUDIT]


def test_header_identifies_patient_record_and_status(kypho):
    state, content = kypho
    head = content.header
    assert (head.patient_name, head.mrn, head.date_of_birth) == (KYPHO["patient"], KYPHO["mrn"], "1948-02-29")
    assert head.date_of_service == state.facts.milestone("PIR").astimezone().date().isoformat()  # local date
    assert head.record_id == state.case_id
    assert head.facility == state.settings.facility_name and head.title == "Balloon kyphoplasty"
    assert head.status == AMENDED and "1 addendum" in head.status_detail


def test_metadata_comes_from_the_case(kypho):
    state, content = kypho
    meta = content.metadata
    assert meta.author == "Dr Ada Demo" and meta.created == state.events[-1].recorded_time
    assert state.case_id in meta.subject and state.events[-1].hash in meta.document_id
    assert "CPT 22513" in meta.keywords and "ICD-10-CM M80.08XA" in meta.keywords


def test_times_team_handover_and_anaesthesia(kypho):
    state, content = kypho
    times = fields(content, "Times")
    for label in ("PIR", "AS", "PST", "PF", "AF", "POR"):
        key = next(k for k in times if f"({label})" in k)
        assert times[key].count(":") == 1, f"{label} shown as a 24-hour local time"
    assert times["Procedure time (PST to PF)"].endswith(" min")
    team = fields(content, "Team")
    assert team["Assistants"] == KYPHO["assistant"]
    assert "Nurse Dana Demo (until" in team["Circulating nurse"]
    assert f"{KYPHO['new_nurse']} (from" in team["Circulating nurse"] and KYPHO["handover"] in team["Circulating nurse"]
    assert team["Anaesthesia provider"] == "Dr Gita Demo"
    assert team["Anaesthesia type"] == "Local + moderate sedation"
    change = tables(content, "Team")[0]
    assert change.caption == "Staff changes" and change.rows[0][2] == f"Nurse Dana Demo → {KYPHO['new_nurse']}"
    assert change.rows[0][3] == KYPHO["handover"]
    report = fields(content, "Procedure")
    assert report["Operator"] == "Dr Ada Demo" and report["Assistants"] == KYPHO["assistant"]
    assert report["Anaesthesia"] == "Local + moderate sedation, Dr Gita Demo"
    assert report["Procedure time"].endswith(" min)") and " to " in report["Procedure time"]


def test_diagnoses_with_icd10_from_the_indication_or_given_at_set_up(kypho, vertebro):
    _, content = kypho
    dx = fields(content, "Procedure")
    assert dx["Pre-operative diagnosis"] == "Osteoporotic compression fracture, T12 and L1"
    assert dx["Post-operative diagnosis"] == "Same"
    assert KYPHO["detail"] in dx["Indication"]
    icd = tables(content, TITLES[CONFIRMED])[1]
    assert icd.header[0] == "ICD-10-CM" and icd.rows[0][0] == "M80.08XA"
    assert icd.rows[0][1].startswith("Age-related osteoporosis")
    _, vcontent = vertebro
    vicd = tables(vcontent, TITLES[CONFIRMED])[1]
    assert [r[0] for r in vicd.rows] == ["C79.51", "M84.58XA"], "the set-up's codes, in the set-up's order"
    assert vicd.rows[0][1] == "Secondary malignant neoplasm of bone"
    assert fields(vcontent, "Procedure")["Post-operative diagnosis"] == VERTEBRO["postop"]


def test_consent_time_out_and_its_override(kypho):
    _, content = kypho
    checks = fields(content, "Pre-procedure checks")
    assert "Confirmed: patient identity (two identifiers), procedure, levels, sides" in checks["Consent and identity"]
    assert "Cefazolin 2000 mg" in checks["Antibiotic prophylaxis"]
    assert "before the first incision" in checks["Antibiotic prophylaxis"]
    who = fields(content, "WHO checks")
    assert "Team present: Dr Ada Demo, Nurse Dana Demo" in who["WHO time-out"]
    for title in ("WHO checks", "Procedure"):  # in the nursing record and in the operative report
        override = texts(content, title)
        assert "Time-out override" in override and KYPHO["override"] in override and "T12 left" in override
    report = fields(content, "Procedure")["Consent and time-out"]
    assert "signed consent checked at" in report and "WHO time-out completed at" in report


def test_labs_print_one_value_wherever_they_were_entered(service, clock):
    """SPEC §5: INR and platelets are entered once, in the pre-procedure checks, with the draw time; a
    second entry is a correction, and every section shows the one value in force."""
    case_id = service.start_case(**setup_kwargs()).case_id
    advance(service, clock, case_id, "prechecks")
    drawn = (clock.now() - timedelta(hours=3)).isoformat()
    labs = {**STEP_VALUES["prechecks"], "inr": 1.4, "platelets": 291.0, "labs_drawn": drawn}
    state = service.record_step(case_id=case_id, step="prechecks", values=labs)
    entry = state.instance("prechecks").entry
    values = {**entry.values, "inr": 1.1, "platelets": 220.0}
    service.correct(case_id=case_id, seq=entry.seq, values=values, reason="Results of the wrong day")
    state = service.state(case_id)
    content = note_content(state)
    report = fields(content, "Procedure")["Laboratory values"]
    nursing = fields(content, "Pre-procedure checks")["Laboratory values"]
    assert report == nursing and report.startswith("INR 1.1; platelets 220 ×10⁹/L (drawn ")
    before_audit = "\n".join(content.plain_text().split("\nAudit trail\n")[0].splitlines())
    assert "1.4" not in before_audit and "291" not in before_audit
    assert "INR: 1.4 → 1.1" in content.plain_text(), "the original value stays visible in the audit trail"
    with pytest.raises(Refusal, match="recorded once, in the pre-procedure checks"):
        service.start_case(**setup_kwargs(screen={"inr": 1.4}))


def test_cpt_codes_per_level_and_biopsy_included(kypho, vertebro):
    _, content = kypho
    assert [(c.code, c.level, c.add_on) for c in content.cpt] == [("22513", "T12", False), ("22515", "L1", True)]
    rows = tables(content, TITLES[CONFIRMED])[0].rows
    assert [r[0] for r in rows] == ["22513", "+22515"] and rows[1][3].startswith("Add-on")
    assert "Bone biopsy at T12: included in 22513, not reported separately." in texts(content, TITLES[CONFIRMED])
    _, vcontent = vertebro
    assert [(c.code, c.level) for c in vcontent.cpt] == [("22510", "T11"), ("22512", "L1")]


def test_an_add_on_code_for_several_levels_prints_once_with_its_units(service):
    levels = [{"level": lv, "sides": ["left", "right"]} for lv in ("T11", "T12", "L1")]
    content = note_content(service.start_case(**setup_kwargs(levels=levels)))
    rows = tables(content, TITLES["suggested"])[0].rows
    assert [r[:2] for r in rows] == [("22513", "T11"), ("+22515", "T12 and L1")] and rows[1][3] == "Add-on ×2"
    assert [c.level for c in content.cpt] == ["T11", "T12", "L1"], "one line per level for other consumers"


def test_lumbar_kyphoplasty_is_coded_lumbar(service):
    state = service.start_case(**setup_kwargs(levels=[("L2", "left"), ("L3", "right")]))
    content = note_content(state)
    assert [c.code for c in content.cpt] == ["22514", "22515"]
    assert "No cement injection recorded yet" in texts(content, TITLES["suggested"])
    assert content.status == DRAFT


def test_narrative_tells_the_technique_in_clinical_words(kypho):
    _, content = kypho
    prose = texts(content, "Technique")
    for expected in (
        "positioned prone, arms forward, beside the head",
        "the procedure was performed under biplane fluoroscopy",
        "T12 and L1 were localised on AP and lateral views",
        "11 G cannulas were placed on the left and right by a transpedicular approach",
        "inflated to 220 psi and 3.0 mL on the left and to 220 psi and 3.0 mL on the right (end point: height",
        "Example high-viscosity PMMA A (lot CM0001) was injected under lateral fluoroscopy: 3.5 mL on the left",
        "(each stopped at adequate fill, no leak)",
        "a bone biopsy was taken from the left side into 10% formalin (histology)",
        "The right balloon was NOT intact on removal (complication)",
        "the cement sample on the table was hard at",
        "the cannulas were removed at",
        "incisions were closed with adhesive skin strips and a sterile adhesive dressing was applied",
        KYPHO["override"],
    ):
        assert expected.lower() in prose.lower(), expected


def test_levels_table_has_every_side_and_totals(kypho, vertebro):
    _, content = kypho
    table = tables(content, "Levels treated")[0]
    assert [r[:2] for r in table.rows] == [("T12", "Left"), ("T12", "Right"), ("L1", "Left"), ("L1", "Right")]
    assert table.rows[0][2:8] == ("Transpedicular", "11 G", "15 mm", "220 psi", "3.0 mL", "3.5 mL")
    assert "Balloon not intact on removal" in table.rows[3][8] and table.flagged == (3,)
    assert table.totals is not None and table.totals[6:] == ("12.0 mL", "12.5 mL", "No leak; 1 balloon not intact")
    _, vcontent = vertebro
    vtable = tables(vcontent, "Levels treated")[0]
    assert "Balloon" not in vtable.header and len(vtable.rows) == 3
    assert vtable.rows[1][7] == "Venous, symptomatic"  # the narrow column: the leak without its parenthesis


def test_implants_list_product_lot_expiry_and_udi_and_the_balloon_kits_as_devices(kypho):
    _, content = kypho
    table = tables(content, "Implants")[0]
    # T12's cement had set before L1 was injected: a second mix, of the same lot, for L1. One row per
    # lot (what traceability needs), each mix a line of its use.
    assert [r[0] for r in table.rows] == ["Bone cement", DEVICES_HEADING, "Balloon kit"]
    assert table.groups == (1,) and DEVICES_HEADING == "Devices used (not implanted)"
    cement, _heading, kit = table.rows
    assert cement[0] == "Bone cement" and cement[2] == "CM0001" and cement[3] == "2030-01-01"
    assert cement[4] == "(01)00614141100019\n(17)300101(10)CM0001"
    use = cement[5].splitlines()
    assert use[0].startswith("Mixed ") and use[1] == "T12 left 3.5 mL, right 3.0 mL"
    assert use[2].startswith("Mixed ") and use[3] == "L1 left 3.0 mL, right 3.0 mL"
    assert kit[0] == "Balloon kit" and kit[2] == BALLOON_KIT["lot"] and kit[3] == BALLOON_KIT["expiry"]
    assert kit[4] == "(01)00614141200023\n(17)300630(10)BK12345\n(21)SN-0042"
    assert "Inflated at T12 and L1 (left and right)" in kit[5]


def test_specimen_dose_and_outcome(kypho, vertebro):
    _, content = kypho
    specimens = tables(content, "Counts and specimens")[0]
    assert specimens.caption == "Specimens"
    assert specimens.rows[0][:3] == ("Bone biopsy, T12", "Left", "10% formalin (histology)")
    outcome = fields(content, "Findings and outcome")
    assert outcome["Specimens"] == "Bone biopsy, T12 (left), in 10% formalin (histology), sent to the laboratory"
    assert not content.substantial_dose and "Below the substantial-dose thresholds" in outcome["Radiation dose"]
    assert outcome["Radiation dose"].startswith("Fluoroscopy time 4.2 min; reference air kerma (Ka,r) 210 mGy")
    assert outcome["Findings"] == KYPHO["findings"] and outcome["Estimated blood loss"] == "10 mL"
    assert KYPHO["complications"] in outcome["Complications"]
    assert "Recorded during the procedure: balloon not intact on removal at L1 right." in outcome["Complications"]
    assert outcome["Condition"] == "Stable" and outcome["Disposition"] == KYPHO["disposition"]
    _, vcontent = vertebro
    assert vcontent.substantial_dose
    flag = texts(vcontent, "Findings and outcome")
    assert "SUBSTANTIAL RADIATION DOSE" in flag and "5200 mGy ≥ 5000 mGy" in flag and "follow-up required" in flag
    assert "14 runs" in fields(vcontent, "Findings and outcome")["Radiation dose"]
    complications = fields(vcontent, "Findings and outcome")["Complications"]
    assert "symptomatic venous (basivertebral / segmental) cement leak at L1 left" in complications
    antibiotic = fields(vcontent, "Pre-procedure checks")["Antibiotic prophylaxis"]
    assert antibiotic == "Not given: " + VERTEBRO["no_antibiotic"]


def test_dose_threshold_is_a_setting_and_reached_at_equality(kypho):
    state, _ = kypho
    content = note_content(state, settings=replace(state.settings, dose_kap_gycm2=25.0))
    assert content.substantial_dose
    assert "kerma-area product (KAP) 25 Gy·cm² ≥ 25 Gy·cm²" in texts(content, "Findings and outcome")


def test_timeline_lists_every_event_and_marks_late_entries(kypho):
    state, content = kypho
    table = tables(content, "Timeline")[0]
    assert [r[0] for r in table.rows] == [str(e.seq) for e in state.events]
    late = [e for e in state.events if e.late_reason]
    assert len(late) == 1 and table.flagged == (late[0].seq - 1,)
    note = table.rows[late[0].seq - 1][4]
    assert note.startswith("LATE ENTRY, recorded") and LATE_REASONS["catch_up"] in note


def test_corrections_retractions_and_overrides_keep_the_original(kypho):
    _, content = kypho
    changes = {t.caption: t for t in tables(content, "Corrections, retractions and overrides")}
    correction = changes["Corrections"].rows[0]
    assert correction[2] == "Cement volume: 3.0 mL → 3.5 mL" and correction[3] == KYPHO["correction"]
    retraction = changes["Retractions"].rows[0]
    assert "Skin closure: Suture" in retraction[2] and retraction[3] == KYPHO["retraction"]
    override = changes["Hard-stop overrides"].rows[0]
    assert "time-out not completed" in override[1] and override[3] == KYPHO["override"]


def test_signatures_and_addenda(kypho):
    _, content = kypho
    rows = tables(content, "Signatures")[0].rows
    assert [r[1] for r in rows] == ["Circulating nurse", "Operator"]
    assert rows[0][0] == KYPHO["new_nurse"] and rows[1][0] == "Dr Ada Demo" and rows[1][3] == "Author"
    nurse = tables(content, "Nurse's signature")[0].rows
    assert nurse == (rows[0],), "the nurse's signature also closes the nursing record"
    for title in ("Addenda", "Signatures and addenda"):  # in the operative report and in the audit trail
        addenda = texts(content, title)
        assert KYPHO["addendum"] in addenda and KYPHO["addendum_reason"] in addenda and "by Dr Ada Demo" in addenda
    audit = tables(content, "Signatures and addenda")[0]
    assert audit.caption == "Signatures" and [r[2] for r in audit.rows] == ["Circulating nurse", "Operator"]


def test_acknowledgements_in_the_nursing_record_and_the_audit_trail(service, clock):
    case_id = service.start_case(**setup_kwargs()).case_id
    advance(service, clock, case_id, "prechecks")
    drawn = (clock.now() - timedelta(hours=2)).isoformat()
    labs = {**STEP_VALUES["prechecks"], "inr": 1.8, "platelets": 250.0, "labs_drawn": drawn}
    service.record_step(case_id=case_id, step="prechecks", values=labs)
    for warning in service.warnings(case_id, pending_only=True):
        service.acknowledge_warning(case_id=case_id, warning_id=warning.id)
    advance(service, clock, case_id, "cement_injection")
    mix_cement(service, case_id)
    clock.set(service.state(case_id).facts.batches[-1].window.working_end)
    raised = service.alarms(case_id)
    assert raised
    for alarm in raised:
        service.acknowledge_alarm(case_id=case_id, alarm_id=alarm.id)
    state = service.state(case_id)
    content = note_content(state)
    acknowledged = sorted([*state.acknowledged_alarms.values(), *state.acknowledged_warnings.values()], key=seq)
    audit = tables(content, "Acknowledgements")[0]
    assert [int(r[0]) for r in audit.rows] == [e.seq for e in acknowledged]
    assert any(r[2].startswith("Alarm, ") for r in audit.rows) and any(r[2].startswith("Warning") for r in audit.rows)
    nursing = {t.caption: t for t in tables(content, "Alarms and warnings")}
    alarms = nursing["Alarms acknowledged"].rows
    assert [r[2] for r in alarms] == [a.message for a in raised] and alarms[0][3] == "Nurse Dana Demo"
    assert len(nursing["Warnings acknowledged"].rows) == len(state.acknowledged_warnings)


def seq(event):
    return event.seq


def test_status_is_draft_then_final_then_amended(service, clock):
    draft = build_kyphoplasty(service, clock, stop_before="closure")
    content = note_content(service.state(draft))
    assert content.status == DRAFT and "not signed by the operator" in content.header.status_detail
    assert "DRAFT" in texts(content, "Signatures")
    assert fields(content, "Findings and outcome")["Findings"] == "Not yet recorded by the operator"
    assert "has not signed" in texts(content, "Nurse's signature")
    final = build_kyphoplasty(service, clock, addendum=False)
    assert note_content(service.state(final)).status == FINAL


def test_no_none_raw_ids_or_enum_names_reach_the_note(kypho, vertebro):
    for state, content in (kypho, vertebro):
        text = content.plain_text()
        assert "None" not in text
        codes = {c.value for s in state.template.steps for f in s.fields for c in f.choices if "_" in c.value}
        codes |= {p.id for p in state.catalogue.cements + state.catalogue.balloons}
        codes |= {k for k in (*LATE_REASONS, *ev.KINDS) if "_" in k}
        leaked = sorted(code for code in codes if code in text)
        assert leaked == []


def test_content_modules_use_neither_reportlab_nor_qt():
    for name in ("codes", "content", "model", "narrative", "nursing", "record", "safety", "tables", "words"):
        tree = ast.parse((NOTE_PACKAGE / f"{name}.py").read_text(encoding="utf-8"))
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {m.split(".")[0] for m in imported} & {"reportlab", "PySide6"}, name


def test_the_documents_asked_for_come_in_print_order_each_once(kypho):
    state, _ = kypho
    assert [d.key for d in note_content(state, ("audit", "report", "audit")).documents] == ["report", "audit"]
    nursing = note_content(state, "nursing")
    assert [d.key for d in nursing.documents] == ["nursing"] and nursing.section("Times").title == "Times"
    with pytest.raises(KeyError):
        nursing.section("Technique")
    with pytest.raises(KeyError):
        nursing.document("report")
    for wrong in ((), ("minutes",), ("report", "summary")):
        with pytest.raises(ValueError, match="report, nursing, audit"):
            note_content(state, wrong)


def test_plain_text_reads_every_document_under_its_title(kypho):
    _, content = kypho
    text = content.plain_text()
    positions = [text.index(f"\n{d.title}\n") for d in content.documents]
    assert positions == sorted(positions)
    assert text.index("\nTechnique\n") < positions[1] < text.index("\nWHO checks\n") < positions[2]
