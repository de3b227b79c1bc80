"""One typed projection of a case: every value a rule, a timer, the note or an outbound message reads.

The fold (state.py) keeps the log's structure: steps, their entries, corrections and retractions.
The facts say what the case *is*: the batches with their windows, the injections and inflations
with the batch or kit each used, the milestones, the labs and the dose, the signatures and the
status. They are computed once per snapshot (`state.facts`), so each value is read in one place
and every reader gets the same number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from . import events as ev
from .catalogue import Antibiotic, BalloonProduct, CementProduct, Drug
from .coding import Code, CptLine, LevelDone
from .events import Event
from .settings import Settings

if TYPE_CHECKING:
    from .state import CaseState, Entry, StepInstance

P = TypeVar("P")
DONE = "done"
# SPEC §3: leaks that reach the spinal canal or the lungs raise a high-priority alarm whether or not
# the patient has symptoms; any leak with symptoms does too.
DANGEROUS_LEAKS = frozenset({"epidural", "foraminal", "pulmonary"})
LEGACY_LEAKS = {"epidural_foraminal": ("epidural", "foraminal")}  # one choice before template 3
# Record changes after the nurse signed void her signature (SPEC §3): she signs again.
RECORD_CHANGES = frozenset({ev.STEP_DONE, ev.NOT_APPLICABLE, ev.CORRECTION, ev.RETRACTION, ev.GATE_OVERRIDE})
MILESTONES = ("PIR", "AS", "PST", "PF", "AF", "POR")
STATUS_LABELS = {
    "in_progress": "in progress",
    "complete": "ready to sign",
    "nurse_signed": "nurse signed",
    "signed": "signed",
    "amended": "amended",
}


@dataclass(frozen=True)
class Window:
    """A cement batch's times from its mix start: ready to inject, end of working time, set (hard)."""

    ready: datetime
    working_end: datetime
    set: datetime


@dataclass(frozen=True)
class Batch:
    """A cement batch as mixed: its product, lot and its working window (None if the product is unknown)."""

    seq: int
    product_id: str
    product: CementProduct | None
    lot: str
    expiry: str | None
    gtin: str | None
    t0: datetime
    room_temperature: float | None
    window: Window | None
    entry: Entry


@dataclass(frozen=True)
class Kit:
    """A balloon kit as opened."""

    seq: int
    product_id: str
    product: BalloonProduct | None
    lot: str
    expiry: str | None
    gtin: str | None
    serial: str | None
    opened: datetime
    entry: Entry


@dataclass(frozen=True)
class Injection:
    """One cement injection: where, when, how much, from which batch, why it stopped, any leak."""

    seq: int
    level: str
    side: str
    time: datetime
    volume_ml: float | None
    batch_seq: int | None
    stop_reason: str | None
    leaks: tuple[str, ...]
    symptomatic: bool

    @property
    def dangerous(self) -> bool:
        """SPEC §3: an epidural, foraminal or pulmonary leak, or any symptomatic leak -- and symptoms
        with no leak seen are treated the same (new pain, neurological or respiratory signs during
        injection: stop, tell the operator, check the legs)."""
        return bool(DANGEROUS_LEAKS & set(self.leaks)) or self.symptomatic

    @property
    def where(self) -> str:
        return f"{self.level} {self.side}".strip()


@dataclass(frozen=True)
class Inflation:
    """One balloon inflation: the kit it used (or, recorded before kits were named, its own product and lot)."""

    seq: int
    level: str
    side: str
    time: datetime
    kit_seq: int | None
    product_id: str
    lot: str
    pressure_psi: float | None
    volume_ml: float | None
    end_point: str | None


@dataclass(frozen=True)
class Lab:
    """A laboratory value (INR, platelets) with where it was recorded."""

    name: str
    value: float
    unit: str
    source: str  # "set-up" or the step that recorded it
    drawn_at: datetime | None = None


