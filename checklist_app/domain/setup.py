"""Case set-up: patient, procedure, planned levels and sides, indication, team, screening answers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from .errors import Refusal

PROCEDURES = ("kyphoplasty", "vertebroplasty")
PROCEDURE_LABELS = {"kyphoplasty": "Balloon kyphoplasty", "vertebroplasty": "Vertebroplasty"}
SEXES = ("female", "male", "other", "unknown")
SIDES = ("left", "right")
INDICATIONS = ("osteoporotic", "myeloma", "metastatic", "traumatic", "other")
INDICATION_LABELS = {
    "osteoporotic": "Osteoporotic compression fracture",
    "myeloma": "Pathological fracture, multiple myeloma",
    "metastatic": "Pathological fracture, metastatic disease",
    "traumatic": "Traumatic compression fracture",
    "other": "Other vertebral compression fracture",
}
_REGIONS = (("C", 7), ("T", 12), ("L", 5), ("S", 5))
ALL_LEVELS = tuple(f"{region}{n}" for region, count in _REGIONS for n in range(1, count + 1))
_LEVEL_RE = re.compile(r"^\s*([CTLS])\s*-?\s*0*(\d{1,2})\s*$", re.IGNORECASE)
MAX_NAME = 200
MAX_TEXT = 2000
# Contraindication screen questions (SPEC §5); INR and platelets are numbers checked against settings.
SCREEN_FLAGS = {
    "active_infection": "Active infection",
    "coagulopathy": "Uncorrected coagulopathy or bleeding disorder",
    "anticoagulant": "Anticoagulant or antiplatelet not stopped",
    "cement_allergy": "Cement (PMMA) allergy",
    "contrast_allergy": "Contrast allergy",
    "pregnancy": "Pregnancy possible or confirmed",
    "retropulsion": "Posterior wall defect or retropulsion",
    "neuro_deficit": "Neurological deficit",
}


def canonical_level(text: str) -> str:
    """'t12', 'T-12', ' l 1 ' -> 'T12', 'L1'; refuses anything that is not a real vertebra."""
    match = _LEVEL_RE.match(text or "") if isinstance(text, str) else None
    level = f"{match.group(1).upper()}{int(match.group(2))}" if match else None
    if level not in ALL_LEVELS:
        raise Refusal("levels", f"'{text}' is not a vertebral level (C1–C7, T1–T12, L1–L5, S1–S5)")
    return level


def level_index(level: str) -> int:
    return ALL_LEVELS.index(level)


@dataclass(frozen=True)
class Patient:
    """Who the case is for. The name may be in any script."""

    name: str
    mrn: str
    date_of_birth: date | None = None
    sex: str = "unknown"
    weight_kg: float | None = None  # required for new cases: drug maxima and antibiotic doses use it


@dataclass(frozen=True)
class PlannedLevel:
    """A vertebra to treat and the side(s) of access: one side = unipedicular, both = bipedicular."""

    level: str
    sides: tuple[str, ...]


@dataclass(frozen=True)
class Team:
    """The people in the room by role. Assistants may be several."""

    operator: str
    nurse: str
    anaesthesia: str = ""
    assistants: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseSetup:
    """Everything known before the patient enters the room."""

    patient: Patient
    procedure: str
    levels: tuple[PlannedLevel, ...]
    indication: str
    team: Team
    icd10: tuple[str, ...] = ()
    indication_detail: str = ""
    screen: Mapping[str, Any] = field(default_factory=dict)
    coverage: Mapping[str, Any] = field(default_factory=dict)  # SPEC §5: what the payer asks for
    myeloma_remission: str = ""  # myeloma: not_in_remission, in_remission, in_relapse (ICD-10-CM C90.0x)
    primary_neoplasm: str = ""  # metastatic disease: the primary's ICD-10-CM code, when known

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        dob = self.patient.date_of_birth
        data["patient"]["date_of_birth"] = dob.isoformat() if dob else None
        data["levels"] = [{"level": p.level, "sides": list(p.sides)} for p in self.levels]
        data["team"]["assistants"] = list(self.team.assistants)
        data["icd10"] = list(self.icd10)
        data["screen"] = dict(self.screen)
        data["coverage"] = dict(self.coverage)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CaseSetup:
        """A stored set-up, read back. It was checked against its own day when it was recorded, so
        no date check here: a record never becomes unreadable because a clock was later set back."""
        return build_setup(
            today=None,
            patient=data["patient"],
            procedure=data["procedure"],
            levels=data["levels"],
            indication=data["indication"],
            team=data["team"],
            icd10=data.get("icd10", ()),
            indication_detail=data.get("indication_detail", ""),
            screen=data.get("screen", {}),
            coverage=data.get("coverage", {}),
            myeloma_remission=data.get("myeloma_remission", ""),
            primary_neoplasm=data.get("primary_neoplasm", ""),
        )

    @property
    def level_names(self) -> tuple[str, ...]:
        return tuple(p.level for p in self.levels)

    def sides_of(self, level: str) -> tuple[str, ...]:
        for planned in self.levels:
            if planned.level == level:
                return planned.sides
        raise KeyError(level)


def build_setup(
    *,
    patient: Mapping[str, Any],
    procedure: str,
    levels: Any,
    indication: str,
    team: Mapping[str, Any],
    icd10: Any = (),
    indication_detail: str = "",
    screen: Mapping[str, Any] | None = None,
    coverage: Mapping[str, Any] | None = None,
    myeloma_remission: str = "",
    primary_neoplasm: str = "",
    today: date | None,
) -> CaseSetup:
    """Validate raw set-up data (from a form, a script or a stored event) into a CaseSetup.

    `today` is the day the case is set up, from the service's clock: a date of birth after it is
    refused. It must be given; only a stored set-up being read back passes None.
    """
    if not isinstance(patient, Mapping):
        raise Refusal("patient", "patient details are missing")
    if procedure not in PROCEDURES:
        raise Refusal("procedure", f"must be one of {', '.join(PROCEDURES)}")
    if indication not in INDICATIONS:
        raise Refusal("indication", f"must be one of {', '.join(INDICATIONS)}")
    if isinstance(icd10, str):
        icd10 = [c for c in icd10.replace(";", ",").split(",") if c.strip()]
    if not isinstance(icd10, (list, tuple)) and icd10 is not None:
        raise Refusal("icd10", "give a list of ICD-10 codes")
    if screen is not None and not isinstance(screen, Mapping):
        raise Refusal("screen", "the screening answers are missing")
    if coverage is not None and not isinstance(coverage, Mapping):
        raise Refusal("coverage", "the coverage evidence is missing")
    codes = tuple(_icd10(code) for code in (icd10 or ()))
    remission = myeloma_remission or ""
    if remission and (indication != "myeloma" or remission not in REMISSION):
        raise Refusal("myeloma_remission", f"for myeloma only: one of {', '.join(REMISSION)}")
    primary = _icd10(primary_neoplasm) if primary_neoplasm else ""
    if primary and indication != "metastatic":
        raise Refusal("primary_neoplasm", "the primary neoplasm is given for metastatic disease only")
    return CaseSetup(
        patient=_patient(patient, today),
        procedure=procedure,
        levels=_levels(levels),
        indication=indication,
        team=_team(team, clean_name if today is not None else clean_text),
        icd10=codes,
        indication_detail=clean_text(indication_detail, "indication_detail", MAX_TEXT, required=False),
        screen=_screen(screen or {}, stored=today is None),
        coverage=_coverage(coverage or {}),
        myeloma_remission=remission,
        primary_neoplasm=primary,
    )


def clean_text(value: Any, name: str, limit: int = MAX_NAME, *, required: bool = True) -> str:
    """Trimmed text with no control characters; refuses empty (when required) and over-long text."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Refusal(name, "must be text")
    text = value.strip()
    if any(ord(ch) < 32 and ch not in "\n\t" or ord(ch) == 127 for ch in text):
        raise Refusal(name, "contains control characters")
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        raise Refusal(name, "contains invalid characters (unpaired surrogates)")
    if required and not text:
        raise Refusal(name, "is required")
    if len(text) > limit:
        raise Refusal(name, f"is too long ({len(text)} characters, limit {limit})")
    return text


