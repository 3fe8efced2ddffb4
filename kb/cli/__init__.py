"""The ``kb`` command line: thin commands over the library; heavy imports happen inside them.

Commands of other layers register through the ``kb.commands`` entry-point group (the web
layer adds ``kb serve`` that way, see pyproject.toml), so this package never imports them.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

import click

from kb.errors import KbError

#: The entry-point group whose entries are click commands added to ``kb``.
COMMANDS_GROUP = "kb.commands"


class KbGroup(click.Group):
    """A command group that turns domain errors into a one-line message and exit code 1."""

    def invoke(self, ctx):
        from indexer.errors import IndexerError

        try:
            return super().invoke(ctx)
        except (KbError, IndexerError) as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=KbGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="kb")
def cli():
    """kb: find "customers like you" case studies by the prospect's situation.

    Marketers write case studies as Markdown in cases/; `kb index` embeds them;
    sellers search them with `kb search`, the web UI (`kb serve`) or the JSON API.

    Example:

    \b
        kb validate && kb index && kb search "regional bank losing deposits to fintechs"
    """


def main() -> None:
    """Entry point of the ``kb`` console script."""
    cli(prog_name="kb")


def register_commands(group: click.Group, entry_group: str = COMMANDS_GROUP) -> None:
    """Add the commands other packages declare in ``entry_group`` (name = "module:command")."""
    for entry in entry_points(group=entry_group):
        if entry.name not in group.commands:
            group.add_command(entry.load(), entry.name)


from kb.cli import cases as _cases  # noqa: E402,F401  (registers commands)
from kb.cli import index as _index  # noqa: E402,F401
from kb.cli import insights as _insights  # noqa: E402,F401
from kb.cli import search as _search  # noqa: E402,F401
from kb.cli import settings as _settings  # noqa: E402,F401
from kb.cli import users as _users  # noqa: E402,F401

register_commands(cli)

__all__ = ["cli", "main", "register_commands"]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
