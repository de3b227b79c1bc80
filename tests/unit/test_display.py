"""Before Qt starts: a missing display or missing X11 libraries are named, never a Qt abort."""

from __future__ import annotations

from checklist_app.display import NO_DISPLAY, display_problem


def test_without_any_display_the_window_says_so_and_what_to_use_instead():
    assert display_problem({}, "linux") == NO_DISPLAY
    assert "checklist-app cases" in NO_DISPLAY


def test_missing_xcb_libraries_are_named_with_the_package_to_install():
    present = {"libxcb-icccm.so.4", "libxcb-image.so.0", "libxcb-render-util.so.0", "libxcb-shape.so.0"}
    problem = display_problem(
        {"DISPLAY": ":0"}, "linux", loadable=lambda name: name in present | {"libxkbcommon-x11.so.0"}
    )
    assert problem is not None
    assert "libxcb-cursor0" in problem and "libxcb-keysyms1" in problem and "apt-get install" in problem
    assert "libxcb-icccm4" not in problem


def test_a_complete_x11_desktop_wayland_or_offscreen_is_fine():
    assert display_problem({"DISPLAY": ":0"}, "linux", loadable=lambda name: True) is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({}, "win32") is None and display_problem({}, "darwin") is None
