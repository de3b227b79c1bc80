"""A plain `pip install .` must carry every package and every resource file.

setuptools is told the packages by name and the resources by glob (pyproject.toml), so a new
sub-package or a new kind of resource file (a font, an icon) would silently be left out of the
installed program. These tests read the same lists setuptools reads.
"""

from __future__ import annotations

import glob
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = REPO / "pyproject.toml"

pytestmark = pytest.mark.skipif(not PYPROJECT.exists(), reason="runs from a source checkout only")


def setuptools_config() -> dict:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_python_package_is_installed():
    listed = set(setuptools_config()["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "checklist_app").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"


def test_every_resource_file_is_installed():
    config = setuptools_config()
    folder = REPO / config["package-dir"]["checklist_app.resources"]
    shipped: set[Path] = set()
    for pattern in config["package-data"]["checklist_app.resources"]:
        shipped |= {Path(p) for p in glob.glob(str(folder / pattern), recursive=True)}
    files = {
        p
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc" and p.name != "__init__.py"
    }
    assert files, f"no resources under {folder}"
    missing = sorted(str(p.relative_to(folder)) for p in files - shipped)
    assert missing == [], "add a package-data pattern in pyproject.toml for these"


def test_the_entry_point_is_the_command_line():
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    assert project["scripts"] == {"checklist-app": "checklist_app.cli:main"}


def test_main_py_the_module_and_the_installed_command_are_the_same_program(program):
    from checklist_app import __version__

    launchers = [[sys.executable, "-m", "checklist_app"]]
    if (REPO / "main.py").exists():
        launchers.append([sys.executable, str(REPO / "main.py")])
    installed = Path(sys.executable).parent / "checklist-app"
    if installed.exists():  # the console script of `pip install .` / `pip install -e .`
        launchers.append([str(installed)])
    for launcher in launchers:
        done = subprocess.run(
            [*launcher, "--version"], env=program.env(), cwd=program.cwd, capture_output=True, text=True, timeout=60
        )
        assert (done.returncode, done.stdout.strip()) == (0, f"checklist-app {__version__}"), launcher
        helped = subprocess.run(
            [*launcher, "--help"], env=program.env(), cwd=program.cwd, capture_output=True, text=True, timeout=60
        )
        assert helped.returncode == 0 and "selftest" in helped.stdout, launcher
