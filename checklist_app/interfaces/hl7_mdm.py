"""The signed operative report out as HL7 v2.5 MDM (T02, addenda T06): a pure builder, case + PDF -> message.

Version 1 of a case's document (the operator-signed note) is MDM^T02 "original document
notification and content". Each addendum makes a new document version, sent as MDM^T06
"document addendum notification and content" (HL7 v2.5 ch. 9): its own unique document number
(TXA-12) with the original's number as parent (TXA-13); the PDF it carries is the whole amended
note. `InterfaceSettings.addendum_trigger = "T02"` sends it as T02 with the same parent link.

MSH-10 is stable per (case, document version), so a resend is recognisably the same message.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

from . import hl7v2
from .case_export import OutboundCase
from .hl7v2 import components, escape, segment, timestamp
from .profile import HL7_SEX, OPERATIVE_NOTE, InterfaceSettings

MAX_CONTROL_ID = 20  # MSH-10 is ST(20) in v2.5


def control_id(case_id: str, version: int) -> str:
    """MSH-10 for (case, version): '<case>.<version>' when it fits, else a stable 20-character digest."""
    readable = f"{case_id}.{version}"
    if len(readable) <= MAX_CONTROL_ID and all(ch.isalnum() or ch in "-." for ch in readable):
        return readable
    return "CL" + hashlib.sha256(readable.encode("utf-8")).hexdigest()[: MAX_CONTROL_ID - 2].upper()


def document_number(case_id: str, version: int) -> str:
    """TXA-12 unique document number (EI-1): one per document version."""
    return f"{case_id}-v{version}"


def trigger(case: OutboundCase, settings: InterfaceSettings) -> str:
    return "T02" if case.version == 1 else settings.addendum_trigger


def build_mdm(case: OutboundCase, pdf: bytes, settings: InterfaceSettings | None = None) -> str:
    """The MDM message text (segments separated by CR), read back by python-hl7 before it is returned."""
    settings = settings or InterfaceSettings()
    event = trigger(case, settings)
    segments = [
        _msh(case, settings, event),
        segment("EVN", event, timestamp(case.issued)),
        _pid(case, settings),
        segment("PV1", "1", "U"),  # PV1 is required in MDM_T02; patient class U (unknown) when no visit is known
        _txa(case, settings, pdf),
        _obx(case, pdf),
    ]
    return hl7v2.assemble(segments)


def build_mdm_bytes(case: OutboundCase, pdf: bytes, settings: InterfaceSettings | None = None) -> bytes:
    """`build_mdm` as the UTF-8 bytes written to a file or an MLLP block."""
    return build_mdm(case, pdf, settings).encode(hl7v2.ENCODING)


def _msh(case: OutboundCase, settings: InterfaceSettings, event: str) -> str:
    return segment(
        "MSH",
        hl7v2.ENCODING_CHARACTERS,
        escape(settings.sending_application),
        escape(settings.sending_facility),
        escape(settings.receiving_application),
        escape(settings.receiving_facility),
        timestamp(case.issued),
        "",
        f"MDM^{event}^MDM_T02",
        control_id(case.case_id, case.version),
        escape(settings.processing_id),
        "2.5",
        "",
        "",
        "",
        "",
        "",
        hl7v2.CHARSET,
    )


def _pid(case: OutboundCase, settings: InterfaceSettings) -> str:
    patient = case.patient
    mrn = components(patient.mrn, "", "", settings.mrn_authority, "MR")
    # The room records the name as one text in any script: it goes in XPN-1 whole, never split.
    name = components(patient.name)
    dob = patient.birth_date.strftime("%Y%m%d") if patient.birth_date else ""
    return segment("PID", "1", "", mrn, "", name, "", dob, HL7_SEX.get(patient.sex, "U"))


def _person(name: str, at: datetime | None = None) -> str:
    """XCN with the name in XPN family-name position (one text); PPN adds the time as component 15."""
    parts = ["", name] + ([""] * 12 + [timestamp(at)] if at is not None else [])
    return "^".join(escape(p) for p in parts).rstrip("^")


def _txa(case: OutboundCase, settings: InterfaceSettings, pdf: bytes) -> str:
    app = escape(settings.sending_application)
    parent = f"{escape(document_number(case.case_id, 1))}^{app}" if case.version > 1 else ""
    operator_signed = next((s.signed_at for s in case.signatures if s.role == "operator"), case.issued)
    return segment(
        "TXA",
        "1",
        "OP",  # table 0270: operative report
        "AP",  # table 0191: other application data (the PDF)
        timestamp(case.started) if case.started else "",
        _person(case.operator),
        timestamp(case.issued),
        "",
        timestamp(case.issued) if case.version > 1 else "",
        _person(case.operator),
        "",
        "",
        f"{escape(document_number(case.case_id, case.version))}^{app}",
        parent,
        "",
        "",
        escape(f"operative-note-{case.case_id}-v{case.version}.pdf"),
        "LA",  # table 0271: legally authenticated (signed)
        "",
        "AV",  # table 0273: available for patient care
        "",
        escape(f"addendum {case.version - 1}") if case.version > 1 else "",
        _person(case.operator, operator_signed),
    )


def _obx(case: OutboundCase, pdf: bytes) -> str:
    data = base64.b64encode(pdf).decode("ascii")  # base64 holds no HL7 delimiter: nothing to escape
    code, text = OPERATIVE_NOTE
    return segment(
        "OBX",
        "1",
        "ED",
        components(code, text, "LN"),
        "",
        f"^AP^PDF^Base64^{data}",  # ED: source, type (0191), subtype, encoding (0299), data
        "",
        "",
        "",
        "",
        "",
        "F",
        "",
        "",
        timestamp(case.issued),
    )
