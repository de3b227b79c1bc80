"""Deployment check for IT on a new workstation: Qt, fonts, database, templates, sound, printers.

Each check prints one line, ``PASS  name: detail``, ``WARN  name: detail`` or ``FAIL  name: detail``.
WARN means "works, but someone should know" and does not fail the test: no audio device (alarms
stay visual and use the system beep) and no printer installed (the note can still be saved as a
PDF and printed elsewhere). The exit code is 0 only when no check failed.

The real database is never opened: a throwaway database in the same folder proves that the folder
is writable and that the durable settings are in force (WAL, synchronous=FULL, foreign keys), and
is deleted afterwards. The main window is built on that throwaway database.

The last line is ``ready in N ms``: the time from the start of this process (the kernel's start
time in /proc/self/stat, 10 ms resolution, so the interpreter start and every import are included)
to the main window being shown. The window is built right after the checks it depends on (Qt,
database, templates), as the program itself starts, so fonts, sound and printers are not counted.
Where /proc is missing the time is measured from the import of this module, and the line says so.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import PySide6
from PySide6.QtCore import qVersion
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

from .. import paths
from ..site import SiteConfig

_IMPORTED = time.perf_counter()
PASS, WARN, FAIL = "PASS", "WARN", "FAIL"
DURABLE = {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1}
# Patient names in any of these must display (the shipped fonts cover them all: resources/fonts).
SCRIPTS = (
    "Latin",
    "Greek",
    "Cyrillic",
    "Vietnamese",
    "Arabic",
    "Hebrew",
    "Devanagari",
    "Thai",
    "SimplifiedChinese",
    "Japanese",
    "Korean",
)


class Checks:
    """Collects the result lines; `run` turns an unexpected exception into a FAIL line."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, str]] = []

    def add(self, status: str, check: str, detail: str) -> None:
        self.lines.append((status, check, detail))
        print(f"{status:<5} {check}: {detail}", flush=True)

    def run(self, check: str, func: Callable[[], tuple[str, str]]) -> None:
        try:
            status, detail = func()
        except Exception as exc:  # noqa: BLE001 - a self-test reports every failure as a line
            status, detail = FAIL, f"{type(exc).__name__}: {exc}"
        self.add(status, check, detail)

    @property
    def failed(self) -> bool:
        return any(status == FAIL for status, _, _ in self.lines)


def process_age() -> tuple[float, str]:
    """Seconds since this process started, and what that is measured from."""
    with suppress(OSError, ValueError, IndexError, AttributeError):
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: start time after boot, in ticks
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - started
        if 0 <= age < 24 * 3600:
            return age, "process start"
    return time.perf_counter() - _IMPORTED, "self-test import (no /proc: interpreter start not counted)"


def run_selftest(db_path: Path) -> int:
    """Run every check, print one line each and `ready in N ms` last; 0 if nothing failed."""
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "checklist-app"])
    checks = Checks()
    checks.run("qt", lambda: _check_qt(app))
    temp = _temp_path(Path(db_path))
    store: Any = None
    window: QWidget | None = None
    ready = 0.0
    try:
        store = _check_database(checks, Path(db_path), temp)
        loaded = _check_resources(checks)
        window, ready = _main_window(checks, store, loaded)
        checks.run("fonts", _check_fonts)
        checks.run("sound", _check_sound)
        checks.run("printers", _check_printers)
    finally:
        if window is not None:
            window.close()
            window.deleteLater()
            app.processEvents()
        _discard(checks, store, temp)
    print(f"ready in {ready * 1000:.0f} ms" if window is not None else "ready in — ms (no window)", flush=True)
    return 1 if checks.failed else 0


# -- checks ------------------------------------------------------------------------------------
def _check_qt(app) -> tuple[str, str]:
    probe = QWidget()
    probe.setWindowTitle("checklist self-test")
    probe.resize(200, 100)
    probe.show()
    app.processEvents()
    shown = probe.isVisible() and probe.windowHandle() is not None
    probe.close()
    probe.deleteLater()
    detail = f"platform {app.platformName()}, Qt {qVersion()}, PySide6 {PySide6.__version__}"
    return (PASS, f"{detail}, window created") if shown else (FAIL, f"{detail}: could not show a window")


def _temp_path(db_path: Path) -> Path:
    return db_path.parent / f".selftest-{os.getpid()}-{secrets.token_hex(4)}.sqlite3"


