"""The room's link to the hospital, as the composition roots start it: the patient list, the ADT
listener feeding it, and the outbox worker. Qt-free; the window and the headless command share it.

Threads: the listener (its own asyncio thread, handlers on a pool) writes only the patient file;
the outbox worker reads the case database through its own read-only store and hands each
`Attempt` to `report`, which the owner gets written by the case database's one writer thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from ..domain.clock import Clock
from ..site import SiteConfig
from .adt import AdtHandler
from .config import InterfaceConfig
from .fhir_patient import search_patients
from .mllp import MllpListener
from .outbox_worker import Attempt, OutboxWorker
from .patient_store import StoredPatientList
from .patients import PatientRecord

log = logging.getLogger(__name__)


class HospitalLink:
    """Everything that talks to the hospital for one room database; `start()` and `stop()` it once."""

    def __init__(
        self,
        db_path: Path,
        patients_path: Path,
        *,
        site: SiteConfig,
        config: InterfaceConfig,
        clock: Clock,
        report: Callable[[Attempt], None],
    ) -> None:
        self.config, self.clock = config, clock
        self.patients = StoredPatientList(patients_path)
        self.listener: MllpListener | None = None
        if config.adt_listen is not None:
            host, port = config.adt_listen
            handler = AdtHandler(self.patients, now=clock.now, default_authority=config.settings.mrn_authority)
            sending = (config.settings.sending_application, config.settings.sending_facility)
            self.listener = MllpListener(handler, host=host, port=port, sending=sending, now=clock.now)
        self.worker: OutboxWorker | None = None
        if config.channels:
            self.worker = OutboxWorker(db_path, site=site, config=config, clock=clock, report=report)

    @property
    def can_search_hospital(self) -> bool:
        return self.config.fhir is not None and self.config.patient_search

    def start(self) -> HospitalLink:
        """Purge stale patients, then listen and send. An ADT port that cannot be bound raises OSError."""
        self.purge()
        if self.worker is not None:  # first: a busy ADT port must not keep the signed records in
            self.worker.start()
        if self.listener is not None:
            self.listener.start()
            log.info("ADT listener on port %d", self.listener.port)
        return self

    def stop(self) -> None:
        if self.listener is not None:
            self.listener.stop()
        if self.worker is not None:
            self.worker.stop()
        self.patients.close()

    def purge(self) -> int:
        """Forget patients not updated for `keep_days` (also run by the window once an hour)."""
        gone = self.patients.purge_older_than(timedelta(days=self.config.keep_days), now=self.clock.now())
        if gone:
            log.info("patient list: %d patients not updated for %g days forgotten", gone, self.config.keep_days)
        return gone

    def search(
        self, *, name: str | None = None, mrn: str | None = None, birth_date: date | None = None
    ) -> list[PatientRecord]:
        """Patients in the local list (what the ADT feed sent, and earlier FHIR results)."""
        return self.patients.search(name=name, mrn=mrn, birth_date=birth_date)

    def source_of(self, record: PatientRecord) -> str:
        """Which feed put this patient in the list: "adt" or "fhir"."""
        return self.patients.source_of(record.mrn) or "adt"

    def search_hospital(
        self, *, name: str | None = None, mrn: str | None = None, birth_date: date | None = None
    ) -> tuple[list[PatientRecord], str]:
        """Ask the FHIR server (network: never on the GUI thread); found patients join the local list.

        Returns (patients, problem): problem is "" or a sentence for the nurse without patient data."""
        if self.config.fhir is None or not self.config.patient_search:
            return [], "no FHIR patient search is configured"
        identifier = f"{self.config.settings.mrn_system}|{mrn}" if mrn else None
        found = search_patients(self.config.fhir, identifier=identifier, name=name, birthdate=birth_date)
        if not found.delivery.accepted:
            return [], f"the hospital's patient search did not answer ({found.delivery.detail})"
        now = self.clock.now()
        for record in found.patients:
            self.patients.upsert(record, at=now, source="fhir")
        return list(found.patients), ""
