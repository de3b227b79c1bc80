"""Render the room window's main screens, light and dark, at 1280x800 into docs/screenshots/.

Each scene runs on a temporary database with a fake clock, so the pictures are reproducible:
    QT_QPA_PLATFORM=offscreen python scripts/screenshots.py [--out DIR] [--size 1280x800]
Look at every PNG afterwards: a nurse will see exactly that.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from checklist_app.demo import TYPICAL_COVERAGE, TYPICAL_VALUES, enrol_demo_staff  # noqa: E402
from checklist_app.domain.choices import preselected  # noqa: E402
from checklist_app.domain.clock import FakeClock  # noqa: E402
from checklist_app.domain.timers import hardening_end, working_window  # noqa: E402
from checklist_app.service import ChecklistService  # noqa: E402
from checklist_app.store import open_store  # noqa: E402
from checklist_app.ui.window import build_window  # noqa: E402

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
# The shared typical values; the time-out lists the whole team shown in the pictures.
VALUES: dict[str, dict] = {
    **TYPICAL_VALUES,
    "time_out": {**TYPICAL_VALUES["time_out"], "team": ["Dr Ada Demo", "Nurse Dana Demo", "Dr Gita Demo"]},
}


class Silent:
    """No sound while taking pictures."""

    def play(self, priority: str) -> None:
        pass

    def stop(self) -> None:
        pass


class Scene:
    """A fresh database, clock and service for one picture."""

    def __init__(self, folder: Path) -> None:
        self.clock = FakeClock(START)
        self.service = ChecklistService(open_store(folder / "scene.sqlite3"), clock=self.clock)
        enrol_demo_staff(self.service)  # signers come from the staff directory (SPEC §6)
        self.settings = QSettings(str(folder / "ui.ini"), QSettings.Format.IniFormat)

    def start(self, name: str = "Nguyễn Thị Mẫu", mrn: str = "MRN204518", procedure: str = "kyphoplasty") -> str:
        levels = [{"level": "T12", "sides": ["left", "right"]}, {"level": "L1", "sides": ["left", "right"]}]
        if procedure == "vertebroplasty":
            levels = [{"level": "L2", "sides": ["right"]}]
        state = self.service.start_case(
            patient={"name": name, "weight_kg": 70.0, "mrn": mrn, "date_of_birth": "1947-05-12", "sex": "female"},
            procedure=procedure,
            levels=levels,
            indication="osteoporotic",
            coverage=TYPICAL_COVERAGE,
            team={"operator": "Dr Ada Demo", "nurse": "Nurse Dana Demo", "anaesthesia": "Dr Gita Demo"},
        )
        return state.case_id

    def drive(self, case_id: str, until: str | None = None, level: str | None = None) -> None:
        """Record every step with plausible values until `until` (at `level`) is current."""
        service = self.service
        while (current := service.state(case_id).current) is not None:
            if current.spec.id == until and (level is None or current.level == level):
                return
            self.clock.advance(minutes=1)
            step = current.spec.id
            if step == "balloon_inflation" and not service.state(case_id).facts.kits:
                kit = {"product": "example_balloon_15", "lot": "BK12345", "expiry": "2028-01-31"}
                self.record(case_id, "balloon_kit", kit)
            state = service.state(case_id)
            batch_field = state.template.step("cement_injection").field("batch")
            if step == "cement_injection" and preselected(state, batch_field, self.clock.now()) is None:
                self.mix(case_id)
                self.clock.set(working_window(service.state(case_id), service.state(case_id).facts.batches[-1])[0])
            if step == "hardening_wait":
                end = hardening_end(service.state(case_id), current.level)
                if end is not None and end > self.clock.now():
                    self.clock.set(end)
            for alarm in service.alarms(case_id):
                service.acknowledge_alarm(case_id=case_id, alarm_id=alarm.id)
            self.record(case_id, step, VALUES.get(step), current.level, current.side)

    def record(self, case_id: str, step: str, values=None, level=None, side=None) -> None:
        self.service.record_step(case_id=case_id, step=step, level=level, side=side, values=values)

    def mix(self, case_id: str) -> None:
        product = self.service.catalogue.cements[0].id
        self.record(case_id, "cement_mix", {"product": product, "lot": "CM0042", "expiry": "2027-06-30"})

    def finish(self, case_id: str) -> None:
        self.drive(case_id)
        for warning in self.service.warnings(case_id, pending_only=True):
            self.service.acknowledge_warning(case_id=case_id, warning_id=warning.id)
        self.service.sign(case_id=case_id, name="Nurse Dana Demo", role="nurse")
        self.service.record_findings(case_id=case_id, findings="Good fill.", complications="None.", ebl_ml=5.0)
        self.service.sign(
            case_id=case_id, name="Dr Ada Demo", role="operator", codes=self.service.suggested_codes(case_id)
        )


# -- scenes: each prepares the data and returns the window to photograph -------------------------
def scene_start(scene: Scene):
    for n, (name, procedure) in enumerate((("Alba Example", "vertebroplasty"), ("Müller Beispiel", "kyphoplasty"))):
        case_id = scene.start(name, f"MRN10{n}", procedure)
        scene.finish(case_id)
        scene.clock.advance(minutes=20)
    case_id = scene.start()
    scene.drive(case_id, "cannula_placement")
    window = build_window(scene.service, scene.settings, sound_player=Silent())
    window.show_start()
    return window


def scene_new_case(scene: Scene):
    window = build_window(scene.service, scene.settings, sound_player=Silent())
    window.show_new_case()
    return window if window.new_case_form is not None else None


def scene_checklist(scene: Scene):
    """Mid-case: the current step is the hardening wait, its countdown running."""
    case_id = scene.start()
    scene.drive(case_id, "hardening_wait", "T12")
    scene.clock.advance(minutes=3, seconds=25)
    return build_window(scene.service, scene.settings, sound_player=Silent())


def scene_hardening_lock(scene: Scene):
    """Cannula removal opened early: locked, with the countdown in the hard stop."""
    window = scene_checklist(scene)
    window.case_screen.select_step("cannula_removal", "T12")
    return window


def scene_hard_stop(scene: Scene):
    case_id = scene.start()
    scene.drive(case_id, "time_out")
    window = build_window(scene.service, scene.settings, sound_player=Silent())
    window.case_screen.select_step("cannula_placement", "T12", "left")
    return window


def scene_alarm(scene: Scene):
    case_id = scene.start(procedure="vertebroplasty")
    scene.drive(case_id, "cement_injection")
    scene.mix(case_id)
    scene.clock.advance(minutes=10, seconds=5)  # the working time ending and over: two medium alarms
    window = build_window(scene.service, scene.settings, sound_player=Silent())
    return window


def scene_correction(scene: Scene):
    case_id = scene.start()
    scene.drive(case_id, "cannula_placement")
    scene.clock.advance(minutes=2)
    state = scene.service.state(case_id)
    entry = state.instance("local_anesthetic", "T12").entry
    scene.clock.advance(minutes=1)
    scene.service.correct(
        case_id=case_id, seq=entry.seq, values={**entry.values, "volume": 10.0}, reason="Syringe read again: 10 mL"
    )
    window = build_window(scene.service, scene.settings, sound_player=Silent())
    window.case_screen.select_step("local_anesthetic", "T12")
    return window


def scene_signoff(scene: Scene):
    case_id = scene.start(procedure="vertebroplasty")
    scene.drive(case_id)
    window = build_window(scene.service, scene.settings, sound_player=Silent())
    if "signoff" not in window.case_screen.panels:
        return None
    window.case_screen.show_page("signoff")
    return window


def scene_batch_scanned(scene: Scene):
    """The Cement & balloons page just after a scan: the message shows and Record stays whole."""
    case_id = scene.start()
    scene.drive(case_id, "cement_injection", "T12")
    window = build_window(scene.service, scene.settings, sound_player=Silent())
    window.case_screen.show_page("implants")
    panel = window.case_screen.panels["implants"]
    cement = scene.service.catalogue.cements[0]
    panel.scan.setText(f"01{cement.gtin}1727063010CM-0042")
    panel._read_scan()
    return window


def scene_signed(scene: Scene):
    """A signed case's Sign-off page: everything on it reads as a locked record."""
    case_id = scene.start(procedure="vertebroplasty")
    scene.finish(case_id)
    scene.clock.advance(minutes=30)
    window = build_window(scene.service, scene.settings, sound_player=Silent())
    window.open_case(case_id)
    window.case_screen.show_page("signoff")
    return window


