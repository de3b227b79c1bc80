"""MLLP transport: a listener on its own thread and a sender that waits for the ACK, both on python-hl7.

Framing is <VT> message <FS><CR> (0x0B ... 0x1C 0x0D). The listener answers each message with an
original-mode ACK: AA when the handler returned, AE/AR when it raised `HL7Error` (its code), AE
for any other failure. It never runs on a GUI thread: `start()` spins up a thread with its own
asyncio loop, `stop()` closes every connection and joins it. Logs name the control id, message
type, ACK code and reason only, never a field of the message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import hl7
from hl7.mllp import InvalidBlockError, open_hl7_connection, start_hl7_server

from . import hl7v2
from .errors import (
    AA,
    AE,
    AR,
    ERR_INTERNAL,
    Delivery,
    FramingError,
    HL7Error,
    InterfaceError,
    Outcome,
    redacted,
)

log = logging.getLogger(__name__)

START_BLOCK, END_BLOCK = b"\x0b", b"\x1c\x0d"
DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024
ACCEPTED_CODES, REJECTED_CODES = ("AA", "CA"), ("AE", "AR", "CE", "CR")
Handler = Callable[[str], None]
_SAFE_ID = re.compile(r"[^A-Za-z0-9._^-]")


def frame(payload: bytes) -> bytes:
    """One MLLP block around `payload`."""
    return START_BLOCK + payload + END_BLOCK


def unframe(data: bytes, *, max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> bytes:
    """The payload of exactly one MLLP block; `FramingError` for anything else."""
    if not isinstance(data, (bytes, bytearray)):
        raise FramingError("an MLLP block is bytes")
    if not data.startswith(START_BLOCK):
        raise FramingError("block does not start with <VT> (0x0B)")
    if not data.endswith(END_BLOCK) or len(data) < 3:
        raise FramingError("block does not end with <FS><CR> (0x1C 0x0D)")
    payload = bytes(data[1:-2])
    if len(payload) > max_bytes:
        raise FramingError(f"block is larger than {max_bytes} bytes")
    if START_BLOCK in payload or b"\x1c" in payload:
        raise FramingError("block holds a second start or end character: more than one message")
    return payload


def safe_id(text: str) -> str:
    """A control id as it may appear in a log line."""
    return _SAFE_ID.sub("?", text)[:40] or "(none)"


@dataclass
class ListenerStats:
    """Counts since the listener started, for IT's status view and for tests to wait on."""

    connections: int = 0
    refused_connections: int = 0
    accepted: int = 0
    errors: int = 0
    rejected: int = 0
    dropped_mid_message: int = 0
    timeouts: int = 0
    closed: int = 0

    @property
    def answered(self) -> int:
        return self.accepted + self.errors + self.rejected


