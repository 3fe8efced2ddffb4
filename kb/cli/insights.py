"""``kb insights``: what sellers search for, what they don't find, which stories are missing or stale.

Thin commands over the command's :class:`~kb.assembly.Assembly`: it opens the search log
(with the retention of the settings) and builds the report (stale months, the index, the
model only when wordings must be embedded); ``--stale-months`` and ``prune --days`` are the
flags of those settings. Demo rows come from :mod:`kb.cli.demo_log`.
"""

from __future__ import annotations

import json
import sys

import click

from kb.cli import cli
from kb.cli.options import assembly_options, json_option, setting_option


@cli.group()
def insights():
    """Insights for marketers from the search log: frequent searches, stories to write next,
    coverage, stale and unused stories.

    Searches are logged in the database (KB_DATABASE, default DATA_DIR/kb.sqlite3) and kept
    for KB_LOG_RETENTION_DAYS days (default 180).

    Example:

    \b
        kb insights report --since 30
    """


@insights.command("report")
@click.option("--since", "since_days", type=click.IntRange(min=1), default=None,
              help="Only searches and opens of the last DAYS days (default: the whole log).")
@setting_option("stale_months", "--stale-months", type=click.IntRange(min=0),
                help="A story is stale this many months after it was published")
@click.option("--top", type=click.IntRange(1, 500), default=10, show_default=True,
              help="Rows in the frequent-searches, stories-to-write and most-opened lists.")
@json_option
@assembly_options
def report(since_days, top, as_json, assembly):
    """Print every insight: frequent searches, searches with no strong match grouped by
    meaning (stories to write next), coverage tables, stale stories, stories never shown or
    never opened, the most-opened stories, and searches over time.

    Example:

    \b
        kb insights report --since 90 --stale-months 18
    """
    result = assembly.insights(since_days=since_days, top=top)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(format_report(result))


def format_report(r) -> str:
    """The report as text tables."""
    lines: list[str] = []
    t = r.totals
    window = f"since {r.since}" if r.since else "whole log"
    lines.append(click.style("Insights", bold=True) + f" ({window}, generated {r.generated_at})")
    lines.append(f"{t['searches']} searches ({t['weak']} with no strong match), {t['opens']} stories opened, "
                 f"{t['users']} signed-in user{'s' if t['users'] != 1 else ''}, {t['cases']} published stories")
    if r.demo_rows:
        lines.append(f"note: {r.demo_rows} of these searches are demo rows (user demo)")
    lines.extend(f"note: {note}" for note in r.notes)

    _section(lines, "Most frequent searches")
    _table(lines, ["count", "weak", "users", "last seen", "search"],
           [[s.count, s.weak, s.users, s.last_seen[:10], s.text] for s in r.top_searches], "no searches")

    _section(lines, "Stories to write next: searches with no strong match, grouped by meaning")
    if not r.weak_groups:
        lines.append("  none: every search found a strong match")
    for number, g in enumerate(r.weak_groups, start=1):
        lines.append(f"  {number}. \"{g.example}\"  ({g.size} search{'es' if g.size != 1 else ''}, "
                     f"{g.queries} wording{'s' if g.queries != 1 else ''}, last {g.last_seen[:10]})")
        for example in g.examples:
            lines.append(f"       also: \"{example}\"")
        if g.nearest_case:
            lines.append(f"       closest story: {g.nearest_case['id']} (similarity {g.nearest_case['similarity']:.2f})")

    for table in r.coverage:
        _section(lines, f"Coverage: {table.title} (published stories; . = none yet, {table.empty} empty)")
        _table(lines, ["", *table.column_labels],
               [[row, *(count or "." for count in counts)] for row, counts in zip(table.rows, table.counts)],
               "no stories", numeric_from=1)

    _section(lines, f"Stale stories: published {r.stale_months} months ago or more")
    _table(lines, ["published", "months", "story"], [[c.published, c.months, c.id] for c in r.stale], "none")
    if r.undated:
        lines.append("  no publication date: " + ", ".join(c.id for c in r.undated))

    a = r.activity
    _section(lines, "Never in a search's top results")
    lines.extend(_wrapped([c.id for c in a.never_shown]))
    _section(lines, "Never opened (most often shown first)")
    lines.extend(_wrapped([c.id for c in a.never_opened]))
    _section(lines, "Most opened stories")
    _table(lines, ["opened", "from search", "shown", "story"],
           [[c.opened, c.opened_from_search, c.shown, c.id] for c in a.most_opened], "none opened yet")

    _section(lines, f"Searches per {r.bucket} (weak = no strong match)")
    peak = max((b.searches for b in r.timeline), default=0) or 1
    for b in r.timeline:
        bar = "#" * round(30 * b.strong / peak) + "!" * round(30 * b.weak / peak)
        lines.append(f"  {b.start}  {b.searches:>4} ({b.weak:>3} weak)  {bar}")
    if not r.timeline:
        lines.append("  no searches")
    return "\n".join(lines)


