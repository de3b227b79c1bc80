"""The signed case out as a FHIR R4 transaction Bundle: a pure builder, case + PDF -> validated JSON bytes.

Every entry is a conditional create (POST with `ifNoneExist` on a business identifier; Provenance,
which has no identifier in R4, on a `_tag`), and every `fullUrl` is a urn:uuid derived from the
case (uuid5), so building the same case twice gives the same bytes and a resend never creates
a second Patient, Procedure or document. References inside the bundle point at those urn:uuids,
which the server rewrites to the resources it matched or created.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fhir.resources.bundle import Bundle
from pydantic import ValidationError

from .case_export import Implant, OutboundCase
from .errors import FhirError
from .profile import (
    CPT,
    DOSE_CODES,
    FHIR_GENDER,
    GS1_DI,
    ICD10CM,
    LOCAL_MEASUREMENTS,
    LOINC,
    OBSERVATION_CATEGORY,
    OPERATIVE_NOTE,
    PROVENANCE_PARTICIPANT,
    SIGNATURE_TYPE,
    SIGNER_ROLES,
    UCUM,
    V2_0203,
    VERTEBRAL_LEVEL,
    InterfaceSettings,
)

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://checklist-app.invalid/fhir/bundle")
Resource = dict[str, Any]


def build_bundle(case: OutboundCase, pdf: bytes, settings: InterfaceSettings | None = None) -> bytes:
    """The transaction Bundle as UTF-8 JSON bytes, validated against the FHIR R4 models first."""
    data = bundle_dict(case, pdf, settings or InterfaceSettings())
    validate_bundle(data)
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")


def validate_bundle(data: dict[str, Any]) -> Bundle:
    """The bundle through fhir.resources' R4 (4.0.1) models; `FhirError` naming the failing elements."""
    try:
        return Bundle.parse_obj(data)
    except ValidationError as exc:
        where = "; ".join(".".join(str(p) for p in e["loc"]) + f": {e['msg']}" for e in exc.errors()[:5])
        raise FhirError(f"the bundle does not validate against FHIR R4: {where}") from None


def bundle_dict(case: OutboundCase, pdf: bytes, settings: InterfaceSettings) -> dict[str, Any]:
    """The bundle as plain JSON data, entries in a fixed order."""
    b = _Builder(case, settings)
    patient = b.patient()
    procedures = b.procedures(patient)
    b.observations(patient, procedures)
    b.devices(patient, procedures)
    b.specimens(patient)
    document = b.document(patient, pdf)
    b.provenances(document, procedures)
    return {
        "resourceType": "Bundle",
        "id": str(_uuid(case.case_id, "bundle", str(case.version))),
        "type": "transaction",
        "timestamp": _instant(case.issued),
        "entry": b.entries,
    }


def _uuid(case_id: str, *parts: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "/".join([case_id, *parts]))


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _search(param: str, system: str, value: str) -> str:
    """A token search (`param=system|value`) for ifNoneExist, each part percent-encoded."""
    return f"{param}={quote(system, safe=':/')}|{quote(value, safe='')}"


def _who(name: str) -> dict[str, str]:
    """A Reference by display only: the room knows people by name, not by the EHR's Practitioner id."""
    return {"display": name}


def _text(text: str) -> dict[str, str]:
    return {"text": text}


