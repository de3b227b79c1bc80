"""Can the room window open here? Checked before Qt starts, because Qt aborts the process instead.

Without a display (an SSH session, a service account, CI) or without the X11 libraries Qt's xcb
platform plugin needs, Qt prints a line and aborts with a core dump. This module finds both cases
first and says, in one sentence, what is missing and what to do.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping

# The libraries Qt 6's xcb platform plugin loads beyond a usual desktop (Debian/Ubuntu package names).
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}
NO_DISPLAY = (
    "there is no display to open the room window on (DISPLAY and WAYLAND_DISPLAY are not set). "
    "Start it from the workstation's desktop session; away from the room, use the subcommands "
    "(checklist-app cases, show, note, verify, backup)."
)


def _loadable(name: str) -> bool:
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def display_problem(
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    loadable: Callable[[str], bool] = _loadable,
) -> str | None:
    """Why the window cannot open here, or None. Only Linux (X11 or Wayland) is checked."""
    env = os.environ if environ is None else environ
    if (platform or sys.platform) != "linux":
        return None
    chosen = env.get("QT_QPA_PLATFORM", "").split(":", 1)[0]
    if chosen and chosen != "xcb":
        return None  # offscreen, wayland, vnc...: Qt reports its own plugin's needs
    if not chosen and env.get("WAYLAND_DISPLAY"):
        return None
    if not env.get("DISPLAY"):
        return NO_DISPLAY
    missing = [package for library, package in XCB_LIBRARIES.items() if not loadable(library)]
    if missing:
        return (
            f"Qt's X11 support needs system libraries that are not installed: {', '.join(missing)}. "
            f"On Debian or Ubuntu: sudo apt-get install {' '.join(missing)} (other systems: the "
            "same libraries, e.g. xcb-util-cursor, xcb-util-wm and xcb-util-keysyms on Fedora)."
        )
    return None
