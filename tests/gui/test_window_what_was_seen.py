"""What the screenshots showed wrong, each checked in the real window (scripts/screenshots.py shows them too)."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QScrollArea, QWidget

from checklist_app.domain.timers import timers
from tests.conftest import advance, enrol_team
from tests.gui.window_helpers import click, find, type_text


def sign(service, case_id: str) -> None:
    for warning in service.warnings(case_id, pending_only=True):
        service.acknowledge_warning(case_id=case_id, warning_id=warning.id)
    enrol_team(service)  # signers come from the staff directory
    service.sign(case_id=case_id, name="Nurse Dana Demo", role="nurse")
    service.record_findings(case_id=case_id, complications="none", findings="Good fill", ebl_ml=5.0)
    service.sign(case_id=case_id, name="Dr Ada Demo", role="operator", codes=service.suggested_codes(case_id))


def test_the_case_clock_stops_at_patient_out_of_room(qtbot, window, service, clock, started):
    advance(service, clock, started)
    por = service.state(started).facts.milestone("POR")
    clock.advance(minutes=45)  # the nurse walks away; the window stays open
    window.open_case(started)
    case_clock = next(t for t in timers(service.state(started), clock.now()) if t.id == "case_clock")
    assert case_clock.stopped and case_clock.elapsed == por - service.state(started).facts.milestone("PIR")
    card = find(window, "timer.case_clock")
    assert "stopped at" in card.accessibleName() and "patient out of room" in card.accessibleName()
    digits = find(window, "timer.case_clock.digits").text()
    clock.advance(minutes=5)
    window.case_screen.tick()
    assert find(window, "timer.case_clock.digits").text() == digits


def test_after_signing_the_checklist_no_longer_asks_for_a_signature(qtbot, window, service, clock, started):
    advance(service, clock, started)
    window.open_case(started)
    assert "Next: sign the record" in find(window, "last_saved").text()
    sign(service, started)
    window.case_events.announce(service.state(started))  # what the sign-off page says after signing
    text = find(window, "last_saved").text()
    assert "Record signed by Dr Ada Demo" in text and "Next: sign" not in text


def test_the_start_screen_after_a_case_shows_no_patient_header(qtbot, window, service, clock, started):
    advance(service, clock, started)
    window.open_case(started)
    assert window.titles.currentWidget() is window.case_screen.header
    sign(service, started)
    click(qtbot, window, "cases_button")
    assert window.titles.currentWidget() is window.title
    qtbot.waitUntil(lambda: window.findChild(QWidget, "top_bar").height() < 100)  # as tall as the title
    click(qtbot, window, "new_case")
    assert window.titles.currentWidget() is window.title  # nor above the next patient's set-up form


def test_record_cement_batch_stays_whole_after_a_scan_at_1280_by_800(qtbot, window, service, clock, started):
    window.resize(1280, 800)
    window.open_case(started)
    click(qtbot, window, "page.implants")
    cement = service.catalogue.cements[0]
    type_text(qtbot, window, "batch.scan", f"01{cement.gtin}1729063010CM-42")
    qtbot.keyClick(find(window, "batch.scan"), Qt.Key.Key_Return)
    assert find(window, "batch.scan.message").isVisible()
    record = find(window, "batch.record", QAbstractButton)
    qtbot.waitUntil(lambda: record.isVisible())
    where = record.rect().translated(record.mapTo(window, record.rect().topLeft()))
    assert window.rect().contains(where), f"the button is cut off: {where} in {window.rect()}"
    scroll = find(window, "batch.scroll", QScrollArea)
    assert not scroll.isAncestorOf(record)  # the decision never scrolls away below the fields
    assert record.height() >= 48 and record.width() >= record.sizeHint().width()


def test_a_case_clock_that_stopped_survives_a_restart(service, clock, started):
    advance(service, clock, started)
    first = next(t for t in timers(service.state(started), clock.now()) if t.id == "case_clock")
    service.log.forget()  # a new program: state from the stored events only
    later = next(t for t in timers(service.state(started), clock.now() + timedelta(hours=2)) if t.id == "case_clock")
    assert later.elapsed == first.elapsed and later.stopped
