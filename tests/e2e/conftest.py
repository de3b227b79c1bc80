"""Fixtures for the end-to-end tests: a program with a private data folder, a demo database."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from e2e_support import Program


@pytest.fixture
def program(tmp_path) -> Program:
    return Program(tmp_path)


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory) -> tuple[Path, list[str]]:
    """One database of 3 simulated cases (seed 1), made once; tests get their own copy."""
    prog = Program(tmp_path_factory.mktemp("demo-master"))
    result = prog("demo", "--cases", "3", "--seed", "1", "--db", prog.db)  # the demo names its database
    assert result.code == 0, result.err
    return prog.db, [line.split()[0] for line in result.lines]


@pytest.fixture
def demo(program, demo_master) -> tuple[Program, list[str]]:
    """A program whose default database holds the 3 demo cases; returns it and the case ids."""
    master, ids = demo_master
    program.data_dir.mkdir(mode=0o700, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        source = master.with_name(master.name + suffix)
        if source.exists():
            shutil.copy2(source, program.db.with_name(program.db.name + suffix))
    return program, ids
