"""Simulated cases for training, demonstrations and load, run through the real service layer."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from .domain.advisories import unacknowledged
from .domain.alarms import alarms
from .domain.clock import FakeClock
from .domain.state import CaseState
from .domain.timers import hardening_end, working_window
from .service import ChecklistService

# Obviously synthetic names in several scripts ("test", "sample", "example" in each language).
PATIENTS = (
    ("Alba Example", "female"),
    ("O'Brien Sample-Testperson", "male"),
    ("Zoë Đặng Mẫu", "female"),
    ("Nguyễn Thị Mẫu", "female"),
    ("Δοκιμή Παπαδοπούλου", "female"),
    ("Тест Иванович Примеров", "male"),
    ("Жанна Ωmega Test", "female"),
    ("山田 テスト", "male"),
    ("Müller Beispiel", "male"),
    ("Ærøskøbing Prøve", "other"),
)
OPERATORS = ("Dr Ada Demo", "Dr Ben Example", "Dr Chidi Sample")
NURSES = ("Nurse Dana Demo", "Nurse Eli Example", "Nurse Femi Sample")
ANAESTHETISTS = ("Dr Gita Anaesthesia-Demo", "Dr Hugo Sedation-Example")
LEVEL_POOL = ("T7", "T8", "T9", "T10", "T11", "T12", "L1", "L2", "L3", "L4")

# Coverage evidence as a payer asks for it (SPEC §5), complete: without it the set-up raises a
# warning to acknowledge. The screenshots and the tests start from it.
TYPICAL_COVERAGE: dict[str, object] = {
    "pain_score": 8,
    "neuro_exam": "normal",
    "imaging": "mri_stir",
    "height_loss_pct": 30.0,
    "conservative_care": "failed",
}

# Valid values for every step, as a nurse typically enters them: the demo, the screenshots
# and the tests all start from these (one source, so a template change is made once).
TYPICAL_VALUES: dict[str, dict] = {
    "identity_consent": {k: True for k in ("identity", "procedure", "levels", "sides", "consent")},
    "prechecks": {
        "allergies": ["none"],
        "anticoagulant": False,
        "pregnancy": "not_applicable",
        "infection": "none",
        "imaging_displayed": True,
    },
    "sign_in": {
        "site_marked": True,
        "anaesthesia_check": True,
        "pulse_oximeter": True,
        "known_allergy": False,
        "airway_risk": False,
        "bleeding_risk": False,
    },
    "anesthesia_start": {"type": "local_sedation"},
    "antibiotic": {"given": True, "drug": "cefazolin", "dose": 2000},
    "prone_positioning": {"prone": True, "arms": "above_head", "pressure_points": True, "eyes_face": True},
    "imaging_setup": {"modality": "biplane"},
    "level_localization": {"ap_confirmed": True, "lateral_confirmed": True},
    "skin_prep": {"agent": "chlorhexidine_aqueous"},
    "time_out": {
        "team": ["Dr Ada Demo", "Nurse Dana Demo"],
        **{
            k: True
            for k in (
                "patient",
                "procedure",
                "levels_sides_imaging",
                "position",
                "antibiotic_timing",
                "critical_events",
                "imaging_displayed",
                "implants_available",
            )
        },
    },
    "local_anesthetic": {"drug": "lidocaine", "concentration": 1.0, "volume": 8.0},
    "cannula_placement": {"approach": "transpedicular", "gauge": 11, "tip_ap": True, "tip_lateral": True},
    "biopsy": {"taken": False},
    "balloon_inflation": {
        "pressure": 220.0,
        "volume": 3.0,
        "end_point": "height_restored",
    },
    "balloon_removal": {"intact": True},
    "cement_injection": {"volume": 3.0, "stop_reason": "adequate_fill", "leak": ["none"], "symptomatic": False},
    "hardening_wait": {"sample_hard": True},
    "cannula_removal": {"haemostasis": True},
    "neuro_check": {"legs_as_before": True, "pain_score": 2},
    "closure": {"closure": "adhesive_strips", "dressing": "adhesive"},
    "radiation_dose": {
        "fluoro_time": 4.2,
        "air_kerma": 150.0,
        "kap": 18.0,
        "air_kerma_lateral": 60.0,
        "kap_lateral": 7.0,
        "runs": 3,
    },
    "sign_out": {
        "procedure_recorded": True,
        "counts_correct": True,
        "specimens": "no_specimen",
        "equipment_problems": False,
    },
}


@dataclass
class DemoResult:
    """One simulated case, as reported on the demo's output line."""

    case_id: str
    patient: str
    procedure: str
    levels: str
    events: int
    status: str