def _coding(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


class _Builder:
    """Collects entries; each `add` is a conditional create keyed on the resource's identifier."""

    def __init__(self, case: OutboundCase, settings: InterfaceSettings) -> None:
        self.case, self.settings = case, settings
        self.entries: list[dict[str, Any]] = []
        self.id_system = settings.local("case-resource")

    def add(self, resource: Resource, *parts: str, condition: str | None = None) -> str:
        key = "/".join([self.case.case_id, *parts])
        url = f"urn:uuid:{_uuid(self.case.case_id, *parts)}"
        if condition is None:
            resource["identifier"] = [{"system": self.id_system, "value": key}]
            condition = _search("identifier", self.id_system, key)
        request = {"method": "POST", "url": resource["resourceType"], "ifNoneExist": condition}
        self.entries.append({"fullUrl": url, "resource": resource, "request": request})
        return url

    def level_site(self, level: str) -> dict[str, Any]:
        return _coding(self.settings.local(VERTEBRAL_LEVEL), level, f"{level} vertebra")

    def patient(self) -> str:
        p, s = self.case.patient, self.settings
        resource: Resource = {
            "resourceType": "Patient",
            "identifier": [
                {
                    "use": "usual",
                    "type": _coding(V2_0203, "MR", "Medical record number"),
                    "system": s.mrn_system,
                    "value": p.mrn,
                }
            ],
            "name": [{"text": p.name}],  # one text in any script: never split into family/given
            "gender": FHIR_GENDER.get(p.sex, "unknown"),
        }
        if p.birth_date:
            resource["birthDate"] = p.birth_date.isoformat()
        return self.add(resource, "patient", condition=_search("identifier", s.mrn_system, p.mrn))

    def procedures(self, patient: str) -> dict[str, str]:
        """One Procedure per CPT line (one vertebral level each); returns level -> fullUrl."""
        c = self.case
        period = {k: _instant(v) for k, v in (("start", c.started), ("end", c.ended)) if v is not None}
        performers = [{"function": _text("Operator"), "actor": _who(c.operator)}]
        performers += [{"function": _text("Assistant"), "actor": _who(a)} for a in c.assistants]
        performers += [{"function": _text("Circulating nurse"), "actor": _who(c.nurse)}]
        if c.anaesthesia:
            performers.append({"function": _text("Anaesthesia provider"), "actor": _who(c.anaesthesia)})
        reasons = [_coding(ICD10CM, code, text or code) for code, text in c.icd10]
        urls = {}
        for line in c.cpt:
            resource: Resource = {
                "resourceType": "Procedure",
                "status": "completed",
                "code": _coding(CPT, line.code, line.description),
                "subject": {"reference": patient},
                "performer": performers,
                "bodySite": [self.level_site(line.level)],
                "reasonCode": reasons,
                "note": [
                    {"text": f"{c.procedure_label} at {line.level}; {c.indication}. Record {c.record_reference}."}
                ],
            }
            if period:
                resource["performedPeriod"] = period
            urls[line.level] = self.add(resource, "procedure", line.level)
        return urls

    def observation(self, patient: str, part_of: str | None, parts: tuple[str, ...], **fields: Any) -> None:
        resource: Resource = {
            "resourceType": "Observation",
            "status": "final",
            "category": [_coding(OBSERVATION_CATEGORY, "procedure", "Procedure")],
            "subject": {"reference": patient},
            **fields,
        }
        if part_of:
            resource["partOf"] = [{"reference": part_of}]
        self.add(resource, "observation", *parts)

    def local_measure(self, key: str, value: float) -> dict[str, Any]:
        display, ucum, unit = LOCAL_MEASUREMENTS[key]
        code = _coding(self.settings.local("measurement"), key, display)
        return {"code": code, "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": ucum}}

    def observations(self, patient: str, procedures: dict[str, str]) -> None:
        c = self.case
        for inj in c.injections:
            if inj.volume_ml is not None:
                where = {"bodySite": self.level_site(inj.level), "effectiveDateTime": _instant(inj.at)}
                fields = self.local_measure("cement-volume", inj.volume_ml) | where
                self.observation(patient, procedures.get(inj.level), ("cement", inj.level, inj.side), **fields)
        for inf in c.inflations:
            where = {"bodySite": self.level_site(inf.level), "effectiveDateTime": _instant(inf.at)}
            for key, value in (("balloon-pressure", inf.pressure_psi), ("balloon-volume", inf.volume_ml)):
                if value is not None:
                    fields = self.local_measure(key, value) | where
                    self.observation(patient, procedures.get(inf.level), (key, inf.level, inf.side), **fields)
        self.dose(patient, next(iter(procedures.values()), None))

    def dose(self, patient: str, part_of: str | None) -> None:
        dose = self.case.dose
        if dose is None:
            return
        when = {"effectiveDateTime": _instant(dose.recorded_at)}
        for attr, (system, code, display, ucum, unit) in DOSE_CODES.items():
            value = getattr(dose, attr)
            if value is not None:
                quantity = {"value": value, "unit": unit, "system": UCUM, "code": ucum}
                fields = {"code": _coding(system, code, display), "valueQuantity": quantity} | when
                self.observation(patient, part_of, ("dose", attr), **fields)
        if dose.runs is not None:
            self.observation(
                patient, part_of, ("dose", "runs"), **(self.local_measure("fluoro-runs", dose.runs) | when)
            )

    def devices(self, patient: str, procedures: dict[str, str]) -> None:
        urls = {
            implant.key: self.add(self.device(implant, patient), "device", str(implant.key))
            for implant in self.case.implants
        }
        for entry in self.entries:
            resource = entry["resource"]
            if resource["resourceType"] != "Procedure":
                continue
            cement = [urls[i.key] for i in self.case.implants if i.kind == "cement"]
            balloons = [urls[i.key] for i in self.case.implants if i.kind == "balloon"]
            if cement:
                resource["focalDevice"] = [
                    {"action": _text("Implanted"), "manipulated": {"reference": u}} for u in cement
                ]
            if balloons:
                resource["usedReference"] = [{"reference": u} for u in balloons]

    def device(self, implant: Implant, patient: str) -> Resource:
        resource: Resource = {
            "resourceType": "Device",
            "status": "active",
            "deviceName": [{"name": implant.product, "type": "user-friendly-name"}],
            "type": _text(
                "Bone cement" if implant.kind == "cement" else "Balloon kyphoplasty kit (inflatable bone tamp)"
            ),
            "patient": {"reference": patient},
        }
        if implant.gtin:
            carrier = {"deviceIdentifier": implant.gtin, "issuer": GS1_DI, "carrierHRF": _udi_hrf(implant)}
            resource["udiCarrier"] = [carrier]
        for key, value in (
            ("manufacturer", implant.manufacturer),
            ("lotNumber", implant.lot),
            ("serialNumber", implant.serial),
        ):
            if value:
                resource[key] = value
        if implant.expiry:
            resource["expirationDate"] = implant.expiry.isoformat()
        return resource

    def specimens(self, patient: str) -> None:
        for spec in self.case.specimens:
            collection = {"collectedDateTime": _instant(spec.collected_at), "bodySite": self.level_site(spec.level)}
            resource: Resource = {
                "resourceType": "Specimen",
                "status": "available",
                "type": _text("Bone biopsy"),
                "subject": {"reference": patient},
                "collection": collection,
                "container": [{"description": spec.container or "not recorded"}],
                "note": [{"text": f"Side: {spec.side or 'not recorded'}"}],
            }
            self.add(resource, "specimen", spec.level)

    def document(self, patient: str, pdf: bytes) -> str:
        c, s = self.case, self.settings
        number = f"{c.case_id}-v{c.version}"
        system = s.local("document")
        resource: Resource = {
            "resourceType": "DocumentReference",
            "masterIdentifier": {"system": system, "value": number},
            "status": "current",
            "docStatus": "final" if c.version == 1 else "amended",
            "type": _coding(LOINC, *OPERATIVE_NOTE),
            "subject": {"reference": patient},
            "date": _instant(c.issued),
            "author": [_who(c.operator)],
            "authenticator": _who(c.operator),
            "description": f"Operative note, {c.procedure_label}, version {c.version} ({c.status})",
            "content": [
                {
                    "attachment": {
                        "contentType": "application/pdf",
                        "data": base64.b64encode(pdf).decode("ascii"),
                        "title": f"operative-note-{c.case_id}-v{c.version}.pdf",
                        "creation": _instant(c.issued),
                    }
                }
            ],
        }
        if c.version > 1:
            first = "DocumentReference?" + _search("identifier", system, f"{c.case_id}-v1")
            resource["relatesTo"] = [{"code": "appends", "target": {"reference": first}}]
        return self.add(resource, "document", str(c.version), condition=_search("identifier", system, number))

    def provenances(self, document: str, procedures: dict[str, str]) -> None:
        tag_system = self.settings.local("provenance")
        targets = [{"reference": document}] + [{"reference": u} for u in procedures.values()]
        for index, sig in enumerate(self.case.signatures, start=1):
            sig_code, sig_display, agent_code, agent_display = SIGNER_ROLES.get(sig.role, SIGNER_ROLES["operator"])
            when = _instant(sig.signed_at)
            tag = f"{self.case.case_id}/signature/{index}"
            resource: Resource = {
                "resourceType": "Provenance",
                "meta": {"tag": [{"system": tag_system, "code": tag}]},
                "target": targets,
                "recorded": when,
                "reason": [_text(f"{sig.role} signature: {sig.meaning}")],
                "agent": [{"type": _coding(PROVENANCE_PARTICIPANT, agent_code, agent_display), "who": _who(sig.name)}],
                "signature": [
                    {
                        "type": [{"system": SIGNATURE_TYPE, "code": sig_code, "display": sig_display}],
                        "when": when,
                        "who": _who(sig.name),
                    }
                ],
            }
            self.add(resource, "provenance", str(index), condition=_search("_tag", tag_system, tag))


def _udi_hrf(implant: Implant) -> str:
    """GS1 human-readable UDI: (01) GTIN (17) expiry YYMMDD (10) lot (21) serial."""
    text = f"(01){implant.gtin}"
    if implant.expiry:
        text += f"(17){implant.expiry:%y%m%d}"
    if implant.lot:
        text += f"(10){implant.lot}"
    if implant.serial:
        text += f"(21){implant.serial}"
    return text
