"""Cement batches and balloon kits: keyboard-wedge scans, bad check digits, expired lots, typing by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractButton, QApplication

from checklist_app.domain import events as ev
from checklist_app.domain.barcode import GS_VISIBLE
from checklist_app.ui.batch_panel import BatchPanel, clinical_time_from
from tests.conftest import setup_kwargs
from tests.gui.test_newcase import assert_named_and_big

GS = "\x1d"


@pytest.fixture
def panel(qtbot, service, started):
    widget = BatchPanel(service)
    qtbot.addWidget(widget)
    widget.set_case(started)
    return widget


def type_like_a_scanner(qtbot, widget, text: str) -> None:
    """Key presses as a USB scanner sends them; GS arrives as Ctrl+] with the text "\x1d"."""
    for n, part in enumerate(text.split(GS)):
        if n:
            event = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_BracketRight, Qt.KeyboardModifier.ControlModifier, GS)
            QApplication.sendEvent(widget, event)
        qtbot.keyClicks(widget, part)


def scan(qtbot, panel, text: str) -> None:
    """Scan: the scanner types the code fast and ends with Enter."""
    type_like_a_scanner(qtbot, panel.scan, text)
    qtbot.keyClick(panel.scan, Qt.Key.Key_Return)


def shown_error(panel, field: str) -> str:
    label = panel.findChild(object, f"batch.field.{field}.error")
    return label.text() if label.isVisibleTo(panel) else ""


def button(panel, object_name: str) -> QAbstractButton:
    return panel.findChild(QAbstractButton, object_name)


def test_every_control_is_named_and_big_enough(panel):
    assert_named_and_big(panel)


def test_valid_scan_fills_the_fields_and_record_stores_the_batch(qtbot, panel, service, started):
    cement = service.catalogue.cements[1]
    scan(qtbot, panel, f"01{cement.gtin}1729063010LOT-42{GS}21SN9")
    assert panel.product.currentData() == cement.id
    assert (panel.lot.text(), panel.expiry.text(), panel.gtin.text()) == ("LOT-42", "2029-06-30", cement.gtin)
    assert panel.scan.text() == ""  # ready for the next scan
    assert "Serial SN9 is not recorded for cement" in panel.scan_message.text()
    panel.temperature.setText("21,5")
    with qtbot.waitSignal(panel.events.case_changed) as recorded:
        panel.record.click()
    assert recorded.args[0].case_id == started
    batch = service.state(started).facts.batches[-1].entry
    assert batch.values == {
        "product": cement.id,
        "lot": "LOT-42",
        "expiry": "2029-06-30",
        "gtin": cement.gtin,
        "room_temperature": 21.5,
    }
    assert batch.clinical_time == service.clock.now()  # T0 = now
    assert "LOT-42" in panel.entry_texts()[0]
    assert panel.lot.text() == ""


def test_group_separator_typed_by_the_scanner_is_kept_and_read(qtbot, panel):
    cement = panel.service.catalogue.cements[0]
    type_like_a_scanner(qtbot, panel.scan, f"01{cement.gtin}10AB{GS}17290101")
    assert GS_VISIBLE in panel.scan.text()
    qtbot.keyClick(panel.scan, Qt.Key.Key_Return)
    assert (panel.lot.text(), panel.expiry.text()) == ("AB", "2029-01-01")


@pytest.mark.parametrize(
    ("key", "modifiers", "text"),
    [
        (Qt.Key.Key_BracketRight, Qt.KeyboardModifier.ControlModifier, GS),  # X11/macOS, US layout: Ctrl+]
        (Qt.Key.Key_BracketRight, Qt.KeyboardModifier.ControlModifier, ""),  # "]" behind AltGr: no text
        (Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, GS),  # Windows Alt+0029: the character alone
    ],
    ids=["ctrl-bracket", "ctrl-bracket-no-text", "alt-0029"],
)
def test_every_key_event_a_scanner_sends_for_ascii_29_is_a_group_separator(qtbot, panel, key, modifiers, text):
    cement = panel.service.catalogue.cements[0]
    qtbot.keyClicks(panel.scan, f"01{cement.gtin}10AB")
    QApplication.sendEvent(panel.scan, QKeyEvent(QEvent.Type.KeyPress, key, modifiers, text))
    qtbot.keyClicks(panel.scan, "17290101")
    assert panel.scan.text().count(GS_VISIBLE) == 1
    qtbot.keyClick(panel.scan, Qt.Key.Key_Return)
    assert (panel.lot.text(), panel.expiry.text()) == ("AB", "2029-01-01")


@pytest.mark.parametrize("stand_in", ["<GS>", "^]"])
def test_a_scanner_set_to_type_a_stand_in_for_gs_is_read(qtbot, panel, stand_in):
    cement = panel.service.catalogue.cements[0]
    scan(qtbot, panel, f"]C101{cement.gtin}10AB{stand_in}21SN1{stand_in}17290101")
    assert (panel.lot.text(), panel.expiry.text()) == ("AB", "2029-01-01")
    assert "Serial SN1 is not recorded for cement" in panel.scan_message.text()


def test_digital_link_scan_of_a_balloon_switches_to_balloon_kit(qtbot, panel, service, started):
    balloon = service.catalogue.balloons[0]
    scan(qtbot, panel, f"https://id.gs1.org/01/{balloon.gtin}/10/BK1/21/S-77?17=290101")
    assert panel.kind == "balloon" and panel.kinds.value() == "balloon"
    assert (panel.product.currentData(), panel.serial.text()) == (balloon.id, "S-77")
    panel.record.click()
    kit = service.state(started).facts.kits[-1].entry
    assert kit.values["serial"] == "S-77" and kit.values["product"] == balloon.id


def test_bad_check_digit_shows_a_clear_message_and_stores_nothing(qtbot, panel, service, started):
    gtin = service.catalogue.cements[0].gtin
    wrong = gtin[:-1] + str((int(gtin[-1]) + 3) % 10)
    before = len(service.store.events(started))
    scan(qtbot, panel, f"01{wrong}1729010110LOT")
    assert "check digit" in panel.scan_message.text()
    assert panel.scan_message.property("kind") == "error"
    assert (panel.lot.text(), panel.gtin.text()) == ("", "")
    assert len(service.store.events(started)) == before


def test_expired_lot_is_refused_then_recorded_with_an_override_reason(qtbot, panel, service, started):
    cement = service.catalogue.cements[0]
    scan(qtbot, panel, f"01{cement.gtin}1726030110OLD1")  # expired the day before the case
    assert "EXPIRED on 2026-03-01" in panel.scan_message.text()
    before = len(service.store.events(started))
    panel.record.click()
    assert len(service.store.events(started)) == before
    assert panel.override.isVisibleTo(panel)
    assert "expired on 2026-03-01" in panel.override.prompt.text()
    confirm = button(panel, "batch.override_confirm")
    assert not confirm.isEnabled()  # no reason, no override
    panel.override.reason.setText("No other lot in the hospital; operator informed")
    with qtbot.waitSignal(panel.events.case_changed):
        confirm.click()
    new = service.store.events(started)[before:]
    assert [e.kind for e in new] == [ev.GATE_OVERRIDE, ev.STEP_DONE]
    assert new[0].values["gate"] == "expired_lot"
    assert new[0].reason == "No other lot in the hospital; operator informed"
    assert new[1].step == "cement_mix" and new[1].values["lot"] == "OLD1"
    assert not panel.override.isVisibleTo(panel)
    assert "EXPIRED lot used, override" in panel.entry_texts()[0]


def test_expired_lot_not_overridden_stores_nothing(qtbot, panel, service, started):
    scan(qtbot, panel, f"01{service.catalogue.cements[0].gtin}1725010110OLD")
    panel.record.click()
    before = len(service.store.events(started))
    button(panel, "batch.override_cancel").click()
    assert len(service.store.events(started)) == before
    assert "Not recorded" in panel.message.text()


def test_unknown_product_is_chosen_by_hand(qtbot, panel, service, started):
    scan(qtbot, panel, "01006141419999961729010110U1")
    assert "Unknown product GTIN 00614141999996; choose the product by hand" in panel.scan_message.text()
    panel.record.click()
    assert "required" in shown_error(panel, "product")
    panel.product.setCurrentIndex(panel.product.findData(service.catalogue.cements[2].id))
    panel.record.click()
    assert service.state(started).facts.batches[-1].gtin == "00614141999996"


def test_typing_everything_by_hand_records_a_balloon_kit(qtbot, panel, service, started):
    button(panel, "batch.kind.balloon").click()
    balloon = service.catalogue.balloons[2]
    panel.product.setCurrentIndex(panel.product.findData(balloon.id))
    panel.lot.setText("BK-9")
    panel.expiry.setText("2030-12-31")
    panel.serial.setText("SER-1")
    panel.record.click()
    kit = service.state(started).facts.kits[-1].entry
    assert kit.values == {"product": balloon.id, "lot": "BK-9", "expiry": "2030-12-31", "serial": "SER-1"}


def test_missing_lot_and_expiry_are_named(qtbot, panel):
    panel.product.setCurrentIndex(1)
    panel.record.click()
    assert "Lot" in shown_error(panel, "lot")
    panel.lot.setText("L")
    panel.record.click()
    assert "Expiry" in shown_error(panel, "expiry")


def test_gtin_of_another_product_is_refused(qtbot, panel, service):
    cements = service.catalogue.cements
    panel.product.setCurrentIndex(panel.product.findData(cements[0].id))
    panel.gtin.setText(cements[1].gtin)
    panel.lot.setText("L")
    panel.expiry.setText("2030-01-01")
    panel.record.click()
    assert cements[1].name in shown_error(panel, "gtin")


def test_earlier_mix_time_needs_a_late_reason(qtbot, panel, service, started, clock):
    cement = service.catalogue.cements[0]
    panel.product.setCurrentIndex(panel.product.findData(cement.id))
    panel.lot.setText("L1")
    panel.expiry.setText("2030-01-01")
    button(panel, "batch.t0.earlier").click()
    assert panel._cells["when"].isVisibleTo(panel)
    mixed = clock.now() - timedelta(minutes=20)
    panel.time.setText(mixed.astimezone().strftime("%H:%M"))
    panel.record.click()
    assert "late" in shown_error(panel, "late_reason").lower()
    panel.late.setCurrentIndex(panel.late.findData("catch_up"))
    panel.record.click()
    batch = service.state(started).facts.batches[-1].entry
    assert batch.clinical_time == mixed.replace(second=0, microsecond=0)
    assert batch.event.late_reason == "catch_up"


def test_vertebroplasty_has_no_balloon_kits(qtbot, service):
    case_id = service.start_case(**setup_kwargs("vertebroplasty")).case_id
    widget = BatchPanel(service)
    qtbot.addWidget(widget)
    widget.set_case(case_id)
    assert widget.kinds.buttons["balloon"].isHidden()
    scan(qtbot, widget, f"01{service.catalogue.balloons[0].gtin}1729010110B")
    assert "not used in this procedure" in widget.scan_message.text()
    assert widget.lot.text() == ""


@pytest.mark.parametrize("typed", ["7:40", "0740", "07:40"])
def test_clinical_time_is_read_as_local_24_hour_time(typed, clock):
    now = clock.now()
    moment = clinical_time_from(typed, now)
    assert moment.astimezone().strftime("%H:%M") == "07:40"
    assert now - timedelta(days=1) < moment <= now


def test_clinical_time_refuses_nonsense(clock):
    from checklist_app.domain.errors import Refusal

    for typed in ("25:00", "ab", "7"):
        with pytest.raises(Refusal):
            clinical_time_from(typed, clock.now())
