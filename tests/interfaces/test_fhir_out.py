"""The signed record out as a FHIR R4 transaction bundle, and its POST to a local server that answers like FHIR."""

from __future__ import annotations

import base64
import json
import stat

import pytest
from fhir.resources import __fhir_version__
from fhir.resources.bundle import Bundle

from checklist_app.interfaces import FhirError, Outcome
from checklist_app.interfaces.export import export_fhir, export_hl7, fhir_bytes
from checklist_app.interfaces.fhir_bundle import validate_bundle
from checklist_app.interfaces.fhir_http import FhirEndpoint, post_transaction
from checklist_app.note import render_note
from tests.note.note_cases import KYPHO


@pytest.fixture
def bundle(signed_case) -> dict:
    service, case_id = signed_case
    return json.loads(fhir_bytes(service.state(case_id)))


def _of(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_the_bundle_validates_against_the_fhir_r4_models(bundle):
    assert __fhir_version__ == "4.0.1"  # R4 proper, not R4B (4.3.0) or R5
    parsed = Bundle.parse_obj(bundle)

    assert parsed.type == "transaction"
    kinds = {type(e.resource).__name__ for e in parsed.entry}
    assert kinds == {"Patient", "Procedure", "Observation", "Device", "Specimen", "DocumentReference", "Provenance"}


def test_every_entry_is_a_conditional_create_with_a_deterministic_urn_uuid(bundle):
    urls = [e["fullUrl"] for e in bundle["entry"]]

    assert all(u.startswith("urn:uuid:") for u in urls) and len(set(urls)) == len(urls)
    assert all(e["request"]["method"] == "POST" and e["request"]["ifNoneExist"] for e in bundle["entry"])
    [patient] = _of(bundle, "Patient")
    assert patient["identifier"][0]["value"] == KYPHO["mrn"] and patient["name"] == [{"text": KYPHO["patient"]}]
    assert bundle["entry"][0]["request"]["ifNoneExist"].startswith("identifier=urn:oid:2.16.840.1.113883.19.5|")


def test_building_the_same_case_twice_gives_identical_bytes(signed_case):
    service, case_id = signed_case
    state = service.state(case_id)

    assert fhir_bytes(state) == fhir_bytes(state)


def test_procedures_carry_cpt_per_level_and_the_level_as_body_site(bundle):
    procedures = _of(bundle, "Procedure")

    assert [(p["code"]["coding"][0]["code"], p["bodySite"][0]["coding"][0]["code"]) for p in procedures] == [
        ("22513", "T12"),
        ("22515", "L1"),
    ]
    assert {p["status"] for p in procedures} == {"completed"}
    assert [f["function"]["text"] for f in procedures[0]["performer"]][:2] == ["Operator", "Assistant"]
    assert procedures[0]["reasonCode"][0]["coding"][0]["code"] == "M80.08XA"


def test_observations_hold_cement_balloon_and_dose_with_ucum_units(bundle):
    found = {(o["code"]["coding"][0]["code"], o["valueQuantity"]["code"]) for o in _of(bundle, "Observation")}

    assert {
        ("cement-volume", "mL"),
        ("balloon-pressure", "[psi]"),
        ("balloon-volume", "mL"),
        ("113730", "min"),
        ("113725", "mGy"),
        ("113722", "Gy.cm2"),
    } <= found
    cement = [o for o in _of(bundle, "Observation") if o["code"]["coding"][0]["code"] == "cement-volume"]
    assert sorted(o["valueQuantity"]["value"] for o in cement) == [3.0, 3.0, 3.0, 3.5]  # T12 left corrected to 3.5


def test_implants_are_devices_with_their_udi_and_a_biopsy_is_a_specimen(bundle):
    kit = next(d for d in _of(bundle, "Device") if d.get("serialNumber"))

    assert kit["udiCarrier"][0]["carrierHRF"] == "(01)00614141200023(17)300630(10)BK12345(21)SN-0042"
    assert (kit["lotNumber"], kit["expirationDate"]) == ("BK12345", "2030-06-30")
    [specimen] = _of(bundle, "Specimen")
    assert specimen["collection"]["bodySite"]["coding"][0]["code"] == "T12"


def test_the_document_carries_the_pdf_and_each_signature_has_a_provenance(signed_case, bundle):
    service, case_id = signed_case
    [document] = _of(bundle, "DocumentReference")
    attachment = document["content"][0]["attachment"]

    assert attachment["contentType"] == "application/pdf"
    assert base64.b64decode(attachment["data"]) == render_note(service.state(case_id))
    assert document["docStatus"] == "amended" and document["relatesTo"][0]["code"] == "appends"
    roles = [p["agent"][0]["type"]["coding"][0]["code"] for p in _of(bundle, "Provenance")]
    assert roles == ["performer", "author", "author"]  # nurse, operator, addendum author


def test_an_invalid_bundle_is_refused_with_the_failing_element_named(bundle):
    bundle["entry"][1]["resource"]["status"] = ["not", "a", "code"]

    with pytest.raises(FhirError, match="status"):
        validate_bundle(bundle)


def test_export_writes_owner_only_files_identical_on_a_second_export(signed_case, tmp_path):
    service, case_id = signed_case
    fhir, hl7 = tmp_path / "bundle.json", tmp_path / "msg.hl7"

    export_fhir(service, case_id, fhir)
    export_hl7(service, case_id, hl7)
    first = fhir.read_bytes(), hl7.read_bytes()
    export_fhir(service, case_id, fhir)
    export_hl7(service, case_id, hl7)

    assert (fhir.read_bytes(), hl7.read_bytes()) == first
    assert stat.S_IMODE(fhir.stat().st_mode) == 0o600 and stat.S_IMODE(hl7.stat().st_mode) == 0o600
    assert hl7.read_bytes().startswith(b"MSH|^~\\&|") and b"\rOBX|1|ED|" in hl7.read_bytes()


# -- POST to a FHIR-like server -----------------------------------------------------------------
def _post(fhir_server, signed_case, timeout: float = 10.0):
    service, case_id = signed_case
    endpoint = FhirEndpoint(fhir_server.url, timeout=timeout)
    return post_transaction(
        endpoint, fhir_bytes(service.state(case_id)), patient_words=(KYPHO["patient"], KYPHO["mrn"])
    )


def _outcome(code: str, text: str) -> dict:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code, "diagnostics": text}]}


