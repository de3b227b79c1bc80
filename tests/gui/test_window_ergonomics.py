"""Ergonomics: names for automation, 48 px targets, text that fits, themes, keyboard, no modal dialogs."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTimeEdit,
    QWidget,
)

from checklist_app.ui.names import field_name
from checklist_app.ui.shortcuts import SHORTCUTS
from tests.conftest import advance, setup_kwargs
from tests.gui.window_helpers import click, find, select_row, stored, type_text

CONTROLS = (QAbstractButton, QLineEdit, QComboBox, QTimeEdit, QAbstractItemView)


def own_controls(window) -> list[QWidget]:
    """Interactive controls of this window's own screens (the hosted panels test theirs)."""
    hosted = [*window.case_screen.panels.values(), window.new_case_form]
    found = []
    for widget in (w for kind in CONTROLS for w in window.findChildren(kind)):
        if widget.objectName().startswith("qt_") or isinstance(widget, QHeaderView):
            continue  # parts Qt builds inside a named control
        if inside(widget, (QComboBox, QTimeEdit)) or widget.parent().objectName().startswith("qt_"):
            continue
        if any(panel is not None and panel.isAncestorOf(widget) for panel in hosted):
            continue
        found.append(widget)
    return found


def inside(widget: QWidget, kinds: tuple) -> bool:
    parent = widget.parent()
    while parent is not None:
        if isinstance(parent, kinds):
            return True
        parent = parent.parent()
    return False


def every_step(window, service, case_id):
    """Open each step of the case in turn (every field type appears at least once)."""
    for instance in service.state(case_id).instances:
        window.case_screen.select_step(*instance.key)
        yield instance


@pytest.mark.parametrize("procedure", ["kyphoplasty", "vertebroplasty"])
def test_every_control_has_a_stable_name_an_accessible_name_and_a_48px_target(qtbot, window, service, procedure):
    case_id = service.start_case(**setup_kwargs(procedure)).case_id
    window.open_case(case_id)
    for _instance in every_step(window, service, case_id):
        for widget in own_controls(window):
            assert widget.objectName(), f"unnamed {type(widget).__name__} ({widget.accessibleName()})"
            assert widget.accessibleName(), widget.objectName()
            if isinstance(widget, QAbstractButton) and widget.isVisible():
                assert widget.height() >= 48, widget.objectName()


def test_step_controls_name_the_step_level_and_side(window, service, started):
    window.open_case(started)
    window.case_screen.select_step("cannula_placement", "T12", "right")
    assert (
        find(window, "step.cannula_placement.T12.right.field.gauge", QLineEdit)
        .accessibleName()
        .endswith("Cannula placed under live X-ray (T12 right)")
    )
    assert find(window, "step.cannula_placement.T12.right.field.approach.transpedicular", QPushButton)
    assert "Cannula placed under live X-ray (T12 right)" in find(window, "primary_action").accessibleName()


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_no_button_label_is_cut_off_at_room_screen_sizes(qtbot, window, service, started, size):
    window.resize(*size)
    window.open_case(started)
    for _instance in every_step(window, service, started):
        for button in (w for w in own_controls(window) if isinstance(w, QPushButton) and w.isVisible()):
            if button.text():
                assert button.width() >= button.sizeHint().width() - 1, (button.objectName(), button.text())
    assert window.case_screen.timers.isVisible() and window.case_screen.checklist.isVisible()


def test_the_current_step_is_large_and_unmistakable(window, service, started):
    window.open_case(started)
    tree = window.case_screen.checklist.tree
    current = window.case_screen.checklist.model.index_of(("patient_in_room", None, None))
    other = window.case_screen.checklist.model.index_of(("identity_consent", None, None))
    assert tree.visualRect(current).height() > tree.visualRect(other).height() >= 48
    title = find(window, "step_title")
    assert title.text() == "Patient in room" and title.font().pixelSize() >= 24
    assert find(window, "step_badge").text() == "NOW"
    assert find(window, "primary_action").height() >= 60


def test_theme_toggle_is_remembered_in_the_settings_given(qtbot, make_window, ui_settings):
    window = make_window()
    assert window.property("theme") == "light"
    click(qtbot, window, "theme_toggle")
    assert window.property("theme") == "dark" and ui_settings.value("ui/theme") == "dark"
    assert "#0b0d10" in window.styleSheet()  # the dark background
    window.close()
    again = make_window()
    assert again.property("theme") == "dark"
    assert find(again, "theme_toggle").text() == "Light theme"


def test_buttons_have_a_visible_pressed_state_in_both_themes(qtbot, make_window):
    window = make_window()
    for _ in range(2):
        sheet = window.styleSheet()
        assert "QPushButton:pressed" in sheet and 'QPushButton[role="primary"]:pressed' in sheet
        window.toggle_theme()


