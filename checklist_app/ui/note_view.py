"""The operative note inside the program: preview, print and save, with rendering off the GUI thread.

The note content is taken from the case state on the GUI thread (cheap, and the state is never
shared with another thread); only the PDF rendering runs on a worker, which reports back by signal.

The window imports this module when the note page is first shown (ui/lazy_page.py), so QtPdf loads
then; the note package (reportlab) loads at the first render, QtPrintSupport at the first print.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from ..domain.errors import Refusal
from .names import name
from .ports import RoomService
from .widgets import BigButton, MessageLabel

if TYPE_CHECKING:
    from PySide6.QtPrintSupport import QPrinter

    from ..note import NoteContent

MAX_PRINT_DPI = 300  # pages are rasterised for the printer; more only costs memory


def render_pdf(content: NoteContent) -> bytes:
    """The note's PDF bytes (called on the render thread)."""
    from ..note import render_pdf as render  # reportlab: ~130 ms to import, not worth paying at start

    return render(content)


class _JobSignals(QObject):
    """What a render job reports back to the GUI thread (queued across threads)."""

    finished = Signal(int, object)
    failed = Signal(int, str)


class _RenderJob(QRunnable):
    """Renders one NoteContent to PDF bytes on a pool thread."""

    def __init__(self, job: int, content: NoteContent) -> None:
        super().__init__()
        self.job, self.content = job, content
        self.signals = _JobSignals()

    def run(self) -> None:
        """Render on the pool thread; report the bytes or the error by signal."""
        try:
            data = render_pdf(self.content)
        except Exception as exc:  # noqa: BLE001 - any failure is reported to the panel, never lost
            self.signals.failed.emit(self.job, f"{type(exc).__name__}: {exc}")
        else:
            self.signals.finished.emit(self.job, data)