# Characters that have no place in a person's name: they break the name over lines, hide parts of
# it, or (bidi embeddings, overrides and isolates) make it display reversed or disguised.
_LINE_BREAKS = frozenset("\n\r\t\v\f\x85\u2028\u2029")
_BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))


def clean_name(value: Any, name: str, limit: int = MAX_NAME, *, required: bool = True) -> str:
    """A person's name: `clean_text`, on one line, with no control or bidi-override characters (SPEC §5)."""
    text = clean_text(value, name, limit, required=required)
    for ch in text:
        if ch in _LINE_BREAKS:
            raise Refusal(name, f"must be on one line: it contains a line break or tab (U+{ord(ch):04X})")
        if ch in _BIDI_CONTROLS:
            raise Refusal(
                name,
                f"contains a bidirectional control character (U+{ord(ch):04X}), which can show a name "
                "reversed or disguised: type the name without it",
            )
        if unicodedata.category(ch) == "Cc":
            raise Refusal(name, f"contains a control character (U+{ord(ch):04X})")
    return text


def _patient(raw: Mapping[str, Any], today: date | None) -> Patient:
    dob = raw.get("date_of_birth")
    if isinstance(dob, datetime):
        dob = dob.date()
    if isinstance(dob, str) and dob.strip():
        try:
            dob = date.fromisoformat(dob.strip())
        except ValueError:
            raise Refusal("date_of_birth", f"'{dob}' is not a date (YYYY-MM-DD)") from None
    elif dob in ("", None):
        dob = None
    elif not isinstance(dob, date):
        raise Refusal("date_of_birth", "must be a date (YYYY-MM-DD)")
    if dob is not None and (dob < date(1900, 1, 1) or (today is not None and dob > today)):
        raise Refusal("date_of_birth", "must be between 1900-01-01 and today")
    sex = raw.get("sex") or "unknown"
    if sex not in SEXES:
        raise Refusal("sex", f"must be one of {', '.join(SEXES)}")
    weight = raw.get("weight_kg")
    if weight in (None, ""):
        if today is not None:  # a stored set-up from before weight was asked is read back as it is
            raise Refusal("weight_kg", "is required: local anaesthetic maxima and antibiotic doses depend on it")
        weight = None
    elif isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 2 <= weight <= 400:
        raise Refusal("weight_kg", "must be the patient's weight in kg (2 to 400)")
    # Names are checked as names when typed; a stored set-up read back (today None) is not refused
    # for a rule it predates.
    person = clean_name if today is not None else clean_text
    return Patient(
        name=person(raw.get("name"), "patient_name"),
        mrn=person(raw.get("mrn"), "mrn", 64),  # shown on one line everywhere, as a name is
        date_of_birth=dob,
        sex=sex,
        weight_kg=float(weight) if weight is not None else None,
    )