@dataclass(frozen=True)
class DoseReport:
    """The radiation dose read from the modality's display (frontal and lateral planes; CT)."""

    fluoro_min: float | None
    air_kerma_mgy: float | None
    kap_gycm2: float | None
    runs: int | None
    air_kerma_lateral_mgy: float | None = None
    kap_lateral_gycm2: float | None = None
    ctdi_vol_mgy: float | None = None
    dlp_mgycm: float | None = None

    @property
    def air_kerma_total_mgy(self) -> float | None:
        return _sum(self.air_kerma_mgy, self.air_kerma_lateral_mgy)

    @property
    def kap_total_gycm2(self) -> float | None:
        return _sum(self.kap_gycm2, self.kap_lateral_gycm2)

    def substantial(self, settings: Settings) -> list[str]:
        """What reaches the site's substantial-dose levels (SIR: Ka,r 5 Gy, KAP 500 Gy·cm², 60 min),
        both planes added; each as "what value ≥ level unit". Empty: below every level."""
        checks = (
            ("reference air kerma (Ka,r)", self.air_kerma_total_mgy, settings.dose_kar_mgy, "mGy"),
            ("kerma-area product (KAP)", self.kap_total_gycm2, settings.dose_kap_gycm2, "Gy·cm²"),
            ("fluoroscopy time", self.fluoro_min, settings.dose_fluoro_min, "min"),
            ("dose-length product (DLP)", self.dlp_mgycm, settings.dose_dlp_mgycm, "mGy·cm"),
        )
        return [
            f"{label} {value:g} ≥ {limit:g} {unit}"
            for label, value, limit, unit in checks
            if value is not None and limit > 0 and value >= limit
        ]


@dataclass(frozen=True)
class LocalAnaesthetic:
    """One level's local anaesthetic: the drug, its mg (strength % × 10 × mL)."""

    level: str
    drug_id: str
    drug_name: str
    mg: float
    time: datetime


@dataclass(frozen=True)
class AnaestheticTotal:
    """A drug's total across levels, against its maxima (per kg with the set-up weight, and in mg)."""

    drug_id: str
    drug_name: str
    mg: float
    mg_per_kg: float | None
    max_mg_per_kg: float | None
    max_mg: float | None

    @property
    def fraction_of_max(self) -> float | None:
        """The largest share of a maximum used (1.0 = at the maximum), None when nothing is known."""
        shares = []
        if self.mg_per_kg is not None and self.max_mg_per_kg:
            shares.append(self.mg_per_kg / self.max_mg_per_kg)
        if self.max_mg:
            shares.append(self.mg / self.max_mg)
        return max(shares) if shares else None


@dataclass(frozen=True)
class AntibioticDose:
    """The prophylactic antibiotic as given: drug, dose, time, and its window before the incision."""

    drug_id: str
    drug_name: str
    dose_mg: float | None
    time: datetime
    window_min: float | None
    recommended_mg: float | None


@dataclass(frozen=True)
class LevelOutcome:
    """A level's change of plan: converted to vertebroplasty, or abandoned, with the reason."""

    level: str
    outcome: str
    label: str
    reason: str
    seq: int


