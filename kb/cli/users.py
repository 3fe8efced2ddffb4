"""``kb users``: managing who can sign in to the web UI, and with which role."""

from __future__ import annotations

import sys

import click

from kb.cli import cli
from kb.cli.options import assembly_options, json_option

ROLE_CHOICES = ("seller", "marketer", "admin")


@cli.group()
def users():
    """Manage web UI users: sellers read, marketers also write, admins also manage.

    Users live in the database the server reads: KB_DATABASE, default DATA_DIR/kb.sqlite3
    (KB_DATA, default .kb).

    Example:

    \b
        kb users add dana --role marketer
    """


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLE_CHOICES), default="seller", show_default=True,
              help="What the user may do.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
@assembly_options
def add_user(name, role, password_stdin, assembly):
    """Add a user; the password is prompted for (never echoed) unless --password-stdin.

    Example:

    \b
        kb users add dana --role marketer
    """
    password = _read_password(password_stdin)
    with assembly.users() as store:
        store.add(name, role, password)
    click.echo(f"added {name} ({role})")


@users.command("list")
@json_option
@assembly_options
def list_users(as_json, assembly):
    """List users with their roles.

    Example:

    \b
        kb users list
    """
    import json

    with assembly.users() as store:
        rows = store.list()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no users yet: add one with `kb users add NAME --role admin`")
    for row in rows:
        click.echo(f"{row['name']:<24} {row['role']:<9} since {row['created_at']}")


@users.command("remove")
@click.argument("name")
@assembly_options
def remove_user(name, assembly):
    """Remove a user.

    Example:

    \b
        kb users remove dana
    """
    with assembly.users() as store:
        store.remove(name)
    click.echo(f"removed {name}")


@users.command("set-role")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLE_CHOICES), required=True, help="The new role.")
@assembly_options
def set_role(name, role, assembly):
    """Change a user's role; their sessions end, so they sign in again with the new role.

    Example:

    \b
        kb users set-role dana --role admin
    """
    with assembly.users() as store:
        store.set_role(name, role)
    click.echo(f"{name} is now {role}; their sessions ended")


@users.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
@assembly_options
def set_password(name, password_stdin, assembly):
    """Change a user's password (prompted for unless --password-stdin); their sessions end.

    Example:

    \b
        kb users set-password dana
    """
    password = _read_password(password_stdin)
    with assembly.users() as store:
        store.set_password(name, password)
    click.echo(f"changed the password of {name}; their sessions ended")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)