class MllpListener:
    """A TCP MLLP listener on a background thread: frames, hands each message to `handler`, ACKs it."""

    def __init__(
        self,
        handler: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        read_timeout: float = 60.0,
        handler_timeout: float = 30.0,
        max_connections: int = 8,
        sending: tuple[str, str] = ("CHECKLIST_APP", "PROCEDURE_ROOM"),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.handler = handler
        self.host, self._requested_port = host, port
        self.max_message_bytes = max_message_bytes
        self.read_timeout, self.handler_timeout = read_timeout, handler_timeout
        self.max_connections = max_connections
        self.sending, self.now = sending, now
        self.stats = ListenerStats()
        self._changed = threading.Condition()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self._error: BaseException | None = None
        self.port = 0

    # -- life cycle ------------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> MllpListener:
        """Bind and start serving on a background thread; raises OSError when the port cannot be bound."""
        if self._thread is not None:
            raise RuntimeError("the listener is already running")
        self._thread = threading.Thread(target=self._run, name="mllp-listener", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the MLLP listener did not start in time")
        if self._error is not None:
            self._thread.join(timeout)
            self._thread = None
            raise self._error
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, close every connection (a message half-read is discarded) and join the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop may already be closed
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout)
        thread.join(timeout)
        self._thread = None

    def __enter__(self) -> MllpListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, predicate: Callable[[ListenerStats], bool], timeout: float = 10.0) -> bool:
        """Block until `predicate(stats)` holds (True) or `timeout` passes (False)."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self.stats), timeout)

    def _count(self, name: str) -> None:
        with self._changed:
            setattr(self.stats, name, getattr(self.stats, name) + 1)
            self._changed.notify_all()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            self._server = loop.run_until_complete(
                start_hl7_server(
                    self._accept,
                    self.host,
                    self._requested_port,
                    limit=self.max_message_bytes,
                    encoding=hl7v2.ENCODING,
                )
            )
            self.port = self._server.sockets[0].getsockname()[1]
        except BaseException as exc:  # noqa: BLE001 - handed to start() in the caller's thread
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_default_executor())  # the handler threads, joined
            loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        asyncio.get_running_loop().call_soon(asyncio.get_running_loop().stop)

    # -- connections -----------------------------------------------------------------------------
    def _accept(self, reader: hl7.mllp.HL7StreamReader, writer: hl7.mllp.HL7StreamWriter) -> None:
        assert self._loop is not None
        if len(self._tasks) >= self.max_connections:
            log.warning("MLLP connection refused: %d connections already open", len(self._tasks))
            writer.close()
            self._count("refused_connections")
            return
        self._count("connections")
        task = self._loop.create_task(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: hl7.mllp.HL7StreamReader, writer: hl7.mllp.HL7StreamWriter) -> None:
        try:
            while await self._one_message(reader, writer):
                pass
        except (ConnectionError, OSError) as exc:
            log.info("MLLP connection lost (%s)", type(exc).__name__)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self._count("closed")

    async def _one_message(self, reader: hl7.mllp.HL7StreamReader, writer: hl7.mllp.HL7StreamWriter) -> bool:
        """Read, handle and acknowledge one message; False when the connection is done."""
        try:
            block = await asyncio.wait_for(reader.readblock(), self.read_timeout)
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip(b"\r\n\x00 "):
                log.warning("MLLP connection closed mid-message: %d bytes discarded, nothing handled", len(exc.partial))
                self._count("dropped_mid_message")
            return False
        except TimeoutError:
            log.info("MLLP connection idle for %.0f s: closed", self.read_timeout)
            self._count("timeouts")
            return False
        except ValueError:  # python-hl7 reports the size limit as ValueError and clears its buffer
            await self._answer(writer, None, AR, "message larger than the size limit", "", "(unread)")
            return False
        except InvalidBlockError:
            await self._answer(writer, None, AR, "block does not start with <VT>", "", "(unread)")
            return True
        await self._handle(block, writer)
        return True

    async def _handle(self, block: bytes, writer: hl7.mllp.HL7StreamWriter) -> None:
        try:
            text = block.decode(hl7v2.ENCODING)
        except UnicodeDecodeError:
            await self._answer(writer, None, AR, "message is not UTF-8 (MSH-18 UNICODE UTF-8 expected)", "", "(unread)")
            return
        try:
            message = hl7v2.parse(text)
        except HL7Error as exc:
            await self._answer(writer, None, exc.ack_code, exc.reason, exc.condition, "(unread)")
            return
        head = hl7v2.header(message)
        code, reason, condition = AA, "", ""
        try:
            await asyncio.wait_for(asyncio.to_thread(self.handler, text), self.handler_timeout)
        except HL7Error as exc:
            code, reason, condition = exc.ack_code, exc.reason, exc.condition
        except TimeoutError:
            code, reason, condition = AE, "the room did not finish handling the message in time", ERR_INTERNAL
        except Exception as exc:  # the handler's own failure: an AE, never a dead listener
            code, reason, condition = AE, f"application internal error ({type(exc).__name__})", ERR_INTERNAL
        await self._answer(writer, message, code, reason, condition, head.message_type, head.control_id)

    async def _answer(
        self,
        writer: hl7.mllp.HL7StreamWriter,
        message: hl7.Message | None,
        code: str,
        reason: str,
        condition: str,
        message_type: str,
        control_id: str = "",
    ) -> None:
        ack = hl7v2.acknowledgement(
            message,
            code,
            text=reason,
            condition=condition,
            control_id=hl7.generate_message_control_id(),
            sending=self.sending,
            at=self.now(),
        )
        if code == AA:
            log.info("HL7 %s control id %s: AA", message_type, safe_id(control_id))
        else:
            log.warning("HL7 %s control id %s: %s %s", message_type, safe_id(control_id), code, reason)
        writer.writeblock(ack.encode(hl7v2.ENCODING))
        await writer.drain()
        self._count({AA: "accepted", AE: "errors"}.get(code, "rejected"))


# -- sending ------------------------------------------------------------------------------------
def send(host: str, port: int, message: str, timeout: float = 30.0, *, max_ack_bytes: int = 64 * 1024) -> Delivery:
    """Send one message and wait for its ACK (from a worker thread, never the GUI thread).

    AA/CA -> ACCEPTED; AE/AR/CE/CR, an unreadable ACK or an ACK for another message -> REJECTED
    (park it and show IT); refused, reset, timed out or closed before the whole ACK -> TRANSIENT.
    The bytes sent are exactly `message` encoded as UTF-8, so a resend is byte-identical.
    """
    parsed = hl7v2.parse(message)  # our own message: an error here is a bug, raised as HL7Error
    control_id = hl7v2.header(parsed).control_id
    words = _patient_words(parsed)
    payload = hl7v2.normalise(message).encode(hl7v2.ENCODING) + b"\r"
    try:
        block = asyncio.run(_exchange(host, port, payload, timeout, max_ack_bytes))
    except TimeoutError:
        return Delivery(Outcome.TRANSIENT, f"no ACK within {timeout:g} s", control_id=control_id)
    except asyncio.IncompleteReadError:
        return Delivery(Outcome.TRANSIENT, "connection closed before the ACK was complete", control_id=control_id)
    except (ValueError, InvalidBlockError):
        return Delivery(Outcome.REJECTED, "the receiver's answer is not an MLLP-framed ACK", control_id=control_id)
    except OSError as exc:  # refused, reset, unreachable
        return Delivery(Outcome.TRANSIENT, f"network error ({type(exc).__name__})", control_id=control_id)
    return classify_ack(block, control_id, words)


async def _exchange(host: str, port: int, payload: bytes, timeout: float, max_ack_bytes: int) -> bytes:
    async with asyncio.timeout(timeout):
        reader, writer = await open_hl7_connection(host, port, limit=max_ack_bytes, encoding=hl7v2.ENCODING)
        try:
            writer.writeblock(payload)
            await writer.drain()
            return bytes(await reader.readblock())
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


def classify_ack(block: bytes, control_id: str, words: tuple[str, ...] = ()) -> Delivery:
    """What an ACK block says about the message whose MSH-10 is `control_id`."""
    try:
        ack = hl7v2.parse(block.decode(hl7v2.ENCODING, errors="strict"))
        msa = hl7v2.segments(ack, "MSA")[0]
    except (UnicodeDecodeError, InterfaceError, IndexError):
        return Delivery(Outcome.REJECTED, "the ACK could not be read", control_id=control_id)
    code, acked = hl7v2.value(msa, 1).upper(), hl7v2.value(msa, 2)
    if acked != control_id:
        return Delivery(Outcome.REJECTED, "the ACK refers to another message", code, control_id)
    errors = hl7v2.segments(ack, "ERR")
    text = hl7v2.value(msa, 3) or (hl7v2.value(errors[0], 8) if errors else "")
    if code in ACCEPTED_CODES:
        return Delivery(Outcome.ACCEPTED, "acknowledged", code, control_id)
    if code in REJECTED_CODES:
        return Delivery(Outcome.REJECTED, redacted(text, words) or "refused by the receiver", code, control_id)
    return Delivery(Outcome.REJECTED, "the ACK code is not one of HL7 table 0008", code, control_id)


def _patient_words(message: hl7.Message) -> tuple[str, ...]:
    """The PID values a receiver might echo in its error text (withheld from our logs)."""
    pids = hl7v2.segments(message, "PID")
    if not pids:
        return ()
    pid = pids[0]
    values = [hl7v2.value(pid, f, c) for f in (3, 5, 7) for c in (1, 2, 3)]
    return tuple(v for v in values if v)


__all__ = ["AE", "AR", "ListenerStats", "MllpListener", "classify_ack", "frame", "send", "unframe"]
