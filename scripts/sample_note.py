"""Render the two sample notes in docs/: a 3-level kyphoplasty and a vertebroplasty with a non-Latin name.

    python scripts/sample_note.py [--out docs] [--pages]

Each case is recorded through the real service (the same calls the window makes) in a temporary
database, with a fake clock, so the notes are the same on every run:

- docs/sample-note.pdf: balloon kyphoplasty T11, T12 and L1 (osteoporotic), a bone biopsy at T12,
  different approaches on the two sides of T12 ("bilateral"), a cement volume corrected, an
  asymptomatic venous leak, cannulas removed before the end of the hardening countdown (a hard stop
  overridden with its reason), a nurse handover and a late entry; biplane fluoroscopy;
- docs/sample-note-vertebroplasty.pdf: vertebroplasty T12 and L2 for myeloma under CT guidance, the
  patient's name in Arabic (shaped, right to left), L2 abandoned after the cannula would not pass.

docs/sample-note.png is the first page of the kyphoplasty note (60 dpi); with --pages every page of
both notes is also written as PNG next to them (for reading them as a surgeon would), not committed.
The page count of each document is printed: the operative report of a 3-level case fits 2 pages.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from checklist_app.demo import TYPICAL_VALUES  # noqa: E402
from checklist_app.domain.advisories import unacknowledged  # noqa: E402
from checklist_app.domain.alarms import alarms  # noqa: E402
from checklist_app.domain.choices import preselected  # noqa: E402
from checklist_app.domain.clock import FakeClock  # noqa: E402
from checklist_app.domain.settings import Settings  # noqa: E402
from checklist_app.domain.timers import working_window  # noqa: E402
from checklist_app.note import DOCUMENT_TITLES, DOCUMENTS, render_note  # noqa: E402
from checklist_app.service import ChecklistService  # noqa: E402
from checklist_app.store import open_store  # noqa: E402

FACILITY = "Example General Hospital, Interventional Spine Suite"
START = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
CEMENT = {"lot": "CM24117", "expiry": "2027-09-30", "room_temperature": 21.0}
KIT = {"lot": "BK80312", "expiry": "2028-01-31", "serial": "SN-0042"}
Handler = Callable[[], object]


class Recorder:
    """Records a case step by step through the service, as a nurse would, a minute or two apart."""

    def __init__(self, service: ChecklistService, clock: FakeClock, case_id: str) -> None:
        self.service, self.clock, self.case_id = service, clock, case_id

    @property
    def state(self):
        return self.service.state(self.case_id)

    def record(self, step: str, level=None, side=None, values=None, **extra):
        values = TYPICAL_VALUES.get(step) if values is None else values
        state = self.service.record_step(
            case_id=self.case_id, step=step, level=level, side=side, values=values, **extra
        )
        self.acknowledge()
        return state

    def acknowledge(self) -> None:
        """The nurse acknowledges every warning and alarm on screen (each one is logged)."""
        for warning in unacknowledged(self.state):
            self.service.acknowledge_warning(case_id=self.case_id, warning_id=warning.id)
        for alarm in alarms(self.state, self.clock.now()):
            self.service.acknowledge_alarm(case_id=self.case_id, alarm_id=alarm.id)

    def mix(self, product: str, **values) -> int:
        cement = self.service.catalogue.cement(product)
        self.record("cement_mix", values={"product": product, "gtin": cement.gtin, **CEMENT, **values})
        batch = self.state.facts.batches[-1]
        window = working_window(self.state, batch)
        assert window is not None
        self.clock.set(max(self.clock.now(), window[0]))  # wait for dough time
        return batch.seq

    def walk(self, special: dict[tuple, Handler], minutes: float = 1.5) -> None:
        """Record every pending step with typical values; `special` handlers replace some."""
        while (current := self.state.current) is not None:
            self.clock.advance(minutes=minutes)
            self.acknowledge()
            handler = special.pop(current.key, None)
            if handler is not None:
                handler()
            else:
                self.default()

    def default(self, **values) -> None:
        state = self.state
        current = state.current
        assert current is not None
        step = current.spec.id
        if step == "cement_injection" and preselected(state, current.spec.field("batch"), self.clock.now()) is None:
            self.mix("example_pmma_hv_a")
        if step == "hardening_wait":
            end = state.facts.hardening_end(current.level or "")
            if end is not None and end > self.clock.now():
                self.clock.set(end)
        self.record(step, current.level, current.side, {**(TYPICAL_VALUES.get(step) or {}), **values} or None)

    def sign(self, findings: dict) -> None:
        setup = self.state.setup
        assert setup is not None
        listed = {(p["name"], p["role"]) for p in self.service.staff()}
        for name, role in ((self.state.current_nurse, "nurse"), (setup.team.operator, "operator")):
            if (name, role) not in listed:  # signers come from the staff directory only (SPEC §6)
                self.service.add_staff(name=name, role=role)
        self.clock.advance(minutes=6)
        self.acknowledge()
        self.service.sign(case_id=self.case_id, name=self.state.current_nurse, role="nurse")
        self.clock.advance(minutes=22)
        self.service.record_findings(case_id=self.case_id, **findings)
        setup = self.state.setup
        assert setup is not None
        codes = self.service.suggested_codes(self.case_id)
        self.service.sign(case_id=self.case_id, name=setup.team.operator, role="operator", codes=codes)


def prechecks(clock: FakeClock, inr: float, platelets: float) -> dict:
    drawn = (clock.now() - timedelta(hours=14, minutes=20)).isoformat()
    return {**TYPICAL_VALUES["prechecks"], "inr": inr, "platelets": platelets, "labs_drawn": drawn}


def kyphoplasty(service: ChecklistService, clock: FakeClock) -> str:
    """Three levels with a biopsy, a correction, an override, a leak, a handover and a late entry."""
    clock.set(START)
    team = {
        "operator": "Dr Ada Demo",
        "nurse": "Nurse Dana Demo",
        "anaesthesia": "Dr Gita Demo",
        "assistants": ["Dr Ivo Resident-Demo"],
    }
    case = service.start_case(
        patient={
            "name": "Alba Example-Sample",
            "mrn": "DEMO004711",
            "date_of_birth": "1944-05-17",
            "sex": "female",
            "weight_kg": 58.0,
        },
        procedure="kyphoplasty",
        levels=[
            {"level": "T11", "sides": ["left", "right"]},
            {"level": "T12", "sides": ["left", "right"]},
            {"level": "L1", "sides": ["left", "right"]},
        ],
        indication="osteoporotic",
        indication_detail="Fall 3 weeks ago; pain despite oral analgesia",
        coverage={
            "pain_score": 8,
            "neuro_exam": "normal",
            "imaging": "mri_stir",
            "height_loss_pct": 35.0,
            "conservative_care": "failed",
        },
        team=team,
    )
    nurse = Recorder(service, clock, case.case_id)
    nurse.acknowledge()
    kit_seq: list[int] = []

    def open_kit() -> None:
        balloon = service.catalogue.balloons[1]
        nurse.record("balloon_kit", values={"product": balloon.id, "gtin": balloon.gtin, **KIT})
        kit_seq.append(nurse.state.facts.kits[-1].seq)

    def inflate(level: str, side: str, pressure, volume: float) -> Handler:
        def handler() -> None:
            if not kit_seq:
                open_kit()
            values = {"kit": kit_seq[0], "pressure": pressure, "volume": volume, "end_point": "height_restored"}
            nurse.record("balloon_inflation", level, side, values)

        return handler

    def inject(level: str, side: str, volume: float, **extra) -> Handler:
        def handler() -> None:
            values = {**TYPICAL_VALUES["cement_injection"], "volume": volume, **extra}
            nurse.default(**values)

        return handler

    def corrected(level: str, side: str, typed: float, right: float) -> Handler:
        def handler() -> None:
            inject(level, side, typed)()
            entry = nurse.state.instance("cement_injection", level, side).entry
            clock.advance(minutes=1)
            service.correct(
                case_id=case.case_id,
                seq=entry.seq,
                values={**entry.values, "volume": right},
                reason="Volume misread on the syringe",
            )

        return handler

    def cannula(level: str, side: str, approach: str = "transpedicular", gauge: int = 11, **extra) -> Handler:
        values = {"approach": approach, "gauge": gauge, "tip_ap": True, "tip_lateral": True}
        return lambda: nurse.record("cannula_placement", level, side, values, **extra)

    def late_cannula() -> None:
        clock.advance(minutes=14)  # ticked when the nurse was free again, 12 minutes after the fact
        when = clock.now() - timedelta(minutes=12)
        cannula("L1", "left", clinical_time=when, late_reason="catch_up")()

    def early_removal() -> None:
        reason = "Cement sample on the table hard; operator decision"
        nurse.record("cannula_removal", "T11", None, {"haemostasis": True}, override_reason=reason)

    def handover() -> None:
        service.change_staff(case_id=case.case_id, role="nurse", name="Nurse Eli Example", reason="Break relief")
        nurse.default()

    special: dict[tuple, Handler] = {
        ("prechecks", None, None): lambda: nurse.record("prechecks", values=prechecks(clock, 1.1, 231.0)),
        ("imaging_setup", None, None): lambda: nurse.record("imaging_setup", values={"modality": "biplane"}),
        ("skin_prep", None, None): lambda: nurse.record("skin_prep", values={"agent": "chlorhexidine_alcohol"}),
        ("time_out", None, None): lambda: (
            clock.advance(minutes=3),
            nurse.default(team=list(nurse.state.facts.team())),
        ),
        ("local_anesthetic", "T11", None): lambda: nurse.default(volume=6.0),
        ("local_anesthetic", "T12", None): lambda: nurse.default(volume=5.0),
        ("local_anesthetic", "L1", None): lambda: nurse.default(volume=5.0),
        ("cannula_placement", "T12", "right"): cannula("T12", "right", "extrapedicular", 10),
        ("cannula_placement", "L1", "left"): late_cannula,
        ("biopsy", "T12", None): lambda: nurse.record(
            "biopsy",
            "T12",
            values={"taken": True, "side": "left", "container": "formalin_10", "label_read_back": True, "sent": True},
        ),
        ("balloon_inflation", "T11", "left"): inflate("T11", "left", 180.0, 2.6),
        ("balloon_inflation", "T11", "right"): inflate("T11", "right", (13, "atm"), 2.4),
        ("balloon_inflation", "T12", "left"): inflate("T12", "left", 210.0, 3.1),
        ("balloon_inflation", "T12", "right"): inflate("T12", "right", 200.0, 2.9),
        ("balloon_inflation", "L1", "left"): inflate("L1", "left", 230.0, 3.4),
        ("balloon_inflation", "L1", "right"): inflate("L1", "right", 220.0, 3.2),
        ("cement_injection", "T11", "left"): inject("T11", "left", 2.8),
        ("cement_injection", "T11", "right"): inject("T11", "right", 2.6),
        ("cement_injection", "T12", "left"): corrected("T12", "left", 3.0, 3.5),
        ("cement_injection", "T12", "right"): inject(
            "T12", "right", 3.0, stop_reason="leak", leak=["venous"], symptomatic=False
        ),
        ("cement_injection", "L1", "left"): inject("L1", "left", 3.6),
        ("cement_injection", "L1", "right"): inject("L1", "right", 3.4),
        ("hardening_wait", "T11", None): lambda: nurse.record("hardening_wait", "T11", None, {"sample_hard": True}),
        ("cannula_removal", "T11", None): early_removal,
        ("neuro_check", None, None): lambda: nurse.default(pain_score=2),
        ("closure", None, None): lambda: nurse.default(closure="adhesive_strips", dressing="adhesive"),
        ("radiation_dose", None, None): lambda: nurse.record(
            "radiation_dose",
            values={
                "fluoro_time": "6:24",
                "air_kerma": 212.0,
                "kap": 24.6,
                "air_kerma_lateral": 148.0,
                "kap_lateral": 17.9,
                "runs": 4,
            },
        ),
        ("sign_out", None, None): lambda: nurse.default(specimens="labelled_read_back"),
    }
    special[("incision", "L1", None)] = handover
    nurse.walk(special)
    nurse.sign(
        {
            "findings": (
                "Acute osteoporotic compression fractures of T11, T12 and L1 (MRI STIR oedema). Good cement "
                "interdigitation at all three levels; vertebral height partly restored at T12."
            ),
            "complications": "Small asymptomatic venous leak at T12 right, no intervention needed.",
            "ebl_ml": 10.0,
            "condition": "Stable",
            "disposition": "Recovery, then ward; mobilise with physiotherapy tomorrow",
        }
    )
    return case.case_id


def vertebroplasty(service: ChecklistService, clock: FakeClock) -> str:
    """Two levels planned for myeloma, CT-guided; L2 abandoned; the patient's name in Arabic."""
    clock.set(START + timedelta(hours=4))
    case = service.start_case(
        patient={
            "name": "مريم تجربة",
            "mrn": "DEMO004712",
            "date_of_birth": "1957-11-03",
            "sex": "female",
            "weight_kg": 64.0,
        },
        procedure="vertebroplasty",
        levels=[{"level": "T12", "sides": ["left", "right"]}, {"level": "L2", "sides": ["right"]}],
        indication="myeloma",
        myeloma_remission="not_in_remission",
        coverage={"pain_score": 7, "neuro_exam": "normal", "imaging": "mri_stir", "height_loss_pct": 20.0},
        team={"operator": "Dr Ben Example", "nurse": "Nurse Femi Sample", "anaesthesia": "Dr Hugo Sedation-Example"},
    )
    nurse = Recorder(service, clock, case.case_id)
    nurse.acknowledge()

    def abandon() -> None:
        nurse.record(
            "level_outcome",
            "L2",
            values={"outcome": "abandoned", "reason": "Pedicle too sclerotic for the cannula; no safe trajectory"},
        )

    def cannula(level: str, side: str, gauge: int) -> Handler:
        values = {"approach": "transpedicular", "gauge": gauge, "tip_ap": True, "tip_lateral": True}
        return lambda: nurse.record("cannula_placement", level, side, values)

    special: dict[tuple, Handler] = {
        ("prechecks", None, None): lambda: nurse.record("prechecks", values=prechecks(clock, 1.0, 142.0)),
        ("imaging_setup", None, None): lambda: nurse.record("imaging_setup", values={"modality": "ct_guided"}),
        ("anesthesia_start", None, None): lambda: nurse.default(type="mac"),
        ("antibiotic", None, None): lambda: nurse.record(
            "antibiotic", values={"given": True, "drug": "cefazolin", "dose": (2, "g")}
        ),
        ("time_out", None, None): lambda: nurse.default(team=list(nurse.state.facts.team())),
        ("cannula_placement", "T12", "left"): cannula("T12", "left", 13),
        ("cannula_placement", "T12", "right"): cannula("T12", "right", 13),
        ("biopsy", "T12", None): lambda: nurse.record(
            "biopsy",
            "T12",
            values={"taken": True, "side": "right", "container": "formalin_10", "label_read_back": True, "sent": True},
        ),
        ("cement_injection", "T12", "left"): lambda: nurse.default(volume=2.5),
        ("cement_injection", "T12", "right"): lambda: nurse.default(volume=2.0),
        ("cannula_placement", "L2", "right"): abandon,
        ("neuro_check", None, None): lambda: nurse.default(pain_score=3),
        ("radiation_dose", None, None): lambda: nurse.record("radiation_dose", values={"ctdi_vol": 18.4, "dlp": 412.0}),
        ("sign_out", None, None): lambda: nurse.default(specimens="labelled_read_back"),
    }
    nurse.walk(special)
    nurse.sign(
        {
            "findings": "Lytic T12 body with intact posterior wall; good fill. L2 not treated (see change of plan).",
            "complications": "none",
            "ebl_ml": 0.0,
            "condition": "Stable",
            "disposition": "Recovery, then haematology ward",
        }
    )
    return case.case_id


