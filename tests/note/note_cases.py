"""Cases for the note tests, driven through the real service: a kyphoplasty with every kind of event and more."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

from pypdf import PdfReader

from checklist_app.domain.choices import preselected
from checklist_app.domain.timers import hardening_end, working_window
from tests.conftest import STEP_VALUES, mix_cement, setup_kwargs

# Words typed by people in the kyphoplasty case, each of which must print verbatim.
KYPHO = {
    "patient": "O'Brien <Jr> & Sons",
    "mrn": "MRN-0042/Ω",
    "assistant": "Zoë Đặng",
    "new_nurse": "Жанна Ωmega",
    "detail": "Fall at home; pain not controlled after 6 weeks of analgesia",
    "override": "Patient restless under sedation; operator started before the time-out",
    "handover": "Break relief",
    "correction": "Volume misread on the syringe",
    "retraction": "Ticked before the dressing was on",
    "findings": "Good fill at T12 and L1; vertebral height partly restored at T12.",
    "complications": "L1 right balloon torn on removal; no fragment left behind.",
    "disposition": "Recovery, then ward",
    "addendum": "Histology: osteoporotic bone, no tumour <see report> & no infection.",
    "addendum_reason": "Histology result received",
}
BALLOON_KIT = {
    "product": "example_balloon_15",
    "lot": "BK12345",
    "expiry": "2030-06-30",
    "gtin": "00614141200023",
    "serial": "SN-0042",
}

Handler = Callable[[], object]


def walk(service, clock, case_id: str, special: dict[tuple, Handler] | None = None) -> None:
    """Record every pending step a minute apart; a `special` handler replaces the default for its step instance."""
    special = dict(special or {})
    while (current := service.state(case_id).current) is not None:
        clock.advance(minutes=1)
        handler = special.pop(current.key, None)
        if handler is not None:
            handler()
        else:
            record_default(service, clock, case_id)


def record_default(service, clock, case_id: str, **values) -> None:
    """Record the current step with the standard values (mixing cement and waiting for it as needed)."""
    state = service.state(case_id)
    current = state.current
    step = current.spec.id
    if step == "cement_injection" and preselected(state, current.spec.field("batch"), clock.now()) is None:
        mix_cement(service, case_id, gtin="00614141100019", room_temperature=21.0)
        fresh = service.state(case_id)
        clock.set(working_window(fresh, fresh.facts.batches[-1])[0])
    if step == "balloon_inflation" and not state.facts.kits:
        service.record_step(case_id=case_id, step="balloon_kit", values=BALLOON_KIT)
    if step == "hardening_wait":
        end = hardening_end(state, current.level)
        if end and end > clock.now():
            clock.set(end)
    chosen = {**(STEP_VALUES.get(step) or {}), **values} or None
    service.record_step(case_id=case_id, step=step, level=current.level, side=current.side, values=chosen)


def enrol(service, name: str, role: str) -> None:
    """`name` in the staff directory as `role` (signers come from it only, SPEC §6), once."""
    if name not in {p["name"] for p in service.staff(role)}:
        service.add_staff(name=name, role=role)


def finish(service, clock, case_id: str, *, findings: dict, operator: str = "Dr Ada Demo") -> None:
    """Acknowledge warnings, nurse signs, operator records findings and signs."""
    enrol(service, service.state(case_id).current_nurse, "nurse")
    enrol(service, operator, "operator")
    for warning in service.warnings(case_id, pending_only=True):
        service.acknowledge_warning(case_id=case_id, warning_id=warning.id)
    clock.advance(minutes=5)
    service.sign(case_id=case_id, name=service.state(case_id).current_nurse, role="nurse")
    clock.advance(minutes=20)
    service.record_findings(case_id=case_id, **{"complications": "none", **findings})
    service.sign(case_id=case_id, name=operator, role="operator", codes=service.suggested_codes(case_id))


def build_kyphoplasty(
    service, clock, *, stop_before: str | None = None, sign: bool = True, addendum: bool = True, levels=None
):
    """Two levels (T12, L1) bipedicular: biopsy, time-out override, late entry, handover, correction,
    retraction, a torn balloon; signed by nurse and operator and amended (unless told otherwise)."""
    team = {
        "operator": "Dr Ada Demo",
        "nurse": "Nurse Dana Demo",
        "anaesthesia": "Dr Gita Demo",
        "assistants": [KYPHO["assistant"]],
    }
    patient = {
        "name": KYPHO["patient"],
        "weight_kg": 70.0,
        "mrn": KYPHO["mrn"],
        "date_of_birth": "1948-02-29",
        "sex": "male",
    }
    kwargs = setup_kwargs(levels=levels, patient=patient, team=team, indication_detail=KYPHO["detail"])
    case_id = service.start_case(**kwargs).case_id

    def record(step, level=None, side=None, values=None, **extra):
        values = STEP_VALUES.get(step) if values is None else values
        return service.record_step(case_id=case_id, step=step, level=level, side=side, values=values, **extra)

    def before_time_out():
        record("local_anesthetic", "T12", override_reason=KYPHO["override"])
        clock.advance(minutes=1)
        record("incision", "T12", override_reason=KYPHO["override"])
        clock.advance(minutes=2)
        record("cannula_placement", "T12", "left", override_reason=KYPHO["override"])
        clock.advance(minutes=1)
        record("balloon_kit", values=BALLOON_KIT)
        clock.advance(minutes=1)
        record("time_out")

    def biopsy():
        taken = {"taken": True, "side": "left", "container": "formalin_10", "label_read_back": True, "sent": True}
        record("biopsy", "T12", values=taken)

    def corrected_injection():
        record_default(service, clock, case_id)
        entry = service.state(case_id).instance("cement_injection", "T12", "left").entry
        clock.advance(minutes=1)
        values = {**entry.values, "volume": 3.5}
        service.correct(case_id=case_id, seq=entry.seq, values=values, reason=KYPHO["correction"])

    def handover_then_local():
        service.change_staff(case_id=case_id, role="nurse", name=KYPHO["new_nurse"], reason=KYPHO["handover"])
        record("local_anesthetic", "L1")

    def late_cannula():
        clock.advance(minutes=9)
        when = clock.now() - timedelta(minutes=7)
        record("cannula_placement", "L1", "left", clinical_time=when, late_reason="catch_up")

    def closure_retracted():
        state = record("closure", values={"closure": "suture", "dressing": "gauze_tape"})
        seq = state.instance("closure").entry.seq
        clock.advance(minutes=1)
        service.retract(case_id=case_id, seq=seq, reason=KYPHO["retraction"])
        record("closure")

    def labs():  # entered once, with the time the blood was drawn (SPEC §5)
        drawn = (clock.now() - timedelta(hours=3)).isoformat()
        record("prechecks", values={**STEP_VALUES["prechecks"], "inr": 1.0, "platelets": 220.0, "labs_drawn": drawn})

    special = {
        ("prechecks", None, None): labs,
        ("time_out", None, None): before_time_out,
        ("biopsy", "T12", None): biopsy,
        ("cement_injection", "T12", "left"): corrected_injection,
        ("local_anesthetic", "L1", None): handover_then_local,
        ("cannula_placement", "L1", "left"): late_cannula,
        ("balloon_removal", "L1", "right"): lambda: record("balloon_removal", "L1", "right", values={"intact": False}),
        ("closure", None, None): closure_retracted,
        ("sign_out", None, None): lambda: record_default(service, clock, case_id, specimens="labelled_read_back"),
    }
    if stop_before is not None:
        special[(stop_before, None, None)] = _stop
    try:
        walk(service, clock, case_id, special)
    except _Stopped:
        return case_id
    if sign:
        findings = {
            "findings": KYPHO["findings"],
            "complications": KYPHO["complications"],
            "ebl_ml": 10.0,
            "condition": "Stable",
            "disposition": KYPHO["disposition"],
        }
        finish(service, clock, case_id, findings=findings)
    if sign and addendum:
        clock.advance(minutes=90)
        service.add_addendum(
            case_id=case_id, text=KYPHO["addendum"], reason=KYPHO["addendum_reason"], author="Dr Ada Demo"
        )
    return case_id


class _Stopped(Exception):
    """Raised by the `stop_before` handler to leave a case in progress."""


def _stop():
    raise _Stopped


VERTEBRO = {
    "postop": "Pathological fracture of T11 and L1, metastatic disease",
    "no_antibiotic": "Penicillin allergy; operator decision",
    "findings": "Cement fill adequate at both levels.",
    "complications": "Transient back pain after the L1 leak, settled with analgesia.",
}


def build_vertebroplasty(service, clock) -> str:
    """T11 right (unipedicular) and L1 bipedicular, metastatic; a symptomatic leak and a substantial dose."""
    levels = [("T11", "right"), {"level": "L1", "sides": ["left", "right"]}]
    kwargs = setup_kwargs("vertebroplasty", levels, indication="metastatic", icd10=["C79.51", "M84.58XA"])
    case_id = service.start_case(**kwargs).case_id
    leak = {"volume": 2.5, "stop_reason": "leak", "leak": ["venous"], "symptomatic": True}
    dose = {"fluoro_time": 12.5, "air_kerma": 5200.0, "kap": 80.0, "runs": 14}
    special = {
        ("antibiotic", None, None): lambda: record_default(
            service, clock, case_id, given=False, drug=None, dose=None, not_given_reason=VERTEBRO["no_antibiotic"]
        ),
        ("imaging_setup", None, None): lambda: record_default(service, clock, case_id, modality="single_c_arm"),
        ("anesthesia_start", None, None): lambda: record_default(service, clock, case_id, type="general"),
        ("cement_injection", "L1", "left"): lambda: record_default(service, clock, case_id, **leak),
        ("radiation_dose", None, None): lambda: record_default(service, clock, case_id, **dose),
    }
    walk(service, clock, case_id, special)
    findings = {
        "findings": VERTEBRO["findings"],
        "complications": VERTEBRO["complications"],
        "ebl_ml": 0.0,
        "condition": "Stable",
        "disposition": "Ward",
        "postop_diagnosis": VERTEBRO["postop"],
    }
    finish(service, clock, case_id, findings=findings)
    return case_id


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page."""
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def squash(text: str) -> str:
    """Text without any whitespace, so line wrapping does not matter when comparing."""
    return "".join(text.split())


