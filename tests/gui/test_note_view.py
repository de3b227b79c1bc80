"""The note panel: preview inside the program, print and save, with rendering off the GUI thread."""

from __future__ import annotations

import stat
import threading

import pytest
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QFileDialog, QWidget

from checklist_app.ui import note_view
from checklist_app.ui.note_view import NotePanel
from tests.conftest import enrol_team
from tests.note.note_cases import KYPHO, build_kyphoplasty

NAMES = ("note.preview", "note.print", "note.save", "note.view", "note.progress", "note.status", "note.message")


@pytest.fixture
def panel(qtbot, service, clock):
    """A panel showing a signed, amended kyphoplasty."""
    enrol_team(service)  # signers come from the staff directory (SPEC §6), the handover nurse too
    service.add_staff(name=KYPHO["new_nurse"], role="nurse")
    case_id = build_kyphoplasty(service, clock)
    widget = NotePanel(service)
    qtbot.addWidget(widget)
    widget.resize(900, 700)  # not shown: the offscreen platform warns on show(), and Qt warnings fail tests
    widget.set_case(case_id)
    return widget


def test_controls_have_stable_object_and_accessible_names(panel):
    for object_name in NAMES:
        control = panel.findChild(QWidget, object_name)
        assert control is not None, object_name
        assert control.accessibleName(), object_name


def test_preview_renders_on_a_worker_thread_and_shows_every_page(panel, qtbot, monkeypatch):
    threads = []
    real = note_view.render_pdf

    def spy(content):
        threads.append(threading.current_thread() is threading.main_thread())
        return real(content)

    monkeypatch.setattr(note_view, "render_pdf", spy)
    with qtbot.waitSignal(panel.note_rendered, timeout=20000) as rendered:
        panel.preview_button.click()
        assert panel.progress.isVisibleTo(panel) and panel.progress_label.text() == "Preparing note…"
        assert not panel.print_button.isEnabled(), "no second request while one is running"
    assert rendered.args[0].startswith(b"%PDF") and threads == [False]
    qtbot.waitUntil(lambda: panel.document.pageCount() > 0)
    assert panel.status.text() == f"{panel.document.pageCount()} pages"
    assert not panel.progress.isVisibleTo(panel) and panel.preview_button.isEnabled()


def test_an_unchanged_case_is_not_rendered_twice(panel, qtbot):
    with qtbot.waitSignal(panel.note_rendered, timeout=20000):
        panel.preview()
    started = panel._job
    panel.preview()
    assert panel._job == started and not panel._jobs, "no new render started"


def test_save_writes_an_owner_only_pdf(panel, qtbot, monkeypatch, tmp_path):
    target = tmp_path / "saved-note"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "PDF documents (*.pdf)"))
    with qtbot.waitSignal(panel.note_rendered, timeout=20000):
        panel.save_button.click()
    saved = tmp_path / "saved-note.pdf"
    qtbot.waitUntil(saved.exists)
    assert saved.read_bytes() == panel.pdf and stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert "Saved to" in panel.message.text()


def test_print_draws_every_page_on_the_chosen_printer(panel, qtbot, monkeypatch, tmp_path):
    output = tmp_path / "printed.pdf"

    def printer():
        chosen = QPrinter(QPrinter.PrinterMode.ScreenResolution)
        chosen.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        chosen.setOutputFileName(str(output))
        return chosen

    monkeypatch.setattr(panel, "_ask_printer", printer)
    with qtbot.waitSignal(panel.note_rendered, timeout=20000):
        panel.print_button.click()
    qtbot.waitUntil(lambda: "to the printer" in panel.message.text())
    assert f"Sent {panel.document.pageCount()} pages" in panel.message.text()
    assert output.exists() and output.stat().st_size > 10_000


def test_a_cancelled_print_dialog_prints_nothing(panel, qtbot, monkeypatch):
    monkeypatch.setattr(panel, "_ask_printer", lambda: None)
    with qtbot.waitSignal(panel.note_rendered, timeout=20000):
        panel.print_note()
    assert not panel.message.isVisibleTo(panel)


def test_an_unknown_case_reports_why_it_cannot_render(panel, qtbot):
    panel.set_case("20990101-999")
    with qtbot.waitSignal(panel.render_failed, timeout=5000) as failed:
        panel.preview_button.click()
    assert "no case" in failed.args[0] and "could not be prepared" in panel.message.text()
    assert panel.preview_button.isEnabled()


def test_showing_the_same_case_again_keeps_the_preview(panel, qtbot):
    with qtbot.waitSignal(panel.note_rendered, timeout=20000):
        panel.preview()
    pdf = panel.pdf
    started = panel._job
    panel.set_case(panel.case_id)
    assert panel._job == started and not panel._jobs
    assert panel.pdf is pdf and panel.document.pageCount() > 0


def test_a_changed_case_is_rendered_again(panel, qtbot, service):
    with qtbot.waitSignal(panel.note_rendered, timeout=20000):
        panel.preview()
    service.add_addendum(case_id=panel.case_id, text="Second look: no change.", reason="Review", author="Dr Ada Demo")
    panel.set_case(panel.case_id)
    assert panel.pdf is None
    with qtbot.waitSignal(panel.note_rendered, timeout=20000) as rendered:
        panel.preview()
    assert rendered.args[0] != b""
