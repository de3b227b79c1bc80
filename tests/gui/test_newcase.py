"""The new-case form: inline validation by field, the stored set-up, and warnings acknowledged inline."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QListWidget, QPlainTextEdit, QWidget

from checklist_app.domain import events as ev
from checklist_app.domain.errors import Refusal
from checklist_app.ui.new_case import NewCaseForm
from checklist_app.ui.spine_map import parse_levels

CONTROLS = (QAbstractButton, QLineEdit, QComboBox, QPlainTextEdit, QListWidget)


def assert_named_and_big(root) -> None:
    """Every interactive control: stable objectName, accessible name, and a 48 px target."""
    for widget in (w for kind in CONTROLS for w in root.findChildren(kind)):
        if isinstance(widget.parent(), (QComboBox, QLineEdit)):
            continue  # a combo box's editor, a line edit's clear button: parts of a named control
        assert widget.objectName(), widget
        assert widget.accessibleName(), widget.objectName()
        if not isinstance(widget, (QListWidget, QPlainTextEdit)):
            assert widget.minimumHeight() >= 48 or widget.minimumSizeHint().height() >= 48, widget.objectName()


@pytest.fixture
def form(qtbot, service):
    service.add_staff(name="Dr Ada Demo", role="operator")
    service.add_staff(name="Nurse Dana Demo", role="nurse")
    widget = NewCaseForm(service)
    qtbot.addWidget(widget)
    return widget  # not shown: offscreen top-level windows log a Qt warning, and nothing here needs it


def error(form, field: str) -> str:
    label = form.findChild(object, f"newcase.{field}.error") or form.findChild(object, f"newcase.screen.{field}.error")
    return label.text() if label.isVisibleTo(form) else ""


def fill(form, *, screen_yes=(), levels="T12, L1 left", weight="58", coverage=True) -> None:
    """A complete, valid set-up as a nurse would enter it."""
    form.patient_name.setText("Nguyễn Thị Ánh O'Brien")
    form.mrn.setText("MRN-4711")
    form.dob.setText("1948-07-30")
    form.sex.buttons["female"].click()
    form.weight.setText(weight)
    form.procedure.buttons["kyphoplasty"].click()
    form.levels_text.setText(levels)
    form.findChild(QAbstractButton, "newcase.levels_apply").click()
    form.indication.buttons["osteoporotic"].click()
    form.team["operator"].setCurrentIndex(form.team["operator"].findText("Dr Ada Demo"))
    form.team["nurse"].setCurrentIndex(form.team["nurse"].findText("Nurse Dana Demo"))
    form.team["anaesthesia"].set_text("Dr Gita Demo")
    form.team["assistants"].set_text("Dr Ben Demo, Dr Cy Demo")
    for flag in screen_yes:
        form.screen[flag].buttons["yes"].click()
    form.findChild(QAbstractButton, "newcase.screen.all_no").click()
    if coverage:
        form.coverage_numbers["pain_score"].setText("8")
        form.coverage_numbers["height_loss_pct"].setText("35")
        for key, answer in (("neuro_exam", "normal"), ("imaging", "mri_stir"), ("conservative_care", "failed")):
            form.coverage_choices[key].buttons[answer].click()


def test_every_control_is_named_and_big_enough(form):
    assert_named_and_big(form)


def test_start_with_nothing_filled_names_every_missing_answer_and_stores_nothing(form, service):
    form.start.click()
    for field in ("patient_name", "mrn", "procedure", "levels", "indication", "operator", "nurse", "weight_kg"):
        assert "is required" in error(form, field), field
    assert "answer Yes or No" in error(form, "active_infection")
    assert "Patient name is required" in error(form, "patient_name")
    assert form.message.text().startswith("Not saved:")
    assert service.list_cases() == []


def test_a_refusal_from_the_service_is_shown_next_to_its_field(form, service):
    fill(form)
    form.dob.setText("1948-13-40")
    form.start.click()
    assert "Date of birth" in error(form, "date_of_birth")
    assert "YYYY-MM-DD" in error(form, "date_of_birth")
    assert form.dob.property("invalid") is True
    assert service.list_cases() == []


def test_a_number_that_is_not_a_number_names_the_field(form, service):
    fill(form, weight="heavy")
    form.start.click()
    assert error(form, "weight_kg").startswith("Weight")
    assert service.list_cases() == []


def test_labs_are_not_asked_at_set_up(form):
    """SPEC §5: INR and platelets are entered once, in the pre-procedure checks, with their draw time."""
    assert form.findChild(QWidget, "newcase.inr") is None and form.findChild(QWidget, "newcase.platelets") is None


def test_myeloma_asks_the_remission_status_and_codes_it(form, service, qtbot):
    fill(form)
    assert not form.remission_box.isVisibleTo(form) and not form.primary_box.isVisibleTo(form)
    form.indication.buttons["myeloma"].click()
    assert form.remission_box.isVisibleTo(form)
    form.remission.buttons["in_remission"].click()
    assert form.icd10.text() == "M84.58XA, C90.01"  # SPEC §7.4: the fracture first, then the neoplasm
    with qtbot.waitSignal(form.case_started):
        form.start.click()
        if form.pages.currentIndex() == 1:
            form.findChild(QAbstractButton, "newcase.warnings.later").click()
    assert service.state(service.list_cases()[0].id).setup.myeloma_remission == "in_remission"


def test_side_with_no_side_left_is_refused_by_the_levels_field(form, service):
    fill(form)
    form.spine.sides[("L1", "left")].click()  # L1 now has no side at all
    form.start.click()
    assert "L1" in error(form, "levels") and "sides" in error(form, "levels")
    assert service.list_cases() == []


def test_successful_start_stores_the_set_up_and_emits_the_case(form, service, qtbot):
    fill(form)
    with qtbot.waitSignal(form.case_started) as started:
        form.start.click()
    case_id = started.args[0]
    first = service.store.events(case_id)[0]
    assert first.kind == ev.CASE_STARTED
    setup = first.values["setup"]
    assert setup["patient"] == {
        "name": "Nguyễn Thị Ánh O'Brien",
        "mrn": "MRN-4711",
        "date_of_birth": "1948-07-30",
        "sex": "female",
        "weight_kg": 58.0,
    }
    assert setup["coverage"] == {
        "pain_score": 8,
        "neuro_exam": "normal",
        "imaging": "mri_stir",
        "height_loss_pct": 35.0,
        "conservative_care": "failed",
    }
    assert setup["procedure"] == "kyphoplasty"
    assert setup["levels"] == [{"level": "T12", "sides": ["left", "right"]}, {"level": "L1", "sides": ["left"]}]
    assert setup["indication"] == "osteoporotic"
    assert setup["icd10"] == ["M80.08XA"]
    assert setup["team"] == {
        "operator": "Dr Ada Demo",
        "nurse": "Nurse Dana Demo",
        "anaesthesia": "Dr Gita Demo",
        "assistants": ["Dr Ben Demo", "Dr Cy Demo"],
    }
    assert "inr" not in setup["screen"] and "platelets" not in setup["screen"]
    assert not any(setup["screen"][flag] for flag in form.screen)
    assert form.patient_name.text() == "" and form.pages.currentIndex() == 0  # fresh for the next case


def test_warnings_are_acknowledged_inline_and_logged_before_the_case_opens(form, service, qtbot):
    fill(form, screen_yes=("cement_allergy",), coverage=False)
    emitted = []
    form.case_started.connect(emitted.append)
    form.start.click()
    case_id = form.case_id
    assert emitted == [] and form.pages.currentIndex() == 1
    pending = [w.id for w in service.warnings(case_id, pending_only=True)]
    assert pending == ["screen:cement_allergy", "coverage:incomplete"]
    form.findChild(QAbstractButton, "newcase.warning.screen:cement_allergy.acknowledge").click()
    assert emitted == []
    assert "1 left" in form.warnings_title.text()
    with qtbot.waitSignal(form.case_started):
        form.findChild(QAbstractButton, "newcase.warning.coverage:incomplete.acknowledge").click()
    assert emitted == [case_id]
    acks = [e for e in service.store.events(case_id) if e.kind == ev.WARNING_ACKNOWLEDGED]
    assert [a.values["warning"] for a in acks] == pending
    assert {a.actor for a in acks} == {"Nurse Dana Demo"}
    assert service.warnings(case_id, pending_only=True) == []


def test_acknowledge_later_opens_the_case_with_its_warnings_still_pending(form, service, qtbot):
    fill(form, levels="T12, L1, L2, L3")  # four levels: a warning
    form.start.click()
    case_id = form.case_id
    with qtbot.waitSignal(form.case_started):
        form.findChild(QAbstractButton, "newcase.warnings.later").click()
    assert [w.id for w in service.warnings(case_id, pending_only=True)] == ["levels:count"]


def test_spine_map_toggles_levels_bipedicular_then_one_side(form):
    form.spine.levels["T12"].click()
    assert form.spine.plan() == [{"level": "T12", "sides": ["left", "right"]}]
    form.spine.sides[("T12", "left")].click()
    assert form.spine.plan() == [{"level": "T12", "sides": ["right"]}]
    form.spine.levels["T12"].click()
    assert form.spine.plan() == []
    assert not form.spine.sides[("T12", "right")].isEnabled()


def test_typed_levels_fill_the_spine_map(form):
    form.levels_text.setText("l1 r; T-12")
    form.findChild(QAbstractButton, "newcase.levels_apply").click()
    assert form.spine.plan() == [{"level": "T12", "sides": ["left", "right"]}, {"level": "L1", "sides": ["right"]}]
    assert "T12 both sides, L1 right" in form.levels_summary.text()


def test_typed_levels_that_are_not_levels_are_refused_by_the_levels_field(form):
    form.levels_text.setText("T13")
    form.findChild(QAbstractButton, "newcase.levels_apply").click()
    assert "T13" in error(form, "levels")
    assert form.spine.plan() == []


def test_icd10_follows_the_indication_until_typed_by_hand(form, qtbot):
    form.spine.set_plan({"T12": ("left", "right"), "L1": ("left", "right")})
    form.indication.buttons["traumatic"].click()
    assert form.icd10.text() == "S22.080A, S32.010A"
    form.icd10.selectAll()
    qtbot.keyClicks(form.icd10, "M48.50XA")
    form.indication.buttons["osteoporotic"].click()
    assert form.icd10.text() == "M48.50XA"  # the operator's choice is kept
    form.findChild(QAbstractButton, "newcase.icd10_suggest").click()
    assert form.icd10.text() == "M80.08XA"


def test_cancel_keeps_what_was_typed(form, qtbot):
    form.patient_name.setText("Ana")
    with qtbot.waitSignal(form.cancelled):
        form.findChild(QAbstractButton, "newcase.cancel").click()
    assert form.patient_name.text() == "Ana"
    form.reset()
    assert form.patient_name.text() == ""


@pytest.mark.parametrize(
    ("text", "plan"),
    [
        ("T12", {"T12": ("left", "right")}),
        ("t12 left, L1 R", {"T12": ("left",), "L1": ("right",)}),
        ("L2 both", {"L2": ("left", "right")}),
    ],
)
def test_parse_levels(text, plan):
    assert parse_levels(text) == plan


@pytest.mark.parametrize("text", ["", "left", "T12 T12", "X1"])
def test_parse_levels_refuses(text):
    with pytest.raises(Refusal) as caught:
        parse_levels(text)
    assert caught.value.field == "levels"
