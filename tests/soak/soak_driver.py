"""Soak driver: a whole 3-level bipedicular kyphoplasty of three clinical hours in the real window.

    python soak_driver.py DB REPORT.json [--hours 3] [--step 5]

The injectable clock moves `--step` seconds at a time; after each move the window ticks (timers,
alarms, hard stops) and the event loop runs, so everything repaints as it would in the room. The
nurse acts through the window only: taps steps and fills their values, records cement batches and
balloon kits on the Cement & balloons page, acknowledges warnings and alarms on their banners, hands
over on the Staff page and signs on the Sign-off page. Every tick the window showed as saved goes in
a ledger. Resident memory, the references to None, the widgets alive and Python's tracked objects
are sampled every five clinical minutes; the report (JSON) holds the samples and the ledger.
Exits 0 when the case ran to the end, 4 when the window refused something a nurse would expect
to work (the message says what), 5 when the window lacks a control the driver needs.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QLineEdit, QWidget

from checklist_app.demo import TYPICAL_VALUES, enrol_demo_staff
from checklist_app.domain.clock import FakeClock
from checklist_app.domain.state import DONE
from checklist_app.service import ChecklistService
from checklist_app.store import open_store
from checklist_app.ui.window import build_window

START = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
NURSE, RELIEF, OPERATOR = "Nurse Dana Demo", "Nurse Noor Demo", "Dr Ada Demo"
LEVELS = [{"level": level, "sides": ["left", "right"]} for level in ("T11", "T12", "L1")]
SAMPLE_EVERY = timedelta(minutes=5)


class Silent:
    """The sound player: the driver runs without an audio device."""

    def play(self, priority: str) -> None:
        pass

    def stop(self) -> None:
        pass


class Stuck(Exception):
    """The window did not do what a nurse would expect."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def resident_kib() -> tuple[int, int]:
    """(VmRSS, VmHWM) of this process in KiB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


class Nurse:
    """Works the case through the window, paced so that it lasts the whole soak."""

    def __init__(self, window, service: ChecklistService, clock: FakeClock, gap: timedelta) -> None:
        self.window, self.service, self.clock, self.gap = window, service, clock, gap
        self.screen = window.case_screen
        self.case_id = self.screen.case_id
        self.next_action = clock.now()
        self.ledger: list[dict] = []
        self.handed_over = False
        self.looked_around = False
        self.finished = False

    # -- helpers -----------------------------------------------------------------------------------
    def find(self, object_name: str, kind: type = QWidget):
        widget = self.window.findChild(kind, object_name)
        if widget is None:
            raise Stuck(5, f"MISSING {object_name}")
        return widget

    def click(self, object_name: str) -> None:
        button = self.find(object_name, QAbstractButton)
        if not (button.isVisible() and button.isEnabled()):
            raise Stuck(4, f"{object_name} is not visible and enabled")
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)

    def type_into(self, object_name: str, text: str) -> None:
        edit = self.find(object_name, QLineEdit)
        edit.clear()
        QTest.keyClicks(edit, text)

    def state(self):
        return self.service.state(self.case_id)

    # -- one turn ----------------------------------------------------------------------------------
    def act(self) -> None:
        """Acknowledge what asks for it, then do the next thing when its time has come."""
        self.acknowledge()
        if self.finished or self.clock.now() < self.next_action:
            return
        self.next_action = self.clock.now() + self.gap
        state = self.state()
        if not self.looked_around and self.clock.now() - START >= timedelta(minutes=10):
            self.look_around()
            return
        if not self.handed_over and self.clock.now() - START >= timedelta(minutes=20):
            self.hand_over(RELIEF)
            return
        current = state.current
        if current is None:
            self.sign_off()
            return
        step = current.spec.id
        if step == "cement_injection" and not self.usable_batch(state):
            self.record_implant("cement")
            return
        if step == "balloon_inflation" and not state.facts.kits:
            self.record_implant("balloon")
            return
        if self.screen.service.blocking_gates(case_id=self.case_id, step=step, level=current.level, side=current.side):
            self.next_action = self.clock.now()  # a countdown (hardening) holds it: try again next turn
            return
        if step == "cement_injection" and not self.ready_to_inject(state):
            self.next_action = self.clock.now()
            return
        self.tick_step(current)

    def acknowledge(self) -> None:
        for strip, prefix in ((self.screen.warnings, "warning"), (self.screen.banner, "alarm")):
            for item_id in list(strip.rows):
                self.click(f"{prefix}.{item_id}.acknowledge")

    def usable_batch(self, state) -> bool:
        from checklist_app.domain.timers import working_window

        windows = [working_window(state, b) for b in state.facts.batches]
        return any(w is not None and self.clock.now() < w[1] - timedelta(minutes=1) for w in windows)

    def ready_to_inject(self, state) -> bool:
        from checklist_app.domain.timers import working_window

        window = working_window(state, state.facts.batches[-1])
        return window is not None and self.clock.now() >= window[0]

    def tick_step(self, current) -> None:
        self.screen.select_step(*current.key)
        editor = self.screen.editor
        for field_id, value in TYPICAL_VALUES.get(current.spec.id, {}).items():
            if field_id in editor.inputs and editor.inputs[field_id].value() is None:
                editor.inputs[field_id].set_value(value)
        self.click("primary_action")
        row = self.screen.checklist.model.row_at(self.screen.checklist.model.index_of(current.key))
        if row is None or row.status != DONE:
            message = editor.message.text() if editor.message.isVisible() else "(no message)"
            raise Stuck(4, f"STUCK {current.key}: {message}")
        entry = self.state().instance(*current.key).entry
        self.ledger.append({"seq": entry.seq, "step": current.spec.id, "level": current.level, "side": current.side})

    def record_implant(self, kind: str) -> None:
        self.screen.show_page("implants")
        self.click(f"batch.kind.{kind}")
        catalogue = self.service.catalogue
        product = (catalogue.cements if kind == "cement" else catalogue.balloons)[0]
        combo = self.find("batch.field.product")
        combo.setCurrentIndex(combo.findData(product.id))
        self.type_into("batch.field.lot", f"{kind[:2].upper()}{len(self.ledger):04d}")
        self.type_into("batch.field.expiry", "2031-01-31")
        if kind == "cement":
            self.type_into("batch.field.room_temperature", "21")
        before = len(self.state().events)
        self.click("batch.record")
        after = self.state()
        if len(after.events) == before:
            raise Stuck(4, f"STUCK recording a {kind}: {self.find('batch.message').text()}")
        self.ledger.append({"seq": after.events[-1].seq, "step": after.events[-1].step, "level": None, "side": None})
        self.screen.show_page("checklist")

    def look_around(self) -> None:
        """Open every page once, as a nurse does early in a case (each is built when first shown)."""
        for page in ("implants", "staff", "signoff", "note", "checklist"):
            self.screen.show_page(page)
            QApplication.processEvents()
        self.looked_around = True

    def hand_over(self, person: str) -> None:
        self.screen.show_page("staff")
        self.screen.panels["staff"].new_name.set_text(person)
        self.click("handover.confirm")
        if self.state().current_nurse != person:
            raise Stuck(4, f"STUCK handover to {person}")
        self.handed_over = True
        self.screen.show_page("checklist")

    def sign_off(self) -> None:
        self.screen.show_page("signoff")
        panel = self.screen.panels["signoff"]
        panel.findings.setPlainText("Three-level kyphoplasty, height partly restored at each level.")
        panel.complications.setPlainText("None")
        self.type_into("signoff.ebl_ml", "10")
        panel.disposition.setCurrentText("Day-case discharge")
        self.click("signoff.save_findings")
        for role, person in (("nurse", RELIEF), ("operator", OPERATOR)):
            panel.rows[role].who.set_text(person)
            self.click(f"signoff.{role}.sign")
            if self.state().facts.signature(role) is None:
                raise Stuck(4, f"STUCK signing as {role}: {panel.rows[role].message.text()}")
        self.finished = True
        self.screen.show_page("checklist")


def sample(clock: FakeClock) -> dict:
    gc.collect()
    rss, hwm = resident_kib()
    return {
        "minute": round((clock.now() - START).total_seconds() / 60, 1),
        "rss_kib": rss,
        "hwm_kib": hwm,
        "none_refs": sys.getrefcount(None),
        "widgets": len(QApplication.allWidgets()),
        "objects": len(gc.get_objects()),
    }


def run(db: Path, hours: float, step: float) -> dict:
    app = QApplication.instance() or QApplication(["soak_driver"])
    clock = FakeClock(START)
    service = ChecklistService(open_store(db), clock=clock)
    enrol_demo_staff(service)  # signers come from the staff directory (SPEC §6), the relief nurse too
    service.add_staff(name=RELIEF, role="nurse")
    service.start_case(
        patient={
            "name": "Soak Test-Patient",
            "weight_kg": 70.0,
            "mrn": "SOAK0001",
            "date_of_birth": "1948-05-06",
            "sex": "female",
        },
        procedure="kyphoplasty",
        levels=LEVELS,
        indication="osteoporotic",
        team={"operator": OPERATOR, "nurse": NURSE, "anaesthesia": "Dr Gita Demo"},
    )
    settings = QSettings(str(db.with_name("soak-ui.ini")), QSettings.Format.IniFormat)
    window = build_window(service, settings, sound_player=Silent())
    window.show()
    app.processEvents()
    steps = service.state(window.case_screen.case_id).progress[1]
    gap = timedelta(hours=hours) * 0.8 / steps  # the case fills the soak; the rest waits for cement
    nurse = Nurse(window, service, clock, gap)
    end = START + timedelta(hours=hours)
    run = {"samples": [sample(clock)], "next_sample": START + SAMPLE_EVERY, "turns": 0}
    outcome = {"code": 0, "message": ""}

    def turn() -> None:
        """One step of the clock inside the real event loop (so deferred deletes and repaints happen)."""
        nonlocal outcome
        if clock.now() >= end:
            app.quit()
            return
        clock.advance(step)
        try:
            nurse.act()
        except Stuck as exc:
            outcome = {"code": exc.code, "message": str(exc)}
            app.quit()
            return
        window.case_screen.tick()
        run["turns"] += 1
        if clock.now() >= run["next_sample"]:
            run["samples"].append(sample(clock))
            run["next_sample"] += SAMPLE_EVERY
        QTimer.singleShot(0, turn)

    QTimer.singleShot(0, turn)
    app.exec()
    samples, turns = run["samples"], run["turns"]
    finished_at = (clock.now() - START).total_seconds() / 60
    report = {
        "outcome": outcome,
        "turns": turns,
        "case_id": nurse.case_id,
        "signed": nurse.finished,
        "minutes": finished_at,
        "ledger": nurse.ledger,
        "samples": samples,
    }
    window.close()
    service.close()
    return report


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("db", type=Path)
    parser.add_argument("report", type=Path)
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--step", type=float, default=5.0, help="clinical seconds per turn")
    args = parser.parse_args()
    report = run(args.db, args.hours, args.step)
    args.report.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(report["outcome"]["message"] or "DONE", flush=True)
    return int(report["outcome"]["code"])


if __name__ == "__main__":
    sys.exit(main())
