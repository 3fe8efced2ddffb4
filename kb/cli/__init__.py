"""The ``kb`` command line: thin commands over the library; heavy imports happen inside them."""

from __future__ import annotations

import sys

import click

from kb.errors import KbError


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


from kb.cli import cases as _cases  # noqa: E402,F401  (registers commands)
from kb.cli import index as _index  # noqa: E402,F401
from kb.cli import insights as _insights  # noqa: E402,F401
from kb.cli import search as _search  # noqa: E402,F401
from kb.cli import serve as _serve  # noqa: E402,F401
from kb.cli import users as _users  # noqa: E402,F401

__all__ = ["cli", "main"]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