def _levels(raw: Any) -> tuple[PlannedLevel, ...]:
    if isinstance(raw, (str, bytes)) or not hasattr(raw, "__iter__"):
        raise Refusal("levels", "give a list of levels, each with its sides")
    planned: dict[str, PlannedLevel] = {}
    for item in raw:
        name: Any
        sides: Any
        if isinstance(item, PlannedLevel):
            name, sides = item.level, item.sides
        elif isinstance(item, Mapping):
            name, sides = item.get("level"), item.get("sides", SIDES)
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            name, sides = item
        else:
            raise Refusal("levels", "each level needs a name and its sides")
        level = canonical_level(name)
        if level in planned:
            raise Refusal("levels", f"{level} is listed twice")
        if isinstance(sides, str):
            sides = SIDES if sides == "both" else (sides,)
        if sides is not None and not isinstance(sides, (list, tuple)):
            raise Refusal("levels", f"{level}: sides must be left, right or both")
        chosen = list(sides or ())
        if not chosen or any(s not in SIDES for s in chosen) or len(set(chosen)) != len(chosen):
            raise Refusal("levels", f"{level}: sides must be left, right or both")
        planned[level] = PlannedLevel(level, tuple(s for s in SIDES if s in chosen))
    if not planned:
        raise Refusal("levels", "plan at least one level")
    return tuple(sorted(planned.values(), key=lambda p: level_index(p.level)))