class Facts:
    """The typed projection of one case snapshot (see the module docstring)."""

    def __init__(self, state: CaseState) -> None:
        self.state = state

    # Each projection is built the first time it is read, then kept: asking a snapshot for its
    # status does not build its batches, and a snapshot is frozen so nothing goes stale.
    @cached_property
    def batches(self) -> tuple[Batch, ...]:
        return tuple(_batch(self.state, e) for e in self.state.live_records("cement_mix"))

    @cached_property
    def kits(self) -> tuple[Kit, ...]:
        return tuple(_kit(self.state, e) for e in self.state.live_records("balloon_kit"))

    @cached_property
    def injections(self) -> tuple[Injection, ...]:
        return tuple(_injection(e, i.level, i.side) for i, e in _done(self.state, "cement_injection"))

    @cached_property
    def inflations(self) -> tuple[Inflation, ...]:
        return tuple(_inflation(self.state, e, i.level, i.side) for i, e in _done(self.state, "balloon_inflation"))

    @cached_property
    def milestones(self) -> dict[str, datetime | None]:
        return {name: _milestone(self.state, name) for name in MILESTONES}

    @cached_property
    def signatures(self) -> dict[str, Event]:
        """The signature in force per role: the latest one not voided by a later change to the record."""
        return {str(s.values.get("role")): s for s in self.state.signatures if s.seq not in self.voided}

    @cached_property
    def voided(self) -> dict[int, Event]:
        """Signatures voided (seq -> the change that voided them): a nurse's signature by any later
        step, correction, retraction or override (SPEC §3: she signs again)."""
        found: dict[int, Event] = {}
        for signature in self.state.signatures:
            if signature.values.get("role") != "nurse":
                continue
            later = next((e for e in self.state.events if e.seq > signature.seq and e.kind in RECORD_CHANGES), None)
            if later is not None:
                found[signature.seq] = later
        return found

    @cached_property
    def local_anaesthetics(self) -> tuple[LocalAnaesthetic, ...]:
        return tuple(_anaesthetic(self.state, e, i.level) for i, e in _done(self.state, "local_anesthetic"))

    @cached_property
    def anaesthetic_totals(self) -> tuple[AnaestheticTotal, ...]:
        """Each local anaesthetic's running total across levels, in mg and mg/kg (SPEC §3)."""
        state = self.state
        weight = state.setup.patient.weight_kg if state.setup else None
        totals: dict[str, list[LocalAnaesthetic]] = {}
        for dose in self.local_anaesthetics:
            totals.setdefault(dose.drug_id if dose.drug_id != "other" else f"other:{dose.drug_name}", []).append(dose)
        found = []
        for key, doses in totals.items():
            mg = sum(d.mg for d in doses)
            drug = _drug(state, "anaesthetic", doses[0].drug_id)
            found.append(
                AnaestheticTotal(
                    drug_id=key,
                    drug_name=doses[0].drug_name,
                    mg=mg,
                    mg_per_kg=mg / weight if weight else None,
                    max_mg_per_kg=getattr(drug, "max_mg_per_kg", None),
                    max_mg=getattr(drug, "max_mg", None),
                )
            )
        return tuple(found)

    @cached_property
    def antibiotic(self) -> AntibioticDose | None:
        entry = _entry(self.state, "antibiotic")
        if entry is None or entry.values.get("given") is not True:
            return None
        v, state = entry.values, self.state
        drug_id = str(v.get("drug", ""))
        drug = _drug(state, "antibiotic", drug_id)
        name = str(v.get("drug_name") or (drug.name if drug is not None and drug_id != "other" else drug_id))
        weight = state.setup.patient.weight_kg if state.setup else None
        return AntibioticDose(
            drug_id=drug_id,
            drug_name=name,
            dose_mg=_number(v.get("dose")),
            time=entry.clinical_time,
            window_min=getattr(drug, "window_min", None),
            recommended_mg=drug.recommended_mg(weight) if isinstance(drug, Antibiotic) else None,
        )

    @cached_property
    def level_outcomes(self) -> dict[str, LevelOutcome]:
        """Each level whose plan changed (converted or abandoned), from the answer in force."""
        found = {}
        state = self.state
        if not state.template.has_step("level_outcome"):
            return {}
        spec = state.template.step("level_outcome")
        for entry in state.live_records("level_outcome"):
            level = entry.event.level or ""
            outcome = str(entry.values.get("outcome", ""))
            label = spec.field("outcome").choice_label(outcome)
            found[level] = LevelOutcome(level, outcome, label, str(entry.values.get("reason", "")), entry.seq)
        return found

    def performed(self, level: str) -> str:
        """What was done at a level: the case's procedure, "vertebroplasty" once converted, or "abandoned"."""
        outcome = self.level_outcomes.get(level)
        if outcome is None:
            return self.state.setup.procedure if self.state.setup else ""
        return "vertebroplasty" if outcome.outcome == "converted_to_vertebroplasty" else "abandoned"

    def sides_accessed(self, level: str) -> tuple[str, ...]:
        """The sides a cannula was placed on at a level (the planned sides when none is recorded)."""
        done = tuple(i.side for i, _ in _done(self.state, "cannula_placement") if i.level == level and i.side)
        if done:
            return done
        setup = self.state.setup
        return setup.sides_of(level) if setup is not None else ()

    def treated_levels(self) -> list[str]:
        """Levels with at least one cement injection recorded, head to tail."""
        injected = {i.level for i in self.injections}
        setup = self.state.setup
        return [lv for lv in (setup.level_names if setup else ()) if lv in injected]

    def levels_done(self) -> list[LevelDone]:
        """What happened at each planned level, as the coding rules need it (SPEC §7.4)."""
        setup = self.state.setup
        if setup is None:
            return []
        biopsied = {i.level for i, e in _done(self.state, "biopsy") if e.values.get("taken") is True}
        found = []
        for level in setup.level_names:
            outcome = self.level_outcomes.get(level)
            found.append(
                LevelDone(
                    level=level,
                    planned=setup.procedure,
                    performed=self.performed(level),
                    sides=self.sides_accessed(level),
                    biopsy=level in biopsied,
                    reason=outcome.reason if outcome is not None else "",
                )
            )
        return found

    def cpt_lines(self) -> list[CptLine]:
        return self.state.coding.procedure_codes(self.levels_done())

    def icd10_codes(self) -> list[Code]:
        """The diagnosis codes: those given at set-up, else the rules' suggestion for the indication."""
        setup = self.state.setup
        if setup is None:
            return []
        coding = self.state.coding
        if setup.icd10:
            return [Code(c, coding.describe_icd10(c) or "") for c in setup.icd10]
        return coding.diagnosis_codes(
            setup.indication,
            list(setup.level_names),
            remission=setup.myeloma_remission or None,
            primary_neoplasm=setup.primary_neoplasm or None,
        )

    def suggested_codes(self) -> dict[str, list[str]]:
        """The CPT and ICD-10-CM codes the rules suggest, as the operator confirms them at sign-off."""
        cpt = [("+" if line.add_on else "") + line.code for line in self.cpt_lines()]
        return {"cpt": cpt, "icd10": [code.code for code in self.icd10_codes()]}

    def confirmed_codes(self) -> dict[str, list[str]] | None:
        """The codes the operator confirmed when signing (None before, or for a case signed before it was asked)."""
        signature = self.signatures.get("operator")
        codes = signature.values.get("codes") if signature is not None else None
        return codes if isinstance(codes, dict) else None

    @property
    def dangerous_leaks(self) -> tuple[Injection, ...]:
        return tuple(i for i in self.injections if i.dangerous)

    def complications_required(self) -> list[str]:
        """What the case recorded that the operator must answer as a complication at sign-off (SPEC §3)."""
        found = [
            f"{'symptomatic ' if i.symptomatic else ''}cement leak"
            f"{' (' + ', '.join(i.leaks) + ')' if i.leaks else ' signs without a visible leak'} at {i.where}"
            for i in self.dangerous_leaks
        ]
        for inst, entry in _done(self.state, "balloon_removal"):
            if entry.values.get("intact") is False:
                found.append(f"balloon not intact at {inst.level} {inst.side}")
        neuro = _entry(self.state, "neuro_check")
        if neuro is not None and neuro.values.get("legs_as_before") is False:
            found.append(f"new neurological finding: {neuro.values.get('deficit', '')}".rstrip(": "))
        return found

    # -- records, milestones, signatures -----------------------------------------------------------
    def batch(self, seq: Any) -> Batch | None:
        return next((b for b in self.batches if b.seq == seq), None)

    def kit(self, seq: Any) -> Kit | None:
        return next((k for k in self.kits if k.seq == seq), None)

    def milestone(self, name: str) -> datetime | None:
        return self.milestones.get(name)

    def signature(self, role: str) -> Event | None:
        """The first signature of `role` (nurse, operator), or None."""
        return self.signatures.get(role)

    @property
    def locked(self) -> bool:
        """Signed by the operator: from now on only addenda."""
        return "operator" in self.signatures

    @property
    def status(self) -> str:
        if self.locked:
            return "amended" if self.state.addenda else "signed"
        if "nurse" in self.signatures:
            return "nurse_signed"
        return "complete" if self.state.current is None else "in_progress"

    # -- people ------------------------------------------------------------------------------------
    def held(self, role: str) -> set[str]:
        """Everyone who held `role` (nurse, operator...) in this case: at set-up or by a handover."""
        state, setup = self.state, self.state.setup
        people = {str(e.values.get("name")) for e in state.staff_changes if e.values.get("role") == role}
        if setup is not None:
            people |= {setup.team.nurse} if role == "nurse" else {setup.team.operator} if role == "operator" else set()
        if role == "nurse":
            people.add(state.current_nurse)
        return {p for p in people if p}

    def team(self) -> list[str]:
        """Everyone on the case now, the signed-in nurse included, without repeats (the time-out's team)."""
        setup = self.state.setup
        if setup is None:
            return []
        team = setup.team
        people = [team.operator, self.state.current_nurse, team.anaesthesia, *team.assistants]
        return list(dict.fromkeys(p for p in people if p))

    # -- per level ---------------------------------------------------------------------------------
    def injections_at(self, level: str) -> tuple[Injection, ...]:
        return tuple(i for i in self.injections if i.level == level)

    def hardening_end(self, level: str) -> datetime | None:
        """When the cement of a level is hard: the set time of the batch of its last injection.

        None when nothing was injected at that level (nothing to wait for) or the product is unknown.
        """
        done = self.injections_at(level)
        if not done:
            return None
        last = max(done, key=lambda i: i.time)
        batch = self.batch(last.batch_seq)
        if batch is None or batch.window is None:
            return None
        return max(batch.window.set, last.time)

    # -- labs and dose -----------------------------------------------------------------------------
    def labs(self) -> dict[str, Lab]:
        """INR and platelets, one value each (SPEC §5): the pre-procedure checks' entry in force, with
        its draw time; a case set up before labs moved there keeps its set-up screen's values."""
        found: dict[str, Lab] = {}
        screen = self.state.setup.screen if self.state.setup else {}
        prechecks = _entry(self.state, "prechecks")
        drawn = prechecks.values.get("labs_drawn") if prechecks is not None else None
        drawn_at = datetime.fromisoformat(drawn) if isinstance(drawn, str) else None
        for name, unit in (("inr", ""), ("platelets", "×10⁹/L")):
            if prechecks is not None and isinstance(prechecks.values.get(name), (int, float)):
                found[name] = Lab(name, float(prechecks.values[name]), unit, "Pre-procedure checks", drawn_at)
            elif isinstance(screen.get(name), (int, float)):
                found[name] = Lab(name, float(screen[name]), unit, "Contraindication screen")
        return found

    def dose(self) -> DoseReport | None:
        entry = _entry(self.state, "radiation_dose")
        if entry is None:
            return None
        v = entry.values
        return DoseReport(
            _number(v.get("fluoro_time")),
            _number(v.get("air_kerma")),
            _number(v.get("kap")),
            v.get("runs"),
            _number(v.get("air_kerma_lateral")),
            _number(v.get("kap_lateral")),
            _number(v.get("ctdi_vol")),
            _number(v.get("dlp")),
        )