class NotePanel(QWidget):
    """Preview, print and save the operative note of one case."""

    note_rendered = Signal(object)  # the PDF bytes
    render_failed = Signal(str)

    def __init__(self, service: RoomService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name(self, "note.panel", "Operative note")
        self.service = service
        self.case_id: str | None = None
        self.pdf: bytes | None = None
        self._key: tuple[str, int] | None = None
        self._job = 0
        self._jobs: dict[int, _RenderJob] = {}
        self._after: Callable[[], None] | None = None
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._buffer: QBuffer | None = None
        self.document = QPdfDocument(self)
        self._build()
        self._set_busy(False)

    def _build(self) -> None:
        self.preview_button = BigButton("Preview note", "note.preview", primary=True)
        self.print_button = BigButton("Print…", "note.print")
        self.save_button = BigButton("Save PDF…", "note.save")
        self.status = name(QLabel("No case selected"), "note.status", "Note status")
        self.progress_label = name(QLabel("Preparing note…"), "note.progress_label", "Preparing note")
        self.progress = name(QProgressBar(), "note.progress", "Preparing note")
        self.progress.setRange(0, 0)  # busy indicator: rendering has no measurable steps
        self.message = MessageLabel("note.message")
        self.view = name(QPdfView(self), "note.view", "Operative note preview")
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.view.setDocument(self.document)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        for button in (self.preview_button, self.print_button, self.save_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.status)
        busy = QHBoxLayout()
        busy.addWidget(self.progress_label)
        busy.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addLayout(buttons)
        layout.addLayout(busy)
        layout.addWidget(self.message)
        layout.addWidget(self.view, 1)
        self.preview_button.clicked.connect(self.preview)
        self.print_button.clicked.connect(self.print_note)
        self.save_button.clicked.connect(self.save_pdf)

    # -- public -----------------------------------------------------------------------------------
    def set_case(self, case_id: str | None) -> None:
        """Show the note of this case; rendered at once when the panel is on screen, else when it is shown."""
        if case_id is not None and case_id == self.case_id and self._fresh():
            return  # the window calls this each time the page is shown: keep an up-to-date preview
        self.case_id = case_id
        self.pdf, self._key, self._after = None, None, None
        self._job += 1  # a render still running for the previous case is ignored when it ends
        self.document.close()
        self.message.clear_message()
        self.status.setText("Press Preview note to prepare the note" if case_id else "No case selected")
        self._set_busy(False)
        if case_id is not None and self.isVisible():
            self.preview()

    def showEvent(self, event) -> None:
        """Render when the page comes on screen and the preview is missing or out of date."""
        super().showEvent(event)
        if self.case_id is not None and not self._fresh() and self._after is None and not self._jobs:
            self.preview()

    def preview(self) -> None:
        """Render (if the case changed since the last render) and show the note."""
        self._with_pdf(lambda: None)

    def print_note(self) -> None:
        """Open the system print dialog and print the note."""
        self._with_pdf(self._print_with_dialog)

    def save_pdf(self) -> None:
        """Ask where to save the note and write it readable by the owner only."""
        self._with_pdf(self._save_with_dialog)

    def render(self) -> bool:
        """Start rendering the current case's note off the GUI thread; False if there is nothing to render."""
        if self.case_id is None:
            return False
        try:
            from ..note import note_content  # the first render imports the note package (and reportlab)
        except ImportError as exc:  # a broken install: said in the panel, as a missing panel used to be
            self._failed(self._job, f"the note module is not installed ({exc})")
            return False
        try:
            state = self.service.state(self.case_id)
            content = note_content(state)
        except Refusal as exc:
            self._failed(self._job, exc.message)
            return False
        self._key = (self.case_id, len(state.events))
        self.status.setText("")
        self._job += 1
        job = _RenderJob(self._job, content)
        job.signals.finished.connect(self._rendered)
        job.signals.failed.connect(self._failed)
        self._jobs[self._job] = job
        self._set_busy(True)
        self._pool.start(job)
        return True

    def print_to(self, printer: QPrinter) -> int:
        """Draw every page of the rendered note onto `printer`; returns the number of pages printed."""
        pages = self.document.pageCount()
        painter = QPainter()
        if pages == 0 or not painter.begin(printer):
            return 0
        try:
            dpi = min(printer.resolution(), MAX_PRINT_DPI)
            for page in range(pages):
                if page:
                    printer.newPage()
                self._draw_page(painter, page, dpi)
        finally:
            painter.end()
        return pages

    # -- internals --------------------------------------------------------------------------------
    def _draw_page(self, painter: QPainter, page: int, dpi: int) -> None:
        """Rasterise one page at `dpi` and draw it to fit the printable area, keeping its proportions."""
        points = self.document.pagePointSize(page)
        image = self.document.render(page, QSize(round(points.width() * dpi / 72), round(points.height() * dpi / 72)))
        target = painter.viewport()
        size = image.size().scaled(target.size(), Qt.AspectRatioMode.KeepAspectRatio)
        smooth = image.scaled(size, mode=Qt.TransformationMode.SmoothTransformation)
        painter.drawImage(0, 0, smooth)

    def _current_key(self) -> tuple[str, int] | None:
        if self.case_id is None:
            return None
        return (self.case_id, len(self.service.state(self.case_id).events))

    def _fresh(self) -> bool:
        """A PDF is loaded and the case has not changed since it was rendered."""
        try:
            return self.pdf is not None and self._key == self._current_key()
        except Refusal:
            return False

    def _with_pdf(self, action: Callable[[], None]) -> None:
        """Run `action` once an up-to-date PDF is loaded, rendering first when needed."""
        if self.case_id is None:
            self.message.show_message("Choose a case first.", "info")
            return
        if self._fresh():
            action()
            return
        self._after = action
        self.render()

    def _rendered(self, job: int, data: object) -> None:
        self._jobs.pop(job, None)
        if job != self._job or not isinstance(data, bytes):
            return
        self.pdf = data
        self._load(data)
        self._set_busy(False)
        self.message.clear_message()
        pages = self.document.pageCount()
        self.status.setText(f"{pages} page{'s' if pages != 1 else ''}")
        self.note_rendered.emit(data)
        after, self._after = self._after, None
        if after is not None:
            after()

    def _failed(self, job: int, error: str) -> None:
        self._jobs.pop(job, None)
        if job != self._job:
            return
        self._after = None
        self._set_busy(False)
        self.message.show_message(f"The note could not be prepared: {error}", "error")
        self.render_failed.emit(error)

    def _load(self, data: bytes) -> None:
        self.document.close()
        buffer = QBuffer(self)
        buffer.setData(QByteArray(data))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document.load(buffer)
        if self._buffer is not None:
            self._buffer.deleteLater()
        self._buffer = buffer  # the document reads from it for as long as it is shown

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.progress_label.setVisible(busy)
        for button in (self.preview_button, self.print_button, self.save_button):
            button.setEnabled(not busy and self.case_id is not None)

    def _ask_printer(self) -> QPrinter | None:
        """The system print dialog; None when cancelled."""
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(f"Operative note {self.case_id}")
        dialog = QPrintDialog(printer, self)
        dialog.setObjectName("note.print_dialog")
        return printer if dialog.exec() == QPrintDialog.DialogCode.Accepted else None

    def _print_with_dialog(self) -> None:
        printer = self._ask_printer()
        if printer is None:
            return
        pages = self.print_to(printer)
        if pages:
            self.message.show_message(f"Sent {pages} page{'s' if pages != 1 else ''} to the printer.", "info")
        else:
            self.message.show_message("Nothing was printed: the printer could not be opened.", "error")

    def _ask_path(self) -> str:
        suggested = str(Path.home() / f"operative-note-{self.case_id}.pdf")
        path, _ = QFileDialog.getSaveFileName(self, "Save operative note", suggested, "PDF documents (*.pdf)")
        return path

    def _save_with_dialog(self) -> None:
        from ..note import database_files, write_private

        path = self._ask_path()
        if not path or self.pdf is None:
            return
        target = Path(path) if path.lower().endswith(".pdf") else Path(path + ".pdf")
        try:
            write_private(target, self.pdf, protected=database_files(self.service))
        except Refusal as exc:
            self.message.show_message(f"Not saved: {exc.message}", "error")
            return
        self.message.show_message(f"Saved to {target} (readable by you only).", "info")