class CaseSimulator:
    """Drives one realistic case through the service, advancing a fake clock between steps."""

    def __init__(self, service: ChecklistService, clock: FakeClock, rng: random.Random) -> None:
        self.service, self.clock, self.rng = service, clock, rng
        self.case_id = ""

    def wait(self, low: float, high: float) -> None:
        self.clock.advance(minutes=self.rng.uniform(low, high))

    @property
    def state(self) -> CaseState:
        return self.service.state(self.case_id)

    def run(self, procedure: str, index: int) -> DemoResult:
        rng = self.rng
        name, sex = PATIENTS[index % len(PATIENTS)]
        count = rng.choices((1, 2, 3), weights=(6, 3, 1))[0]
        start = rng.randrange(0, len(LEVEL_POOL) - count + 1)
        levels = [
            {"level": lv, "sides": ["left", "right"] if rng.random() < 0.7 else [rng.choice(["left", "right"])]}
            for lv in LEVEL_POOL[start : start + count]
        ]
        indication = rng.choice(("osteoporotic", "osteoporotic", "osteoporotic", "myeloma", "metastatic"))
        state = self.service.start_case(
            patient={
                "name": name,
                "mrn": f"DEMO{index:06d}",
                "date_of_birth": f"19{rng.randint(30, 70)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                "sex": sex,
                "weight_kg": float(rng.randint(48, 92)),
            },
            procedure=procedure,
            levels=levels,
            indication=indication,
            myeloma_remission="not_in_remission" if indication == "myeloma" else "",
            primary_neoplasm="C50.911" if indication == "metastatic" else "",
            coverage={
                "pain_score": rng.randint(6, 9),
                "neuro_exam": "normal",
                "imaging": rng.choice(("mri_stir", "mri_stir", "bone_scan")),
                "height_loss_pct": float(rng.randint(15, 45)),
                "conservative_care": "failed" if indication == "osteoporotic" else "not_applicable",
            },
            training=True,
            team={
                "operator": rng.choice(OPERATORS),
                "nurse": rng.choice(NURSES),
                "anaesthesia": rng.choice(ANAESTHETISTS),
                "assistants": ["Resident Ivo Demo"] if rng.random() < 0.4 else [],
            },
        )
        self.case_id = state.case_id
        self._acknowledge_warnings()
        self._run_steps()
        self._sign()
        final = self.state
        assert final.setup is not None
        return DemoResult(
            final.case_id, name, procedure, " ".join(final.setup.level_names), len(final.events), final.facts.status
        )

    def _run_steps(self) -> None:
        while (current := self.state.current) is not None:
            self._handle_alarms()
            step = current.spec.id
            record = STEP_ACTIONS.get(step)
            if record is None:
                raise RuntimeError(f"the demo does not know step {step!r}")
            record(self, current.level, current.side)
            self._acknowledge_warnings()

    def record(self, step: str, level=None, side=None, values=None, **extra) -> CaseState:
        return self.service.record_step(case_id=self.case_id, step=step, level=level, side=side, values=values, **extra)

    def _handle_alarms(self) -> None:
        for alarm in alarms(self.state, self.clock.now()):
            self.service.acknowledge_alarm(case_id=self.case_id, alarm_id=alarm.id)

    def _acknowledge_warnings(self) -> None:
        for warning in unacknowledged(self.state):
            self.service.acknowledge_warning(case_id=self.case_id, warning_id=warning.id)

    def _sign(self) -> None:
        state = self.state
        assert state.setup is not None
        self.wait(2, 10)
        self.service.sign(case_id=self.case_id, name=state.current_nurse, role="nurse")
        self.wait(5, 40)
        leaks = [i for i in state.facts.injections if i.leaks]
        self.service.record_findings(
            case_id=self.case_id,
            findings="Satisfactory cement fill at every treated level on final AP and lateral images.",
            complications="Asymptomatic cement leak, no intervention needed." if leaks else "none",
            ebl_ml=float(self.rng.choice((0, 5, 5, 10))),
            condition="Stable",
            disposition=self.rng.choice(("Recovery, then home the same day", "Recovery, then ward")),
        )
        codes = self.service.suggested_codes(self.case_id)
        self.service.sign(case_id=self.case_id, name=state.setup.team.operator, role="operator", codes=codes)


