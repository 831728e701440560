"""``freeway users create-admin``: first admin and recovery from the shell."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from freeway.app import create_app
from freeway.cli import main

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch):
    from argon2 import PasswordHasher, Type

    from freeway.auth import passwords

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
    monkeypatch.setattr(passwords, "_hasher", cheap)


@pytest.fixture
def cli(make_settings, database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = make_settings(DATABASE_URL=database_url, FREEWAY_PLUGINS="core")
    env = {
        "FREEWAY_DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": database_url,
        "ADMIN_API_KEY": settings.admin_api_key,
        "JWT_SECRET": settings.jwt_secret,
        "FREEWAY_PLUGINS": "core",
    }

    def run(*args: str, input: str | None = None) -> Any:
        return CliRunner().invoke(main, list(args), env=env, input=input)

    run.settings = settings  # type: ignore[attr-defined]
    return run


def login(client: TestClient, username: str, password: str) -> Any:
    return client.post("/auth/login", json={"username": username, "password": password})


def test_create_admin_from_stdin_then_log_in(cli):
    result = cli("users", "create-admin", "root", "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "created admin root" in result.output
    with TestClient(app=create_app(cli.settings)) as client:
        response = login(client, "root", PASSWORD)
        assert response.status_code == 200 and response.json()["user"]["role"] == "admin"
        # The CLI-made admin counts as the first user: registration is now closed.
        closed = client.post("/auth/register", json={"username": "eve", "password": PASSWORD})
        assert closed.status_code == 401


def test_create_admin_prompts_with_confirmation(cli):
    result = cli("users", "create-admin", "root", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output


def test_bad_input_and_existing_user_fail_with_one_line(cli):
    short = cli("users", "create-admin", "root", "--password-stdin", input="too short\n")
    assert short.exit_code == 2 and "at least 12 characters" in short.output
    bad_name = cli("users", "create-admin", "a b", "--password-stdin", input=PASSWORD + "\n")
    assert bad_name.exit_code == 2 and "username" in bad_name.output
    cli("users", "create-admin", "root", "--password-stdin", input=PASSWORD + "\n")
    again = cli("users", "create-admin", "root", "--password-stdin", input=PASSWORD + "\n")
    assert again.exit_code == 2 and "--reset" in again.output


def test_reset_recovers_a_demoted_or_locked_out_admin_and_revokes_tokens(cli):
    cli("users", "create-admin", "root", "--password-stdin", input=PASSWORD + "\n")
    with TestClient(app=create_app(cli.settings)) as client:
        old_token = login(client, "root", PASSWORD).json()["token"]
    new_password = "a brand new passphrase"
    reset = cli(
        "users", "create-admin", "root", "--reset", "--password-stdin", input=new_password + "\n"
    )
    assert reset.exit_code == 0 and "old tokens revoked" in reset.output
    with TestClient(app=create_app(cli.settings)) as client:
        assert (
            client.get("/auth/me", headers={"Authorization": f"Bearer {old_token}"}).status_code
            == 401
        )
        assert login(client, "root", PASSWORD).status_code == 401
        assert login(client, "root", new_password).status_code == 200