def page_frame(content, document, number: int, total: int) -> tuple[str, str]:
    """(header, footer) that every page of `document` must start and end with, whitespace removed."""
    head = content.header
    header = squash(
        f"{head.status} {head.facility} {document.title} {head.title} Patient {head.patient_name} MRN {head.mrn} "
        f"Date of birth {head.date_of_birth} Date of service {head.date_of_service}"
    )
    training = "TRAINING, not a clinical record. " if head.training else ""
    record = head.reference or head.record_id
    footer = squash(f"Record {record} {training}{head.status}: {head.status_detail} Page {number} of {total}")
    return header, footer


def page_documents(pages: list[str], content) -> list:
    """The document each page belongs to, read from its page header (each document starts a new page)."""
    found = []
    for page in pages:
        text = squash(page)
        matching = [d for d in content.documents if text.startswith(page_frame(content, d, 1, 1)[0])]
        assert len(matching) == 1, f"page header names no single document: {text[:200]!r}"
        found.append(matching[0])
    return found


def body_text(pages: list[str], content) -> str:
    """The text of the note without the page headers and footers (whitespace removed), checking both on
    every page: each document's title in its header and its own 'Page X of Y' in the footer."""
    owners = page_documents(pages, content)
    assert [d.key for d in dict.fromkeys(owners)] == [d.key for d in content.documents], "documents in order"
    body = []
    for index, (page, document) in enumerate(zip(pages, owners, strict=True)):
        total = owners.count(document)
        number = owners[: index + 1].count(document)
        header, footer = page_frame(content, document, number, total)
        text = squash(page)
        assert text.startswith(header), f"page {index + 1} header: {text[:200]!r}"
        assert text.endswith(footer), f"page {index + 1} footer: {text[-200:]!r}"
        body.append(text[len(header) : len(text) - len(footer)])
    return "".join(body)


def block_strings(content) -> list[str]:
    """Every string the note content holds, as it must appear (contiguously) in the PDF text."""
    from checklist_app.note.model import Fields, Table, Text

    found = []
    for section in content.sections:
        found.append(section.title)
        for block in section.blocks:
            if isinstance(block, Text):
                found.append(f"{block.label} {block.text}")
            elif isinstance(block, Fields):
                found += [f"{label} {value}" for label, value in block.rows]
            elif isinstance(block, Table):
                rows = [block.header, *block.rows, *([block.totals] if block.totals else [])]
                found += [" ".join(row) for row in rows] + [block.caption]
    return found