# -- one recorder per step id -------------------------------------------------------------------
def _simple(step: str, values: Callable[[CaseSimulator], dict] | None = None, wait=(0.5, 2.0)):
    def action(sim: CaseSimulator, level, side) -> None:
        sim.wait(*wait)
        sim.record(step, level, side, values(sim) if values else None)

    return action


def _antibiotic(sim: CaseSimulator, level, side) -> None:
    sim.wait(1, 4)
    if sim.rng.random() < 0.1:
        sim.record("antibiotic", values={"given": False, "not_given_reason": "Allergy history; operator decision"})
    else:
        sim.record(
            "antibiotic", values={"given": True, "drug": "cefazolin", "dose": 2000 if sim.rng.random() < 0.8 else "2 g"}
        )


def _time_out(sim: CaseSimulator, level, side) -> None:
    sim.wait(3, 4)  # alcohol prep needs its dry time
    state = sim.state
    assert state.setup is not None
    team = [state.setup.team.operator, state.current_nurse, state.setup.team.anaesthesia, *state.setup.team.assistants]
    values = {k: True for k in ("patient", "procedure", "levels_sides_imaging", "position", "antibiotic_timing")}
    values |= {k: True for k in ("critical_events", "imaging_displayed", "implants_available")}
    values["team"] = [p for p in team if p]
    sim.record("time_out", values=values)


def _cannula(sim: CaseSimulator, level, side) -> None:
    sim.wait(2, 6)
    kypho = sim.state.template.procedure == "kyphoplasty"
    values = {
        "approach": sim.rng.choice(("transpedicular", "transpedicular", "extrapedicular")),
        "gauge": sim.rng.choice((10, 11, 11) if kypho else (11, 13, 13, 15)),
        "tip_ap": True,
        "tip_lateral": True,
    }
    if sim.rng.random() < 0.08:  # ticked late: it happened several minutes ago
        when = sim.clock.now() - timedelta(minutes=sim.rng.uniform(6, 12))
        sim.record("cannula_placement", level, side, values, clinical_time=when, late_reason="catch_up")
    else:
        sim.record("cannula_placement", level, side, values)


def _biopsy(sim: CaseSimulator, level, side) -> None:
    sim.wait(0.5, 2)
    if sim.rng.random() < 0.3:
        sides = sim.state.setup.sides_of(level) if sim.state.setup else ("left",)
        values = {"taken": True, "side": sides[0], "container": "formalin_10", "label_read_back": True, "sent": True}
    else:
        values = {"taken": False}
    sim.record("biopsy", level, None, values)


def _balloon_inflation(sim: CaseSimulator, level, side) -> None:
    if not sim.state.facts.kits:
        kit = sim.service.catalogue.balloons[1 % len(sim.service.catalogue.balloons)]
        sim.record(
            "balloon_kit",
            values={
                "product": kit.id,
                "lot": f"BK{sim.rng.randint(10000, 99999)}",
                "expiry": _expiry(sim),
                "gtin": kit.gtin,
            },
        )
    sim.wait(2, 5)
    kit = sim.state.facts.kits[-1]
    pressure = sim.rng.choice((float(sim.rng.randint(120, 260)), f"{sim.rng.randint(9, 17)} atm"))
    values = {
        "kit": kit.seq,
        "pressure": pressure,
        "volume": round(sim.rng.uniform(2.0, 3.5), 1),
        "end_point": sim.rng.choice(("height_restored", "cortical_contact")),
    }
    sim.record("balloon_inflation", level, side, values)


