"""The outbox worker: a background thread that builds, sends and settles the waiting messages.

It never runs on the GUI thread or the tick path. It reads through its **own read-only store**
(WAL lets it read while the window writes), builds each message from the case's events
1..upto_seq (the same events always give the same bytes: same MSH-10, TXA-12 and conditional
creates, so a resend is recognisably the same document, never a new one), sends it, and hands
the result (an `Attempt`) to `report`, which must get it written by the store's one writer
thread (the window's queued signal, or `AttemptQueue.apply` in a headless loop):

- ACCEPTED (ACK AA/CA, FHIR 2xx transaction-response) -> sent;
- TRANSIENT (refused, reset, timed out, dropped mid-ACK, 5xx) -> waiting, next attempt after a backoff;
- REJECTED (AE/AR, 4xx, not a FHIR answer) or a message that cannot be built -> parked, shown to IT.

Until its result is written, a message is held in memory and not sent again. A crash between the
receiver's ACK and that write leaves it waiting: it is resent after a restart, byte-identical.
Time for the backoff comes from the injected clock; the thread waits on a condition, so tests
wake it and wait for a pass instead of sleeping. Logs carry outbox id, channel, case id, outcome
and the receiver's detail with our patient's words withheld, never a patient field.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..domain.clock import Clock
from ..domain.state import CaseState
from ..site import SiteConfig
from ..store import Store, StoreError
from ..store.outbox import OutboxRow
from . import fhir_http, mllp
from .config import InterfaceConfig
from .errors import Delivery, Outcome
from .export import fhir_bytes, hl7_bytes

log = logging.getLogger(__name__)

Transport = Callable[[OutboxRow, bytes, tuple[str, ...]], Delivery]


@dataclass(frozen=True)
class Attempt:
    """How one attempt to deliver outbox message `message_id` ended, to be written by the store's writer."""

    message_id: int
    attempts_before: int
    outcome: Outcome
    detail: str
    at: datetime
    next_attempt: datetime | None = None


def apply_attempt(store: Store, attempt: Attempt) -> bool:
    """Write an attempt's result (on the store's writer thread); False if the row was no longer waiting."""
    return store.messages.record_attempt(
        attempt.message_id, attempt.outcome.value, attempt.detail, at=attempt.at, next_attempt=attempt.next_attempt
    )


class AttemptQueue:
    """A thread-safe hand-over of attempts to the writer thread, for rooms and tests without a Qt loop."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Attempt] = queue.Queue()

    def __call__(self, attempt: Attempt) -> None:
        self._queue.put(attempt)

    def apply(self, store: Store, *, wait: float = 0.0) -> int:
        """Write every attempt handed over so far (waiting up to `wait` s for the first); how many."""
        done = 0
        try:
            attempt = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
            while True:
                apply_attempt(store, attempt)
                done += 1
                attempt = self._queue.get_nowait()
        except queue.Empty:
            return done


def case_at(site: SiteConfig, store: Store, case_id: str, upto_seq: int) -> CaseState:
    """The case as its events 1..upto_seq made it (the document version the message carries)."""
    events = [e for e in store.events(case_id) if e.seq <= upto_seq]
    if len(events) != upto_seq:
        raise StoreError(f"case {case_id} has fewer than {upto_seq} events")
    template = site.templates[events[0].values["setup"]["procedure"]]
    state = CaseState(template, site.catalogue, site.settings, site.coding)
    for event in events:
        state.apply(event)
    return state.freeze()


def patient_words(state: CaseState) -> tuple[str, ...]:
    """What a receiver might echo of our patient, withheld from logs and IT's view."""
    if state.setup is None:
        return ()
    patient = state.setup.patient
    dob = patient.date_of_birth
    words = [patient.name, patient.mrn, *patient.name.split()]
    if dob:
        words += [dob.isoformat(), dob.strftime("%Y%m%d")]
    return tuple(words)


def default_transports(config: InterfaceConfig) -> dict[str, Transport]:
    """The real senders: MLLP to the MDM endpoint, HTTP POST to the FHIR base."""
    transports: dict[str, Transport] = {}
    if config.mdm is not None:
        mdm = config.mdm
        transports["mllp"] = lambda _row, payload, _words: mllp.send(
            mdm.host, mdm.port, payload.decode("utf-8"), mdm.timeout_s
        )
    if config.fhir is not None:
        fhir = config.fhir
        transports["fhir"] = lambda _row, payload, words: fhir_http.post_transaction(fhir, payload, patient_words=words)
    return transports


