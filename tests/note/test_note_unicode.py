"""Any Unicode text people type (Latin, Greek, Cyrillic, Vietnamese, markup characters) prints verbatim."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reportlab.pdfbase import pdfmetrics

from checklist_app.domain.clock import FakeClock
from checklist_app.domain.events import Event
from checklist_app.domain.state import fold
from checklist_app.note import note_content, render_pdf
from checklist_app.note.styles import BODY_FONT, BOLD_FONT, register_fonts
from checklist_app.service import ChecklistService
from checklist_app.store import open_store
from tests.conftest import START, setup_kwargs
from tests.note.note_cases import enrol, pdf_pages, record_default, squash, walk

# The free text of the small case below; each is replaced by generated text in every event that holds it.
TEXTS = {
    "patient": "Patient Placeholder",
    "mrn": "MRN-PLACEHOLDER",
    "operator": "Operator Placeholder",
    "nurse": "Nurse Placeholder",
    "anaesthesia": "Anaesthetist Placeholder",
    "assistant": "Assistant Placeholder",
    "new_nurse": "Relief Nurse Placeholder",
    "detail": "Indication detail placeholder",
    "override": "Override reason placeholder",
    "correction": "Correction reason placeholder",
    "retraction": "Retraction reason placeholder",
    "handover": "Handover reason placeholder",
    "findings": "Findings placeholder",
    "complications": "Complications placeholder",
    "condition": "Condition placeholder",
    "disposition": "Disposition placeholder",
    "postop": "Post-operative diagnosis placeholder",
    "addendum": "Addendum text placeholder",
    "addendum_reason": "Addendum reason placeholder",
}
SCRIPTS = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝßàáâãäåæçèéêëìíîïñòóôõöøùúûüýÿĐđŁłŒœŞşŠšŽž"  # Latin
    "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩαβγδεζηθικλμνξοπρςστυφχψωάέήίόύώ"  # Greek
    "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюяЇїІіЄєҐґ"  # Cyrillic
    "ăâêôơưĂÂÊÔƠƯạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹẠẢẤẦẨẪẬẮẰẲẴẶẸẺẼẾỀỂỄỆỈỊỌỎỐỒỔỖỘỚỜỞỠỢỤỦỨỪỬỮỰỲỴỶỸ"
    "<>&'\";# "
)


def covered(text: str) -> str:
    """Only the characters both faces of the embedded font can draw."""
    register_fonts()
    faces = [pdfmetrics.getFont(name).face for name in (BODY_FONT, BOLD_FONT)]
    return "".join(ch for ch in dict.fromkeys(text) if ch == " " or all(ord(ch) in f.charToGlyph for f in faces))


ALPHABET = covered(SCRIPTS)
free_text = st.text(alphabet=ALPHABET, min_size=1, max_size=30).map(str.strip).filter(bool)


def test_the_alphabet_keeps_every_script():
    for sample in ("Zoë", "Đặng", "Жанна", "Ωmega", "ự", "<>&'\""):
        assert all(ch in ALPHABET for ch in sample), sample


@pytest.fixture(scope="module")
def small_case(tmp_path_factory):
    """A one-level kyphoplasty holding every kind of free text once: (service, events)."""
    clock = FakeClock(START)
    service = ChecklistService(open_store(tmp_path_factory.mktemp("unicode") / "case.sqlite3"), clock=clock)
    team = {
        "operator": TEXTS["operator"],
        "nurse": TEXTS["nurse"],
        "anaesthesia": TEXTS["anaesthesia"],
        "assistants": [TEXTS["assistant"]],
    }
    patient = {"name": TEXTS["patient"], "weight_kg": 70.0, "mrn": TEXTS["mrn"], "date_of_birth": "1950-04-01"}
    kwargs = setup_kwargs(levels=[("L2", "left")], patient=patient, team=team, indication_detail=TEXTS["detail"])
    case_id = service.start_case(**kwargs).case_id
    walk(service, clock, case_id, _special(service, clock, case_id))
    _sign(service, clock, case_id)
    yield service, service.state(case_id).events
    service.close()


def _special(service, clock, case_id):
    def cannula_before_time_out():
        why = TEXTS["override"]
        service.record_step(case_id=case_id, step="local_anesthetic", level="L2", values=_local(), override_reason=why)
        service.record_step(case_id=case_id, step="incision", level="L2", override_reason=why)
        values = {"approach": "transpedicular", "gauge": 11, "tip_ap": True, "tip_lateral": True}
        step = {"step": "cannula_placement", "level": "L2", "side": "left", "values": values}
        service.record_step(case_id=case_id, **step, override_reason=TEXTS["override"])
        record_default(service, clock, case_id)

    def corrected_then_retracted():
        record_default(service, clock, case_id)
        entry = service.state(case_id).instance("balloon_inflation", "L2", "left").entry
        service.correct(
            case_id=case_id, seq=entry.seq, values={**entry.values, "volume": 2.5}, reason=TEXTS["correction"]
        )
        service.change_staff(case_id=case_id, role="nurse", name=TEXTS["new_nurse"], reason=TEXTS["handover"])

    def retracted_closure():
        state = service.record_step(case_id=case_id, step="closure", values={"closure": "suture", "dressing": "none"})
        service.retract(case_id=case_id, seq=state.instance("closure").entry.seq, reason=TEXTS["retraction"])
        record_default(service, clock, case_id)

    return {
        ("time_out", None, None): cannula_before_time_out,
        ("balloon_inflation", "L2", "left"): corrected_then_retracted,
        ("closure", None, None): retracted_closure,
    }


def _local():
    return {"drug": "lidocaine", "concentration": 1.0, "volume": 10.0}


def _sign(service, clock, case_id):
    enrol(service, TEXTS["new_nurse"], "nurse")  # signers come from the staff directory only (SPEC §6)
    enrol(service, TEXTS["operator"], "operator")
    for warning in service.warnings(case_id, pending_only=True):
        service.acknowledge_warning(case_id=case_id, warning_id=warning.id)
    service.sign(case_id=case_id, name=TEXTS["new_nurse"], role="nurse")
    service.record_findings(
        case_id=case_id,
        findings=TEXTS["findings"],
        complications=TEXTS["complications"],
        ebl_ml=5.0,
        condition=TEXTS["condition"],
        disposition=TEXTS["disposition"],
        postop_diagnosis=TEXTS["postop"],
    )
    service.sign(case_id=case_id, name=TEXTS["operator"], role="operator", codes=service.suggested_codes(case_id))
    clock.advance(minutes=30)
    service.add_addendum(
        case_id=case_id, text=TEXTS["addendum"], reason=TEXTS["addendum_reason"], author=TEXTS["operator"]
    )


def swap(value: Any, table: Mapping[str, str]) -> Any:
    """`value` with every string equal to a key of `table` replaced, at any depth."""
    if isinstance(value, str):
        return table.get(value, value)
    if isinstance(value, Mapping):
        return {k: swap(v, table) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(swap(v, table) for v in value)
    return value


def retyped(events: list[Event], table: Mapping[str, str]) -> list[Event]:
    return [
        replace(e, actor=swap(e.actor, table), reason=swap(e.reason, table), values=swap(dict(e.values), table))
        for e in events
    ]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.fixed_dictionaries({key: free_text for key in TEXTS}))
def test_any_unicode_in_free_text_prints_verbatim(small_case, typed):
    service, events = small_case
    table = {TEXTS[key]: value for key, value in typed.items()}
    first = events[0]
    template = service.templates[first.values["setup"]["procedure"]]
    state = fold(retyped(events, table), template, service.catalogue, service.settings, service.site.coding)
    printed = squash("".join(pdf_pages(render_pdf(note_content(state)))))
    missing = {key: value for key, value in typed.items() if squash(value) not in printed}
    assert missing == {}
