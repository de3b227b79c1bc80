"""Fixtures for the interface tests: ADT messages, a listener on localhost, a signed case, a FHIR-like server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from checklist_app.interfaces.adt import AdtHandler
from checklist_app.interfaces.mllp import MllpListener
from checklist_app.interfaces.patients import InMemoryPatientList
from tests.note.note_cases import KYPHO, build_kyphoplasty


def enrol_note_signers(service) -> None:
    """The note cases' handover nurse in the staff directory too: signers come from it (SPEC §6, issue 12)."""
    if not any(p["name"] == KYPHO["new_nurse"] for p in service.staff("nurse")):
        service.add_staff(name=KYPHO["new_nurse"], role="nurse")


def signers(service):
    """A service made by a test itself, with everyone who signs the note cases in its staff directory."""
    from tests.conftest import enrol_team

    enrol_note_signers(enrol_team(service))
    return service


NOW = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
PATIENT = {"family": "Ηλιόπουλος-Testperson", "given": "Ζωή", "mrn": "MRN7788", "dob": "19480229"}


def adt(
    trigger: str = "A01",
    *,
    control_id: str = "MSG0001",
    mrn: str = PATIENT["mrn"],
    family: str = PATIENT["family"],
    given: str = PATIENT["given"],
    dob: str = PATIENT["dob"],
    sex: str = "F",
    extra: str = "",
    version: str = "2.5",
) -> str:
    """A synthetic ADT message (segments separated by CR)."""
    structure = {"A40": "ADT_A39", "A31": "ADT_A05"}.get(trigger, "ADT_A01")
    lines = [
        f"MSH|^~\\&|HIS|GENERAL|CHECKLIST_APP|ROOM1|20260302073000||ADT^{trigger}^{structure}|{control_id}|P|{version}"
        "|||||||UNICODE UTF-8",
        f"EVN|{trigger}|20260302073000",
        f"PID|1||{mrn}^^^GENERAL^MR~123-45-6789^^^SSA^SS||{family}^{given}^^^^^L||{dob}|{sex}",
        "PV1|1|O|IR^2^1||||||||||||||||V2026-55",
    ]
    if extra:
        lines.append(extra)
    return "\r".join(lines) + "\r"


@pytest.fixture
def patients() -> InMemoryPatientList:
    return InMemoryPatientList()


@pytest.fixture
def adt_listener(patients) -> Iterator[MllpListener]:
    listener = MllpListener(AdtHandler(patients, now=lambda: NOW), read_timeout=5.0, now=lambda: NOW)
    with listener:
        yield listener


@dataclass
class Receiver:
    """What a test MLLP receiver saw: every message text handed to it, in order."""

    seen: list[str] = field(default_factory=list)
    answer: Exception | None = None

    def __call__(self, text: str) -> None:
        self.seen.append(text)
        if self.answer is not None:
            raise self.answer


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, MllpListener]]:
    """An EHR-side MLLP receiver (python-hl7 on its side too) that ACKs as told."""
    seen = Receiver()
    with MllpListener(seen, max_message_bytes=8 * 1024 * 1024, read_timeout=5.0) as listener:
        yield seen, listener


@pytest.fixture
def signed_case(service, clock):
    """(service, case id) of the amended two-level kyphoplasty from the note tests."""
    enrol_note_signers(service)
    return service, build_kyphoplasty(service, clock)


@pytest.fixture
def first_version_case(service, clock):
    """(service, case id) of the same kyphoplasty, signed, no addendum (document version 1)."""
    enrol_note_signers(service)
    return service, build_kyphoplasty(service, clock, addendum=False)


@dataclass
class FhirServer:
    """A local HTTP server answering like a FHIR server: the next responses are queued by the test."""

    url: str
    responses: list[tuple[int, dict | None]]
    requests: list[tuple[str, str, bytes]]
    release: threading.Event
    hold: bool = False


@pytest.fixture
def fhir_server() -> Iterator[FhirServer]:
    state = FhirServer("", [], [], threading.Event())

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, body: bytes) -> None:
            state.requests.append((self.command, self.path, body))
            if state.hold:  # a server that never answers in time; released at teardown
                state.release.wait(10)
                return
            status, payload = state.responses.pop(0) if state.responses else (500, None)
            data = json.dumps(payload).encode() if payload is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self._answer(self.rfile.read(int(self.headers.get("Content-Length", 0))))

        def do_GET(self) -> None:  # noqa: N802
            self._answer(b"")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/fhir"
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()
    thread.join(10)
