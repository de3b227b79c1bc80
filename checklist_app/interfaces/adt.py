"""Patients in over HL7 v2: ADT A01, A04, A08, A31 (upsert) and A40 (merge) to a `PatientRecord`.

Fields read (HL7 v2.5 names; 2.3 to 2.8 messages read the same way):
MSH-9 type, MSH-10 control id, MSH-12 version; PID-3 patient identifier list (the repetition with
identifier type MR, else the first; CX-1 value, CX-4 assigning authority), PID-5 patient name (the
repetition with name type L, else the first; XPN-1 family, XPN-2 given, XPN-3 further given),
PID-7 birth date, PID-8 sex; PV1-2 patient class, PV1-3 location, PV1-19 visit number, PV1-44 admit
time; for A40, MRG-1 prior patient identifier list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import hl7

from . import hl7v2
from .errors import (
    AE,
    AR,
    ERR_REQUIRED_FIELD,
    ERR_UNSUPPORTED_EVENT,
    ERR_UNSUPPORTED_MESSAGE,
    ERR_UNSUPPORTED_VERSION,
    HL7Error,
    PatientDataError,
)
from .patients import Identifier, PatientList, PatientOperation, PatientRecord, Visit

UPSERT_TRIGGERS = ("A01", "A04", "A08", "A31")  # admit, register, update, update person information
MERGE_TRIGGERS = ("A40",)  # merge patient - patient identifier list
SUPPORTED_TRIGGERS = UPSERT_TRIGGERS + MERGE_TRIGGERS
# HL7 table 0001 administrative sex -> this program's words.
SEX_CODES = {"F": "female", "M": "male", "O": "other", "A": "other", "U": "unknown", "N": "unknown"}


@dataclass(frozen=True)
class AdtEvent:
    """What one ADT message asks: upsert `patient`, or merge `prior` into `patient`."""

    control_id: str
    trigger: str
    operation: str
    patient: PatientRecord
    prior: Identifier | None = None


def parse_adt(text: str, *, default_authority: str = "") -> AdtEvent:
    """The patient (and, for A40, the prior MRN) an ADT message carries.

    Raises only `HL7Error`: AR for a message that is not HL7 or not a supported ADT event or
    version, AE for a supported event with missing or unusable content. `default_authority` is
    used when CX-4 is empty (sites whose MRNs carry no assigning authority).
    """
    message = hl7v2.parse(text)
    head = hl7v2.header(message)
    _check_supported(head)
    try:
        return _event(message, head, default_authority)
    except PatientDataError as exc:
        raise HL7Error(str(exc), ack_code=AE, control_id=head.control_id, message_type=head.message_type) from None


def _check_supported(head: hl7v2.Header) -> None:
    def reject(reason: str, condition: str) -> HL7Error:
        return HL7Error(
            reason, ack_code=AR, condition=condition, control_id=head.control_id, message_type=head.message_type
        )

    if not head.control_id:
        raise reject("MSH-10 message control id is missing", ERR_REQUIRED_FIELD)
    if head.message_code != "ADT":
        raise reject(f"message type {head.message_code or '(empty)'} is not accepted here", ERR_UNSUPPORTED_MESSAGE)
    if head.trigger not in SUPPORTED_TRIGGERS:
        raise reject(f"ADT event {head.trigger or '(empty)'} is not accepted here", ERR_UNSUPPORTED_EVENT)
    if not head.version.startswith("2."):
        raise reject(f"HL7 version {head.version or '(empty)'} is not accepted here", ERR_UNSUPPORTED_VERSION)


def _event(message: hl7.Message, head: hl7v2.Header, default_authority: str) -> AdtEvent:
    pids = hl7v2.segments(message, "PID")
    if len(pids) > 1:
        raise HL7Error(
            "more than one PID segment: send one patient (one merge) per message",
            control_id=head.control_id,
            message_type=head.message_type,
        )
    pid = hl7v2.required_segment(message, "PID", head)
    mrn = _identifier(pid, 3, default_authority, "PID-3 patient identifier", head)
    pv1 = hl7v2.segments(message, "PV1")
    record = PatientRecord(
        mrn=mrn,
        family=hl7v2.value(pid, 5, 1, 1, _name_repetition(pid)),
        given=tuple(hl7v2.value(pid, 5, c, 1, _name_repetition(pid)) for c in (2, 3)),
        birth_date=hl7v2.parse_date(hl7v2.value(pid, 7)),
        sex=SEX_CODES.get(hl7v2.value(pid, 8).upper()[:1], "unknown"),
        visit=_visit(pv1[0]) if pv1 else None,
    )
    if head.trigger in MERGE_TRIGGERS:
        mrg = hl7v2.required_segment(message, "MRG", head)
        prior = _identifier(mrg, 1, mrn.authority, "MRG-1 prior patient identifier", head)
        return AdtEvent(head.control_id, head.trigger, PatientOperation.MERGE, record, prior)
    return AdtEvent(head.control_id, head.trigger, PatientOperation.UPSERT, record)


def _identifier(seg: hl7.Segment, field: int, default_authority: str, what: str, head: hl7v2.Header) -> Identifier:
    reps = hl7v2.repetitions(seg, field)
    chosen = next((i for i, rep in enumerate(reps, 1) if _component(rep, 5) == "MR"), 1)
    value = hl7v2.value(seg, field, 1, 1, chosen)
    if not value.strip():
        raise HL7Error(
            f"{what} is missing",
            condition=ERR_REQUIRED_FIELD,
            control_id=head.control_id,
            message_type=head.message_type,
        )
    authority = hl7v2.value(seg, field, 4, 1, chosen) or hl7v2.value(seg, field, 4, 2, chosen)
    return Identifier(value, authority or default_authority)


def _name_repetition(pid: hl7.Segment) -> int:
    reps = hl7v2.repetitions(pid, 5)
    return next((i for i, rep in enumerate(reps, 1) if _component(rep, 7) == "L"), 1)


def _component(rep: list[list[str]], index: int) -> str:
    return rep[index - 1][0] if index <= len(rep) and rep[index - 1] else ""


def _visit(pv1: hl7.Segment) -> Visit | None:
    location = "/".join(p for p in (hl7v2.value(pv1, 3, c) for c in (1, 2, 3)) if p)
    visit = Visit(
        number=hl7v2.value(pv1, 19),
        patient_class=hl7v2.value(pv1, 2)[:2],
        location=location,
        admitted=hl7v2.parse_timestamp(hl7v2.value(pv1, 44)),
    )
    return visit if (visit.number or visit.location or visit.patient_class) else None


def apply_adt(event: AdtEvent, patients: PatientList, *, at: datetime) -> None:
    """Carry out what the event asks on the patient list."""
    if event.operation == PatientOperation.MERGE and event.prior is not None:
        patients.merge(prior=event.prior, record=event.patient, at=at)
    else:
        patients.upsert(event.patient, at=at)


class AdtHandler:
    """The MLLP listener's handler for ADT: parse, then update the patient list; errors are `HL7Error`."""

    def __init__(
        self,
        patients: PatientList,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        default_authority: str = "",
    ) -> None:
        self.patients = patients
        self.now = now
        self.default_authority = default_authority

    def __call__(self, text: str) -> None:
        event = parse_adt(text, default_authority=self.default_authority)
        apply_adt(event, self.patients, at=self.now())
