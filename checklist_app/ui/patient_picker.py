"""Pick the patient from the hospital's list (ADT feed, FHIR search) instead of typing them (SPEC §13).

The local list is a small SQLite file: searching it is quick and happens on the GUI thread. Asking
the hospital's FHIR server is network, so it runs on a pool thread and only its answer comes back,
by a queued signal; the form stays usable meanwhile.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Protocol

from PySide6.QtCore import QObject, QRunnable, QSize, QThreadPool, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QListWidget, QListWidgetItem, QVBoxLayout

from ..interfaces.patients import PatientRecord
from .forms import label, say, text_input
from .names import name
from .widgets import MIN_TARGET, BigButton, MessageLabel

ROW_HEIGHT = MIN_TARGET + 16  # two lines of text, still one gloved tap
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SOURCE_WORDS = {"adt": "the hospital's admissions (ADT)", "fhir": "the hospital's FHIR server"}


class PatientFinder(Protocol):
    """Where patients come from: the local list, and the hospital's search when configured."""

    @property
    def can_search_hospital(self) -> bool: ...

    def search(
        self, *, name: str | None = None, mrn: str | None = None, birth_date: date | None = None
    ) -> list[PatientRecord]: ...

    def source_of(self, record: PatientRecord) -> str: ...

    def search_hospital(
        self, *, name: str | None = None, mrn: str | None = None, birth_date: date | None = None
    ) -> tuple[list[PatientRecord], str]: ...


def describe(record: PatientRecord) -> str:
    """Two lines for the list: the name (family first), then MRN, birth date, sex and where the patient is."""
    born = record.birth_date.isoformat() if record.birth_date else "birth date unknown"
    where = f" · {record.visit.location}" if record.visit and record.visit.location else ""
    given = f", {' '.join(record.given)}" if record.given else ""
    return f"{record.family}{given}\nMRN {record.mrn.value} · {born} · {record.sex}{where}"


def criteria(text: str) -> list[dict[str, object]]:
    """The searches one typed text asks for: a birth date, or an MRN and a part of a name."""
    text = text.strip()
    if not text:
        return [{}]
    if _DATE.match(text):
        try:
            return [{"birth_date": date.fromisoformat(text)}]
        except ValueError:
            return []
    return [{"mrn": text}, {"name": text}]


class _Answer(QObject):
    found = Signal(object, str)  # (list of PatientRecord, problem)


class PatientPicker(QFrame):
    """Search box, results and a status line; emits `picked(record, source)` on a tap."""

    picked = Signal(object, str)

    def __init__(self, finder: PatientFinder) -> None:
        super().__init__()
        self.finder = finder
        name(self, "newcase.patients", "Patients from the hospital")
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        self.query = text_input(
            "newcase.patient_search", "Search the hospital's patients", placeholder="Name, MRN or birth date"
        )
        self.query.returnPressed.connect(self.search)
        find = BigButton("Search", "newcase.patient_search.go")
        find.clicked.connect(self.search)
        row = QHBoxLayout()
        row.addWidget(self.query, 1)
        row.addWidget(find)
        self.ask = BigButton("Ask the hospital", "newcase.patient_search.hospital")
        self.ask.clicked.connect(self.search_hospital)
        self.ask.setVisible(finder.can_search_hospital)
        row.addWidget(self.ask)
        box.addWidget(label("Find the patient (admitted by the hospital)", "field_label", self.query))
        box.addLayout(row)
        self.results = QListWidget()
        name(self.results, "newcase.patient_results", "Patients found: tap one to fill the form")
        self.results.setMinimumHeight(2 * ROW_HEIGHT + 4)
        self.results.setMaximumHeight(4 * ROW_HEIGHT + 4)
        self.results.itemActivated.connect(self._activated)
        self.results.itemClicked.connect(self._activated)
        box.addWidget(self.results)
        self.message = MessageLabel("newcase.patient_search.message")
        box.addWidget(self.message)
        self._answer = _Answer(self)
        self._answer.found.connect(self._hospital_answered)
        self._asking = 0

    def search(self) -> None:
        """The local list (quick: a small file on this workstation)."""
        found: dict[tuple[str, str], PatientRecord] = {}
        for args in criteria(self.query.text()):
            for record in self.finder.search(**args):  # type: ignore[arg-type]
                found.setdefault(record.mrn.key, record)
        self._show([(record, self.finder.source_of(record)) for record in found.values()])

    def search_hospital(self) -> None:
        """The FHIR server, on a pool thread; the answer comes back by a queued signal."""
        text = self.query.text().strip()
        if not text:
            say(self.message, "Type a name, MRN or birth date to ask the hospital.", "warning")
            return
        args = criteria(text)
        self._asking += 1
        asking, finder, answer = self._asking, self.finder, self._answer
        say(self.message, "Asking the hospital…", "info")

        def ask() -> None:
            found: dict[tuple[str, str], PatientRecord] = {}
            problem = ""
            for one in args:
                records, problem = finder.search_hospital(**one)  # type: ignore[arg-type]
                for record in records:
                    found.setdefault(record.mrn.key, record)
            answer.found.emit((asking, list(found.values())), problem)

        QThreadPool.globalInstance().start(QRunnable.create(ask))

    def _hospital_answered(self, result: tuple[int, list[PatientRecord]], problem: str) -> None:
        asking, records = result
        if asking != self._asking:
            return  # a newer question was asked meanwhile
        if problem and not records:
            say(self.message, problem, "error")
            return
        self._show([(record, "fhir") for record in records])

    def _show(self, records: list[tuple[PatientRecord, str]]) -> None:
        self.results.clear()
        for record, source in records:
            item = QListWidgetItem(describe(record))
            item.setData(256, (record, source))  # Qt.UserRole
            item.setSizeHint(QSize(0, ROW_HEIGHT))  # a gloved tap hits one patient, not the next
            self.results.addItem(item)
        if records:
            sources = {source for _record, source in records}
            where = SOURCE_WORDS[sources.pop()] if len(sources) == 1 else "the hospital's patient list"
            say(self.message, f"{len(records)} found in {where}. Tap the patient.", "info")
        else:
            say(self.message, "Nobody found. Check the spelling, ask the hospital, or type the patient.", "warning")

    def _activated(self, item: QListWidgetItem) -> None:
        record, source = item.data(256)
        self.picked.emit(record, source)

    def reset(self) -> None:
        self.query.clear()
        self.results.clear()
        self.message.clear_message()