def test_a_transaction_response_is_accepted(fhir_server, signed_case):
    fhir_server.responses.append((200, {"resourceType": "Bundle", "type": "transaction-response", "entry": [{}] * 3}))

    delivery = _post(fhir_server, signed_case)

    assert (delivery.outcome, delivery.code) == (Outcome.ACCEPTED, "200")
    [(method, path, body)] = fhir_server.requests
    assert (method, path) == ("POST", "/fhir/") and json.loads(body)["type"] == "transaction"


@pytest.mark.parametrize("status", [400, 422])
def test_a_4xx_is_rejected_showing_the_operation_outcome_without_patient_data(fhir_server, signed_case, status):
    text = f"Patient {KYPHO['mrn']} ({KYPHO['patient']}): Procedure.code not in value set"
    fhir_server.responses.append((status, _outcome("invalid", text)))

    delivery = _post(fhir_server, signed_case)

    assert (delivery.outcome, delivery.code) == (Outcome.REJECTED, str(status))
    assert delivery.detail == "error invalid: Patient [withheld] ([withheld]): Procedure.code not in value set"


def test_a_5xx_is_transient(fhir_server, signed_case):
    fhir_server.responses.append((503, _outcome("transient", "database busy")))

    assert _post(fhir_server, signed_case).outcome is Outcome.TRANSIENT


def test_no_answer_within_the_timeout_is_transient(fhir_server, signed_case):
    fhir_server.hold = True

    delivery = _post(fhir_server, signed_case, timeout=0.5)

    assert (delivery.outcome, delivery.detail) == (Outcome.TRANSIENT, "no answer within 0.5 s")


def test_a_2xx_that_is_not_a_transaction_response_is_rejected(fhir_server, signed_case):
    fhir_server.responses.append((200, {"resourceType": "OperationOutcome", "issue": []}))

    assert _post(fhir_server, signed_case).outcome is Outcome.REJECTED


def test_a_refused_connection_is_transient(signed_case):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    service, case_id = signed_case

    delivery = post_transaction(
        FhirEndpoint(f"http://127.0.0.1:{port}/fhir", timeout=5), fhir_bytes(service.state(case_id))
    )

    assert (delivery.outcome, delivery.detail) == (Outcome.TRANSIENT, "network error (ConnectError)")


def test_export_is_refused_for_an_unknown_path_before_building(signed_case, tmp_path):
    from checklist_app.domain.errors import Refusal

    service, case_id = signed_case
    with pytest.raises(Refusal):
        export_hl7(service, case_id, tmp_path / "missing-folder" / "msg.hl7")
