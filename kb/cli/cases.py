"""``kb validate`` and ``kb new``: checking and starting case-study files."""

from __future__ import annotations

import click

from kb.cases import SIZE_BANDS
from kb.cli import cli
from kb.cli.options import assembly_options


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1 on any problem).")
@assembly_options
def validate(paths, strict, assembly):
    """Check case files: front matter, field types, ids, encoding, size, journey sections.

    Prints one line per problem as PATH:LINE: MESSAGE and exits 1 when there is an error
    (or, with --strict, any warning). PATHS default to the cases folder; folders are
    searched recursively, and a link met there (to a file or a folder) is an error, as is
    a file name that is no case id: `kb index` skips them.

    Example:

    \b
        kb validate --strict cases/
    """
    from kb.corpus import case_files, validate as check

    targets = list(paths) or [str(assembly.settings.cases_dir)]
    problems = check(targets, strict=strict)
    for problem in problems:
        click.echo(str(problem))
    errors = sum(1 for p in problems if p.is_error)
    warnings = len(problems) - errors
    files = len(case_files(targets))
    click.echo(f"{files} file{'s' if files != 1 else ''} checked: {errors} error{'s' if errors != 1 else ''}, "
               f"{warnings} warning{'s' if warnings != 1 else ''}", err=True)
    raise SystemExit(1 if errors else 0)


@cli.command()
@click.argument("slug")
@click.option("--title", help="The story's headline (default: from the slug).")
@click.option("--customer", help="Customer name or an anonymized description.")
@click.option("--industry", help="Industry, e.g. Banking.")
@click.option("--size", "company_size", type=click.Choice(SIZE_BANDS), help="Employee band.")
@click.option("--region", help="Region, e.g. North America.")
@assembly_options
def new(slug, title, customer, industry, company_size, region, assembly):
    """Start a new case study as CASES/SLUG.md from the journey template (status: draft).

    SLUG is lowercase letters, digits and hyphens. An existing file is never overwritten.

    Example:

    \b
        kb new regional-bank-deposits --title "A regional bank stops deposit leakage" --industry Banking
    """
    from kb.corpus import display_path
    from kb.scaffold import new_case

    path = new_case(assembly.settings.cases_dir, slug, title, customer=customer, industry=industry,
                    company_size=company_size, region=region)
    click.echo(f"created {display_path(path)}: fill in each section, set status: published, then run `kb index`")