# -- building the facts ----------------------------------------------------------------------------
def _done(state: CaseState, step: str) -> list[tuple[StepInstance, Entry]]:
    """The instances of `step` answered as done, each with its entry in force."""
    found = []
    for inst in state.instances_of(step):
        entry = inst.entry
        if entry is not None and entry.status == DONE:
            found.append((inst, entry))
    return found


def _entry(state: CaseState, step: str) -> Entry | None:
    if not state.has_instance(step):
        return None
    entry = state.instance(step).entry
    return entry if entry is not None and entry.status == DONE else None


def _milestone(state: CaseState, name: str) -> datetime | None:
    """PIR, AS, PST, PF, AF or POR, from the steps the template marks with that milestone."""
    times = [
        i.entry.clinical_time
        for i in state.instances
        if i.spec.milestone == name and i.entry is not None and i.entry.status == DONE
    ]
    return min(times) if times else None


def _minutes(value: float) -> timedelta:
    return timedelta(minutes=float(value))


def _product(lookup: Callable[[str], P], entry: Entry) -> tuple[str, P | None]:
    """The product id an entry names and its catalogue entry (None when the catalogue lacks it)."""
    product_id = str(entry.values.get("product", ""))
    try:
        return product_id, lookup(product_id)
    except KeyError:
        return product_id, None