class OutboxWorker:
    """Sends the outbox's due messages on its own thread; `report` gets each `Attempt` to write."""

    def __init__(
        self,
        db_path: Path,
        *,
        site: SiteConfig,
        config: InterfaceConfig,
        clock: Clock,
        report: Callable[[Attempt], None],
        transports: dict[str, Transport] | None = None,
        poll_s: float = 15.0,
    ) -> None:
        self.db_path, self.site, self.config, self.clock = Path(db_path), site, config, clock
        self.report = report
        self.transports = default_transports(config) if transports is None else transports
        self.poll_s = poll_s
        self._held: dict[int, int] = {}  # message id -> attempts when sent, until its result is written
        self._changed = threading.Condition()
        self._woken = False
        self._stopping = False
        self._wakes = 0  # wake() calls so far; a pass serves every wake made before it started
        self._served = 0
        self.passes = 0
        self.last_problem = ""
        self._thread: threading.Thread | None = None

    # -- life cycle ------------------------------------------------------------------------------
    def start(self) -> OutboxWorker:
        if self._thread is not None:
            raise RuntimeError("the outbox worker is already running")
        self._thread = threading.Thread(target=self._run, name="outbox-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the attempt under way (bounded by the transports' timeouts) and end the thread."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> int:
        """Look at the outbox now (a message was queued, IT asked for a retry, the clock moved).

        Returns a ticket for `wait_for_pass`: the pass that serves this wake starts after it."""
        with self._changed:
            self._woken = True
            self._wakes += 1
            self._changed.notify_all()
            return self._wakes

    def wait_for_pass(self, ticket: int, timeout: float = 10.0) -> bool:
        """Block until a pass that started after wake `ticket` has finished (True) or `timeout` s pass."""
        with self._changed:
            return self._changed.wait_for(lambda: self._served >= ticket, timeout)

    def _run(self) -> None:
        store: Store | None = None
        try:
            while True:
                with self._changed:
                    if self._stopping:
                        return
                    self._woken = False
                    serving = self._wakes
                try:
                    store = store or Store(self.db_path, readonly=True)
                    self.run_once(store)
                except StoreError as exc:  # the file is busy or gone for now: try again next pass
                    self.last_problem = str(exc)
                    log.warning("outbox: cannot read the database now (%s)", type(exc).__name__)
                except Exception:  # a bug must not kill the worker silently, nor loop fast
                    log.exception("outbox: unexpected error in a pass")
                with self._changed:
                    self.passes += 1
                    self._served = serving
                    self._changed.notify_all()
                    self._changed.wait_for(lambda: self._woken or self._stopping, self.poll_s)
        finally:
            if store is not None:
                store.close()

    # -- one pass --------------------------------------------------------------------------------
    def run_once(self, store: Store) -> list[Attempt]:
        """Try every due message once (from the calling thread); the attempts made."""
        rows = store.messages.due(self.clock.now(), limit=50)
        self._held = {i: n for i, n in self._held.items() if any(r.id == i and r.attempts == n for r in rows)}
        made = []
        for row in rows:
            if self._stopping:
                break
            if self._held.get(row.id) == row.attempts or row.channel not in self.transports:
                continue  # its last result is not written yet, or its channel is not configured here
            attempt = self._attempt(store, row)
            self._held[row.id] = row.attempts
            log.info(
                "outbox message %d (%s, case %s): %s, %s",
                row.id,
                row.channel,
                row.case_id,
                attempt.outcome.value,
                attempt.detail,
            )
            self.report(attempt)
            made.append(attempt)
        return made

    def _attempt(self, store: Store, row: OutboxRow) -> Attempt:
        try:
            state = case_at(self.site, store, row.case_id, row.upto_seq)
            builder = hl7_bytes if row.kind == "mdm" else fhir_bytes
            payload, words = builder(state, self.config.settings), patient_words(state)
        except Exception as exc:  # noqa: BLE001 - a message that cannot be built is parked for IT, never retried
            delivery = Delivery(Outcome.REJECTED, f"the message could not be built ({type(exc).__name__})")
        else:
            try:
                delivery = self.transports[row.channel](row, payload, words)
            except Exception as exc:  # noqa: BLE001 - a transport bug: wait and retry, never lose the message
                delivery = Delivery(Outcome.TRANSIENT, f"sending failed ({type(exc).__name__})")
        now = self.clock.now()
        retry_at = now + self.config.backoff.after(row.attempts + 1) if delivery.outcome is Outcome.TRANSIENT else None
        return Attempt(row.id, row.attempts, delivery.outcome, delivery.detail, now, retry_at)
