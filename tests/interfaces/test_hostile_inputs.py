"""Hostile inputs: every parser raises nothing but the package's own documented error types."""

from __future__ import annotations

import contextlib
import json
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checklist_app.interfaces import FhirError, FramingError, HL7Error
from checklist_app.interfaces.adt import parse_adt
from checklist_app.interfaces.fhir_http import FhirEndpoint, classify_response
from checklist_app.interfaces.fhir_patient import parse_patient_bundle, search_patients
from checklist_app.interfaces.mllp import classify_ack, frame, unframe
from tests.interfaces.conftest import adt

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DELIMITERS = st.sampled_from(list("|^~\\&\r\n") + ["MSH", "PID", "MRG", "PV1", "\\X41\\", "\\.sk3\\", "\\Qx\\"])
HL7ISH = st.lists(st.one_of(DELIMITERS, st.text(max_size=6)), max_size=40).map("".join)


@FAST
@given(st.text(max_size=400))
def test_the_adt_parser_raises_only_hl7_error_for_any_text(text):
    try:
        parse_adt(text)
    except HL7Error as exc:
        assert exc.ack_code in ("AE", "AR")


@FAST
@given(HL7ISH)
def test_the_adt_parser_raises_only_hl7_error_for_text_made_of_hl7_pieces(text):
    with contextlib.suppress(HL7Error):
        parse_adt("MSH|^~\\&|" + text)


@FAST
@given(st.integers(min_value=0, max_value=400), st.text(max_size=8))
def test_the_adt_parser_raises_only_hl7_error_for_a_real_message_with_text_spliced_in(at, insert):
    message = adt("A40", extra="MRG|OLD^^^GENERAL^MR")
    with contextlib.suppress(HL7Error):
        parse_adt(message[:at] + insert + message[at:])


@FAST
@given(st.binary(max_size=300))
def test_mllp_unframing_raises_only_framing_error_for_any_bytes(data):
    try:
        payload = unframe(data)
    except FramingError:
        return
    assert frame(payload) == bytes(data)


@FAST
@given(st.binary(max_size=300).filter(lambda b: b"\x0b" not in b and b"\x1c" not in b))
def test_mllp_framing_round_trips_any_message_bytes(payload):
    assert unframe(frame(payload)) == payload


@FAST
@given(st.binary(max_size=300), st.text(max_size=20))
def test_an_ack_of_any_bytes_is_classified_never_raised(data, control_id):
    assert classify_ack(data, control_id).outcome is not None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
PATIENTISH = st.fixed_dictionaries(
    {"resourceType": st.just("Patient")},
    optional={
        "identifier": JSON,
        "name": JSON,
        "birthDate": st.one_of(st.text(max_size=12), JSON),
        "gender": st.one_of(st.sampled_from(["female", "male", "other", "unknown", "x"]), JSON),
    },
)


@FAST
@given(st.binary(max_size=300))
def test_the_patient_bundle_parser_raises_only_fhir_error_for_any_bytes(data):
    with contextlib.suppress(FhirError):
        parse_patient_bundle(data)


@FAST
@given(st.lists(st.one_of(PATIENTISH, JSON), max_size=4), st.sampled_from(["searchset", "collection", 3]))
def test_the_patient_bundle_parser_raises_only_fhir_error_for_odd_bundles(resources, kind):
    body = {"resourceType": "Bundle", "type": kind, "entry": [{"resource": r} for r in resources]}
    try:
        records = parse_patient_bundle(json.dumps(body))
    except FhirError:
        return
    assert all(r.mrn.value for r in records)


@FAST
@given(st.integers(min_value=100, max_value=599), st.binary(max_size=200))
def test_any_http_answer_is_classified_never_raised(status, body):
    assert classify_response(status, body).outcome is not None


def test_a_searchset_gives_patient_records_and_skips_what_it_cannot_use():
    body = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [
                        {"system": "urn:ssn", "value": "123"},
                        {"type": {"coding": [{"code": "MR"}]}, "system": "urn:oid:1.2.3", "value": "MRN-5"},
                    ],
                    "name": [
                        {"use": "nickname", "given": ["Zi"]},
                        {"use": "official", "family": "王", "given": ["小明"]},
                    ],
                    "gender": "male",
                    "birthDate": "1951-07-04",
                }
            },
            {"resource": {"resourceType": "Patient", "name": [{"family": "No identifier"}]}},
            {
                "resource": {
                    "resourceType": "OperationOutcome",
                    "issue": [{"severity": "information", "code": "informational"}],
                }
            },
        ],
    }

    [record] = parse_patient_bundle(json.dumps(body).encode())

    assert (record.mrn.value, record.mrn.authority, record.family, record.given) == (
        "MRN-5",
        "urn:oid:1.2.3",
        "王",
        ("小明",),
    )
    assert (record.birth_date, record.sex) == (date(1951, 7, 4), "male")


def test_a_patient_search_asks_get_patient_with_the_criteria(fhir_server):
    fhir_server.responses.append((200, {"resourceType": "Bundle", "type": "searchset", "entry": []}))

    result = search_patients(
        FhirEndpoint(fhir_server.url, timeout=5), identifier="urn:oid:1.2.3|MRN-5", birthdate=date(1951, 7, 4)
    )

    assert result.delivery.accepted and result.patients == ()
    [(method, path, _)] = fhir_server.requests
    assert method == "GET" and path == "/fhir/Patient?identifier=urn%3Aoid%3A1.2.3%7CMRN-5&birthdate=1951-07-04"
