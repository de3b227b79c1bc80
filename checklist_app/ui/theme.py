"""High-contrast light and dark themes: colours declared once, applied as a palette plus a stylesheet."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache
from string import Template

from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QFontDatabase, QPalette
from PySide6.QtWidgets import QWidget

from .. import paths

THEME_KEY = "ui/theme"
THEMES = ("light", "dark")
DEFAULT_THEME = "light"


@dataclass(frozen=True)
class Theme:
    """The colours of one theme. Text/background pairs keep a contrast ratio of at least 7:1."""

    name: str
    bg: str
    surface: str
    surface2: str
    text: str
    muted: str
    border: str
    input_bg: str
    accent: str
    accent_text: str
    accent_pressed: str
    pressed: str
    focus: str
    done: str
    done_bg: str
    current_bg: str
    current_text: str
    disabled: str
    error: str
    error_bg: str
    error_text: str
    warn_bg: str
    warn_text: str
    info_bg: str
    high: str
    high_text: str
    medium: str
    medium_text: str
    low: str
    low_text: str
    lock_bg: str
    lock_text: str


LIGHT = Theme(
    name="light",
    bg="#ffffff",
    surface="#f1f3f6",
    surface2="#e2e6ec",
    text="#0a0a0a",
    muted="#363b44",
    border="#59616e",
    input_bg="#ffffff",
    accent="#0b4fa8",
    accent_text="#ffffff",
    accent_pressed="#062f66",
    pressed="#0a0a0a",
    focus="#e06a00",
    done="#0b6b2e",
    done_bg="#dcf1e2",
    current_bg="#0b4fa8",
    current_text="#ffffff",
    disabled="#6b7280",
    error="#b00020",
    error_bg="#fde7ea",
    error_text="#7a0016",
    warn_bg="#ffd54a",
    warn_text="#000000",
    info_bg="#e3eefc",
    high="#b00020",
    high_text="#ffffff",
    medium="#ffb300",
    medium_text="#000000",
    low="#006d77",
    low_text="#ffffff",
    lock_bg="#fde7ea",
    lock_text="#7a0016",
)

DARK = Theme(
    name="dark",
    bg="#0b0d10",
    surface="#161a20",
    surface2="#252c37",
    text="#f5f7fa",
    muted="#c9ced6",
    border="#8a94a3",
    input_bg="#05070a",
    accent="#5aa9ff",
    accent_text="#000000",
    accent_pressed="#9ccbff",
    pressed="#f5f7fa",
    focus="#ffa733",
    done="#6ee29b",
    done_bg="#0f3320",
    current_bg="#5aa9ff",
    current_text="#000000",
    disabled="#8a94a3",
    error="#ff6b7a",
    error_bg="#3b0d14",
    error_text="#ffc2c9",
    warn_bg="#ffd54a",
    warn_text="#000000",
    info_bg="#12263f",
    high="#ff4d5e",
    high_text="#000000",
    medium="#ffc233",
    medium_text="#000000",
    low="#4dd0e1",
    low_text="#000000",
    lock_bg="#3b0d14",
    lock_text="#ffc2c9",
)

_BY_NAME = {"light": LIGHT, "dark": DARK}


def theme_named(name: str) -> Theme:
    return _BY_NAME.get(name, _BY_NAME[DEFAULT_THEME])


def saved_theme(settings: QSettings) -> str:
    value = settings.value(THEME_KEY, DEFAULT_THEME)
    return value if value in THEMES else DEFAULT_THEME


def save_theme(settings: QSettings, name: str) -> None:
    settings.setValue(THEME_KEY, name)
    settings.sync()


def stylesheet(theme: Theme) -> str:
    """The room stylesheet (resources/styles/room.qss) with this theme's colours filled in."""
    source = (paths.resources_dir() / "styles" / "room.qss").read_text(encoding="utf-8")
    icons = (paths.resources_dir() / "icons").as_posix()  # arrows drawn in this theme's text colour
    return Template(source).safe_substitute(asdict(theme), icons=icons)


def palette(theme: Theme) -> QPalette:
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: theme.bg,
        QPalette.ColorRole.WindowText: theme.text,
        QPalette.ColorRole.Base: theme.input_bg,
        QPalette.ColorRole.AlternateBase: theme.surface,
        QPalette.ColorRole.Text: theme.text,
        QPalette.ColorRole.Button: theme.surface2,
        QPalette.ColorRole.ButtonText: theme.text,
        QPalette.ColorRole.Highlight: theme.accent,
        QPalette.ColorRole.HighlightedText: theme.accent_text,
        QPalette.ColorRole.ToolTipBase: theme.surface,
        QPalette.ColorRole.ToolTipText: theme.text,
        QPalette.ColorRole.PlaceholderText: theme.muted,
    }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(theme.disabled))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(theme.disabled))
    return pal


def apply_theme(window: QWidget, name: str) -> Theme:
    """Colour `window` and everything in it (not the whole application: tests stay independent)."""
    theme = theme_named(name)
    window.setPalette(palette(theme))
    window.setStyleSheet(stylesheet(theme))
    window.setProperty("theme", theme.name)
    return theme


@cache
def load_fonts() -> tuple[str, ...]:
    """Register fonts shipped in resources/fonts (wide Unicode coverage for patient names), once."""
    folder = paths.resources_dir() / "fonts"
    families: list[str] = []
    for path in sorted(folder.glob("*.ttf")) if folder.is_dir() else ():
        font_id = QFontDatabase.addApplicationFont(str(path))
        if font_id >= 0:
            families += QFontDatabase.applicationFontFamilies(font_id)
    return tuple(families)
