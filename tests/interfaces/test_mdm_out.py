"""The signed record out as HL7 MDM: message content, idempotent resend, and a real MLLP receiver's answers."""

from __future__ import annotations

import base64
import socket
import threading

import hl7
import pytest

from checklist_app.interfaces import ExportError, HL7Error, Outcome
from checklist_app.interfaces.case_export import outbound_case
from checklist_app.interfaces.errors import AE, AR
from checklist_app.interfaces.export import hl7_bytes, outbound
from checklist_app.interfaces.hl7_mdm import build_mdm, control_id
from checklist_app.interfaces.mllp import send
from checklist_app.interfaces.profile import InterfaceSettings
from checklist_app.note import render_note
from tests.note.note_cases import KYPHO, build_kyphoplasty


def _segments(text: str) -> dict[str, hl7.Segment]:
    message = hl7.parse(text)
    return {str(seg[0][0]): seg for seg in message}


def test_the_first_version_is_an_mdm_t02_with_the_pdf_base64_in_obx5(first_version_case):
    service, case_id = first_version_case
    state = service.state(case_id)
    text = build_mdm(outbound_case(state), render_note(state))
    seg = _segments(text)

    assert [str(s[0][0]) for s in hl7.parse(text)] == ["MSH", "EVN", "PID", "PV1", "TXA", "OBX"]
    assert str(seg["MSH"](9)) == "MDM^T02^MDM_T02" and str(seg["MSH"](12)) == "2.5"
    assert str(seg["MSH"](10)) == f"{case_id}.1"
    assert str(seg["MSH"](18)) == "UNICODE UTF-8"
    assert hl7.parse(text)["PID.F3.R1.C1"] == KYPHO["mrn"]
    assert hl7.parse(text)["PID.F5.R1.C1"] == KYPHO["patient"]  # '&' travels escaped as \T\ and comes back
    txa = seg["TXA"]
    assert (str(txa(2)), str(txa(3)), str(txa(12)), str(txa(13)), str(txa(17))) == (
        "OP",
        "AP",
        f"{case_id}-v1^CHECKLIST_APP",
        "",
        "LA",
    )
    obx = seg["OBX"]
    assert (str(obx(2)), str(obx(3)), str(obx(11))) == ("ED", "11504-8^Surgical operation note^LN", "F")
    ed = obx(5)[0]
    assert [str(ed[i]) for i in range(4)] == ["", "AP", "PDF", "Base64"]
    assert base64.b64decode(str(ed[4])) == render_note(state)


def test_an_addendum_is_a_new_document_version_sent_as_t06_with_the_original_as_parent(signed_case):
    service, case_id = signed_case
    seg = _segments(hl7_bytes(service.state(case_id)).decode())

    assert str(seg["MSH"](9)) == "MDM^T06^MDM_T02" and str(seg["MSH"](10)) == f"{case_id}.2"
    assert str(seg["TXA"](12)) == f"{case_id}-v2^CHECKLIST_APP"
    assert str(seg["TXA"](13)) == f"{case_id}-v1^CHECKLIST_APP"


def test_a_site_can_send_addenda_as_t02_keeping_the_parent_link(signed_case):
    service, case_id = signed_case
    settings = InterfaceSettings(addendum_trigger="T02")
    seg = _segments(hl7_bytes(service.state(case_id), settings).decode())

    assert str(seg["MSH"](9)) == "MDM^T02^MDM_T02" and str(seg["TXA"](13)) == f"{case_id}-v1^CHECKLIST_APP"


def test_the_same_case_built_twice_gives_identical_bytes_and_control_id(signed_case):
    service, case_id = signed_case
    state = service.state(case_id)

    assert hl7_bytes(state) == hl7_bytes(state)


def test_a_long_case_id_still_gives_a_stable_control_id_within_20_characters():
    first, again = control_id("ROOM-12-20260302-001-EXTRA", 3), control_id("ROOM-12-20260302-001-EXTRA", 3)

    assert first == again and len(first) == 20 and first != control_id("ROOM-12-20260302-001-EXTRA", 4)


def test_a_case_not_signed_by_the_operator_is_not_exported(service, clock):
    case_id = build_kyphoplasty(service, clock, sign=False)

    with pytest.raises(ExportError):
        outbound(service.state(case_id))


def test_the_receiver_answering_aa_ae_ar_gives_accepted_rejected_rejected(signed_case, receiver):
    service, case_id = signed_case
    seen, listener = receiver
    message = hl7_bytes(service.state(case_id)).decode()

    accepted = send("127.0.0.1", listener.port, message, timeout=10)
    seen.answer = HL7Error(f"unknown patient {KYPHO['mrn']}", ack_code=AE)
    error = send("127.0.0.1", listener.port, message, timeout=10)
    seen.answer = HL7Error("MDM not accepted on this channel", ack_code=AR)
    rejected = send("127.0.0.1", listener.port, message, timeout=10)

    assert [d.outcome for d in (accepted, error, rejected)] == [Outcome.ACCEPTED, Outcome.REJECTED, Outcome.REJECTED]
    assert [d.code for d in (accepted, error, rejected)] == ["AA", "AE", "AR"]
    assert error.detail == "unknown patient [withheld]"  # the receiver's text, our patient's MRN withheld
    assert {d.control_id for d in (accepted, error, rejected)} == {f"{case_id}.2"}


def test_a_resend_is_byte_identical_so_the_receiver_can_recognise_it(signed_case, receiver):
    service, case_id = signed_case
    seen, listener = receiver
    message = hl7_bytes(service.state(case_id)).decode()

    send("127.0.0.1", listener.port, message, timeout=10)
    send("127.0.0.1", listener.port, hl7_bytes(service.state(case_id)).decode(), timeout=10)

    assert len(seen.seen) == 2 and seen.seen[0] == seen.seen[1] == message


class _Misbehaving:
    """A receiver that reads a whole message, then sends half an ACK (or nothing) and closes or stalls."""

    def __init__(self, *, half_ack: bool) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.half_ack = half_ack
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            data = b""
            while not data.endswith(b"\x1c\r"):
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            if self.half_ack:
                conn.sendall(b"\x0bMSH|^~\\&|EHR|H|||20260302||ACK|1|P|2.5\rMSA|A")
            else:
                self.done.wait(10)  # never answers; released when the test ends

    def close(self) -> None:
        self.done.set()
        self.thread.join(10)
        self.sock.close()


def test_a_connection_dropped_mid_ack_is_transient(signed_case):
    service, case_id = signed_case
    peer = _Misbehaving(half_ack=True)
    try:
        delivery = send("127.0.0.1", peer.port, hl7_bytes(service.state(case_id)).decode(), timeout=10)
    finally:
        peer.close()

    assert (delivery.outcome, delivery.detail) == (Outcome.TRANSIENT, "connection closed before the ACK was complete")


def test_no_ack_within_the_timeout_is_transient(signed_case):
    service, case_id = signed_case
    peer = _Misbehaving(half_ack=False)
    try:
        delivery = send("127.0.0.1", peer.port, hl7_bytes(service.state(case_id)).decode(), timeout=0.5)
    finally:
        peer.close()

    assert (delivery.outcome, delivery.detail) == (Outcome.TRANSIENT, "no ACK within 0.5 s")


def test_a_refused_connection_is_transient(signed_case):
    service, case_id = signed_case
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed at the end of the block: nobody listens there

    delivery = send("127.0.0.1", port, hl7_bytes(service.state(case_id)).decode(), timeout=5)

    assert delivery.outcome is Outcome.TRANSIENT and "ConnectionRefused" in delivery.detail
