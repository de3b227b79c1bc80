"""The window's side of the hospital link: the outbox worker's results written on the GUI thread (the
store's one writer), the patient list handed to the new-case form, and a calm status line for IT.

The link itself (listener, worker, patient list) is Qt-free (`interfaces/link.py`); this module only
adapts it: the worker's `report` emits a signal, which Qt queues to this thread, where the result is
written through the service. Nothing here waits for the network.
"""

from __future__ import annotations

import logging
from pathlib import Path
from queue import SimpleQueue

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QLabel

from .. import paths
from ..domain.clock import Clock
from ..interfaces.config import InterfaceConfig
from ..interfaces.link import HospitalLink
from ..interfaces.outbox_worker import Attempt
from ..service import StoreError
from .names import name
from .ports import RoomService

log = logging.getLogger(__name__)
REFRESH_MS = 10_000
PURGE_MS = 3_600_000
DRAIN_MS = 500


class HospitalStatus(QLabel):
    """One quiet line in the top bar: what waits for the hospital, and whether IT is needed."""

    def __init__(self, service: RoomService) -> None:
        super().__init__()
        self.service = service
        name(self, "hospital_status", "Messages to the hospital")
        self.setProperty("role", "muted")
        self.refresh()

    def refresh(self) -> None:
        try:
            rows = self.service.records.outbox(statuses=("waiting", "parked"))
        except StoreError:
            return
        parked = sum(r.status == "parked" for r in rows)
        waiting = len(rows) - parked
        if parked:
            text = f"EHR: {parked} need IT"
        elif waiting:
            text = f"EHR: {waiting} waiting"
        else:
            text = "EHR: all sent"
        self.setText(text)
        details = [f"{r.id} {r.channel} {r.case_id}: {r.status} {r.last_error or ''}" for r in rows]
        self.setToolTip("\n".join(["Messages to the hospital (checklist-app outbox)", *details]))
        self.setAccessibleDescription(self.toolTip())
        self.setProperty("kind", "warning" if parked else "")


class _Poke(QObject):
    """Tells the GUI thread that results are waiting (a queued signal across threads)."""

    arrived = Signal()


class HospitalBridge(QObject):
    """Owns the link for the window's lifetime; writes the worker's results; stops it when the app quits.

    Results travel through a thread-safe queue: the worker puts and pokes; the GUI thread drains it on
    the poke and on a short timer, so a result is written even if a poke is missed, and a write that
    fails stays queued for the next drain (the worker holds the message meanwhile: nothing is lost).
    """

    def __init__(self, service: RoomService, link: HospitalLink, status: HospitalStatus) -> None:
        super().__init__(status)
        self.service, self.link, self.status = service, link, status
        self.queue: SimpleQueue[Attempt] = SimpleQueue()
        self.poke = _Poke(self)
        self.poke.arrived.connect(self.drain)
        self.drain_timer = QTimer(self)
        self.drain_timer.timeout.connect(self.drain)
        self.drain_timer.start(DRAIN_MS)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self.timer.start(REFRESH_MS)
        self.purge_timer = QTimer(self)
        self.purge_timer.timeout.connect(link.purge)
        self.purge_timer.start(PURGE_MS)

    def report(self, attempt: Attempt) -> None:
        """The worker's `report` (any thread)."""
        self.queue.put(attempt)
        self.poke.arrived.emit()

    def drain(self) -> None:
        """Write every result handed over (GUI thread: the store's one writer)."""
        wrote = False
        while not self.queue.empty():
            attempt = self.queue.get_nowait()
            try:
                self.service.records.record_delivery(
                    attempt.message_id,
                    attempt.outcome.value,
                    attempt.detail,
                    at=attempt.at,
                    next_attempt=attempt.next_attempt,
                )
            except StoreError as exc:
                log.warning("outbox result for message %d not written yet (%s)", attempt.message_id, type(exc).__name__)
                self.queue.put(attempt)
                break
            wrote = True
        if wrote:
            self.status.refresh()

    def _tick(self) -> None:
        self.status.refresh()
        if self.link.worker is not None:
            self.link.worker.wake()  # a waiting message may be due by now

    def case_changed(self, changes: object, _initiator: object = None) -> None:
        """A signature or an addendum (the case is then signed or amended) queued messages: look now."""
        if self.link.worker is not None and getattr(changes, "status_after", "") in ("signed", "amended"):
            self.link.worker.wake()
        self.status.refresh()

    def stop(self) -> None:
        for timer in (self.timer, self.purge_timer, self.drain_timer):
            timer.stop()
        self.link.stop()
        self.drain()  # what the worker reported before it stopped


def attach_hospital(window, service: RoomService, db_path: Path, config: InterfaceConfig, clock: Clock):
    """Start the hospital link for the room window; None when the site has no interfaces."""
    if not config.configured:
        return None
    status = HospitalStatus(service)
    bridge_holder: list[HospitalBridge] = []
    link = HospitalLink(
        db_path,
        paths.patient_list_path(db_path),
        site=service.site,
        config=config,
        clock=clock,
        report=lambda attempt: bridge_holder[0].report(attempt),
    )
    bridge = HospitalBridge(service, link, status)
    bridge_holder.append(bridge)
    window.findChild(QObject, "top_bar").layout().insertWidget(2, status)
    window.patient_finder = link
    window.case_events.case_changed.connect(bridge.case_changed)
    try:
        link.start()
    except OSError as exc:
        window.window_message.show_message(
            f"The hospital's admissions feed could not start ({exc.strerror or exc}); patients can still be typed.",
            "warning",
        )
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(bridge.stop)
    return bridge