def _team(raw: Mapping[str, Any], person: Callable[..., str]) -> Team:
    if not isinstance(raw, Mapping):
        raise Refusal("team", "team details are missing")
    assistants = raw.get("assistants") or ()
    if isinstance(assistants, str):
        assistants = tuple(a for a in assistants.split(",") if a.strip())
    if not isinstance(assistants, (list, tuple)):
        raise Refusal("assistants", "give a list of names")
    return Team(
        operator=person(raw.get("operator"), "operator"),
        nurse=person(raw.get("nurse"), "nurse"),
        anaesthesia=person(raw.get("anaesthesia"), "anaesthesia", required=False),
        assistants=tuple(person(a, "assistants") for a in assistants),
    )


_ICD10_RE = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


def _icd10(code: Any) -> str:
    text = clean_text(code, "icd10", 10).upper()
    if not _ICD10_RE.match(text):
        raise Refusal("icd10", f"'{text}' is not an ICD-10 code (e.g. M80.08XA)")
    return text


def _screen(raw: Mapping[str, Any], *, stored: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in SCREEN_FLAGS:
            if not isinstance(value, bool):
                raise Refusal(key, "must be yes or no")
            out[key] = value
        elif key in ("inr", "platelets"):
            if value in (None, ""):
                continue
            if not stored:  # SPEC §5: labs are entered once; older cases have them here and keep them
                raise Refusal(
                    key,
                    "INR and platelets are recorded once, in the pre-procedure checks, with the time "
                    "the blood was drawn",
                )
            out[key] = _screen_number(key, value)
        else:
            raise Refusal(key, "is not a screening question")
    return out


REMISSION = ("not_in_remission", "in_remission", "in_relapse")
REMISSION_LABELS = {"not_in_remission": "not in remission", "in_remission": "in remission", "in_relapse": "in relapse"}
# SPEC §5: the coverage evidence payers ask for (CMS LCDs L34228, L33569, L38201): key -> (label, kind).
COVERAGE = {
    "pain_score": ("Baseline pain score (0–10)", "score"),
    "neuro_exam": ("Neurological examination", ("normal", "deficit")),
    "imaging": ("Imaging evidence of an acute fracture", ("mri_stir", "bone_scan", "ct", "none")),
    "height_loss_pct": ("Vertebral height loss (%)", "percent"),
    "conservative_care": ("Conservative care", ("failed", "not_tolerated", "not_tried", "not_applicable")),
}
COVERAGE_LABELS = {
    "normal": "normal",
    "deficit": "deficit",
    "mri_stir": "MRI with STIR oedema",
    "bone_scan": "bone scan uptake",
    "ct": "CT only",
    "none": "none",
    "failed": "failed",
    "not_tolerated": "not tolerated",
    "not_tried": "not tried",
    "not_applicable": "not applicable",
}


def _coverage(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Coverage evidence: each answer checked; none is required here (the set-up warns when incomplete)."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in COVERAGE:
            raise Refusal(key, "is not a coverage question")
        if value in (None, ""):
            continue
        label, kind = COVERAGE[key]
        if isinstance(kind, tuple):
            if value not in kind:
                raise Refusal(key, f"{label}: must be one of {', '.join(COVERAGE_LABELS[k] for k in kind)}")
            out[key] = value
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Refusal(key, f"{label}: must be a number")
        elif kind == "score" and (value != int(value) or not 0 <= value <= 10):
            raise Refusal(key, f"{label}: must be a whole number from 0 to 10")
        elif kind == "percent" and not 0 <= value <= 100:
            raise Refusal(key, f"{label}: must be 0 to 100 %")
        else:
            out[key] = int(value) if kind == "score" else float(value)
    return out


def _screen_number(key: str, value: Any) -> float:
    limits = {"inr": (0.5, 10.0, ""), "platelets": (0.0, 2000.0, " ×10⁹/L")}
    low, high, unit = limits[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Refusal(key, "must be a number")
    number = float(value)
    if not (low <= number <= high):
        raise Refusal(key, f"must be between {low:g} and {high:g}{unit}")
    return number
