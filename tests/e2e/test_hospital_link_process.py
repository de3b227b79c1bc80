"""The headless hospital link (`checklist-app interfaces`) as a real process: ADT in over MLLP, the signed
record out over MLLP, stopped by SIGTERM with every result written."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import stat
import subprocess

import pytest
from e2e_support import TIMEOUT, command

from checklist_app.interfaces.mllp import MllpListener, send
from checklist_app.interfaces.policy import record_out
from checklist_app.service import ChecklistService
from checklist_app.store import open_store
from tests.conftest import START
from tests.interfaces.conftest import adt, signers
from tests.note.note_cases import build_kyphoplasty


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


def _line(process: subprocess.Popen, timeout: float) -> str:
    """One line of the process's output, waiting at most `timeout` s for it (select, no sleeping)."""
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, "the program printed nothing in time"
    return process.stdout.readline()


@pytest.mark.skipif(os.name != "posix", reason="SIGTERM and select on pipes")
def test_the_headless_link_takes_admissions_and_sends_the_signed_record(program):
    from checklist_app.domain.clock import FakeClock

    clock = FakeClock(START)
    svc = signers(ChecklistService(open_store(program.db), clock=clock, outbox=record_out(("mllp",))))
    case_id = build_kyphoplasty(svc, clock, addendum=False)
    svc.close()
    seen: list[str] = []
    with MllpListener(seen.append, max_message_bytes=8 * 1024 * 1024) as receiver:
        adt_port = _free_port()
        (program.data_dir / "interfaces.toml").write_text(
            f'[adt]\nhost = "127.0.0.1"\nport = {adt_port}\n[mdm]\nhost = "127.0.0.1"\nport = {receiver.port}\n',
            encoding="utf-8",
        )
        process = subprocess.Popen(
            command("interfaces"),
            env=program.env(),
            cwd=program.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
        )
        try:
            assert "Hospital link running" in _line(process, 60)
            assert send("127.0.0.1", adt_port, adt("A01", mrn="HEADLESS-1"), timeout=30).accepted
            assert receiver.wait_for(lambda stats: stats.accepted >= 1, timeout=60)
        finally:
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    [mdm] = seen
    assert f"|{case_id}.1|" in mdm
    rows = json.loads(
        subprocess.run(
            command("outbox", "--json"), env=program.env(), capture_output=True, text=True, timeout=TIMEOUT
        ).stdout
    )
    assert [(r["channel"], r["status"]) for r in rows] == [("mllp", "sent")]
    patients = program.db.with_name("checklist-patients.sqlite3")
    assert stat.S_IMODE(patients.stat().st_mode) == 0o600
