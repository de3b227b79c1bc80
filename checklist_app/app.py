"""Composition root: open the store and the service, build the room window, run the event loop."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

from .domain.alarms import AlarmPolicyError
from .domain.catalogue import CatalogueError
from .domain.settings import SettingsError
from .domain.template import TemplateError
from .interfaces.config import InterfaceConfigError
from .store import StoreError

APP_NAME = "checklist-app"
# What can go wrong before the window exists, each with a one-line message for a person.
STARTUP_ERRORS = (
    StoreError,
    SettingsError,
    CatalogueError,
    TemplateError,
    AlarmPolicyError,
    InterfaceConfigError,
    OSError,
)


def _application():
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else APP_NAME])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationDisplayName("Room checklist")
    return app


def startup_error_window(message: str):
    """A plain window (no QMessageBox) saying why the program cannot start, with a Close button."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

    from .ui.theme import apply_theme
    from .ui.widgets import TextButton

    window = QWidget()
    window.setObjectName("startup_error")
    window.setWindowTitle("Room checklist: cannot start")
    window.setMinimumSize(640, 320)
    layout = QVBoxLayout(window)
    layout.setContentsMargins(24, 24, 24, 24)
    label = QLabel(f"The room checklist cannot start.\n\n{message}")
    label.setObjectName("startup_error_message")
    label.setWordWrap(True)
    label.setProperty("kind", "error")
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    close = TextButton("Close", "startup_error_close", primary=True)
    close.clicked.connect(window.close)
    layout.addWidget(label, 1)
    layout.addWidget(close)
    apply_theme(window, "light")
    return window


def open_room(db_path, *, settings=None, department=None):
    """Everything `run` does before the event loop: (application, service, shown window).

    With `department` (sync.config.DepartmentConfig) the database is adopted for its room (case ids
    unique across the department) and a background worker pushes to the hub; it is `window.push_worker`.

    Raises one of STARTUP_ERRORS if the database, settings, catalogue or templates cannot be
    opened; the application exists by then, so the caller can show why. The start-up benchmark
    (benchmarks/bench_startup.py) times exactly this path.
    """
    from . import paths
    from .caselog import no_messages
    from .interfaces.config import load_interface_config
    from .interfaces.policy import record_out
    from .service import ChecklistService  # Qt-free modules first: PySide6 inspects every
    from .site import load_site_config  # module imported after it, which would cost more here
    from .store import open_store
    from .ui.hospital import attach_hospital
    from .ui.window import build_window

    app = _application()
    site = load_site_config()  # a broken site file stops here, before the database is touched
    hospital = load_interface_config(paths.site_interfaces_path())  # so does a broken interfaces.toml
    outbox = record_out(hospital.channels) if hospital.channels else no_messages
    service = ChecklistService(open_store(Path(db_path)), site=site, outbox=outbox)
    for notice in service.store.notices:  # a loose file mode made owner-only on opening: one line each
        print(f"checklist-app: notice: {notice}", file=sys.stderr)
    try:
        window = build_window(service, settings)
        window.push_worker = _start_department(window, service, Path(db_path), department)
        window.hospital = attach_hospital(window, service, Path(db_path), hospital, service.clock)
        window.show()
    except BaseException:
        service.close()
        raise
    return app, service, window


def _start_department(window, service, db_path: Path, department):
    """The department hub's push worker and views for this window (None when no hub is configured)."""
    if department is None:
        return None
    from .department import DepartmentCases, PushWorker, adopt_room

    adopt_room(service.store, department.room)  # before the first new case: ids carry the room code
    worker = PushWorker(db_path, department)
    views = DepartmentCases(department, service.site)
    window.attach_department(views, worker.wake, lambda: worker.status)
    return worker.start()


def run(db_path, *, show_error_window: bool | None = None, settings=None, department=None) -> int:
    """Open the room window on `db_path`; 1 (with a clear message, never a traceback) if it cannot start.

    `settings` (a QSettings) defaults to the user's; tests pass one in their temporary folder.
    """
    from .display import display_problem

    problem = display_problem()
    if problem:
        print(f"checklist-app: error: {problem}", file=sys.stderr)
        return 1
    try:
        app, service, window = open_room(db_path, settings=settings, department=department)
    except STARTUP_ERRORS as exc:
        message = str(exc) or type(exc).__name__
        print(f"checklist-app: error: {message}", file=sys.stderr)
        app = _application()
        if show_error_window is None:
            show_error_window = app.platformName() != "offscreen"  # nobody could close it
        if show_error_window:
            window = startup_error_window(message)
            window.show()
            app.exec()
        return 1
    sys.excepthook = _report_unexpected
    try:
        return app.exec()
    finally:
        if getattr(window, "hospital", None) is not None:
            window.hospital.stop()  # the listener and the worker, before the store closes
        if window.push_worker is not None:
            window.push_worker.stop(timeout=10)
        service.close()


def _report_unexpected(kind, value, tb) -> None:
    """An unexpected error in a slot: report it and keep the window open (saved ticks are on disk)."""
    traceback.print_exception(kind, value, tb, file=sys.stderr)
    from PySide6.QtWidgets import QApplication

    for widget in QApplication.topLevelWidgets():
        message = getattr(widget, "window_message", None)
        if message is not None:
            message.show_message(
                f"Unexpected error ({kind.__name__}); everything saved so far is safe. Please report it.", "error"
            )


def selftest(db_path) -> int:
    """The deployment check for a new workstation (ui/selftest.py)."""
    from .ui.selftest import run_selftest

    return run_selftest(db_path)
