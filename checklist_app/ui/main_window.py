"""The room window: a top bar (case header, theme, help), the alarm banner and the screens.

On start it resumes the case in progress exactly where it was (`service.case_in_progress()`;
timers come back too, since they derive from stored events).

Only what the first screen needs is built at start: the case screen is built when the first case
is opened (at once when one is resumed), the help page and the case screen's side pages when first
shown (ui/lazy_page.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QStackedWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from ..domain.errors import Refusal
from ..service import StoreError
from .case_events import CaseEvents
from .lazy_page import LazyPage
from .ports import RoomService
from .shortcuts import bind_shortcuts
from .start_screen import StartScreen
from .theme import apply_theme, save_theme, saved_theme, theme_named
from .widgets import MessageLabel, OneOf, TextButton

if TYPE_CHECKING:
    from .alarms import SoundPlayer
    from .case_screen import CaseScreen
    from .department import DepartmentViews
    from .help_panel import HelpPanel

TEXT_INPUTS = (QLineEdit, QAbstractSpinBox, QComboBox, QTextEdit, QPlainTextEdit)
TITLE = "Vertebral augmentation room checklist"


class MainWindow(QMainWindow):
    """The one window of the room workstation."""

    ready = Signal(int)  # milliseconds from construction to the first event-loop turn after showing
    case_opened = Signal(str)

    def __init__(
        self,
        service: RoomService,
        settings: QSettings,
        *,
        sound_player: SoundPlayer | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._started = time.perf_counter()
        self.ready_ms: int | None = None
        self.service = service
        self.settings = settings
        self.case_events = CaseEvents(self)  # the one change channel every view subscribes to
        self.setObjectName("main_window")
        self.setWindowTitle(TITLE)
        # An explicit minimum keeps layouts from resizing the window itself; 1280x800 is the design size.
        self.setMinimumSize(1200, 720)
        self.resize(1280, 800)
        self.start_screen = StartScreen(service)
        self._sound_player = sound_player
        self._case_screen: CaseScreen | None = None  # built by the first use of `case_screen`
        self.help_panel = LazyPage(self._help)  # built the first time Help is opened
        self.new_case_form: QWidget | None = None
        self.patient_finder: Any = None  # the hospital's patient list, set by ui/hospital.py (issue 14)
        self._before_help: QWidget | None = None
        self._build()
        self._connect()
        self.shortcuts = bind_shortcuts(self, self._shortcut_actions())
        self.theme = saved_theme(settings)
        self.set_theme(self.theme)
        self._resume()

    # -- construction --------------------------------------------------------------------------
    def _build(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._top_bar())
        self.banner_box = QVBoxLayout()  # the case screen's alarm banner goes first, when it is built
        self.banner_box.setContentsMargins(12, 8, 12, 0)
        self.window_message = MessageLabel("window_message")
        self.banner_box.addWidget(self.window_message)
        layout.addLayout(self.banner_box)
        self.stack = QStackedWidget()
        self.stack.setObjectName("screens")
        for widget in (self.start_screen, self.help_panel):
            self.stack.addWidget(widget)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

    def _top_bar(self) -> QFrame:
        bar = QFrame()
        bar.setObjectName("top_bar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(12, 6, 12, 6)
        row.setSpacing(12)
        self.cases_button = TextButton("Cases", "cases_button")
        self.cases_button.setAccessibleName("Case list and new case")
        self.title = QLabel(TITLE)
        self.title.setObjectName("app_title")
        self.titles = OneOf()  # the title, or the case header once the case screen is built
        self.titles.addWidget(self.title)
        self.theme_toggle = TextButton("Dark theme", "theme_toggle")
        self.help_button = TextButton("Help", "help_button")
        row.addWidget(self.cases_button)
        row.addWidget(self.titles, 1)
        row.addWidget(self.theme_toggle)
        row.addWidget(self.help_button)
        return bar

    def _connect(self) -> None:
        self.cases_button.clicked.connect(self.show_start)
        self.theme_toggle.clicked.connect(self.toggle_theme)
        self.help_button.clicked.connect(self.show_help)
        self.start_screen.case_chosen.connect(self.open_case)
        self.start_screen.new_case_requested.connect(self.show_new_case)

    # -- screens ---------------------------------------------------------------------------------
    @property
    def case_screen(self) -> CaseScreen:
        """The case screen (header, alarm banner, checklist, pages), built the first time it is needed."""
        if self._case_screen is None:
            from .case_screen import CaseScreen  # its modules and Qt classes load with it, not at start

            screen = CaseScreen(self.service, self.case_events, self._sound_player)
            self.banner_box.insertWidget(0, screen.banner)
            self.titles.addWidget(screen.header)
            self.stack.addWidget(screen)
            screen.set_theme(theme_named(self.theme))
            self._case_screen = screen
        return self._case_screen

    def _case_open(self) -> bool:
        """A case is open in the case screen (False, without building it, when there is none yet)."""
        return self._case_screen is not None and bool(self._case_screen.case_id)

    def _shortcut_actions(self) -> dict[str, Callable[[], object]]:
        """What each shortcut of ui/shortcuts.py does in this window (Enter is in keyPressEvent)."""
        actions: dict[str, Callable[[], object]] = {
            "confirm_editor": lambda: self._on_case_screen("checklist") and self.case_screen.editor.confirm(),
            "cancel": self.cancel,
            "acknowledge_alarm": lambda: self._case_open() and self.case_screen.banner.acknowledge_top(),
            "cases": self.show_start,
            "new_case": self.show_new_case,
            "toggle_theme": self.toggle_theme,
            "help": self.show_help,
        }
        for page in ("checklist", "implants", "staff", "signoff", "note"):
            actions[f"page_{page}"] = lambda p=page: self._on_case_screen() and self.case_screen.show_page(p)
        return actions

    def _resume(self) -> None:
        try:
            case_id = self.service.case_in_progress()
        except StoreError as exc:
            self.window_message.show_message(f"Could not read the database: {exc}", "error")
            case_id = None
        if case_id:
            self.open_case(case_id)
        else:
            self.show_start()

    def open_case(self, case_id: str) -> None:
        try:
            self.case_screen.open_case(case_id)
        except (StoreError, Refusal) as exc:
            self.window_message.show_message(f"Could not open case {case_id}: {exc}", "error")
            self.show_start()
            return
        self.window_message.clear_message()
        self.stack.setCurrentWidget(self.case_screen)
        self.titles.setCurrentWidget(self.case_screen.header)
        self.case_opened.emit(case_id)

    def show_start(self) -> None:
        self.start_screen.refresh()
        self.stack.setCurrentWidget(self.start_screen)
        # While a case is in progress its header (patient, signed-in nurse) stays in sight; once the
        # case has ended (signed), the start screen shows no patient's header.
        in_progress = False
        if self._case_open():
            try:
                in_progress = not self.service.state(self.case_screen.case_id).facts.locked
            except (StoreError, Refusal):
                in_progress = False
        self.titles.setCurrentWidget(self.case_screen.header if in_progress else self.title)

    def show_new_case(self) -> None:
        form = self._new_case_form()
        self.stack.setCurrentWidget(form)
        self.titles.setCurrentWidget(self.title)

    def _new_case_form(self) -> QWidget:
        """A fresh form each time: nothing typed for the previous patient is left in it."""
        if self.new_case_form is not None:
            self.stack.removeWidget(self.new_case_form)
            self.new_case_form.setParent(None)
            self.new_case_form.deleteLater()
            self.new_case_form = None
        from .new_case import NewCaseForm  # built when first asked for, like the other pages

        form = NewCaseForm(self.service, self.case_events, patients=self.patient_finder)
        form.case_started.connect(self.open_case)
        form.cancelled.connect(self.show_start)
        self.stack.addWidget(form)
        self.new_case_form = form
        return form

    def _help(self) -> HelpPanel:
        """The Help page, built the first time it is opened."""
        from .help_panel import HelpPanel

        panel = HelpPanel()
        panel.closed.connect(self.close_help)
        return panel

    def show_help(self) -> None:
        if self.stack.currentWidget() is not self.help_panel:
            self._before_help = self.stack.currentWidget()
            self.stack.setCurrentWidget(self.help_panel)

    def close_help(self) -> None:
        self.stack.setCurrentWidget(self._before_help or self.start_screen)
        on_case = self._case_screen is not None and self.stack.currentWidget() is self._case_screen
        self.titles.setCurrentWidget(self._case_screen.header if on_case else self.title)

    def _on_case_screen(self, page: str | None = None) -> bool:
        """The case screen is showing (on `page`, if given)."""
        showing = self._case_open() and self.stack.currentWidget() is self.case_screen
        return showing and (page is None or self.case_screen.current_page() == page)

    # -- the department hub (only where one is configured) -----------------------------------------
    def attach_department(
        self, views: DepartmentViews, wake: Callable[[str], None], status: Callable[[], object]
    ) -> None:
        """Show the hub's status (`status()`: the push worker's latest, read once a second here) in the
        status bar, and a Department button. `wake(case_id)` is called after every stored change."""
        from .department import DepartmentPage, DepartmentStatusLabel, StatusPoller

        self.department_status = DepartmentStatusLabel(self.case_events)
        self.case_events.case_changed.connect(lambda changes, _initiator: wake(changes.case_id))
        self.department_page = DepartmentPage(views)
        self.department_page.closed.connect(self.show_start)
        self.stack.addWidget(self.department_page)
        button = TextButton("Department cases", "department_button")
        button.setAccessibleName("Department cases, read-only")
        button.clicked.connect(self.show_department)
        # In the status bar, not the top bar: the case header there needs all its width.
        self.statusBar().addPermanentWidget(self.department_status)
        self.statusBar().addPermanentWidget(button)
        self.department_poller = StatusPoller(self.case_events, status)

    def show_department(self) -> None:
        self.stack.setCurrentWidget(self.department_page)
        self.titles.setCurrentWidget(self.title)
        self.department_page.refresh()

    # -- theme -----------------------------------------------------------------------------------
    def set_theme(self, theme_name: str) -> None:
        theme = apply_theme(self, theme_name)
        self.theme = theme.name
        if self._case_screen is not None:
            self._case_screen.set_theme(theme)
        other = "light" if theme.name == "dark" else "dark"
        self.theme_toggle.setText(f"{other.capitalize()} theme")
        self.theme_toggle.setAccessibleName(f"Switch to the {other} theme")

    def toggle_theme(self) -> None:
        self.set_theme("light" if self.theme == "dark" else "dark")
        save_theme(self.settings, self.theme)

    # -- keys and lifetime -------------------------------------------------------------------------
    def cancel(self) -> None:
        """Esc: close what is open (help, a reason panel); otherwise go back to the current step."""
        if self.stack.currentWidget() is self.help_panel:
            self.close_help()
        elif self._on_case_screen() and not self.case_screen.editor.cancel_panels():
            self.case_screen.select_current()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Return reaches the window only when no control used it; text fields keep theirs.
        plain = not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and plain
        if enter and self._on_case_screen("checklist") and not isinstance(QApplication.focusWidget(), TEXT_INPUTS):
            self.case_screen.complete_current()
            event.accept()
            return
        super().keyPressEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.ready_ms is None:  # the first event-loop turn after showing: the window is ready
            QTimer.singleShot(0, lambda: self.ready_ms is None and self._ready())

    def _ready(self) -> None:
        self.ready_ms = round((time.perf_counter() - self._started) * 1000)
        self.ready.emit(self.ready_ms)

    def closeEvent(self, event: QCloseEvent) -> None:
        # Every tick is already on disk: closing only stops the clock and the sound.
        if self._case_screen is not None:
            self._case_screen.close_case()
        page = getattr(self, "department_page", None)
        if page is not None:
            page.shutdown()
        super().closeEvent(event)
