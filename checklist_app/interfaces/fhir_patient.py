"""Patients in over FHIR R4: `GET [base]/Patient?identifier=|name=|birthdate=`, searchset -> `PatientRecord`s.

Each entry is validated with the R4 `Patient` model; an entry that is not a Patient (an
OperationOutcome with search warnings, an included resource) is skipped. Fields read: the
identifier of type MR (else the first; system as the assigning authority), the name of use
`official` (else the first; family, given, or `text` when only text is sent), gender, birthDate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from fhir.resources.bundle import Bundle
from fhir.resources.patient import Patient
from pydantic import ValidationError

from .errors import Delivery, FhirError, Outcome, PatientDataError
from .fhir_http import FhirEndpoint
from .patients import Identifier, PatientRecord

MAX_BUNDLE_BYTES = 8 * 1024 * 1024
_GENDER = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}


def search_params(*, identifier: str | None = None, name: str | None = None, birthdate: date | None = None) -> dict:
    """Query parameters for a Patient search; at least one criterion."""
    params = {k: v for k, v in (("identifier", identifier), ("name", name)) if v}
    if birthdate is not None:
        params["birthdate"] = birthdate.isoformat()
    if not params:
        raise ValueError("search needs an identifier, a name or a birth date")
    return params


def parse_patient_bundle(body: bytes | str) -> list[PatientRecord]:
    """The patients of a searchset Bundle; `FhirError` for anything that is not one."""
    data = _load(body)
    try:
        bundle = Bundle.parse_obj(data)
    except (ValidationError, TypeError, ValueError, AttributeError, KeyError, RecursionError):
        raise FhirError("the answer is not a valid FHIR R4 Bundle") from None
    if bundle.type != "searchset":
        raise FhirError(f"expected a searchset Bundle, got type {bundle.type!r}")
    records = []
    for entry in bundle.entry or []:
        resource = entry.resource
        if isinstance(resource, Patient):
            record = _record(resource)
            if record is not None:
                records.append(record)
    return records


def _load(body: bytes | str) -> dict[str, Any]:
    if isinstance(body, bytes):
        if len(body) > MAX_BUNDLE_BYTES:
            raise FhirError("the answer is too large")
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise FhirError("the answer is not UTF-8") from None
    if not isinstance(body, str):
        raise FhirError("the answer is not text")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise FhirError("the answer is not JSON") from None
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise FhirError("the answer is not a Bundle")
    return data


def _record(patient: Patient) -> PatientRecord | None:
    """A PatientRecord, or None for a Patient this program cannot use (no MRN, no name, bad text)."""
    ids = patient.identifier or []
    chosen = next((i for i in ids if _is_mr(i)), ids[0] if ids else None)
    if chosen is None or not chosen.value:
        return None
    names = patient.name or []
    name = next((n for n in names if n.use == "official"), names[0] if names else None)
    if name is None:
        return None
    family = name.family or ""
    given = tuple(name.given or ())
    if not family and not given:
        family = name.text or ""
    try:
        return PatientRecord(
            mrn=Identifier(chosen.value, chosen.system or ""),
            family=family,
            given=given,
            birth_date=patient.birthDate if isinstance(patient.birthDate, date) else None,
            sex=_GENDER.get(patient.gender or "", "unknown"),
        )
    except PatientDataError:
        return None


def _is_mr(identifier: Any) -> bool:
    codings = identifier.type.coding if identifier.type and identifier.type.coding else []
    return any(c.code == "MR" for c in codings)


@dataclass(frozen=True)
class PatientSearch:
    """The result of a search: the delivery outcome and, when accepted, the patients found."""

    delivery: Delivery
    patients: tuple[PatientRecord, ...] = ()


def search_patients(
    endpoint: FhirEndpoint,
    *,
    identifier: str | None = None,
    name: str | None = None,
    birthdate: date | None = None,
) -> PatientSearch:
    """Search the hospital's FHIR server (worker thread only). Errors never quote the criteria."""
    params = search_params(identifier=identifier, name=name, birthdate=birthdate)
    try:
        with endpoint.client() as client:
            response = client.get("Patient", params=params)
    except httpx.TimeoutException:
        return PatientSearch(Delivery(Outcome.TRANSIENT, f"no answer within {endpoint.timeout:g} s"))
    except httpx.TransportError as exc:
        return PatientSearch(Delivery(Outcome.TRANSIENT, f"network error ({type(exc).__name__})"))
    code = str(response.status_code)
    if response.status_code >= 500:
        return PatientSearch(Delivery(Outcome.TRANSIENT, f"server error HTTP {code}", code))
    if response.status_code != 200:
        return PatientSearch(Delivery(Outcome.REJECTED, f"HTTP {code}", code))
    try:
        found = parse_patient_bundle(response.content)
    except FhirError as exc:
        return PatientSearch(Delivery(Outcome.REJECTED, str(exc), code))
    return PatientSearch(Delivery(Outcome.ACCEPTED, f"{len(found)} patients", code), tuple(found))