def _wrapped(ids: list[str]) -> list[str]:
    import textwrap

    return textwrap.wrap(", ".join(ids), width=100, initial_indent="  ", subsequent_indent="  ",
                         break_on_hyphens=False) or ["  none"]


def _section(lines: list[str], title: str) -> None:
    lines.append("")
    lines.append(click.style(title, bold=True))


def _table(lines: list[str], header: list[str], rows: list[list], empty: str, numeric_from: int = 0) -> None:
    if not rows:
        lines.append(f"  {empty}")
        return
    cells = [[str(v) for v in header]] + [[str(v) for v in row] for row in rows]
    last = len(header) - 1
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = [all(row[i].isdigit() or row[i] in (".", "") for row in cells[1:]) for i in range(len(header))]
    for row in cells:
        out = []
        for i, value in enumerate(row):
            if i == last and not numeric[i]:
                out.append(value)
            elif numeric[i] and i >= numeric_from:
                out.append(value.rjust(widths[i]))
            else:
                out.append(value.ljust(widths[i]))
        lines.append("  " + "  ".join(out).rstrip())


@insights.command("export")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="CSV file to write ('-' for standard output).")
@click.option("--since", "since_days", type=click.IntRange(min=1), default=None,
              help="Only searches of the last DAYS days (default: the whole log).")
@assembly_options
def export(out_path, since_days, assembly):
    """Write the search log as CSV, one row per search: id, time (UTC), user, query, filters,
    profile, mode, weak, result_ids, result_scores (best first) and the stories opened from it.

    Example:

    \b
        kb insights export --out searches.csv --since 30
    """
    import time

    since = None if since_days is None else time.time() - since_days * 86400
    with assembly.search_log() as log:
        if out_path == "-":
            count = log.export_csv(sys.stdout, since)
        else:
            with open(out_path, "w", encoding="utf-8", newline="") as handle:
                count = log.export_csv(handle, since)
    click.echo(f"wrote {count} search{'es' if count != 1 else ''} to {out_path}", err=True)


@insights.command("prune")
@setting_option("log_retention_days", "--days", type=click.IntRange(min=1), help="Keep the last DAYS days")
@assembly_options
def prune(assembly):
    """Delete logged searches and opens older than the retention period, and the cached
    vectors of wordings no report used for that long.

    Recording a search also prunes, at most once an hour; this runs it now (e.g. from cron,
    or after lowering the retention).

    Example:

    \b
        kb insights prune --days 90
    """
    with assembly.search_log() as log:
        if log.retention == 0:  # --days is 1 or more
            click.echo("KB_LOG_RETENTION_DAYS is 0: the log is kept forever, nothing removed")
            return
        searches, opens = log.prune()
    kept = log.retention
    click.echo(f"removed {searches} search{'es' if searches != 1 else ''} and {opens} "
               f"open{'s' if opens != 1 else ''} older than {kept} day{'s' if kept != 1 else ''}")


@insights.command("seed-demo")
@click.option("--count", type=click.IntRange(1, 10000), default=200, show_default=True,
              help="Demo searches to log.")
@click.option("--days", type=click.IntRange(1, 3650), default=60, show_default=True,
              help="Spread them over the last DAYS days.")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed (same seed, same log).")
@click.option("--remove", is_flag=True, help="Remove the demo rows instead of adding some.")
@assembly_options
def seed_demo(count, days, seed, remove, assembly):
    """DEMO ONLY: fill the search log with realistic seller searches, run for real against the
    current index, logged as user "demo" (some open a story). For trying the insights page
    and report; remove them with --remove.

    Example:

    \b
        kb insights seed-demo --count 300 && kb insights report
    """
    from kb.searchlog import DEMO_USER

    with assembly.search_log() as log:
        if remove:
            searches, opens = log.remove_user(DEMO_USER)
            click.echo(f"removed {searches} demo searches and {opens} demo opens")
            return
        from kb.cli.demo_log import seed_demo as seed_log

        counts = seed_log(log, assembly.knowledge_base, count=count, days=days, seed=seed)
    click.echo(f"logged {counts['searches']} demo searches ({counts['weak']} with no strong match) and "
               f"{counts['opens']} opens as user {DEMO_USER}; remove them with `kb insights seed-demo --remove`")
