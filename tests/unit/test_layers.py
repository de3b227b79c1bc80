"""The layer walls (STYLE.md): Qt only in ui/ and app.py, SQLite only in store/, a pure domain.

The ast walk sees every import statement, including ones inside functions, so the walls hold
even for the lazy imports the command line uses; `lint-imports` checks the same contracts from
pyproject.toml as CI does.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "checklist_app"

QT = {"PySide6", "shiboken6"}
SQL = {"sqlite3", "sqlite_utils"}
APP_LAYERS = {"store", "service", "note", "ui", "app", "demo", "cli", "report"}


def modules() -> list[Path]:
    found = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
    assert found, f"no modules under {PACKAGE}"
    return found


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Absolute dotted names this module imports (relative imports resolved), dynamic ones included."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            names.add(node.args[0].value)  # type: ignore[attr-defined]
    return names


def _is_dynamic_import(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    first = node.args[0] if node.args else None
    return name in ("import_module", "__import__") and isinstance(first, ast.Constant) and isinstance(first.value, str)


def top_levels(names: set[str]) -> set[str]:
    return {n.split(".")[0] for n in names}


def layer(path: Path) -> str:
    """'ui', 'store', 'domain', 'note'... for a package; the module name for a top-level module."""
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def offenders(allowed_layers: set[str], forbidden: set[str]) -> dict[str, set[str]]:
    found = {}
    for path in modules():
        if layer(path) in allowed_layers:
            continue
        bad = top_levels(imported(path)) & forbidden
        if bad:
            found[str(path.relative_to(REPO))] = bad
    return found


def test_only_ui_and_app_import_qt():
    assert offenders({"ui", "app"}, QT) == {}


def test_only_the_store_imports_sqlite():
    assert offenders({"store"}, SQL) == {}


def test_the_domain_imports_no_other_layer():
    bad = {}
    for path in modules():
        if layer(path) != "domain":
            continue
        ours = {n.split(".")[1] for n in imported(path) if n.startswith("checklist_app.") and n.count(".") >= 1}
        if ours & APP_LAYERS or top_levels(imported(path)) & (QT | SQL):
            bad[str(path.relative_to(REPO))] = ours & APP_LAYERS
    assert bad == {}


def test_the_hub_client_imports_neither_qt_nor_the_window_nor_the_rooms_store():
    room_side = {"checklist_app.ui", "checklist_app.app", "checklist_app.store", "checklist_app.service"}
    bad = {}
    for path in modules():
        if layer(path) != "sync":
            continue
        names = imported(path)
        wrong = (top_levels(names) & (QT | SQL)) | {n for n in names if n.split(".")[:2] in _prefixes(room_side)}
        if wrong:
            bad[str(path.relative_to(REPO))] = wrong
    assert bad == {}


def test_only_the_hub_adapter_imports_psycopg():
    users = {str(path.relative_to(REPO)) for path in modules() if "psycopg" in top_levels(imported(path))}
    assert users == {"checklist_app/sync/hub_pg.py"}


def _prefixes(names: set[str]) -> list[list[str]]:
    return [name.split(".")[:2] for name in names]


def test_the_walk_sees_imports_inside_functions():
    sample = PACKAGE / "cli.py"
    assert "checklist_app.app" in imported(sample), "cli.py imports the window lazily inside cmd_gui"


def test_import_linter_contracts_are_kept():
    # Next to the Python running the tests (the venv's scripts), whether or not the venv is activated.
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe is not None, f"lint-imports is not installed beside {sys.executable}: pip install -e '.[test]'"
    done = subprocess.run([exe], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "broken" in done.stdout and " 0 broken" in done.stdout
