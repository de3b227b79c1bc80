"""Where a room finds its hub, and how its password is kept out of addresses and databases (no server)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from checklist_app.sync.config import (
    ENV_PASSWORD,
    ENV_PASSWORD_FILE,
    ENV_ROOM,
    ENV_URL,
    DepartmentConfigError,
    load_department,
    read_password_file,
)
from checklist_app.sync.pusher import PushStatus

URL = "postgresql://hub_room_or1@db.example/hub?sslmode=verify-full"


def test_no_hub_configured_means_the_room_works_alone(tmp_path):
    assert load_department(tmp_path, environ={}) is None


def test_the_command_line_wins_over_the_environment_over_the_site_file(tmp_path):
    (tmp_path / "department.toml").write_text(f'[department]\nurl = "{URL}"\nroom = "OR1"\n')
    assert load_department(tmp_path, environ={}).url == URL
    env = {ENV_URL: "postgresql://x@env/hub", ENV_ROOM: "OR2"}
    from_env = load_department(tmp_path, environ=env)
    assert (from_env.url, from_env.room) == ("postgresql://x@env/hub", "OR2")
    from_cli = load_department(tmp_path, cli_url="postgresql://x@cli/hub", cli_room="OR3", environ=env)
    assert (from_cli.url, from_cli.room, from_cli.source) == ("postgresql://x@cli/hub", "OR3", "--department")


@pytest.mark.parametrize(
    "url", ["postgresql://room:secret@db.example/hub", "postgresql://db/hub?password=secret", "host=db password=secret"]
)
def test_a_password_inside_the_address_is_refused(tmp_path, url):
    with pytest.raises(DepartmentConfigError, match="holds a password"):
        load_department(tmp_path, cli_url=url, environ={ENV_ROOM: "OR1"})


def test_a_hub_without_a_room_code_is_refused_with_what_to_set(tmp_path):
    with pytest.raises(DepartmentConfigError, match="no room code"):
        load_department(tmp_path, cli_url=URL, environ={})
    with pytest.raises(DepartmentConfigError, match="starting with a letter"):
        load_department(tmp_path, cli_url=URL, environ={ENV_ROOM: "1OR"})


def test_the_password_comes_from_the_environment_or_an_owner_only_file(tmp_path):
    secret = tmp_path / "hub-password"
    secret.write_text("correct horse battery\n")
    secret.chmod(0o600)
    config = load_department(tmp_path, environ={ENV_URL: URL, ENV_ROOM: "OR1", ENV_PASSWORD_FILE: str(secret)})
    assert config.password == "correct horse battery"
    assert "correct horse" not in repr(config)
    assert load_department(tmp_path, environ={ENV_URL: URL, ENV_ROOM: "OR1", ENV_PASSWORD: "pw"}).password == "pw"


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_a_password_file_others_may_read_is_refused(tmp_path):
    secret = tmp_path / "hub-password"
    secret.write_text("correct horse battery\n")
    secret.chmod(0o644)
    with pytest.raises(DepartmentConfigError, match="chmod 600"):
        read_password_file(secret)


def test_a_broken_site_file_names_itself(tmp_path):
    (tmp_path / "department.toml").write_text('[department]\nurl = "x"\nport = "1"\n')
    with pytest.raises(DepartmentConfigError, match="unknown key 'port'"):
        load_department(tmp_path, environ={})


def test_the_status_line_is_short_and_calm():
    since = datetime(2026, 3, 2, 9, 42, tzinfo=UTC)
    local = since.astimezone().strftime("%H:%M")
    assert PushStatus("in_step").text() == "department: up to date"
    assert PushStatus("waiting", 12, 2, since).text() == f"department: 12 events waiting since {local}"
    down = PushStatus("unavailable", 1, 1, since, message="The hub at db:5432/hub is not available now")
    assert down.text() == f"department: hub not reachable, kept here; 1 event waiting since {local}"
    assert not down.problem
    parked = PushStatus("in_step", parked={"OR1-20260302-001": "fork"})
    assert parked.problem and parked.text().endswith("1 case refused by the hub")
