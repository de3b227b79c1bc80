"""Sign-off: the operator's findings, then the nurse's and the operator's signatures, then addenda only.

The panel never decides who may sign: the service does. It shows, before anyone taps, why signing
would be refused now (pending steps, unacknowledged warnings, nurse first, findings first), and the
refusal itself next to the input it names. Once the operator has signed, the case is locked: the
findings become read-only and the only action left is an addendum (text, reason and author).
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ..domain.changes import Changes
from ..domain.present import ROLE_LABELS, local_datetime
from ..domain.setup import INDICATION_LABELS
from ..domain.state import PENDING
from ..service import DEFAULT_MEANING, MEANINGS_BY_ROLE
from .case_events import CaseEvents
from .forms import GAP, FieldErrors, LineList, StaffCombo, label, number, say, scrolling, text_input
from .names import name
from .ports import RoomService
from .staff import current_team
from .widgets import MIN_TARGET, BigButton, MessageLabel

CONDITIONS = ("Stable", "Satisfactory", "Guarded", "Critical")
DISPOSITIONS = ("Day-case discharge", "Recovery, then ward", "Ward", "Intensive care")
SIGNERS = ("nurse", "operator")  # in this order


def _combo(object_name: str, accessible: str, items: tuple[str, ...], *, editable: bool = True) -> QComboBox:
    combo = QComboBox()
    name(combo, object_name, accessible)
    combo.setMinimumHeight(MIN_TARGET)
    combo.setEditable(editable)
    combo.addItems(items)
    if editable:
        combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        name(combo.lineEdit(), f"{object_name}.edit", accessible)
    return combo


class TextArea(QPlainTextEdit):
    """Multi-line text that follows the window's theme.

    The room stylesheet has no rule for QPlainTextEdit, and under a stylesheet its palette falls back
    to the application's (white, so white on white in the dark theme). Until room.qss styles it, it
    takes the input colours of the window's theme (ui/theme.py), never colours of its own.
    """

    def __init__(self, object_name: str, accessible: str, placeholder: str, height: int = 96) -> None:
        super().__init__()
        name(self, object_name, accessible)
        self.setPlaceholderText(placeholder)
        self.setMinimumHeight(height)
        self.setTabChangesFocus(True)
        self._theme: str | None = None

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._follow_theme()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.StyleChange:
            QTimer.singleShot(0, self._follow_theme)  # apply_theme sets the "theme" property last

    def _follow_theme(self) -> None:
        theme = self.window().property("theme")
        if not theme or theme == self._theme:
            return
        from .theme import theme_named

        self._theme = theme
        t = theme_named(theme)
        self.setStyleSheet(
            f"QPlainTextEdit {{ background: {t.input_bg}; color: {t.text}; border: 2px solid {t.border}; "
            f"border-radius: 6px; selection-background-color: {t.accent}; selection-color: {t.accent_text}; }}"
        )


def findings_html(state) -> str:
    """The operator's findings as a signed record reads them (every value escaped)."""
    values = state.findings.values if state.findings else {}
    ebl = values.get("ebl_ml")
    rows = (
        ("Findings", values.get("findings")),
        ("Complications", values.get("complications")),
        ("Estimated blood loss", None if ebl is None else f"{ebl:g} mL"),
        ("Condition", values.get("condition")),
        ("Disposition", values.get("disposition")),
        ("Post-operative diagnosis", values.get("postop_diagnosis")),
    )
    return "".join(
        f"<p><b>{html.escape(caption)}</b><br>{html.escape(str(value or '—')).replace(chr(10), '<br>')}</p>"
        for caption, value in rows
    )


