"""Where a room finds its department hub: a site file, `--department URL` or the environment.

The hub's address and the room code are settings; the password is a credential and is read from
the environment or from a file only its owner may read (mode 0600), or left to libpq (`~/.pgpass`,
`PGPASSFILE`). It is never accepted inside the address (which is shown in settings files, process
lists and messages) and never stored in the room's database.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from checklist_app.sync.case_ids import check_room_code

ENV_URL = "CHECKLIST_APP_DEPARTMENT"
ENV_ROOM = "CHECKLIST_APP_ROOM"
ENV_PASSWORD = "CHECKLIST_APP_DEPARTMENT_PASSWORD"
ENV_PASSWORD_FILE = "CHECKLIST_APP_DEPARTMENT_PASSWORD_FILE"
SITE_FILE = "department.toml"  # in the data folder, beside site.toml
_KEYS = {"url", "room", "password_file"}


class DepartmentConfigError(ValueError):
    """The department settings cannot be used; the message names the file or variable and the key."""


@dataclass(frozen=True)
class DepartmentConfig:
    """A room's hub: its address (no password in it), its room code, and the password if one was given."""

    url: str
    room: str
    password: str | None = field(default=None, repr=False)
    source: str = ""  # where the address came from, for messages


def load_department(
    data_dir: Path,
    *,
    cli_url: str | None = None,
    cli_room: str | None = None,
    environ: Mapping[str, str] | None = None,
    need_room: bool = True,
) -> DepartmentConfig | None:
    """The room's department hub, or None when none is configured (the room works alone).

    Each setting is taken from the command line, else the environment, else `data_dir/department.toml`.
    """
    env = os.environ if environ is None else environ
    site = _site_file(data_dir / SITE_FILE)
    url, source = _first(
        (cli_url, "--department"), (env.get(ENV_URL), ENV_URL), (site.get("url"), str(data_dir / SITE_FILE))
    )
    if not url:
        return None
    room, room_source = _first(
        (cli_room, "--room-code"), (env.get(ENV_ROOM), ENV_ROOM), (site.get("room"), str(data_dir / SITE_FILE))
    )
    if not room and not need_room:
        room = ""  # the department's own views (quality office) need no room
    elif not room:
        raise DepartmentConfigError(
            f"A department hub is set ({source}) but no room code: set 'room' in {data_dir / SITE_FILE} or {ENV_ROOM}."
        )
    try:
        if room:
            check_room_code(room)
    except ValueError as exc:
        raise DepartmentConfigError(f"{room_source}: {exc}") from None
    if _has_password(url):
        raise DepartmentConfigError(
            f"{source}: the hub address holds a password. Put it in a file readable only by this account "
            f"(chmod 600) named by 'password_file' or {ENV_PASSWORD_FILE}, in {ENV_PASSWORD}, or in ~/.pgpass."
        )
    password = env.get(ENV_PASSWORD) or None
    password_file = env.get(ENV_PASSWORD_FILE) or site.get("password_file")
    if password is None and password_file:
        password = read_password_file(Path(password_file))
    return DepartmentConfig(url=url, room=room, password=password, source=source)


def read_password_file(path: Path) -> str:
    """The password in `path` (first line), refused unless only its owner may read it."""
    try:
        info = path.stat()
        if os.name == "posix" and (info.st_mode & (stat.S_IRWXG | stat.S_IRWXO) or info.st_uid != os.getuid()):
            raise DepartmentConfigError(
                f"The hub password file {path} must belong to this account and be readable by it only (chmod 600)."
            )
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DepartmentConfigError(f"Cannot read the hub password file {path}: {exc.strerror or exc}") from None
    if not lines or not lines[0].strip():
        raise DepartmentConfigError(f"The hub password file {path} is empty.")
    return lines[0].strip()


def _site_file(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DepartmentConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DepartmentConfigError(f"{path}: not valid TOML: {exc}") from None
    table = data.get("department")
    if set(data) - {"department"} or not isinstance(table, dict):
        raise DepartmentConfigError(f"{path}: the settings go in one [department] table")
    stray = sorted(set(table) - _KEYS)
    if stray:
        raise DepartmentConfigError(f"{path}: [department] unknown key '{stray[0]}'")
    if any(not isinstance(value, str) or not value.strip() for value in table.values()):
        raise DepartmentConfigError(f"{path}: [department] values must be non-empty text")
    return {key: value.strip() for key, value in table.items()}


def _first(*candidates: tuple[str | None, str]) -> tuple[str | None, str]:
    for value, source in candidates:
        if value and value.strip():
            return value.strip(), source
    return None, ""


def _has_password(url: str) -> bool:
    """A password inside a postgresql:// URL or a key=value connection string."""
    if "://" in url:
        parts = urlsplit(url)
        return bool(parts.password) or "password" in parse_qs(parts.query)
    return re.search(r"(^|\s)password\s*=", url) is not None
