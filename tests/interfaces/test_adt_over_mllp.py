"""Patients in: real ADT messages over a localhost MLLP connection, python-hl7 on both ends."""

from __future__ import annotations

import logging
import socket
from datetime import date, timedelta

import pytest

from checklist_app.interfaces import Outcome
from checklist_app.interfaces.mllp import frame, send
from tests.interfaces.conftest import NOW, PATIENT, adt


@pytest.mark.parametrize("trigger", ["A01", "A04", "A08", "A31"])
def test_each_adt_event_puts_the_patient_in_the_list_and_is_acknowledged_aa(adt_listener, patients, trigger):
    delivery = send("127.0.0.1", adt_listener.port, adt(trigger), timeout=5)

    assert (delivery.outcome, delivery.code, delivery.control_id) == (Outcome.ACCEPTED, "AA", "MSG0001")
    [record] = patients.search(mrn=PATIENT["mrn"])
    assert (record.family, record.given, record.birth_date, record.sex) == (
        PATIENT["family"],
        (PATIENT["given"],),
        date(1948, 2, 29),
        "female",
    )
    assert (record.mrn.authority, record.visit.number, record.visit.patient_class) == ("GENERAL", "V2026-55", "O")


def test_a08_update_replaces_the_record_with_the_same_mrn(adt_listener, patients):
    send("127.0.0.1", adt_listener.port, adt("A01"), timeout=5)
    send("127.0.0.1", adt_listener.port, adt("A08", control_id="MSG0002", family="Renamed"), timeout=5)

    assert [r.family for r in patients.search(mrn=PATIENT["mrn"])] == ["Renamed"]
    assert len(patients) == 1


def test_a40_merge_retires_the_prior_mrn_into_the_new_one(adt_listener, patients):
    send("127.0.0.1", adt_listener.port, adt("A01", mrn="OLD-1"), timeout=5)
    merge = adt("A40", control_id="MSG0003", mrn="NEW-2", extra="MRG|OLD-1^^^GENERAL^MR")

    assert send("127.0.0.1", adt_listener.port, merge, timeout=5).accepted
    assert patients.search(mrn="OLD-1") == []
    assert [r.mrn.value for r in patients.search(name="zoh") + patients.search(mrn="NEW-2")] == ["NEW-2"]


def test_names_in_any_script_are_found_case_insensitively(adt_listener, patients):
    for n, (family, given) in enumerate([("山田", "テスト"), ("اختبار", "سارة"), ("ÖZTÜRK", "Ayşe")]):
        send(
            "127.0.0.1", adt_listener.port, adt(mrn=f"M{n}", control_id=f"C{n}", family=family, given=given), timeout=5
        )

    assert [r.mrn.value for r in patients.search(name="山田")] == ["M0"]
    assert [r.mrn.value for r in patients.search(name="سارة")] == ["M1"]
    assert [r.mrn.value for r in patients.search(name="öztürk")] == ["M2"]
    assert sorted(r.mrn.value for r in patients.search(birth_date=date(1948, 2, 29))) == ["M0", "M1", "M2"]


def test_patients_not_updated_for_n_days_are_purged(patients):
    from checklist_app.interfaces.adt import apply_adt, parse_adt

    apply_adt(parse_adt(adt(mrn="OLD")), patients, at=NOW - timedelta(days=8))
    apply_adt(parse_adt(adt(mrn="NEW")), patients, at=NOW)

    assert patients.purge_older_than(timedelta(days=7), now=NOW) == 1
    assert [r.mrn.value for r in patients.search(name="ζωή")] == ["NEW"]


def test_an_unsupported_message_type_is_rejected_ar_and_changes_nothing(adt_listener, patients):
    delivery = send("127.0.0.1", adt_listener.port, adt().replace("ADT^A01^ADT_A01", "ORU^R01^ORU_R01"), timeout=5)

    assert (delivery.outcome, delivery.code) == (Outcome.REJECTED, "AR")
    assert len(patients) == 0


def test_an_unsupported_adt_event_is_rejected_ar(adt_listener):
    delivery = send("127.0.0.1", adt_listener.port, adt("A03"), timeout=5)

    assert (delivery.code, delivery.detail) == ("AR", "ADT event A03 is not accepted here")


