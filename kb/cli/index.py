"""``kb index``: build or refresh the search index from the cases folder."""

from __future__ import annotations

import sys

import click

from kb.cli import cli
from kb.cli.options import assembly_options

#: Exit code when the index was built but some case files were skipped.
EXIT_SKIPPED = 2


@cli.command()
@click.option("--full", is_flag=True, help="Re-embed every case instead of only the changed ones.")
@click.option("--strict", is_flag=True,
              help="Refuse to build when any case file has a problem (warnings included); exit 1.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@assembly_options
def index(full, strict, quiet, assembly):
    """Build or refresh the index: embed new and changed cases, reuse the rest, drop deleted ones.

    The new index version is written beside the old one and switched to atomically, so an
    interrupted run leaves the previous index working; when nothing changed, no version is
    written. A progress bar shows on a terminal (stderr); the last line sums up the run.

    Exit codes: 0 when every case was indexed; 2 when some files were skipped: they could
    not be parsed, are links (kb never follows a link, in the folder or out of it) or have a
    name that is no case id (listed as PATH:LINE: MESSAGE; the rest is indexed); 1 on any
    other error, or, with --strict, when any file has a problem (nothing is built then).
    A name whose only fault is capital letters (openAI.md) is indexed as its lowercase id,
    with a warning.

    Example:

    \b
        kb index            # incremental
        kb index --full     # rebuild everything
    """
    from kb.corpus import load_corpus

    settings = assembly.settings
    if strict:
        problems = load_corpus(settings.cases_dir).problems if settings.cases_dir.is_dir() else []
        if problems:
            for problem in problems:
                click.echo(str(problem), err=True)
            raise click.ClickException(f"{len(problems)} problem(s) in the cases; nothing was indexed (--strict)")

    show = not quiet and sys.stderr.isatty()
    bar = _ProgressBar() if show else None
    try:
        result = assembly.index(full=full, progress=bar)
    finally:
        if bar:
            bar.close()
    for problem in result.problems:
        click.echo(str(problem), err=True)
    if result.report.full_reason and not full:
        click.echo(f"full rebuild: {result.report.full_reason}", err=True)
    skipped = len({p.path for p in result.skipped})
    line = result.report.summary("cases")
    if skipped:
        line += f"; {skipped} file{'s' if skipped != 1 else ''} skipped"
    click.echo(line)
    raise SystemExit(EXIT_SKIPPED if skipped else 0)


class _ProgressBar:
    """A tqdm bar on stderr fed by the indexer's progress(done, total) calls."""

    def __init__(self):
        self._bar = None

    def __call__(self, done: int, total: int) -> None:
        from tqdm import tqdm

        if self._bar is None:
            if total == 0:
                return
            self._bar = tqdm(total=total, unit="passage", desc="embedding", file=sys.stderr, leave=False)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
