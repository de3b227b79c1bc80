"""The case screen: checklist, step editor and timers, with batches, staff, sign-off and the note as pages.

It holds no truth. It subscribes once to the window's change channel (ui/case_events.py): after
every stored use case it reads the case's snapshot and refreshes its views; a one-second tick asks
the service one question, `room_status`, for the clocks, alarms and hard stops.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from ..domain import events as ev
from ..domain.changes import Changes
from ..domain.errors import Refusal
from ..domain.present import local_time
from ..domain.state import CaseState
from ..service import StoreError
from .alarms import AlarmBanner, AlarmSound, FirstUsePlayer, SoundPlayer, WarningStrip
from .case_events import CaseEvents
from .case_header import CaseHeader
from .case_pages import CasePages
from .checklist_model import Key
from .checklist_view import ChecklistView
from .ports import RoomService
from .step_editor import StepEditor
from .theme import Theme
from .timers_panel import TimersPanel
from .widgets import MessageLabel

TICK_MS = 1000
SAVED_WORDS = {  # what the line under the checklist says after the editor stored an event of this kind
    ev.STEP_DONE: "Saved",
    ev.NOT_APPLICABLE: "Saved as not applicable",
    ev.CORRECTION: "Correction saved",
    ev.RETRACTION: "Retraction saved",
}


class CaseScreen(QWidget):
    """Everything the nurse needs during a case, on one screen."""

    state_changed = Signal(str)  # case id, after the views were refreshed from stored state

    def __init__(
        self,
        service: RoomService,
        events: CaseEvents,
        sound_player: SoundPlayer | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.service, self.events = service, events
        self.case_id = ""
        self._selecting = False
        self._back_to_checklist = False
        self.header = CaseHeader()  # placed in the window's top bar by the main window
        self.banner = AlarmBanner(service, events)  # placed above every page by the main window
        self.sound = AlarmSound(sound_player or FirstUsePlayer(), service.site.alarm_policy)
        self.warnings = WarningStrip(service, events)
        self.checklist = ChecklistView()
        self.editor = StepEditor(service, events)
        self.timers = TimersPanel()
        self.book = CasePages(self)  # the nav row and the pages, side panels built when first shown
        self.panels = self.book.panels  # panels[page] builds that page's panel now
        self._build()
        self._connect()
        self.ticker = QTimer(self)
        self.ticker.setInterval(TICK_MS)
        self.ticker.timeout.connect(self.tick)

    # -- construction --------------------------------------------------------------------------
    def _pages(self) -> tuple[tuple[str, str, Callable[[], QWidget]], ...]:
        """(page id, nav label, factory): each panel is built the first time its page is shown."""

        def implants() -> QWidget:
            from .batch_panel import BatchPanel

            return BatchPanel(self.service, self.events)

        def staff() -> QWidget:
            from .staff import HandoverPanel

            return HandoverPanel(self.service, self.events)

        def signoff() -> QWidget:
            from .signoff import SignOffPanel

            return SignOffPanel(self.service, self.events)

        def note() -> QWidget:
            from .note_view import NotePanel

            return NotePanel(self.service)

        return (
            ("implants", "Cement && balloons", implants),
            ("staff", "Staff / handover", staff),
            ("signoff", "Sign-off", signoff),
            ("note", "Operative note", note),
        )

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(8)
        layout.addWidget(self.warnings)
        # Tamper evidence: shown when the opened case's hash chain or record does not check out.
        self.tamper_banner = MessageLabel("tamper_banner")
        self.tamper_banner.setAccessibleName("Record integrity warning")
        layout.addWidget(self.tamper_banner)
        self.book.add("checklist", "Checklist", self._checklist_page())
        for page, label, factory in self._pages():
            self.book.host(page, label, factory).clicked.connect(lambda _=False, p=page: self.show_page(p))
        self.book.button("checklist").clicked.connect(lambda _=False: self.show_page("checklist"))
        self.book.nav.addStretch(1)
        layout.addLayout(self.book.nav)
        body = QHBoxLayout()
        body.setSpacing(12)
        body.addWidget(self.book.stack, 1)
        self.timers.setFixedWidth(300)
        body.addWidget(self.timers)
        layout.addLayout(body, 1)

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

    def _connect(self) -> None:
        self.events.case_changed.connect(self._case_changed)  # the one subscription for the whole screen
        self.checklist.step_selected.connect(self._step_selected)
        self.editor.current_requested.connect(self.select_current)
        self.editor.batch_requested.connect(self._batch_requested)
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
        self.book.set_case(case_id)
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
        came from elsewhere (an acknowledgement, a handover, a batch recorded on another page).
        """
        if not self.case_id:
            return
        state = self.service.state(self.case_id)
        status = self.service.room_status(self.case_id)
        self.checklist.show_state(state, status.locked)
        selected = self.checklist.selected_key()
        current = state.current.key if state.current else None
        key = current if (follow_current or selected is None) and current else selected
        key = key or state.instances[-1].key
        still_valid = state.facts.locked == (self.editor.mode == "locked")  # signing locks the editor too
        if keep_editor and key == self.editor.key and still_valid:
            self.checklist.select(key)
            self.editor.sync()  # what another page changed reaches the open step
        else:
            self._select(key)
        self.header.show_state(state)
        self.warnings.show_warnings(list(status.advisories))
        self._show_what_is_next(state)
        self.tick()
        self.state_changed.emit(self.case_id)

    def tick(self) -> None:
        """Once a second (tests call it after moving the fake clock): one question for clocks and alarms."""
        if not self.case_id:
            return
        try:
            status = self.service.room_status(self.case_id)
            state = self.service.state(self.case_id)
        except (StoreError, Refusal) as exc:
            self.last_saved.show_message(f"Could not read the case: {exc}", "error")
            return
        self.timers.show_timers(list(status.timers))
        self.banner.show_alarms(list(status.alarms))  # visual first...
        self.sound.update(list(status.alarms), status.now)  # ...then sound
        self.editor.show_status(status)
        self.editor.sync()  # a working time that ended is no longer proposed
        if status.locked != self.checklist.locked:
            self.checklist.show_state(state, status.locked)

    def _case_changed(self, changes: Changes, initiator: object) -> None:
        """The one reaction to every stored change: who asked decides only what follows."""
        if changes.case_id != self.case_id:
            return
        if initiator is self.editor:
            self._saved_by_editor(changes)
            return
        back = self._back_to_checklist and initiator is not None and initiator is self.book.built("implants")
        self.refresh(keep_editor=True)
        if back:
            self.show_page("checklist")

    def _saved_by_editor(self, changes: Changes) -> None:
        state = self.service.state(self.case_id)
        key = self.editor.key
        kinds = {e.kind for e in state.events[changes.first - 1 : changes.last]}
        kind = next((k for k in SAVED_WORDS if k in kinds), "")
        if key is not None and kind:
            inst = state.instance(*key)
            when = f" at {local_time(inst.entry.clinical_time)}" if inst.entry else ""
            self.last_saved.show_message(f"{SAVED_WORDS[kind]} ✓ {inst.label}{when}", "info")
        follow = kind in (ev.STEP_DONE, ev.NOT_APPLICABLE)
        self.refresh(follow_current=follow)
        if follow:
            self._offer_sign_off()

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

    def _show_what_is_next(self, state: CaseState) -> None:
        """Once every step is answered, the line under the checklist says what the record still needs."""
        if state.current is not None:
            return
        if state.facts.locked:
            operator = state.facts.signature("operator")
            who = f" by {operator.values.get('name')} at {local_time(operator.recorded_time)}" if operator else ""
            text = f"Record signed{who} ✓ Nothing more is needed for this case."
        elif state.facts.signature("nurse"):
            text = "Nurse signed ✓ Next: the operator reviews the note and signs on the Sign-off page."
        else:
            text = "All steps answered ✓ Next: sign the record on the Sign-off page."
        self.last_saved.show_message(text, "info")

    def _offer_sign_off(self) -> None:
        """Every step answered and not yet signed: what comes next is the sign-off."""
        state = self.service.state(self.case_id)
        if state.current is not None or state.facts.locked:
            return
        self._show_what_is_next(state)
        if "signoff" in self.panels and not state.facts.signature("nurse"):
            self.show_page("signoff")

    def complete_current(self) -> bool:
        """Enter: complete the current step when it needs no values; otherwise open it to fill in."""
        state = self.service.state(self.case_id) if self.case_id else None
        if state is None or state.facts.locked or state.current is None:
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
        self.book.show(page, self.case_id)
        if page == "checklist":
            self._back_to_checklist = False

    def current_page(self) -> str:
        return self.book.current()

    def _batch_requested(self, step: str) -> None:
        if "implants" not in self.panels:
            self.editor.message.show_message("The cement batch panel could not be loaded.", "error")
            return
        self._back_to_checklist = True
        self.show_page("implants")
        self.panels["implants"].choose(step)
