"""The wristband scan offered at the identity check, sign-in and time-out (SPEC §5, §13).

The scanner types the barcode into the field and ends with Enter. The scan is checked at once
against the case's MRN by the domain rule (`domain/wristband.py`) so the nurse sees a match or
the hard stop before tapping Done; the scan is then handed to `record_step`, which checks it again
and refuses another patient's wristband whatever the window shows. Scanning stays optional.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout

from ..domain.errors import Refusal
from ..domain.wristband import confirm_wristband
from .forms import label, say, set_invalid, text_input
from .widgets import BigButton, MessageLabel

WRISTBAND_STEPS = ("identity_consent", "sign_in", "time_out")


class WristbandScan(QFrame):
    """A scan field and its verdict; `scan()` is what was scanned (None: not scanned)."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.setObjectName(prefix)
        self.setProperty("panel", "card")
        box = QVBoxLayout(self)
        self.field = text_input(f"{prefix}.scan", "Patient wristband scan", placeholder="Scan the patient's wristband")
        self.field.setClearButtonEnabled(False)  # the scan clears itself once read
        self.field.returnPressed.connect(self._read)
        read = BigButton("Check wristband", f"{prefix}.read")
        read.clicked.connect(self._read)
        row = QHBoxLayout()
        row.addWidget(self.field, 1)
        row.addWidget(read)
        box.addWidget(label("Patient wristband (optional, recommended)", "field_label", self.field))
        box.addLayout(row)
        self.message = MessageLabel(f"{prefix}.message")
        box.addWidget(self.message)
        self._scan: str | None = None
        self._mrn, self._pattern = "", ""

    def set_patient(self, mrn: str, pattern: str) -> None:
        """The case the scan must match; forgets any earlier scan."""
        self._mrn, self._pattern = mrn, pattern
        self.reset()

    def reset(self) -> None:
        self._scan = None
        self.field.clear()
        set_invalid(self.field, False)
        self.message.clear_message()

    def scan(self) -> str | None:
        return self._scan

    def _read(self) -> None:
        text = self.field.text()
        self.field.clear()
        if not text.strip():
            return
        self._scan = text  # kept even when wrong: Done is then refused by the rule itself
        try:
            confirm_wristband(self._mrn, text, self._pattern)
        except Refusal as exc:
            set_invalid(self.field, True)
            say(self.message, exc.message, "error")
            return
        set_invalid(self.field, False)
        say(self.message, "Wristband matches this case's patient. It is recorded with this step.", "info")
