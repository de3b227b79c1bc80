"""The new-case form's patient identity: picked from the hospital's list, filled or confirmed by the
wristband, or typed by hand, and which of these the record will say (SPEC §5, §13).

A picked patient stays "from the hospital list" only while the name, MRN and birth date are the
ones picked: editing any of them by hand makes the set-up "typed by hand", and the record says so.
A wristband scan fills an empty form (from the list when the MRN is there, else the MRN alone) or
confirms a filled one; another patient's wristband is the hard stop, shown at once and enforced by
`start_case`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QLabel, QLineEdit, QVBoxLayout

from ..domain.errors import Refusal
from ..domain.wristband import WrongPatient, confirm_wristband, mrn_from_scan
from ..interfaces.patients import PatientRecord
from .forms import label, say, set_invalid, text_input
from .names import name
from .patient_picker import SOURCE_WORDS, PatientPicker
from .widgets import MessageLabel

if TYPE_CHECKING:
    from .new_case import NewCaseForm


class PatientIdentity:
    """The identity parts of the patient card, added to `box` of `form`."""

    def __init__(self, form: NewCaseForm, box: QVBoxLayout) -> None:
        self.form = form
        self.picker: PatientPicker | None = None
        if form.patients is not None:
            self.picker = PatientPicker(form.patients)
            self.picker.picked.connect(self.pick)
            box.addWidget(self.picker)
        self.scan = text_input("newcase.wristband", "Patient wristband scan", placeholder="Scan the wristband")
        self.scan.setClearButtonEnabled(False)  # the scan clears itself once read
        self.scan.returnPressed.connect(self.read_wristband)
        box.addWidget(label("Wristband (fills or confirms the patient)", "field_label", self.scan))
        box.addWidget(self.scan)
        self.message = MessageLabel("newcase.wristband.message")
        box.addWidget(self.message)
        self.source = QLabel()
        self.source.setProperty("role", "muted")
        self.source.setWordWrap(True)
        name(self.source, "newcase.identity_source", "Where the patient's identity comes from")
        box.addWidget(self.source)
        self._picked: tuple[str, tuple[str, str, str]] | None = None  # (source list, the fields as picked)
        self._wristband: str | None = None
        self._fields: tuple[QLineEdit, QLineEdit, QLineEdit] | None = None
        self._show_source()

    def watch(self, name_edit: QLineEdit, mrn: QLineEdit, dob: QLineEdit) -> None:
        self._fields = (name_edit, mrn, dob)
        for edit in self._fields:
            edit.textChanged.connect(lambda _text: self._show_source())

    def _values(self) -> tuple[str, str, str]:
        assert self._fields is not None
        name_edit, mrn, dob = self._fields
        return (name_edit.text().strip(), mrn.text().strip(), dob.text().strip())

    def _from_list(self) -> str:
        """The list the patient was picked from, while the fields are still the ones picked; else ""."""
        if self._picked is None or self._fields is None:
            return ""
        source, values = self._picked
        return source if values == self._values() else ""

    def provenance(self) -> dict[str, Any]:
        """The `identity` argument of start_case."""
        source = self._from_list()
        identity: dict[str, Any] = {"source": "hospital_list", "list": source} if source else {"source": "typed"}
        if self._wristband is not None:
            identity["wristband"] = self._wristband
        return identity

    def _show_source(self) -> None:
        source = self._from_list()
        typed = "Identity typed by hand: the record will say so."
        text = f"Identity from {SOURCE_WORDS[source]}." if source else typed
        if self._wristband is not None:
            text += " Wristband scanned."
        self.source.setText(text)

    def pick(self, record: PatientRecord, source: str) -> None:
        form = self.form
        form.patient_name.setText(record.name)
        form.mrn.setText(record.mrn.value)
        form.dob.setText(record.birth_date.isoformat() if record.birth_date else "")
        form.sex.set_value(record.sex)
        self._picked = (source, self._values())
        self._check_wristband()
        self._show_source()

    def read_wristband(self) -> None:
        text = self.scan.text()
        self.scan.clear()
        if not text.strip():
            return
        pattern = self.form.service.site.settings.wristband_pattern
        try:
            mrn = mrn_from_scan(text, pattern)
        except Refusal as exc:
            set_invalid(self.scan, True)
            say(self.message, exc.message, "error")
            return
        self._wristband = text
        if not self.form.mrn.text().strip():
            found = self.form.patients.search(mrn=mrn) if self.form.patients is not None else []
            if len(found) == 1 and self.form.patients is not None:
                self.pick(found[0], self.form.patients.source_of(found[0]))
                return
            self.form.mrn.setText(mrn)
        self._check_wristband()
        self._show_source()

    def _check_wristband(self) -> None:
        """A scanned wristband against the MRN in the form: the match, or the hard stop."""
        if self._wristband is None:
            return
        try:
            confirm_wristband(self.form.mrn.text(), self._wristband, self.form.service.site.settings.wristband_pattern)
        except WrongPatient as exc:
            set_invalid(self.scan, True)
            say(self.message, exc.message, "error")
            return
        set_invalid(self.scan, False)
        say(self.message, "Wristband matches the MRN.", "info")

    def reset(self) -> None:
        self._picked, self._wristband = None, None
        self.scan.clear()
        set_invalid(self.scan, False)
        self.message.clear_message()
        if self.picker is not None:
            self.picker.reset()
        self._show_source()
