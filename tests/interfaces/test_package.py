"""The interfaces package stands alone (no Qt, ui or SQLite on import); its listener runs off the caller's thread."""

from __future__ import annotations

import subprocess
import sys
import threading

from checklist_app.interfaces.adt import AdtHandler
from checklist_app.interfaces.mllp import MllpListener


def test_importing_every_interface_module_loads_neither_qt_nor_ui_nor_sqlite():
    code = (
        "import sys\n"
        "import importlib\n"
        "for name in ('adt', 'mllp', 'fhir_bundle', 'hl7_mdm', 'fhir_http', 'fhir_patient', 'export'):\n"
        "    importlib.import_module('checklist_app.interfaces.' + name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'sqlite_utils')"
        " or m.startswith('checklist_app.ui')]\n"
        "print(bad)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)

    assert result.stdout.strip() == "[]"


def test_the_listener_serves_on_its_own_thread_and_joins_it_on_stop(patients):
    before = threading.active_count()
    listener = MllpListener(AdtHandler(patients)).start()
    names = [t.name for t in threading.enumerate()]
    listener.stop()

    assert "mllp-listener" in names and threading.current_thread().name != "mllp-listener"
    assert threading.active_count() == before
