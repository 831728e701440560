"""``freeway users create-admin``: the first admin (or a locked-out one) from the shell."""

from __future__ import annotations

import asyncio
import sys

import click

from freeway.cli import friendly_errors, get_settings


@click.group("users")
def users() -> None:
    """Panel users."""


@users.command("create-admin")
@click.argument("username")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)
@click.option(
    "--reset",
    is_flag=True,
    help="If the user exists: make it an active admin with this password and revoke "
    "its tokens (recovery).",
)
@friendly_errors
def create_admin(username: str, password_stdin: bool, reset: bool) -> None:
    """Create an admin user USERNAME (password: at least 12 characters)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    role_note = asyncio.run(_create_admin(username, password, reset))
    click.echo(role_note)


async def _create_admin(username: str, password: str, reset: bool) -> str:
    from freeway.auth.service import UserService
    from freeway.auth.throttle import LoginThrottle
    from freeway.auth.tokens import TokenService
    from freeway.db import create_database, upgrade
    from freeway.errors import Conflict

    settings = get_settings()
    db = create_database(settings)
    try:
        await upgrade(db)
        service = UserService(db, TokenService(settings, db), LoginThrottle())
        try:
            user = await service.register(
                {"username": username, "password": password}, None, force_admin=True
            )
        except Conflict:
            if not reset:
                raise Conflict(
                    f"user {username!r} exists; use --reset to make it an admin with a new password"
                ) from None
            user = await service.reset_admin(username, password)
            return f"user {user.username} is now an active admin (id {user.id}); old tokens revoked"
        return f"created admin {user.username} (id {user.id})"
    finally:
        await db.dispose()