SAMPLES = {"sample-note": kyphoplasty, "sample-note-vertebroplasty": vertebroplasty}


def render_samples(out: Path) -> dict[str, Path]:
    """Record both sample cases in a temporary database and write their notes to `out`."""
    written = {}
    with tempfile.TemporaryDirectory() as folder:
        clock = FakeClock(START)
        service = ChecklistService(
            open_store(Path(folder) / "sample.sqlite3"), clock=clock, settings=Settings(facility_name=FACILITY)
        )
        try:
            for name, build in SAMPLES.items():
                state = service.state(build(service, clock))
                print(f"{name}: {state.case_id} {' '.join(state.setup.level_names)}", file=sys.stderr)  # type: ignore[union-attr]
                for key in DOCUMENTS:
                    pages = render_note(state, (key,)).count(b"/Type /Page\n")
                    print(f"  {DOCUMENT_TITLES[key]}: {pages} page{'s' if pages != 1 else ''}", file=sys.stderr)
                path = out / f"{name}.pdf"
                path.write_bytes(render_note(state))
                written[name] = path
        finally:
            service.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    parser.add_argument("--pages", action="store_true", help="also write every page as PNG (60 dpi)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    written = render_samples(args.out)
    if shutil.which("pdftoppm") is None:
        print("pdftoppm (poppler-utils) not found: PNG not written", file=sys.stderr)
        return 1
    first_page = ["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile"]
    subprocess.run(["pdftoppm", *first_page, str(written["sample-note"]), str(args.out / "sample-note")], check=True)
    if args.pages:
        for name, pdf in written.items():
            subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(args.out / f"{name}-page")], check=True)
    print(f"wrote {', '.join(str(p) for p in written.values())} and {args.out / 'sample-note.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