def _cement_injection(sim: CaseSimulator, level, side) -> None:
    state = sim.state
    batch = state.facts.batches[-1] if state.facts.batches else None
    window = None
    if batch is not None:
        window = working_window(state, batch)
    if window is None or sim.clock.now() > window[1] - timedelta(minutes=1):
        product = sim.rng.choice(sim.service.catalogue.cements)
        sim.record(
            "cement_mix",
            values={
                "product": product.id,
                "lot": f"CM{sim.rng.randint(10000, 99999)}",
                "expiry": _expiry(sim),
                "gtin": product.gtin,
                "room_temperature": 21.0,
            },
        )
        batch = sim.state.facts.batches[-1]
        window = working_window(sim.state, batch)
        assert window is not None
    sim.clock.set(max(sim.clock.now(), window[0]))  # wait for dough time (also for a batch mixed just before)
    sim.wait(0.5, 1.5)
    volume = round(sim.rng.uniform(1.5, 4.5), 1)
    leak = "none" if sim.rng.random() < 0.85 else sim.rng.choice(("venous", "paravertebral", "intradiscal"))
    values = {
        "batch": batch.seq,
        "volume": volume,
        "stop_reason": "leak" if leak != "none" else "adequate_fill",
        "leak": [leak],
        "symptomatic": False,
    }
    state = sim.record("cement_injection", level, side, values)
    if sim.rng.random() < 0.05:  # a typo noticed straight away and corrected
        entry = state.instance("cement_injection", level, side).entry
        assert entry is not None
        sim.wait(0.2, 1)
        sim.service.correct(
            case_id=sim.case_id,
            seq=entry.seq,
            values={**entry.values, "volume": round(volume + 0.5, 1)},
            reason="Volume misread on the syringe",
        )


def _hardening(sim: CaseSimulator, level, side) -> None:
    end = hardening_end(sim.state, level)
    early = sim.rng.random() < 0.05  # now and then the operator judges the sample hard early
    if end is not None and end > sim.clock.now() and not early:
        sim.clock.set(end)
    sim.wait(0.2, 1)
    sim.record("hardening_wait", level, None, {"sample_hard": True})


def _cannula_removal(sim: CaseSimulator, level, side) -> None:
    sim.wait(0.2, 1)
    gates = sim.service.blocking_gates(case_id=sim.case_id, step="cannula_removal", level=level)
    reason = "Cement sample on the table hard; operator decision" if gates else None
    sim.record("cannula_removal", level, None, {"haemostasis": True}, override_reason=reason)


def _dose(sim: CaseSimulator) -> dict:
    """What the modality's display shows: per plane when biplane."""
    rng = sim.rng
    values = {
        "fluoro_time": f"{rng.randint(2, 9)}:{rng.randint(0, 59):02d}",
        "air_kerma": float(rng.randint(80, 600)),
        "kap": round(rng.uniform(8, 60), 1),
        "runs": rng.randint(1, 6),
    }
    modality = sim.state.instance("imaging_setup").entry
    if modality is not None and modality.values.get("modality") == "biplane":
        values |= {"air_kerma_lateral": float(rng.randint(40, 300)), "kap_lateral": round(rng.uniform(4, 30), 1)}
    return values


def _specimens(sim: CaseSimulator) -> str:
    taken = any(i.entry and i.entry.values.get("taken") for i in sim.state.instances_of("biopsy"))
    return "labelled_read_back" if taken else "no_specimen"


def _expiry(sim: CaseSimulator) -> str:
    return (sim.clock.now().date() + timedelta(days=sim.rng.randint(60, 700))).isoformat()