def _batch(state: CaseState, entry: Entry) -> Batch:
    values = entry.values
    product_id, product = _product(state.catalogue.cement, entry)
    t0 = entry.clinical_time
    temperature = values.get("room_temperature")
    window = None
    if product is not None:
        # SPEC §3: the room temperature changes the window, from the product's IFU table.
        room = float(temperature) if isinstance(temperature, (int, float)) else None
        dough, working_end, set_time = product.times_at(room)
        window = Window(t0 + _minutes(dough), t0 + _minutes(working_end), t0 + _minutes(set_time))
    return Batch(
        seq=entry.seq,
        product_id=product_id,
        product=product,
        lot=str(values.get("lot", "")),
        expiry=values.get("expiry"),
        gtin=values.get("gtin"),
        t0=t0,
        room_temperature=float(temperature) if isinstance(temperature, (int, float)) else None,
        window=window,
        entry=entry,
    )


def _kit(state: CaseState, entry: Entry) -> Kit:
    values = entry.values
    product_id, product = _product(state.catalogue.balloon, entry)
    return Kit(
        seq=entry.seq,
        product_id=product_id,
        product=product,
        lot=str(values.get("lot", "")),
        expiry=values.get("expiry"),
        gtin=values.get("gtin"),
        serial=values.get("serial"),
        opened=entry.clinical_time,
        entry=entry,
    )


