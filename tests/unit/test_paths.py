"""Where the program finds its shipped resources and its data, from the source tree or installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from checklist_app import paths

SOURCE = Path(__file__).resolve().parents[2]


def test_the_source_tree_uses_its_resources_folder():
    assert paths.resources_dir() == SOURCE / "resources"
    assert (paths.templates_dir() / "kyphoplasty.toml").is_file()


def test_an_installed_copy_uses_the_resources_inside_the_package(tmp_path):
    # The layout `pip install .` makes: resources/ is installed as the package checklist_app.resources.
    site = tmp_path / "site"
    shutil.copytree(SOURCE / "checklist_app", site / "checklist_app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(SOURCE / "resources", site / "checklist_app" / "resources")
    code = (
        "import sys; from checklist_app import paths; "
        "print(paths.resources_dir()); print('importlib.resources' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"}
    # -S: no site-packages, whose .pth files may import importlib.resources themselves.
    out = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, check=True
    )
    where, loaded_importlib_resources = out.stdout.split()
    assert Path(where) == site / "checklist_app" / "resources"
    assert loaded_importlib_resources == "False"  # found beside the package: nothing more to import


def test_data_paths_follow_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(paths.DATA_ENV, str(tmp_path / "data"))
    monkeypatch.delenv(paths.DB_ENV, raising=False)
    assert paths.default_db_path() == tmp_path / "data" / paths.DB_FILENAME
    assert paths.site_settings_path() == tmp_path / "data" / "site.toml"
    monkeypatch.setenv(paths.DB_ENV, str(tmp_path / "elsewhere.sqlite3"))
    assert paths.default_db_path() == tmp_path / "elsewhere.sqlite3"