def _check_database(checks: Checks, db_path: Path, temp: Path):
    """A throwaway database beside the real one: writable, durable settings in force. Returns its store."""
    from ..store import Store

    try:
        store = Store(temp)
        store.staff.meta_set("selftest", "write check")
        written = store.staff.meta_get("selftest") == "write check"
        pragmas = store.pragmas()
    except Exception as exc:  # noqa: BLE001
        checks.add(FAIL, "database", f"cannot create a database in {db_path.parent}: {exc}")
        return None
    wrong = {k: v for k, v in pragmas.items() if str(v).lower() != str(DURABLE[k])}
    settings = ", ".join(f"{k} {v}" for k, v in pragmas.items())
    real = "exists" if db_path.exists() else "not created yet (made on first start)"
    if not written or wrong:
        checks.add(FAIL, "database", f"{db_path.parent}: settings {settings}; expected {DURABLE}")
    else:
        checks.add(PASS, "database", f"{db_path.parent} is writable; {settings}; real database {real}")
    return store


def _check_resources(checks: Checks) -> SiteConfig | None:
    from ..site import load_site_config

    try:
        site = load_site_config()
        missing = {"kyphoplasty", "vertebroplasty"} - set(site.templates)
        if missing:
            raise ValueError(f"no template for {', '.join(sorted(missing))} in {paths.templates_dir()}")
    except Exception as exc:  # noqa: BLE001
        checks.add(FAIL, "templates", str(exc))
        return None
    names = ", ".join(f"{t.id} v{t.version}" for t in site.templates.values())
    checks.add(PASS, "templates", f"{names} valid")
    where = "shipped + site file" if paths.site_products_path().is_file() else "shipped"
    catalogue = site.catalogue
    checks.add(
        PASS, "catalogue", f"{len(catalogue.cements)} cements, {len(catalogue.balloons)} balloons ({where}) valid"
    )
    return site


def _main_window(checks: Checks, store, loaded) -> tuple[QWidget, float]:
    """The real main window (checklist_app.ui.window.build_window) on the throwaway database, shown."""
    window = _build_window(checks, store, loaded)
    plain = window is None
    if window is None:
        window = QMainWindow()
    window.show()
    QApplication.processEvents()
    age, since = process_age()
    if not window.isVisible():
        checks.add(FAIL, "main window", "the window did not show")
    elif not plain:
        checks.add(PASS, "main window", f"{type(window).__name__} shown; time measured from {since}")
    return window, age


def _build_window(checks: Checks, store, loaded) -> QWidget | None:
    if store is None or loaded is None:
        checks.add(WARN, "main window", "not built (see the failure above); timed a plain window instead")
        return None
    from ..service import ChecklistService
    from .window import build_window

    try:
        return build_window(ChecklistService(store, site=loaded))
    except Exception as exc:  # noqa: BLE001
        checks.add(FAIL, "main window", f"build_window failed: {type(exc).__name__}: {exc}")
        return None


def _check_fonts() -> tuple[str, str]:
    with suppress(ImportError):
        from .theme import load_fonts

        load_fonts()  # the fonts the program ships, as the window registers them
    families = QFontDatabase.families()
    systems = {s: getattr(QFontDatabase.WritingSystem, s) for s in SCRIPTS}
    missing = [s for s, ws in systems.items() if not QFontDatabase.families(ws)]
    if not families:
        return FAIL, "no fonts installed"
    if missing:
        return FAIL, f"{len(families)} families, none for {', '.join(missing)}: patient names would show boxes"
    return PASS, f"{len(families)} families; {', '.join(SCRIPTS)} covered"


def _check_sound() -> tuple[str, str]:
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError as exc:
        return WARN, f"no audio device: will use the system beep (Qt Multimedia unavailable: {exc})"
    outputs = QMediaDevices.audioOutputs()
    if not outputs:
        return WARN, "no audio device: will use the system beep (alarms are visual first)"
    return PASS, f"audio output {QMediaDevices.defaultAudioOutput().description()!r} ({len(outputs)} found)"


def _check_printers() -> tuple[str, str]:
    from PySide6.QtPrintSupport import QPrinterInfo

    names = QPrinterInfo.availablePrinterNames()
    if not names:
        return WARN, "none installed: notes can still be saved as PDF; install a printer to print in the room"
    default = QPrinterInfo.defaultPrinterName() or "none"
    return PASS, f"{len(names)} installed, default {default}"


def _discard(checks: Checks, store, temp: Path) -> None:
    """Close and delete the throwaway database and its companions (-wal, -shm, .lock)."""
    if store is not None:
        store.close()
    for suffix in ("", "-wal", "-shm", "-journal", ".lock"):
        path = temp.with_name(temp.name + suffix)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            pass
        except OSError as exc:
            checks.add(FAIL, "cleanup", f"could not delete the throwaway file {path}: {exc.strerror}")