def _injection(entry: Entry, level: str | None, side: str | None) -> Injection:
    v = entry.values
    leak = v.get("leak")
    given: tuple[str, ...] = tuple(leak) if isinstance(leak, (list, tuple)) else ((str(leak),) if leak else ())
    leaks = tuple(x for kind in given for x in LEGACY_LEAKS.get(kind, (kind,)) if x != "none")
    batch = v.get("batch")
    return Injection(
        seq=entry.seq,
        level=level or "",
        side=side or "",
        time=entry.clinical_time,
        volume_ml=_number(v.get("volume")),
        batch_seq=batch if isinstance(batch, int) and not isinstance(batch, bool) else None,
        stop_reason=v.get("stop_reason"),
        leaks=leaks,
        symptomatic=v.get("symptomatic") is True,
    )


def _inflation(state: CaseState, entry: Entry, level: str | None, side: str | None) -> Inflation:
    v = entry.values
    kit_seq = v.get("kit") if isinstance(v.get("kit"), int) and not isinstance(v.get("kit"), bool) else None
    kit = state.entry_for(kit_seq) if kit_seq is not None else None
    if kit is not None:  # the kit named: its product and lot
        product_id, lot = str(kit.values.get("product", "")), str(kit.values.get("lot", ""))
    else:  # recorded before kits were named (template version 1): its own product and lot/UDI
        product_id, lot = str(v.get("balloon", "")), str(v.get("lot_udi", ""))
    return Inflation(
        seq=entry.seq,
        level=level or "",
        side=side or "",
        time=entry.clinical_time,
        kit_seq=kit.seq if kit is not None else None,
        product_id=product_id,
        lot=lot,
        pressure_psi=_number(v.get("pressure")),
        volume_ml=_number(v.get("volume")),
        end_point=v.get("end_point"),
    )


def _anaesthetic(state: CaseState, entry: Entry, level: str | None) -> LocalAnaesthetic:
    v = entry.values
    drug_id = str(v.get("drug", ""))
    drug = _drug(state, "anaesthetic", drug_id)
    name = str(v.get("drug_name") or (drug.name if drug is not None and drug_id != "other" else drug_id))
    strength, volume = _number(v.get("concentration")), _number(v.get("volume"))
    mg = strength * 10 * volume if strength is not None and volume is not None else 0.0  # 1 % = 10 mg/mL
    return LocalAnaesthetic(level or "", drug_id if drug is not None else "other", name, mg, entry.clinical_time)


def _drug(state: CaseState, kind: str, drug_id: str) -> Drug | None:
    try:
        return state.catalogue.drug(kind, drug_id)
    except KeyError:
        return None


def _sum(*values: float | None) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


__all__ = ["Batch", "DoseReport", "Facts", "Inflation", "Injection", "Kit", "Lab", "Window", "ev"]