STEP_ACTIONS: dict[str, Callable[[CaseSimulator, str | None, str | None], None]] = {
    "patient_in_room": _simple("patient_in_room"),
    "identity_consent": _simple(
        "identity_consent", lambda s: {k: True for k in ("identity", "procedure", "levels", "sides", "consent")}
    ),
    "prechecks": _simple(
        "prechecks",
        lambda s: {
            "allergies": ["none"],
            "anticoagulant": False,
            "inr": round(s.rng.uniform(0.9, 1.3), 1),
            "platelets": float(s.rng.randint(150, 350)),
            "labs_drawn": (s.clock.now() - timedelta(hours=s.rng.uniform(2, 20))).isoformat(),
            "pregnancy": "not_applicable",
            "infection": "none",
            "imaging_displayed": True,
        },
    ),
    "sign_in": _simple(
        "sign_in",
        lambda s: {
            "site_marked": True,
            "anaesthesia_check": True,
            "pulse_oximeter": True,
            "known_allergy": False,
            "airway_risk": False,
            "bleeding_risk": False,
        },
    ),
    "anesthesia_start": _simple(
        "anesthesia_start",
        lambda s: {"type": s.rng.choice(("local_sedation", "local_sedation", "mac", "general"))},
        (2, 6),
    ),
    "antibiotic": _antibiotic,
    "prone_positioning": _simple(
        "prone_positioning",
        lambda s: {"prone": True, "arms": "above_head", "pressure_points": True, "eyes_face": True},
        (3, 6),
    ),
    "imaging_setup": _simple("imaging_setup", lambda s: {"modality": s.rng.choice(("single_c_arm", "biplane"))}),
    "level_localization": _simple("level_localization", lambda s: {"ap_confirmed": True, "lateral_confirmed": True}),
    "skin_prep": _simple("skin_prep", lambda s: {"agent": "chlorhexidine_alcohol"}),
    "time_out": _time_out,
    "local_anesthetic": _simple(
        "local_anesthetic",
        lambda s: {"drug": "lidocaine", "concentration": 1.0, "volume": float(s.rng.choice((5, 8, 8, 10)))},
    ),
    "incision": _simple("incision"),
    "cannula_placement": _cannula,
    "biopsy": _biopsy,
    "balloon_inflation": _balloon_inflation,
    "balloon_removal": _simple("balloon_removal", lambda s: {"intact": True}),
    "cement_injection": _cement_injection,
    "hardening_wait": _hardening,
    "cannula_removal": _cannula_removal,
    "neuro_check": _simple("neuro_check", lambda s: {"legs_as_before": True, "pain_score": s.rng.randint(0, 4)}),
    "closure": _simple(
        "closure", lambda s: {"closure": s.rng.choice(("adhesive_strips", "suture")), "dressing": "adhesive"}
    ),
    "procedure_finish": _simple("procedure_finish"),
    "radiation_dose": _simple("radiation_dose", lambda s: _dose(s)),
    "sign_out": _simple(
        "sign_out",
        lambda s: {
            "procedure_recorded": True,
            "counts_correct": True,
            "specimens": _specimens(s),
            "equipment_problems": False,
        },
    ),
    "anesthesia_finish": _simple("anesthesia_finish", wait=(3, 8)),
    "patient_out_of_room": _simple("patient_out_of_room", wait=(2, 6)),
}


def enrol_demo_staff(service: ChecklistService) -> None:
    """The demo's operators and nurses in the staff directory (signers come from it only), once."""
    listed = {(p["name"], p["role"]) for p in service.store.staff.list_staff(active_only=False)}
    for role, names in (("operator", OPERATORS), ("nurse", NURSES)):
        for name in names:
            if (name, role) not in listed:
                service.add_staff(name=name, role=role)


def simulate(
    service: ChecklistService, clock: FakeClock, *, cases: int, procedure: str = "mixed", seed: int | None = None
) -> Iterator[DemoResult]:
    """Yield each simulated case as soon as it is committed (4 a day, on consecutive past days)."""
    rng = random.Random(seed)
    enrol_demo_staff(service)
    for index in range(cases):
        day = date.today() - timedelta(days=(cases - index) // 4 + 1)
        local_start = datetime.combine(day, time(7, 30)).astimezone()  # 07:30 local time that day
        clock.set(local_start.astimezone(UTC) + timedelta(hours=2.5 * (index % 4)))
        chosen = procedure if procedure != "mixed" else rng.choice(("kyphoplasty", "vertebroplasty"))
        yield CaseSimulator(service, clock, rng).run(chosen, index)