def test_enter_completes_the_current_step_when_it_needs_no_values(qtbot, window, service, started):
    window.open_case(started)
    window.case_screen.checklist.tree.setFocus()
    qtbot.keyClick(window.case_screen.checklist.tree, Qt.Key.Key_Return)
    assert stored(service, started)[-1].step == "patient_in_room"
    before = len(stored(service, started))
    qtbot.keyClick(window.case_screen.checklist.tree, Qt.Key.Key_Return)  # identity_consent needs answers
    assert len(stored(service, started)) == before
    assert "needs values" in find(window, "step_message").text()


def test_enter_in_a_text_field_does_not_tick_the_current_step(qtbot, window, service, clock, started):
    advance(service, clock, started, "anesthesia_start")
    window.open_case(started)
    select_row(qtbot, window, "antibiotic")
    click(qtbot, window, "not_applicable")
    edit = type_text(qtbot, window, "not_applicable_reason", "Not indicated")
    before = len(stored(service, started))
    qtbot.keyClick(edit, Qt.Key.Key_Return)  # confirms the reason, and nothing else
    events = stored(service, started)[before:]
    assert [(e.kind, e.step) for e in events] == [("not_applicable", "antibiotic")]


def test_ctrl_enter_saves_the_open_editor_and_esc_closes_panels(qtbot, window, service, clock, started):
    advance(service, clock, started, "anesthesia_start")
    window.open_case(started)
    click(qtbot, window, "step.anesthesia_start.case.all.field.type.general")
    click(qtbot, window, "not_applicable")
    assert find(window, "not_applicable_panel").isVisible()
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not find(window, "not_applicable_panel").isVisible()
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    event = stored(service, started)[-1]
    assert (event.step, event.values) == ("anesthesia_start", {"type": "general"})


def test_f1_help_lists_every_shortcut_and_back_returns(qtbot, window, started):
    window.open_case(started)
    qtbot.keyClick(window, Qt.Key.Key_F1)
    assert window.stack.currentWidget() is window.help_panel
    text = find(window, "help_text").text()
    for _action, keys, what in SHORTCUTS:
        assert keys in text and what.split(" (")[0].replace("&", "&amp;") in text
    click(qtbot, window, "help_back")
    assert window.stack.currentWidget() is window.case_screen


def test_page_shortcuts_and_the_handover_button(qtbot, window, started):
    window.open_case(started)
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert window.case_screen.current_page() == "signoff"
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.case_screen.current_page() == "checklist"
    click(qtbot, window, "header_handover")
    assert window.case_screen.current_page() == "staff"


def test_the_header_always_shows_patient_case_and_the_signed_in_nurse(qtbot, window, service, started):
    window.open_case(started)
    assert find(window, "header_patient").text() == "Alba Example"
    details = find(window, "header_details").text()
    for part in ("TEST0001", "Balloon kyphoplasty", "T12", "L1"):
        assert part in details
    service.change_staff(case_id=started, role="nurse", name="Nurse Eli Example")
    window.case_events.announce(service.state(started))  # what the handover panel says after a handover
    assert find(window, "header_nurse").text() == "Signed in: Nurse Eli Example"
    click(qtbot, window, "cases_button")
    assert find(window, "header_nurse").isVisible()  # still visible with the case list showing


def test_no_modal_dialog_appears_during_a_step(qtbot, window, service, clock, started, monkeypatch):
    advance(service, clock, started, "time_out")
    window.open_case(started)
    select_row(qtbot, window, "cannula_placement", "T12", "left")
    click(qtbot, window, "gate_override")
    click(qtbot, window, "override_cancel")
    select_row(qtbot, window, "time_out")
    click(qtbot, window, "primary_action")  # refused: answers missing
    assert QApplication.activeModalWidget() is None
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, QDialog) and w.isVisible()]


def test_the_cannula_step_offers_only_the_approaches_of_its_level(qtbot, window, service, clock):
    """A thoracic level offers costotransverse and no sacral approach; a lumbar one neither."""
    case_id = service.start_case(**setup_kwargs("kyphoplasty", [("T12", "left"), ("L1", "left")])).case_id
    advance(service, clock, case_id, "cannula_placement")
    window.open_case(case_id)
    offered = {}
    for level in ("T12", "L1"):
        select_row(qtbot, window, "cannula_placement", level, "left")
        prefix = field_name("cannula_placement", level, "left", "approach") + "."
        offered[level] = sorted(
            b.objectName().removeprefix(prefix)
            for b in window.findChildren(QAbstractButton)
            if b.objectName().startswith(prefix) and b.isVisible()
        )
    assert offered == {
        "T12": ["costotransverse", "extrapedicular", "transpedicular"],
        "L1": ["extrapedicular", "transpedicular"],
    }