def scene_checklist_signed(scene: Scene):
    """The checklist of a signed case: the case clock stopped at patient out of room, nothing asked."""
    case_id = scene.start(procedure="vertebroplasty")
    scene.finish(case_id)
    scene.clock.advance(minutes=30)
    window = build_window(scene.service, scene.settings, sound_player=Silent())
    window.open_case(case_id)
    return window


def scene_start_after_case(scene: Scene):
    """Back on the start screen after a case ended: no patient's header is left above it."""
    case_id = scene.start(procedure="vertebroplasty")
    scene.finish(case_id)
    window = build_window(scene.service, scene.settings, sound_player=Silent())
    window.open_case(case_id)
    window.show_start()
    return window


def scene_plan_change(scene: Scene):
    """A balloon that did not hold pressure: the level's change of plan, chosen and explained."""
    from PySide6.QtWidgets import QAbstractButton, QLineEdit

    case_id = scene.start()
    scene.drive(case_id, "balloon_inflation", "T12")
    window = build_window(scene.service, scene.settings, sound_player=Silent())
    window.case_screen.select_step("balloon_inflation", "T12", "left")
    window.case_screen.editor.plan_button.click()
    choice = window.findChild(QAbstractButton, "plan_choice.converted_to_vertebroplasty")
    choice.setChecked(True)
    window.findChild(QLineEdit, "plan_reason").setText("Balloon did not hold pressure")
    return window


