"""The case screen: checklist, step editor and timers, with batches, staff, sign-off and the note as pages.

It holds no truth: after every use case it reads `service.state(case_id)` again and refreshes
every view from it; a one-second tick re-reads timers, alarms and hard stops from the service.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..domain.errors import Refusal
from ..domain.present import local_time
from ..domain.setup import PROCEDURE_LABELS
from ..domain.state import PENDING, CaseState
from ..store import StoreError
from .alarms import AlarmBanner, AlarmSound, FirstUsePlayer, SoundPlayer, WarningStrip
from .checklist_model import Key
from .checklist_view import ChecklistView
from .lazy_page import BuiltPanels, LazyPage, installed, load_panel
from .names import name
from .step_editor import StepEditor
from .theme import Theme
from .timers_panel import TimersPanel
from .widgets import MessageLabel, TextButton

# (page id, nav label, module, class, signal that means "the case changed").
# Each is built the first time its page is shown (ui/lazy_page.py): the window opens on the checklist.
HOSTED = (
    ("implants", "Cement && balloons", "batch_panel", "BatchPanel", "recorded"),
    ("staff", "Staff / handover", "staff", "HandoverPanel", "changed"),
    ("signoff", "Sign-off", "signoff", "SignOffPanel", "signed"),
    ("note", "Operative note", "note_view", "NotePanel", None),
)
TICK_MS = 1000


def placeholder(page: str, label: str, why: str) -> QLabel:
    """What a page shows when its panel is missing or broken (its nav button is disabled)."""
    widget = QLabel(f"The {label.replace('&&', '&').lower()} panel {why}.")
    name(widget, f"{page}_placeholder", widget.text())
    widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
    widget.setProperty("role", "muted")
    return widget


def levels_text(state: CaseState) -> str:
    if state.setup is None:
        return ""
    words = {("left",): "left", ("right",): "right", ("left", "right"): "both sides"}
    return ", ".join(f"{p.level} ({words.get(tuple(p.sides), '/'.join(p.sides))})" for p in state.setup.levels)


class CaseHeader(QWidget):
    """Who and what: patient, MRN, procedure, levels, and the signed-in nurse (always visible)."""

    handover_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        text = QVBoxLayout()
        text.setSpacing(0)
        self.patient = QLabel()
        name(self.patient, "header_patient", "Patient")
        self.patient.setProperty("role", "header_name")
        self.details = QLabel()
        name(self.details, "header_details", "Case details")
        self.details.setProperty("role", "header_detail")
        for label in (self.patient, self.details):
            label.setWordWrap(True)  # long names and many levels wrap instead of pushing buttons away
            # A right-to-left name (Arabic, Hebrew) stays at the left edge above its details line;
            # without AlignAbsolute Qt aligns a right-to-left paragraph to the right.
            label.setAlignment(
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignAbsolute | Qt.AlignmentFlag.AlignVCenter
            )
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        text.addWidget(self.patient)
        text.addWidget(self.details)
        layout.addLayout(text, 1)
        self.nurse = QLabel()
        name(self.nurse, "header_nurse", "Signed-in nurse")
        self.handover = TextButton("Handover", "header_handover")
        self.handover.clicked.connect(self.handover_requested)
        layout.addWidget(self.nurse)
        layout.addWidget(self.handover)

    def sizeHint(self) -> QSize:
        """The patient's line and two lines of details: what the top bar is sized for.

        The labels wrap (Ignored width), so Qt's own hint measures them at a sliver of their width
        and comes out hundreds of pixels tall; the bar lays them out at its real width anyway.
        """
        lines = self.patient.fontMetrics().lineSpacing() + 2 * self.details.fontMetrics().lineSpacing()
        buttons = max(self.nurse.sizeHint().height(), self.handover.sizeHint().height())
        width = self.nurse.sizeHint().width() + self.handover.sizeHint().width() + 360
        return QSize(width, max(lines, buttons))

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def show_state(self, state: CaseState) -> None:
        setup = state.setup
        if setup is None:
            return
        self.patient.setText(setup.patient.name)
        self.patient.setAccessibleName(f"Patient: {setup.patient.name}")
        dob = setup.patient.date_of_birth.isoformat() if setup.patient.date_of_birth else "—"
        procedure = PROCEDURE_LABELS.get(setup.procedure, setup.procedure)
        details = f"MRN {setup.patient.mrn} · DOB {dob} · {procedure} {levels_text(state)}"
        self.details.setText(details)
        self.details.setAccessibleName(details)
        self.nurse.setText(f"Signed in: {state.current_nurse}")
        self.nurse.setAccessibleName(f"Signed-in nurse: {state.current_nurse}")


class CaseScreen(QWidget):
    """Everything the nurse needs during a case, on one screen."""

    state_changed = Signal(str)  # case id, after the views were refreshed from stored state

    def __init__(self, service, sound_player: SoundPlayer | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.case_id = ""
        self._selecting = False
        self._locked: set[Key] = set()
        self._back_to_checklist = False
        self.header = CaseHeader()  # placed in the window's top bar by the main window
        self.banner = AlarmBanner(service)  # placed above every page by the main window
        self.sound = AlarmSound(sound_player or FirstUsePlayer())
        self.warnings = WarningStrip(service)
        self.checklist = ChecklistView()
        self.editor = StepEditor(service)
        self.timers = TimersPanel()
        self._hosted: dict[str, LazyPage] = {}  # pages with a panel, built when first shown
        self.panels = BuiltPanels(self._hosted)  # panels[page] builds that page's panel now
        self._build()
        self._connect()
        self.ticker = QTimer(self)
        self.ticker.setInterval(TICK_MS)
        self.ticker.timeout.connect(self.tick)

    # -- construction --------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(8)
        layout.addWidget(self.warnings)
        # Tamper evidence: shown when the opened case's hash chain or record does not check out.
        self.tamper_banner = MessageLabel("tamper_banner")
        self.tamper_banner.setAccessibleName("Record integrity warning")
        layout.addWidget(self.tamper_banner)
        self.nav = QHBoxLayout()
        self.nav.setSpacing(8)
        self.nav_group = QButtonGroup(self)
        self.pages = QStackedWidget()
        self.pages.setObjectName("case_pages")
        self._add_page("checklist", "Checklist", self._checklist_page())
        for page, label, module, cls, signal in HOSTED:
            if installed(module):
                self._hosted[page] = LazyPage(partial(self._build_panel, page, label, module, cls, signal))
                self._add_page(page, label, self._hosted[page])
            else:
                self._add_page(page, label, placeholder(page, label, "is not installed in this version"), enabled=False)
        self.nav.addStretch(1)
        layout.addLayout(self.nav)
        body = QHBoxLayout()
        body.setSpacing(12)
        body.addWidget(self.pages, 1)
        self.timers.setFixedWidth(300)
        body.addWidget(self.timers)
        layout.addLayout(body, 1)

    def _build_panel(self, page: str, label: str, module: str, cls: str, signal: str | None) -> QWidget:
        """The page's panel with its signal connected; a placeholder, and the page disabled, if it fails."""
        panel, why = load_panel(module, cls, self.service)
        if panel is None:
            del self._hosted[page]
            self._nav_button(page).setEnabled(False)
            return placeholder(page, label, why)
        if signal:
            getattr(panel, signal).connect(lambda _case, p=page: self._panel_changed(p))
        return panel

    def _nav_button(self, page: str) -> QAbstractButton:
        return next(b for b in self.nav_group.buttons() if b.objectName() == f"page.{page}")

    def _checklist_page(self) -> QWidget:
        page = QWidget()
        row = QHBoxLayout(page)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(12)
        left = QVBoxLayout()
        left.setSpacing(6)
        left.addWidget(self.checklist, 1)
        self.last_saved = MessageLabel("last_saved")
        left.addWidget(self.last_saved)
        self.checklist.setMinimumWidth(340)
        row.addLayout(left, 4)
        row.addWidget(self.editor, 6)
        return page

    def _add_page(self, page: str, label: str, widget: QWidget, *, enabled: bool = True) -> None:
        button = TextButton(label, f"page.{page}")
        button.setProperty("role", "nav")
        button.setCheckable(True)
        button.setEnabled(enabled)
        button.setChecked(page == "checklist")
        button.clicked.connect(lambda _=False, p=page: self.show_page(p))
        self.nav_group.addButton(button)
        self.nav.addWidget(button)
        widget.setProperty("page", page)
        self.pages.addWidget(widget)

    def _connect(self) -> None:
        self.checklist.step_selected.connect(self._step_selected)
        self.editor.saved.connect(self._saved)
        self.editor.current_requested.connect(self.select_current)
        self.editor.batch_requested.connect(self._batch_requested)
        self.banner.acknowledged.connect(lambda _id: self.refresh(keep_editor=True))
        self.warnings.acknowledged.connect(lambda _id: self.refresh(keep_editor=True))
        self.header.handover_requested.connect(lambda: self.show_page("staff"))

    def set_theme(self, theme: Theme) -> None:
        self.checklist.set_theme(theme)

    # -- opening and refreshing ------------------------------------------------------------------
    def open_case(self, case_id: str) -> None:
        self.case_id = case_id
        self._check_integrity(case_id)
        self.banner.set_case(case_id)
        self.warnings.set_case(case_id)
        self.last_saved.clear_message()
        self.editor.show_step(case_id, None)
        for lazy in list(self._hosted.values()):
            lazy.set_case(case_id)  # a page not built yet keeps it for when it is
        self.show_page("checklist")
        self.refresh(follow_current=True)
        self.ticker.start()
        self._offer_sign_off()

    def _check_integrity(self, case_id: str) -> None:
        """Re-walk the case's hash chain when it opens: an edited, deleted, inserted or reordered
        event is shown at once, not only when IT runs `checklist-app verify`."""
        problems = self.service.records.verify_case(case_id)
        if not problems:
            self.tamper_banner.clear_message()
            return
        first = problems[0].message
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        self.tamper_banner.show_message(
            f"RECORD ALTERED OUTSIDE THIS PROGRAM: {first}{more}. Do not rely on this record; "
            "tell IT (checklist-app verify) and restore a backup.",
            "error",
        )

    def close_case(self) -> None:
        self.ticker.stop()
        self.sound.update([], self.service.clock.now())
        self.case_id = ""
        self.banner.set_case("")

    def refresh(self, *, follow_current: bool = False, keep_editor: bool = False) -> None:
        """Re-read the case from the service and show it everywhere.

        `keep_editor` leaves the open step editor (and anything typed in it) alone when the change
        came from elsewhere (an acknowledgement, a handover).
        """
        if not self.case_id:
            return
        state = self.service.state(self.case_id)
        self._locked = self._locked_keys(state)
        self.checklist.show_state(state, self._locked)
        selected = self.checklist.selected_key()
        current = state.current.key if state.current else None
        key = current if (follow_current or selected is None) and current else selected
        key = key or state.instances[-1].key
        still_valid = state.locked == (self.editor.mode == "locked")  # signing locks the editor too
        if keep_editor and key == self.editor.key and still_valid:
            self.checklist.select(key)
            self.editor.sync()  # what another page changed reaches the open step
        else:
            self._select(key)
        self.header.show_state(state)
        self.warnings.show_warnings(self.service.warnings(self.case_id, pending_only=True))
        self._show_what_is_next(state)
        self.tick()
        self.state_changed.emit(self.case_id)

    def tick(self) -> None:
        """Once a second (tests call it after moving the fake clock): timers, alarms, hard stops."""
        if not self.case_id:
            return
        try:
            state = self.service.state(self.case_id)
            alarms = self.service.alarms(self.case_id)
            self.timers.show_timers(self.service.timers(self.case_id))
            self.banner.show_alarms(alarms)  # visual first...
            self.sound.update(alarms, self.service.clock.now())  # ...then sound
            self.editor.refresh_gates()
            self.editor.sync()  # a working time that ended is no longer proposed
            locked = self._locked_keys(state)
        except (StoreError, Refusal) as exc:
            self.last_saved.show_message(f"Could not read the case: {exc}", "error")
            return
        if locked != self._locked:
            self._locked = locked
            self.checklist.show_state(state, locked)

    def _locked_keys(self, state: CaseState) -> set[Key]:
        """Pending steps a hard stop would refuse now (shown as LOCKED before anyone taps them)."""
        if state.locked:
            return set()
        return {
            i.key
            for i in state.instances
            if i.status == PENDING
            and i.spec.gates
            and self.service.blocking_gates(case_id=self.case_id, step=i.spec.id, level=i.level, side=i.side)
        }

    # -- selection and actions ---------------------------------------------------------------------
    def _select(self, key: Key) -> None:
        self._selecting = True
        try:
            self.checklist.select(key)
        finally:
            self._selecting = False
        self.editor.show_step(self.case_id, key)

    def _step_selected(self, key: Key) -> None:
        if not self._selecting:
            self.editor.show_step(self.case_id, key)

    def select_current(self) -> None:
        state = self.service.state(self.case_id) if self.case_id else None
        if state is not None and state.current is not None:
            self.show_page("checklist")
            self._select(state.current.key)

    def select_step(self, step: str, level: str | None = None, side: str | None = None) -> None:
        self.show_page("checklist")
        self._select((step, level, side))

    def _saved(self, kind: str) -> None:
        state = self.service.state(self.case_id)
        key = self.editor.key
        if key is not None:
            inst = state.instance(*key)
            entry = inst.entry
            words = {"done": "Saved", "not_applicable": "Saved as not applicable", "corrected": "Correction saved"}
            when = f" at {local_time(entry.clinical_time)}" if entry else ""
            text = f"{words.get(kind, 'Retraction saved')} ✓ {inst.label}{when}"
            self.last_saved.show_message(text, "info")
        self.refresh(follow_current=kind in ("done", "not_applicable"))
        if kind in ("done", "not_applicable"):
            self._offer_sign_off()

    def _show_what_is_next(self, state: CaseState) -> None:
        """Once every step is answered, the line under the checklist says what the record still needs."""
        if state.current is not None:
            return
        if state.locked:
            operator = state.signature("operator")
            who = f" by {operator.values.get('name')} at {local_time(operator.recorded_time)}" if operator else ""
            text = f"Record signed{who} ✓ Nothing more is needed for this case."
        elif state.signature("nurse"):
            text = "Nurse signed ✓ Next: the operator reviews the note and signs on the Sign-off page."
        else:
            text = "All steps answered ✓ Next: sign the record on the Sign-off page."
        self.last_saved.show_message(text, "info")

    def _offer_sign_off(self) -> None:
        """Every step answered and not yet signed: what comes next is the sign-off."""
        state = self.service.state(self.case_id)
        if state.current is not None or state.locked:
            return
        self._show_what_is_next(state)
        if "signoff" in self.panels and not state.signature("nurse"):
            self.show_page("signoff")

    def complete_current(self) -> bool:
        """Enter: complete the current step when it needs no values; otherwise open it to fill in."""
        state = self.service.state(self.case_id) if self.case_id else None
        if state is None or state.locked or state.current is None:
            return False
        current = state.current
        self.show_page("checklist")
        self._select(current.key)
        if current.spec.needs_values:
            self.editor.message.show_message(
                f"“{current.label}” needs values: enter them, then tap Done (or Ctrl+Enter).", "info"
            )
            return False
        return self.editor.complete()

    # -- pages ---------------------------------------------------------------------------------
    def show_page(self, page: str) -> None:
        for index in range(self.pages.count()):
            widget = self.pages.widget(index)
            if widget.property("page") == page:
                if page in self._hosted and self.case_id:
                    self._hosted[page].set_case(self.case_id)
                self.pages.setCurrentIndex(index)  # builds the page's panel the first time
        for button in self.nav_group.buttons():
            button.setChecked(button.objectName() == f"page.{page}")
        if page == "checklist":
            self._back_to_checklist = False

    def current_page(self) -> str:
        return str(self.pages.currentWidget().property("page"))

    def _batch_requested(self, step: str) -> None:
        if "implants" not in self.panels:
            self.editor.message.show_message("The cement batch panel is not installed in this version.", "error")
            return
        self._back_to_checklist = True
        self.show_page("implants")
        self.panels["implants"].choose(step)

    def _panel_changed(self, page: str) -> None:
        back = self._back_to_checklist and page == "implants"
        self.refresh(keep_editor=True)
        if back:
            self.show_page("checklist")
