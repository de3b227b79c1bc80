"""Implants: record cement batches (`cement_mix`) and balloon kits (`balloon_kit`), scanned or typed.

A USB scanner is a keyboard: it types the code fast into the scan field and ends with Enter, and
`parse_scan` (biip) fills GTIN, lot, expiry, serial and product. Nothing is stored until the nurse
taps Record; every field can be typed by hand. An expired lot is refused by the service (a hard
stop): the inline override box asks for the reason and records the gate override with the batch.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ..domain.barcode import GS, GS_VISIBLE, Scan, parse_scan
from ..domain.catalogue import Product
from ..domain.changes import Changes
from ..domain.chronology import LATE_REASONS
from ..domain.errors import Refusal
from ..domain.gates import GateClosed
from ..domain.present import local_time, product_name
from .case_events import CaseEvents
from .forms import GAP, FieldErrors, LineList, ToggleGroup, label, say, set_invalid, text_input
from .names import name
from .ports import RoomService
from .widgets import MIN_TARGET, BigButton, MessageLabel, ReasonPanel

# kind -> (step id, words on screen)
KINDS = {"cement": ("cement_mix", "Cement batch"), "balloon": ("balloon_kit", "Balloon kit")}


class ScanField(QLineEdit):
    """Keyboard-wedge input. A line edit drops control characters, so GS is kept as the visible ␝;
    the scanner's closing Enter reads the scan and goes no further (it must not tick anything else).

    A scanner types ASCII 29 as Ctrl+] (X11 and macOS: key BracketRight with Ctrl, text "\x1d"; on a
    layout where "]" needs AltGr the text may be empty) or as a character with no key (Windows,
    Alt+0029: text "\x1d"). Both become ␝ here; text stand-ins (<GS>, ^]) are read by the parser.
    """

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if is_group_separator(event):
            self.insert(GS_VISIBLE)
            event.accept()
            return
        super().keyPressEvent(event)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()


def is_group_separator(event: QKeyEvent) -> bool:
    """The key event a scanner sends for ASCII 29 (GS), whatever the keyboard layout or system."""
    if event.text() == GS:
        return True
    ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
    return bool(ctrl) and event.key() == Qt.Key.Key_BracketRight and event.text() in ("", GS)


def clinical_time_from(text: str, now: datetime) -> datetime:
    """'10:42' or '1042' (local 24-hour) as the latest such moment not after now (+1 min of clock skew)."""
    digits = text.strip().replace(":", "").replace(".", "").replace("h", "")
    if not (digits.isdigit() and len(digits) in (3, 4)):
        raise Refusal("clinical_time", "type the time as HH:MM (24-hour)")
    hour, minute = int(digits[:-2]), int(digits[-2:])
    if hour > 23 or minute > 59:
        raise Refusal("clinical_time", f"{text.strip()} is not a time of day (00:00 to 23:59)")
    local = now.astimezone()
    moment = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if moment > local + timedelta(minutes=1):
        moment -= timedelta(days=1)  # 23:50 typed at 00:10 means yesterday evening
    return moment.astimezone(now.tzinfo)


class BatchPanel(QWidget):
    """Cement batches and balloon kits of one case; what it stores goes out on the window's change channel."""

    def __init__(self, service: RoomService, events: CaseEvents | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.events = events or CaseEvents(self)
        self.events.case_changed.connect(self._case_changed)
        self.case_id: str | None = None
        self.kind = "cement"
        name(self, "batch", "Cement batches and balloon kits")
        self.message = MessageLabel("batch.message")
        self.errors = FieldErrors(self.message)
        layout = QHBoxLayout(self)
        layout.setSpacing(3 * GAP)
        form = QWidget()
        form.setLayout(self._build_form())
        scroll = QScrollArea()  # nothing is squeezed when the scan message and the hard stop show
        name(scroll, "batch.scroll", "Cement batch or balloon kit form")
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(form)
        # The decision stays in sight whatever the fields above need: the message, the hard stop and
        # Record sit under the scrolling fields, never below the fold.
        column = QVBoxLayout()
        column.setSpacing(GAP)
        column.addWidget(scroll, 1)
        column.addWidget(self.message)
        column.addWidget(self._build_override())
        column.addWidget(self.record)
        layout.addLayout(column, 3)
        layout.addLayout(self._build_list(), 2)
        self._set_kind("cement")
        self.setEnabled(False)  # until set_case

    # -- building ------------------------------------------------------------------------------
    def _build_form(self) -> QVBoxLayout:
        box = QVBoxLayout()
        box.setSpacing(GAP)
        self.kinds = ToggleGroup("batch.kind", "What to record", [(k, v[1]) for k, v in KINDS.items()])
        self.kinds.changed.connect(self._set_kind)
        box.addWidget(self.kinds)
        self.scan = ScanField()
        name(self.scan, "batch.scan", "Barcode scan")
        self.scan.setMinimumHeight(MIN_TARGET)
        self.scan.setPlaceholderText("Scan the barcode here")
        self.scan.returnPressed.connect(self._read_scan)
        read = BigButton("Read scan", "batch.scan.read")
        read.clicked.connect(self._read_scan)
        row = QHBoxLayout()
        row.addWidget(self.scan, 1)
        row.addWidget(read)
        box.addLayout(row)
        self.scan_message = MessageLabel("batch.scan.message")
        box.addWidget(self.scan_message)
        self.product = QComboBox()
        name(self.product, "batch.field.product", "Product")
        self.product.setMinimumHeight(MIN_TARGET)
        self.lot = text_input("batch.field.lot", "Lot")
        self.expiry = text_input("batch.field.expiry", "Expiry date", placeholder="YYYY-MM-DD", numeric=True)
        self.gtin = text_input("batch.field.gtin", "GTIN", placeholder="14 digits (optional)", numeric=True)
        self.serial = text_input("batch.field.serial", "Serial number", placeholder="Optional")
        self.temperature = text_input(
            "batch.field.room_temperature", "Room temperature", placeholder="e.g. 21", numeric=True
        )
        self.t0 = ToggleGroup("batch.t0", "Time", [("now", "Now"), ("earlier", "Earlier, at…")])
        self.t0.changed.connect(lambda _v: self._show_time_inputs())
        self.time = text_input("batch.field.clinical_time", "Time it happened", placeholder="HH:MM", numeric=True)
        self.late = QComboBox()
        name(self.late, "batch.field.late_reason", "Reason for entering it late")
        self.late.setMinimumHeight(MIN_TARGET)
        self.late.addItem("Reason if entered late…", None)
        for key, text in LATE_REASONS.items():
            self.late.addItem(text, key)
        self._cells = {
            field: self._cell(field, caption, widget, unit)
            for field, caption, widget, unit in (
                ("product", "Product", self.product, ""),
                ("lot", "Lot", self.lot, ""),
                ("expiry", "Expiry date", self.expiry, ""),
                ("gtin", "GTIN", self.gtin, ""),
                ("serial", "Serial number", self.serial, ""),
                ("room_temperature", "Room temperature", self.temperature, "°C"),
                ("time", "Time", self.t0, ""),
            )
        }
        self._cells["when"] = self._when_cell()
        self._time_caption = self._cells["time"].findChild(QLabel)
        grid = QGridLayout()
        grid.setHorizontalSpacing(2 * GAP)
        grid.setVerticalSpacing(GAP // 2)
        grid.addWidget(self._cells["product"], 0, 0, 1, 2)
        for field, row_, col in (
            ("lot", 1, 0),
            ("expiry", 1, 1),
            ("gtin", 2, 0),
            ("serial", 2, 1),
            ("room_temperature", 2, 1),
            ("time", 3, 0),
            ("when", 3, 1),
        ):
            grid.addWidget(self._cells[field], row_, col)
        box.addLayout(grid)
        self.record = BigButton("Record cement batch", "batch.record", primary=True)
        self.record.clicked.connect(lambda: self._record())
        box.addStretch(1)
        return box

    def _cell(self, field: str, caption: str, widget: QWidget, unit: str = "") -> QWidget:
        """Caption, input (and unit), and the line that names this field when it is refused."""
        holder = QWidget()
        cell = QVBoxLayout(holder)
        cell.setContentsMargins(0, 0, 0, 0)
        cell.setSpacing(2)
        cell.addWidget(label(caption, buddy=widget))
        row = QHBoxLayout()
        row.addWidget(widget, 1)
        if unit:
            row.addWidget(label(unit, "unit"))
        cell.addLayout(row)
        cell.addWidget(self.errors.add(field, caption, widget, MessageLabel(f"batch.field.{field}.error")))
        return holder

    def _when_cell(self) -> QWidget:
        """The clinical time typed when the step happened earlier, and the late-entry reason."""
        holder = QWidget()
        cell = QVBoxLayout(holder)
        cell.setContentsMargins(0, 0, 0, 0)
        cell.setSpacing(2)
        cell.addWidget(label("Time it happened (24-hour)", buddy=self.time))
        row = QHBoxLayout()
        row.addWidget(self.time, 1)
        row.addWidget(self.late, 2)
        cell.addLayout(row)
        for field, caption, widget in (("clinical_time", "Time", self.time), ("late_reason", "Late entry", self.late)):
            cell.addWidget(self.errors.add(field, caption, widget, MessageLabel(f"batch.field.{field}.error")))
        return holder

    def _build_override(self) -> ReasonPanel:
        """The inline hard-stop panel: the expired lot is used only with a typed reason."""
        self.override = ReasonPanel("batch.override", "Expired lot: reason to use it anyway", "Override and record")
        self.override.confirmed.connect(lambda reason: self._record(override_reason=reason))
        self.override.reason.setMinimumHeight(MIN_TARGET)
        self.override.cancel.clicked.connect(self._override_cancelled)
        return self.override

    def _override_cancelled(self) -> None:
        self.override.hide()
        self.record.show()
        say(self.message, "Not recorded: use another lot.", "warning")

    def _build_list(self) -> QVBoxLayout:
        box = QVBoxLayout()
        box.addWidget(label("Recorded in this case", "section"))
        self.entries = LineList("batch.list", "Cement batches and balloon kits of this case", "Nothing recorded yet.")
        box.addWidget(self.entries, 1)
        return box

    def entry_texts(self) -> list[str]:
        """The lines of the list, top first (what the nurse reads)."""
        return self.entries.lines()

    # -- case ----------------------------------------------------------------------------------
    def set_case(self, case_id: str) -> None:
        self.case_id = case_id
        self.setEnabled(True)
        self._clear_form()
        self.scan_message.clear_message()
        has_balloons = self.service.state(case_id).template.has_step("balloon_kit")
        self.kinds.buttons["balloon"].setVisible(has_balloons)
        self._set_kind("cement")
        self._refresh()
        self.scan.setFocus()

    def choose(self, step: str) -> None:
        """Open the form on what a step asked to record first ("cement_mix" or "balloon_kit")."""
        kind = next((k for k, (s, _words) in KINDS.items() if s == step), "cement")
        if self.kinds.buttons[kind].isVisibleTo(self):
            self._set_kind(kind)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.case_id is not None:
            self._refresh()  # another screen may have changed the case meanwhile
            self.scan.setFocus()  # a scanner types wherever the focus is: make it the scan field

    def _set_kind(self, kind: str) -> None:
        self.kind = kind
        self.kinds.set_value(kind)
        balloon = kind == "balloon"
        self._cells["serial"].setVisible(balloon)
        self._cells["room_temperature"].setVisible(not balloon)
        self._time_caption.setText("Mix start (T0)" if kind == "cement" else "Kit opened")
        self.record.setText(f"Record {KINDS[kind][1].lower()}")
        self.record.setAccessibleName(self.record.text())
        products = self.service.catalogue.balloons if balloon else self.service.catalogue.cements
        chosen = self.product.currentData()
        self.product.clear()
        self.product.addItem("Choose the product…", None)
        for product in products:
            self.product.addItem(product.name, product.id)
        self.product.setCurrentIndex(max(0, self.product.findData(chosen)))
        self._show_time_inputs()

    def _show_time_inputs(self) -> None:
        self._cells["when"].setVisible(self.t0.value() == "earlier")

    def _clear_form(self) -> None:
        for edit in (self.lot, self.expiry, self.gtin, self.serial, self.temperature, self.time, self.scan):
            edit.clear()
        self.product.setCurrentIndex(0)
        self.late.setCurrentIndex(0)
        self.t0.set_value("now")
        self.errors.clear()
        self.override.hide()  # hide, not close_panel(): a cleared form is not a refusal to override
        self.record.show()

    # -- scanning ------------------------------------------------------------------------------
    def _read_scan(self) -> None:
        text = self.scan.text()
        self.scan.clear()
        set_invalid(self.scan, False)
        today = self.service.clock.now().astimezone().date()
        try:
            scan = parse_scan(text, today=today, catalogue=self.service.catalogue)
        except Refusal as exc:
            set_invalid(self.scan, True)
            say(self.scan_message, f"Barcode: {exc.message}", "error")
            return
        if scan.product is not None and scan.product.kind not in self._kinds_here():
            say(self.scan_message, f"{scan.product.name} is not used in this procedure.", "error")
            return
        self._fill(scan)

    def _kinds_here(self) -> set[str]:
        return {k for k, b in self.kinds.buttons.items() if not b.isHidden()}

    def _fill(self, scan: Scan) -> None:
        """Fill what the scan says; a second code with the same GTIN (or none) adds to the first."""
        if scan.gtin and scan.gtin != self.gtin.text().strip():
            for edit in (self.lot, self.expiry, self.serial):
                edit.clear()
        if scan.product is not None:
            self._set_kind(scan.product.kind)
            self.product.setCurrentIndex(self.product.findData(scan.product.id))
        for edit, value in ((self.gtin, scan.gtin), (self.lot, scan.lot), (self.serial, scan.serial)):
            if value:
                edit.setText(value)
        if scan.expiry:
            self.expiry.setText(scan.expiry.isoformat())
        notes = list(scan.messages)
        if scan.serial and self.kind == "cement":
            notes.append(f"Serial {scan.serial} is not recorded for cement.")
        summary = _describe(scan.product, scan.lot, scan.expiry.isoformat() if scan.expiry else None)
        kind = "error" if scan.expired else ("warning" if notes else "info")
        say(self.scan_message, " ".join([f"Scanned: {summary}.", *notes, "Check, then tap Record."]), kind)

    # -- recording -----------------------------------------------------------------------------
    def _values(self) -> dict:
        values = {
            "product": self.product.currentData() or "",
            "lot": self.lot.text(),
            "expiry": self.expiry.text(),
            "gtin": self.gtin.text().strip(),
        }
        values["serial" if self.kind == "balloon" else "room_temperature"] = (
            self.serial.text() if self.kind == "balloon" else self.temperature.text()
        )
        gtin_product = self.service.catalogue.by_gtin(values["gtin"]) if values["gtin"] else None
        if gtin_product is not None and values["product"] and gtin_product.id != values["product"]:
            raise Refusal("gtin", f"GTIN {values['gtin']} is {gtin_product.name}, not the product chosen")
        return {k: v for k, v in values.items() if v not in ("", None)}

    def _record(self, override_reason: str | None = None) -> None:
        case_id = self.case_id
        if case_id is None:
            return
        self.errors.clear()
        gate: list[GateClosed] = []

        def action():
            values = self._values()
            when = late = None
            if self.t0.value() == "earlier":
                when = clinical_time_from(self.time.text(), self.service.clock.now())
                late = self.late.currentData()
            try:
                return self.service.record_step(
                    case_id=case_id,
                    step=KINDS[self.kind][0],
                    values=values,
                    clinical_time=when,
                    late_reason=late,
                    override_reason=override_reason,
                )
            except GateClosed as exc:
                gate.append(exc)
                return None

        state = self.events.run_use_case(action, self.errors, self)
        if gate:
            self.message.clear_message()
            self.override.open_panel(f"Hard stop: {gate[0].message}. The reason is printed in the note.")
            self.record.hide()  # one decision at a time: override with a reason, or not
            return
        if state is None:
            return
        entry = state.live_records(KINDS[self.kind][0])[-1]
        self._clear_form()
        say(self.message, f"Saved: {KINDS[self.kind][1].lower()} {_entry_text(state, entry)}.", "info")
        self._refresh()

    def _case_changed(self, changes: Changes, initiator: object) -> None:
        if initiator is not self and changes.case_id == self.case_id:
            self._refresh()  # a batch or kit retracted or corrected elsewhere

    def _refresh(self) -> None:
        """Re-read the case's batches and kits (widgets hold no truth)."""
        if self.case_id is None:
            self.entries.set_lines([])
            return
        state = self.service.state(self.case_id)
        lines = []
        for kind, (step, words) in KINDS.items():
            for entry in state.live_records(step) if state.template.has_step(step) else []:
                override = next((o for o in state.overrides if o.seq == entry.seq - 1 and o.step == step), None)
                extra = f" — EXPIRED lot used, override: {override.reason}" if override else ""
                lines.append(f"{words}: {_entry_text(state, entry, kind)}{extra}")
        self.entries.set_lines(lines)


def _describe(product: Product | None, lot: str | None, expiry: str | None) -> str:
    return f"{product.name if product else 'product not known'}, lot {lot or '—'}, expiry {expiry or '—'}"


def _entry_text(state, entry, kind: str | None = None) -> str:
    values = entry.values
    kind = kind or ("cement" if entry.event.step == "cement_mix" else "balloon")
    text = (
        f"{product_name(state, kind, str(values.get('product')))}, lot {values.get('lot')}, exp {values.get('expiry')}"
    )
    if values.get("gtin"):
        text += f", GTIN {values['gtin']}"
    if values.get("serial"):
        text += f", serial {values['serial']}"
    if values.get("room_temperature") is not None:
        text += f", {values['room_temperature']:g} °C"
    verb = "mixed" if kind == "cement" else "opened"
    return f"{text}, {verb} {local_time(entry.clinical_time)} by {entry.event.actor}"