def test_an_adt_without_an_mrn_is_answered_ae(adt_listener, patients):
    delivery = send("127.0.0.1", adt_listener.port, adt(mrn=""), timeout=5)

    assert (delivery.outcome, delivery.code, delivery.detail) == (
        Outcome.REJECTED,
        "AE",
        "PID-3 patient identifier is missing",
    )
    assert len(patients) == 0


def _raw_exchange(port: int, data: bytes) -> bytes:
    """Send raw bytes and read until the end of one MLLP block (or the listener closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        answer = b""
        while not answer.endswith(b"\x1c\r"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer


def test_malformed_messages_get_an_ar_and_the_log_holds_no_patient_name_or_mrn(adt_listener, caplog):
    caplog.set_level(logging.DEBUG)
    secret_name, secret_mrn = "Sekretname", "MRN99887766"
    not_hl7 = f"PID|1||{secret_mrn}||{secret_name}^Ann\r".encode()
    bad_escape = adt(mrn=secret_mrn, family=f"{secret_name}\\Qx\\", control_id="BAD1").encode()
    no_mrn_type = adt(mrn=secret_mrn, family=secret_name).replace("ADT^A01", "ADT^Z99").encode()
    not_utf8 = adt(mrn=secret_mrn, family=secret_name).encode("utf-16")

    answers = [_raw_exchange(adt_listener.port, frame(data)) for data in (not_hl7, no_mrn_type, not_utf8)]
    answers.append(_raw_exchange(adt_listener.port, frame(bad_escape)))

    assert [b"MSA|AR" in a for a in answers] == [True, True, True, False]
    # python-hl7 logs the field it cannot unescape (here \Qx\) with its value: the filter withholds it
    assert b"MSA|AA" in answers[3] and "value withheld" in caplog.text
    assert adt_listener.wait_for(lambda s: s.answered == 4)
    assert "AR" in caplog.text and "ADT^Z99" in caplog.text
    assert secret_name not in caplog.text and secret_mrn not in caplog.text


def test_half_a_frame_then_close_is_discarded_and_nothing_is_handled(adt_listener, patients):
    whole = frame(adt().encode())
    with socket.create_connection(("127.0.0.1", adt_listener.port), timeout=5) as sock:
        sock.sendall(whole[: len(whole) // 2])

    assert adt_listener.wait_for(lambda s: s.dropped_mid_message == 1)
    assert len(patients) == 0 and adt_listener.stats.answered == 0


def test_a_message_over_the_size_limit_is_rejected_without_reading_it_whole(patients):
    from checklist_app.interfaces.adt import AdtHandler
    from checklist_app.interfaces.mllp import MllpListener

    with MllpListener(AdtHandler(patients), max_message_bytes=1000) as listener:
        answer = _raw_exchange(listener.port, frame(adt(extra="NTE|1||" + "x" * 5000).encode()))

    assert b"MSA|AR" in answer and b"size limit" in answer
    assert len(patients) == 0


def test_a_stopped_listener_releases_its_port(patients):
    from checklist_app.interfaces.adt import AdtHandler
    from checklist_app.interfaces.mllp import MllpListener

    listener = MllpListener(AdtHandler(patients)).start()
    port = listener.port
    listener.stop()

    assert send("127.0.0.1", port, adt(), timeout=2).outcome is Outcome.TRANSIENT
    with MllpListener(AdtHandler(patients), port=port):
        pass  # the same port binds again


def test_a_handler_that_crashes_gives_ae_and_the_listener_keeps_serving():
    from checklist_app.interfaces.mllp import MllpListener

    calls = []

    def crash(text: str) -> None:
        calls.append(text)
        if len(calls) == 1:
            raise KeyError(PATIENT["mrn"])

    with MllpListener(crash) as listener:
        first = send("127.0.0.1", listener.port, adt(), timeout=5)
        second = send("127.0.0.1", listener.port, adt(control_id="MSG0002"), timeout=5)

    assert (first.code, first.detail) == ("AE", "application internal error (KeyError)")
    assert second.code == "AA"