def scene_leak_alarm(scene: Scene):
    """An epidural leak: the high-priority banner naming what to do."""
    case_id = scene.start(procedure="vertebroplasty")
    scene.drive(case_id, "cement_injection")
    scene.mix(case_id)
    batch = scene.service.state(case_id).facts.batches[-1]
    scene.clock.set(working_window(scene.service.state(case_id), batch)[0])
    values = {**VALUES["cement_injection"], "batch": batch.seq, "leak": ["epidural"], "stop_reason": "leak"}
    scene.record(case_id, "cement_injection", values, "L2", "right")
    return build_window(scene.service, scene.settings, sound_player=Silent())


def scene_help(scene: Scene):
    window = build_window(scene.service, scene.settings, sound_player=Silent())
    window.show_help()
    return window


SCENES: dict[str, Callable[[Scene], object]] = {
    "start": scene_start,
    "new-case": scene_new_case,
    "checklist": scene_checklist,
    "hardening-lock": scene_hardening_lock,
    "hard-stop": scene_hard_stop,
    "alarm": scene_alarm,
    "correction": scene_correction,
    "sign-off": scene_signoff,
    "batch-scanned": scene_batch_scanned,
    "sign-off-signed": scene_signed,
    "checklist-signed": scene_checklist_signed,
    "start-after-case": scene_start_after_case,
    "plan-change": scene_plan_change,
    "leak-alarm": scene_leak_alarm,
    "help": scene_help,
}


def settle(app: QApplication) -> None:
    for _ in range(10):
        app.processEvents()


def render(out: Path, width: int, height: int, only: list[str]) -> list[Path]:
    app = QApplication.instance() or QApplication([])
    written = []
    for scene_name, build in SCENES.items():
        if only and scene_name not in only:
            continue
        for theme in ("light", "dark"):
            with tempfile.TemporaryDirectory() as tmp:
                scene = Scene(Path(tmp))
                window = build(scene)
                if window is None:
                    print(f"skipped {scene_name}: its panel is not installed")
                    scene.service.close()
                    break
                window.set_theme(theme)
                window.resize(width, height)
                window.show()
                settle(app)
                if window._case_open():
                    window.case_screen.tick()
                settle(app)
                path = out / f"{scene_name}-{theme}.png"
                window.grab().save(str(path))
                written.append(path)
                window.close()
                window.deleteLater()
                settle(app)
                scene.service.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "docs" / "screenshots")
    parser.add_argument("--size", default="1280x800", help="WIDTHxHEIGHT (default 1280x800)")
    parser.add_argument("scenes", nargs="*", help=f"only these scenes ({', '.join(SCENES)})")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    for path in render(args.out, width, height, args.scenes):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
