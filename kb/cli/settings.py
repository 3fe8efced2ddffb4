"""``kb settings``: the settings in effect and where each comes from; the README's table."""

from __future__ import annotations

from pathlib import Path

import click

from kb.cli import cli
from kb.cli.options import assembly_options


@cli.command("settings")
@click.option("--markdown", is_flag=True, help="Print the table of every setting (Markdown), as in the README.")
@click.option("--readme", "readme", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Rewrite the settings table of this README between its markers.")
@assembly_options
def settings_command(markdown, readme, assembly):
    """Show every setting's value in effect and where it comes from (flag, environment or default).

    The secret key is never shown. --markdown prints the table of every setting with its
    variable, flag, default and meaning; --readme README.md writes it into the README.

    Example:

    \b
        KB_DATABASE=/srv/kb/kb.sqlite3 kb settings
        kb settings --readme README.md
    """
    from kb.settings import explain, readme_section, with_table

    if readme is not None:
        text = readme.read_text(encoding="utf-8")
        updated = with_table(text)
        if updated != text:
            readme.write_text(updated, encoding="utf-8")
        click.echo(f"{readme}: settings table {'updated' if updated != text else 'already up to date'}")
        return
    if markdown:
        click.echo(readme_section(), nl=False)
        return
    rows = explain(assembly.settings)
    width = max(len(variable) for variable, _, _ in rows)
    for variable, value, origin in rows:
        click.echo(f"{variable:<{width}}  {value}  ({origin})")