class SignatureRow(QFrame):
    """One signer: printed name, meaning, PIN (only when the staff list holds one), Sign."""

    def __init__(self, service: RoomService, role: str) -> None:
        super().__init__()
        self.service, self.role = service, role
        self.setProperty("panel", "card")
        prefix = f"signoff.{role}"
        box = QVBoxLayout(self)
        box.setSpacing(GAP // 2)
        box.addWidget(label(f"{SIGNERS.index(role) + 1}. {ROLE_LABELS[role]}", "section"))
        self.done = label("", "field_label")
        name(self.done, f"{prefix}.signature", f"{ROLE_LABELS[role]} signature")
        box.addWidget(self.done)
        self.form = QWidget()
        form = QVBoxLayout(self.form)
        form.setContentsMargins(0, 0, 0, 0)
        self.message = MessageLabel(f"{prefix}.message")
        self.errors = FieldErrors(self.message)
        self.who = StaffCombo(service, role, f"{prefix}.name", f"{ROLE_LABELS[role]}: printed name")
        self.who.editTextChanged.connect(lambda _t: self._show_pin())
        self.meaning = _combo(
            f"{prefix}.meaning",
            f"{ROLE_LABELS[role]}: meaning of the signature",
            MEANINGS_BY_ROLE[role],
            editable=False,
        )
        self.pin = text_input(f"{prefix}.pin", f"{ROLE_LABELS[role]}: PIN", placeholder="PIN", numeric=True)
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        cells = {}
        for field, caption, widget in (
            ("name", "Printed name", self.who),
            ("meaning", "Meaning", self.meaning),
            ("pin", "PIN", self.pin),
        ):
            cell = QVBoxLayout()
            cell.setContentsMargins(0, 0, 0, 0)
            cell.addWidget(label(caption, buddy=widget))
            cell.addWidget(widget)
            cell.addWidget(self.errors.add(field, caption, widget, MessageLabel(f"{prefix}.{field}.error")))
            cells[field] = QWidget()
            cells[field].setLayout(cell)
        self.pin_cell = cells["pin"]
        form.addWidget(cells["name"])
        if role == "operator":
            form.addWidget(self._build_codes(prefix))
        row = QHBoxLayout()
        row.addWidget(cells["meaning"], 1)
        row.addWidget(cells["pin"], 1)
        form.addLayout(row)
        form.addWidget(label("Date and time: recorded by the program when you tap Sign.", "muted"))
        self.sign = BigButton(f"Sign as {ROLE_LABELS[role].lower()}", f"{prefix}.sign", primary=True)
        form.addWidget(self.sign)
        form.addWidget(self.message)
        box.addWidget(self.form)

    def _build_codes(self, prefix: str) -> QWidget:
        """The operator confirms the codes with the signature (SPEC §7.4): suggested, editable."""
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(label("Codes to confirm with your signature (suggested, editable)", "field_label"))
        self.codes_hint = label("", "muted")
        name(self.codes_hint, f"{prefix}.codes.hint", "Suggested codes and their descriptions")
        self.codes_hint.setWordWrap(True)
        column.addWidget(self.codes_hint)
        self.cpt = text_input(f"{prefix}.codes.cpt", "Procedure codes (CPT)", placeholder="e.g. 22513, +22515")
        self.icd10 = text_input(f"{prefix}.codes.icd10", "Diagnosis codes (ICD-10-CM)", placeholder="e.g. M80.08XA")
        for caption, widget in (("CPT", self.cpt), ("ICD-10-CM", self.icd10)):
            row = QHBoxLayout()
            row.addWidget(label(caption, buddy=widget))
            row.addWidget(widget, 1)
            column.addLayout(row)
        column.addWidget(self.errors.add("codes", "Codes", self.cpt, MessageLabel(f"{prefix}.codes.error")))
        return box

    def codes(self) -> dict[str, list[str]]:
        return {
            "cpt": [c for c in self.cpt.text().replace(";", ",").split(",") if c.strip()],
            "icd10": [c for c in self.icd10.text().replace(";", ",").split(",") if c.strip()],
        }

    def load(self, state, blockers: list[str]) -> None:
        """Show the stored signature, or the form with today's signer proposed and the blockers."""
        signature = state.facts.signature(self.role)
        self.form.setVisible(signature is None)
        if signature is not None:
            v = signature.values
            codes = v.get("codes") if isinstance(v.get("codes"), dict) else None
            confirmed = (
                f"; codes confirmed: {', '.join(codes.get('cpt', []))} / {', '.join(codes.get('icd10', []))}"
                if codes
                else ""
            )
            self.done.setText(
                f"Signed by {v['name']} ({ROLE_LABELS[self.role]}), meaning: {v['meaning']}, "
                f"{local_datetime(signature.recorded_time)}{confirmed}"
            )
            return
        voided = [s for s in state.signatures if s.values.get("role") == self.role and s.seq in state.facts.voided]
        if voided:
            change = state.facts.voided[voided[-1].seq]
            self.done.setText(
                f"Signature of {local_datetime(voided[-1].recorded_time)} voided: the record changed after it "
                f"(#{change.seq}, {local_datetime(change.recorded_time)}). Sign again."
            )
        else:
            self.done.setText("Not signed yet.")
        if self.role == "operator":
            suggested = self.service.suggested_codes(state.case_id)
            if not self.cpt.text():
                self.cpt.setText(", ".join(suggested["cpt"]))
            if not self.icd10.text():
                self.icd10.setText(", ".join(suggested["icd10"]))
            lines = [
                f"{'+' if line.add_on else ''}{line.code} {line.description}"
                + (f" ({line.levels and ', '.join(line.levels)}; modifier {line.modifier})" if line.modifier else "")
                for line in state.facts.cpt_lines()
            ]
            lines += [f"{code.code} {code.description}" for code in state.facts.icd10_codes()]
            self.codes_hint.setText("Suggested: " + "; ".join(lines))
        if not self.who.text():
            self.who.set_text(current_team(state)[self.role])
        self.meaning.setCurrentText(DEFAULT_MEANING[self.role])
        self._show_pin()
        if blockers:
            say(self.message, "Signing would be refused now: " + " ".join(blockers), "warning")
        else:
            self.message.clear_message()

    def _show_pin(self) -> None:
        person = self.who.text()
        needs = any(p["name"] == person and p["has_pin"] for p in self.service.staff(self.role))
        self.pin_cell.setVisible(needs)

    def take_pin(self) -> str | None:
        pin = self.pin.text() or None
        self.pin.clear()  # a PIN never stays in the widget
        return pin


class SignOffPanel(QWidget):
    """Findings, signatures and addenda of one case; what it stores goes out on the window's change channel."""

    def __init__(self, service: RoomService, events: CaseEvents | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.events = events or CaseEvents(self)
        self.events.case_changed.connect(self._case_changed)
        self.case_id: str | None = None
        name(self, "signoff", "Findings and sign-off")
        columns = QHBoxLayout()
        columns.setSpacing(3 * GAP)
        columns.addWidget(self._build_findings(), 1)
        right = QVBoxLayout()
        right.setSpacing(GAP)
        self.rows = {role: SignatureRow(service, role) for role in SIGNERS}
        for role, row in self.rows.items():
            row.sign.clicked.connect(lambda _=False, r=role: self._sign(r))
            right.addWidget(row)
        right.addWidget(self._build_addendum())
        right.addStretch(1)
        columns.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scrolling(columns, "signoff.scroll", "Findings and sign-off"))
        self.setEnabled(False)  # until set_case

    def _build_findings(self) -> QFrame:
        card = QFrame()
        card.setProperty("panel", "card")
        outer = QVBoxLayout(card)
        outer.setSpacing(GAP // 2)
        self.findings_title = label("Operator's findings (for the note)", "section")
        outer.addWidget(self.findings_title)
        # Once signed, the findings are shown as the record they are (text, not inputs), so no part of
        # the page looks as if it could still be changed.
        self.findings_record = QLabel()
        name(self.findings_record, "signoff.findings.record", "Signed findings")
        self.findings_record.setWordWrap(True)
        self.findings_record.setTextFormat(Qt.TextFormat.RichText)
        self.findings_record.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.findings_record.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        outer.addWidget(self.findings_record, 1)
        self.findings_form = QWidget()
        box = QVBoxLayout(self.findings_form)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(GAP // 2)
        outer.addWidget(self.findings_form, 1)
        self.findings_message = MessageLabel("signoff.findings.message")
        self.findings_errors = FieldErrors(self.findings_message)
        self.findings = TextArea("signoff.findings", "Findings", "What was found and done")
        self.complications = TextArea(
            "signoff.complications", "Complications", "Required: type 'none', or describe them", 64
        )
        self.recorded = label("", "warning")
        name(self.recorded, "signoff.complications.recorded", "Complications recorded during the procedure")
        self.recorded.setWordWrap(True)
        self.ebl = text_input("signoff.ebl_ml", "Estimated blood loss in mL", placeholder="e.g. 5", numeric=True)
        self.condition = _combo("signoff.condition", "Condition", CONDITIONS)
        self.disposition = _combo("signoff.disposition", "Disposition", DISPOSITIONS)
        self.disposition.setCurrentIndex(-1)
        self.postop = text_input("signoff.postop_diagnosis", "Post-operative diagnosis")
        for field, caption, widget, unit in (
            ("findings", "Findings", self.findings, ""),
            ("complications", "Complications", self.complications, ""),
            ("ebl_ml", "Estimated blood loss", self.ebl, "mL"),
            ("condition", "Condition", self.condition, ""),
            ("disposition", "Disposition", self.disposition, ""),
            ("postop_diagnosis", "Post-operative diagnosis", self.postop, ""),
        ):
            box.addWidget(label(caption, buddy=widget))
            row = QHBoxLayout()
            row.addWidget(widget, 1)
            if unit:
                row.addWidget(label(unit, "unit"))
            box.addLayout(row)
            box.addWidget(self.findings_errors.add(field, caption, widget, MessageLabel(f"signoff.{field}.error")))
            if field == "findings":
                box.addWidget(self.recorded)
        self.save = BigButton("Save findings", "signoff.save_findings", primary=True)
        self.save.clicked.connect(self._save_findings)
        box.addWidget(self.save)
        box.addWidget(self.findings_message)
        box.addStretch(1)
        return card

    def _build_addendum(self) -> QFrame:
        self.addendum = QFrame()
        self.addendum.setProperty("panel", "card")
        box = QVBoxLayout(self.addendum)
        box.setSpacing(GAP // 2)
        box.addWidget(label("Signed and locked: changes are addenda", "section"))
        self.addenda = LineList("signoff.addenda", "Addenda of this case", "No addendum yet.")
        self.addenda.setMaximumHeight(160)
        box.addWidget(self.addenda)
        self.addendum_message = MessageLabel("signoff.addendum.message")
        self.addendum_errors = FieldErrors(self.addendum_message)
        self.addendum_text = TextArea("signoff.addendum.text", "Addendum text", "What is added or corrected", 72)
        self.addendum_reason = text_input("signoff.addendum.reason", "Reason for the addendum")
        self.addendum_author = StaffCombo(self.service, None, "signoff.addendum.author", "Author of the addendum")
        for field, caption, widget in (
            ("text", "Addendum", self.addendum_text),
            ("reason", "Reason", self.addendum_reason),
            ("author", "Author", self.addendum_author),
        ):
            box.addWidget(label(caption, buddy=widget))
            box.addWidget(widget)
            box.addWidget(
                self.addendum_errors.add(field, caption, widget, MessageLabel(f"signoff.addendum.{field}.error"))
            )
        add = BigButton("Add addendum", "signoff.addendum.add", primary=True)
        add.clicked.connect(self._add_addendum)
        box.addWidget(add)
        box.addWidget(self.addendum_message)
        self.addendum.hide()
        return self.addendum

    # -- case ----------------------------------------------------------------------------------
    def set_case(self, case_id: str) -> None:
        self.case_id = case_id
        self.setEnabled(True)
        for row in self.rows.values():
            row.who.set_text("")
            row.errors.clear()
        for errors in (self.findings_errors, self.addendum_errors):
            errors.clear()
        self._load_findings()
        self._refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.case_id is not None:
            self._refresh()  # steps ticked elsewhere change what blocks signing

    def _load_findings(self) -> None:
        state = self.service.state(self.case_id)
        stored = state.findings.values if state.findings else {}
        default_dx = ""
        if state.setup:
            default_dx = " ".join([INDICATION_LABELS[state.setup.indication], *state.setup.icd10])
        self.findings.setPlainText(stored.get("findings", ""))
        self.complications.setPlainText(stored.get("complications", ""))
        ebl = stored.get("ebl_ml")
        self.ebl.setText("" if ebl is None else f"{ebl:g}")
        self.condition.setCurrentText(stored.get("condition", CONDITIONS[0]))
        self.disposition.setCurrentText(stored.get("disposition", ""))
        self.postop.setText(stored.get("postop_diagnosis") or default_dx)
        self.postop.setCursorPosition(0)  # show the start of a long diagnosis, not its tail

    def _refresh(self) -> None:
        """Re-read the case: signatures, blockers, lock (widgets hold no truth)."""
        state = self.service.state(self.case_id)
        required = state.facts.complications_required()
        self.recorded.setText(
            "Recorded during the procedure, to describe under Complications: " + "; ".join(required) + "."
            if required
            else ""
        )
        self.recorded.setVisible(bool(required))
        for role, row in self.rows.items():
            row.who.refresh()
            row.load(state, self._blockers(state, role))
        locked = state.facts.locked
        signed = "signed and locked: read-only" if locked else "for the note"
        self.findings_title.setText(f"Operator's findings ({signed})")
        self.findings_form.setVisible(not locked)
        self.findings_record.setVisible(locked)
        if locked:
            self.findings_record.setText(findings_html(state))
        self.addendum.setVisible(locked)
        self.addenda.set_lines(
            [
                f"{local_datetime(e.recorded_time)} {e.actor}: {e.values.get('text')} (reason: {e.reason})"
                for e in state.addenda
            ]
        )
        if locked and not self.addendum_author.text():
            self.addendum_author.set_text(current_team(state)["operator"])

    def _case_changed(self, changes: Changes, initiator: object) -> None:
        if initiator is not self and changes.case_id == self.case_id and self.isVisible():
            self._refresh()  # a step, a warning or a handover changes what blocks signing

    def _blockers(self, state, role: str) -> list[str]:
        """Why the service would refuse this signature now, in the words the nurse needs."""
        found = []
        checks = [i.label for i in state.instances if i.spec.who_check and i.status != "done"]
        if checks:
            found.append(f"WHO check not completed: {checks[0]}.")
        if role == "nurse":
            pending = [i.label for i in state.instances if i.status == PENDING]
            if pending:
                found.append(f"{len(pending)} step(s) still pending, first: {pending[0]}.")
            unacknowledged = self.service.warnings(self.case_id, pending_only=True)
            if unacknowledged:
                listed = "; ".join(w.message for w in unacknowledged[:3])
                found.append(f"{len(unacknowledged)} warning(s) not acknowledged: {listed}.")
        else:
            if state.facts.signature("nurse") is None:
                found.append("The nurse signs first.")
            if state.findings is None:
                found.append("Save the findings first.")
            elif state.facts.complications_required() and state.findings.values.get("complications") == "none":
                found.append("The record shows a complication: describe it in the findings.")
        return found

    # -- use cases -----------------------------------------------------------------------------
    def _save_findings(self) -> None:
        case_id = self.case_id
        state = self.service.state(case_id)

        def action():
            return self.service.record_findings(
                case_id=case_id,
                findings=self.findings.toPlainText(),
                complications=self.complications.toPlainText(),
                ebl_ml=number(self.ebl.text(), "ebl_ml", "mL"),
                condition=self.condition.currentText(),
                disposition=self.disposition.currentText(),
                postop_diagnosis=self.postop.text(),
                actor=current_team(state)["operator"] or None,
            )

        if self.events.run_use_case(action, self.findings_errors, self) is None:
            return
        say(self.findings_message, "Findings saved.", "info")
        self._refresh()

    def _sign(self, role: str) -> None:
        case_id, row = self.case_id, self.rows[role]
        pin = row.take_pin()
        codes = row.codes() if role == "operator" else None
        state = self.events.run_use_case(
            lambda: self.service.sign(
                case_id=case_id,
                name=row.who.text(),
                role=role,
                meaning=row.meaning.currentText(),
                pin=pin,
                **({"codes": codes} if codes is not None else {}),
            ),
            row.errors,
            self,
        )
        if state is None:
            return
        self._refresh()

    def _add_addendum(self) -> None:
        case_id = self.case_id
        state = self.events.run_use_case(
            lambda: self.service.add_addendum(
                case_id=case_id,
                text=self.addendum_text.toPlainText(),
                reason=self.addendum_reason.text(),
                author=self.addendum_author.text(),
            ),
            self.addendum_errors,
            self,
        )
        if state is None:
            return
        self.addendum_text.clear()
        self.addendum_reason.clear()
        say(self.addendum_message, "Addendum saved.", "info")
        self._refresh()
