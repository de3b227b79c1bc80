"""Crash-test driver for the room window: clicks through cases in the real window, offscreen.

    python window_driver.py DB [--seed S]

Builds the window with `checklist_app.ui.window.build_window`, then on a QTimer loop fills the current
step's inputs, clicks the `primary_action` button with QTest and, once the checklist shows the
step as done, prints ``ACK <case> <seq> <hash> <status>`` (same protocol as service_driver.py).
Set-up, cement batches, balloon kits, signatures and new cases go through the service (ACKed too): the window's
tick is what this driver exercises. Prints ``STUCK <step> <message>`` and exits 4 if a click does
not save; ``MISSING <what>`` and exits 5 if the window lacks something the driver needs.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication

from checklist_app.demo import LEVEL_POOL, TYPICAL_VALUES, enrol_demo_staff
from checklist_app.domain.advisories import unacknowledged
from checklist_app.domain.alarms import alarms
from checklist_app.domain.clock import FakeClock
from checklist_app.domain.state import DONE
from checklist_app.domain.timers import hardening_end, working_window
from checklist_app.service import ChecklistService
from checklist_app.store import StoreError, open_store
from checklist_app.ui.window import build_window

# Values a nurse would enter, step by step (the same as the tests and the demo use).
VALUES = TYPICAL_VALUES


class Silent:
    """A sound player that plays nothing (the driver runs without a sound device)."""

    def play(self, priority: str) -> None:
        pass

    def stop(self) -> None:
        pass


def ack(state) -> None:
    last = state.events[-1]
    print(f"ACK {state.case_id} {last.seq} {last.hash} {state.facts.status}", flush=True)


class Clicker:
    """One tick per event-loop turn: prepare the current step, fill it in, click, check, ACK."""

    def __init__(self, window, service: ChecklistService, clock: FakeClock, rng: random.Random, cases: int) -> None:
        self.window, self.service, self.clock, self.rng = window, service, clock, rng
        self.cases_left = cases
        self.case_id = window.case_screen.case_id or self.new_case()
        self.primary = window.findChild(QAbstractButton, "primary_action")
        if self.primary is None:
            self.quit(5, "MISSING primary_action button")

    def quit(self, code: int, line: str = "") -> None:
        if line:
            print(line, flush=True)
        self.service.close()
        os._exit(code)  # no Qt teardown: the store is closed, nothing else matters

    def new_case(self) -> str:
        if self.cases_left <= 0:
            print("DONE", flush=True)
            self.quit(0)
        self.cases_left -= 1
        self.clock.advance(minutes=30)
        start = self.rng.randrange(0, len(LEVEL_POOL) - 1)
        levels = [(level, self.rng.choice(["left", "right", "both"])) for level in LEVEL_POOL[start : start + 2]]
        state = self.service.start_case(
            patient={
                "name": "Window Test-Patient",
                "weight_kg": 70.0,
                "mrn": f"WIN{self.rng.randrange(10**6):06d}",
                "sex": "other",
            },
            procedure=self.rng.choice(["kyphoplasty", "vertebroplasty"]),
            levels=levels[: self.rng.choice([1, 2])],
            indication="osteoporotic",
            team={"operator": "Dr Ada Demo", "nurse": "Nurse Dana Demo", "anaesthesia": "Dr Gita Demo"},
        )
        ack(state)
        self.window.open_case(state.case_id)
        return state.case_id

    def tick(self) -> None:
        try:
            self.step()
        except StoreError as exc:
            self.quit(6, f"STOREERROR {exc}")
        QTimer.singleShot(0, self.tick)

    def step(self) -> None:
        service, case_id = self.service, self.case_id
        self.clock.advance(minutes=1)
        for alarm in alarms(service.state(case_id), self.clock.now()):
            ack(service.acknowledge_alarm(case_id=case_id, alarm_id=alarm.id))
        for warning in unacknowledged(service.state(case_id)):
            ack(service.acknowledge_warning(case_id=case_id, warning_id=warning.id))
        current = service.state(case_id).current
        if current is None:
            self.sign_and_start_next()
            return
        self.prepare(current)
        screen = self.window.case_screen
        screen.refresh(follow_current=True)
        editor = screen.editor
        if editor.key != current.key:
            self.quit(5, f"MISSING the editor did not follow the current step {current.key} (shows {editor.key})")
        for field_id, value in VALUES.get(current.spec.id, {}).items():
            if field_id in editor.inputs:
                editor.inputs[field_id].set_value(value)
        QTest.mouseClick(self.primary, Qt.MouseButton.LeftButton)
        if not self.shown_done(current.key):
            message = editor.message.text() if editor.message.isVisible() else "(no message)"
            self.quit(4, f"STUCK {current.spec.id} {message}")
        ack(service.state(case_id))

    def shown_done(self, key) -> bool:
        """The window's checklist shows the step done (which it may only do once it is saved)."""
        from checklist_app.ui.checklist_model import STATUS_ROLE

        model = self.window.case_screen.checklist.model
        return model.data(model.index_of(key), STATUS_ROLE) == DONE

    def prepare(self, current) -> None:
        """What the nurse does around a tick: mix cement, wait for it to harden."""
        service, case_id = self.service, self.case_id
        state = service.state(case_id)
        if current.spec.id == "cement_injection":
            batch = state.facts.batches[-1] if state.facts.batches else None
            window = working_window(state, batch) if batch else None
            if window is None or self.clock.now() > window[1] - timedelta(minutes=1):
                product = service.catalogue.cements[0]
                values = {"product": product.id, "lot": "CM0001", "expiry": "2031-01-01"}
                state = service.record_step(case_id=case_id, step="cement_mix", values=values)
                ack(state)
                window = working_window(state, state.facts.batches[-1])
                self.clock.set(max(self.clock.now(), window[0]))  # type: ignore[index]
        if current.spec.id == "balloon_inflation" and not state.facts.kits:
            kit = service.catalogue.balloons[0]
            values = {"product": kit.id, "lot": "BK0001", "expiry": "2031-01-01"}
            ack(service.record_step(case_id=case_id, step="balloon_kit", values=values))
        if current.spec.id in ("hardening_wait", "cannula_removal"):
            end = hardening_end(state, current.level or "")
            if end is not None and end > self.clock.now():
                self.clock.set(end + timedelta(seconds=1))

    def sign_and_start_next(self) -> None:
        service, case_id = self.service, self.case_id
        ack(service.sign(case_id=case_id, name=service.state(case_id).current_nurse, role="nurse"))
        ack(
            service.record_findings(
                case_id=case_id, complications="none", findings="Window crash-test case.", ebl_ml=5.0
            )
        )
        ack(service.sign(case_id=case_id, name="Dr Ada Demo", role="operator", codes=service.suggested_codes(case_id)))
        self.case_id = self.new_case()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("db", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cases", type=int, default=100)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(["window_driver"])
    clock = FakeClock(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    print("OPENING", flush=True)
    try:
        service = ChecklistService(open_store(args.db), clock=clock)
        enrol_demo_staff(service)  # signers come from the staff directory (SPEC §6)
    except StoreError as exc:
        print(f"REFUSED {exc}", flush=True)
        return 3
    print(f"READY {os.getpid()}", flush=True)
    settings = QSettings(str(args.db.with_name("window-settings.ini")), QSettings.Format.IniFormat)
    window = build_window(service, settings, sound_player=Silent())
    window.show()
    clicker = Clicker(window, service, clock, random.Random(args.seed), args.cases)
    QTimer.singleShot(0, clicker.tick)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
