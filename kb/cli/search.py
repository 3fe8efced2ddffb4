"""``kb search`` and ``kb eval``: ranking cases for a situation, and measuring that ranking."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from kb.cli import cli
from kb.cli.field_options import filter_options, profile_options, take_filters, take_profile
from kb.cli.options import assembly_options, json_option, ranking_option
from kb.evaluation import MODES as MEASURED
from kb.fields import UNDERSTOOD_FIELDS


@cli.command()
@click.argument("text", required=False)
@click.option("-k", "k", default=10, show_default=True, type=click.IntRange(1, 100), help="Number of cases.")
@filter_options
@profile_options
@click.option("--ignore", multiple=True, type=click.Choice(UNDERSTOOD_FIELDS),
              help="Do not raise stories for this attribute understood from TEXT (repeatable).")
@click.option("--drafts", is_flag=True, help="Include draft cases.")
@click.option("--batch", type=click.File("r", encoding="utf-8"),
              help='Run every query of a JSONL file (lines {"id", "text"}, filter keys optional); '
                   "writes one JSON line per query.")
@json_option
@assembly_options
@ranking_option
def search(text, k, ignore, drafts, batch, as_json, assembly, **fields):
    """Find the cases whose story matches a prospect's situation.

    Prints what TEXT says of the prospect (industry, size, region, roles: raised, never
    filtered; --ignore leaves one out, a --like-* option replaces it), then the ranked cases
    with the passage that matched and why; weak matches are marked. With --json prints
    {"query", "results": [...], "facets": {...}, "understood": {...}}.

    Example:

    \b
        kb search "mid-size regional bank, deposits leaking to fintechs, IT and compliance disagree" -k 5
    """
    base = assembly.knowledge_base
    if batch is not None:
        if text:
            raise click.UsageError("give either TEXT or --batch, not both")
        _run_batch(base, batch, k, drafts)
        return
    if text is None:
        raise click.UsageError("describe the prospect's situation: kb search \"TEXT\"")
    response = base.search(text, k=k, filters=take_filters(fields), profile=take_profile(fields),
                           include_drafts=drafts, ignore=ignore)
    for notice in response.notices:
        click.echo(f"note: {notice}", err=True)
    if as_json:
        click.echo(json.dumps(response.to_dict(), ensure_ascii=False, indent=2))
        return
    if not response.results:
        click.echo("no cases match these filters")
        return
    if response.understood:
        click.echo("understood: " + " · ".join(", ".join(values) for values in response.understood.attributes.values())
                   + "  (raised, not filtered; --ignore to leave one out)\n")
    for rank, result in enumerate(response.results, start=1):
        click.echo(_format_result(rank, result.to_dict()))


def _format_result(rank: int, r: dict) -> str:
    facts = " · ".join(str(v) for v in (r["customer"], r["industry"], r["company_size"], r["region"]) if v)
    weak = "  (weak match)" if r["weak"] else ""
    where = f"[{r['stage_label'] or r['section'] or 'Story'}] " if (r["stage_label"] or r["section"]) else ""
    lines = [
        click.style(f"{rank}. {r['title']}", bold=True) + f"  score {r['score']:.3f}{weak}",
        f"   {r['id']} · {facts}" if facts else f"   {r['id']}",
        f"   {where}{' '.join(r['snippet'].split())}",  # one line: the passage's line breaks would break the layout
        "   why: " + "; ".join(r["why"]["reasons"]),
        "",
    ]
    return "\n".join(lines)


def _run_batch(base, handle, k, drafts) -> None:
    from kb.errors import KbError
    from kb.search.query import filters_of

    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            query_id, text = row["id"], row["text"]
        except (ValueError, KeyError, TypeError):
            raise click.ClickException(f"{handle.name}:{number}: expected a JSON object with \"id\" and \"text\"") from None
        try:
            response = base.search(text, k=int(row.get("k", k)), filters=filters_of(row), include_drafts=drafts)
            out = {"id": query_id, "results": [{"id": r.id, "score": round(r.score, 6)} for r in response.results]}
        except KbError as exc:
            out = {"id": query_id, "error": str(exc), "results": []}
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")


@cli.command(name="eval")
@click.option("--queries", "queries_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help='JSONL of judged queries: {"id", "text", "rel": {case_id: grade 1 or 2}}; '
                   '"rel": {} marks a gap, a situation no story covers.')
@click.option("--mode", "modes", multiple=True, type=click.Choice(MEASURED),
              help="Rankings to measure (default: all four; doc-bm25 is the peer, plain BM25 over each "
                   "story's whole text).")
@click.option("--drafts", is_flag=True, help="Include draft cases in the rankings.")
@click.option("--by", "group_by", metavar="FIELD",
              help='Also print nDCG@10 per value of this field of the queries\' lines (e.g. --by style).')
@click.option("--tune", is_flag=True,
              help="Try a grid of ranking settings (dense vs lexical weight, second-passage weight) "
                   "on the queries and list the best.")
@click.option("--write", "write_path", type=click.Path(dir_okay=False, path_type=Path),
              help="With --tune: write the best settings to this TOML file (for --ranking or KB_RANKING).")
@json_option
@assembly_options
@ranking_option
def evaluate(queries_path, modes, drafts, group_by, tune, write_path, as_json, assembly):
    """Measure ranking quality on judged queries: nDCG@10, MRR@10 (first grade-2 hit), Recall@5.

    Reports the hybrid ranking and, in the same run, dense-only, lexical-only and the peer
    every ranking must beat (doc-bm25: plain BM25 over each story's whole text), then how
    the weak-match marking fared: how often the first grade-2 hit was marked weak, and how
    many gap queries ("rel": {}, no story fits) were answered "no strong match". With
    --tune, tries a grid of ranking settings instead and lists the best; settings tuned and
    measured on the same queries look better than they are, so check the winner on other
    judged queries (kb eval --ranking FILE --queries OTHER) before using it.

    Example:

    \b
        kb eval --queries eval/starter_queries.jsonl
        kb eval --queries eval/starter_styles.jsonl --by style
        kb eval --queries eval/kubernetes_queries.jsonl --tune --write ranking.toml
    """
    from kb.evaluation import MODES, PEER, grouped, judgment_warnings, load_queries, measure
    if write_path is not None and not tune:
        raise click.UsageError("--write goes with --tune")
    if tune and modes:
        raise click.UsageError("--tune measures the hybrid ranking; leave out --mode")
    if tune and group_by:
        raise click.UsageError("--by goes with measuring, not with --tune")
    queries = load_queries(queries_path)
    base = assembly.knowledge_base
    engine = base.engine()
    for warning in judgment_warnings(queries, engine.version.doc_ids, engine.matching({}, include_drafts=drafts)):
        click.echo(f"warning: {warning}", err=True)
    if tune:
        _tune(base, queries, queries_path, drafts, write_path, as_json, assembly.settings)
        return

    found: dict[tuple[int, str], list[tuple[str, bool]]] = {}  # --by measures each group again

    def search(query, mode):
        key = (id(query), mode)
        if key not in found:
            if mode == PEER:
                found[key] = [(case_id, False) for case_id in base.whole_document_bm25(
                    query.text, k=10, filters=query.filters, include_drafts=drafts)]
            else:
                response = base.search(query.text, k=10, filters=query.filters, mode=mode, include_drafts=drafts)
                found[key] = [(result.id, result.weak) for result in response.results]
        return found[key]

    report = measure(queries, search, modes or MODES)
    rows, marks = report.scores, report.marks
    groups = {value: measure(members, search, modes or MODES).scores
              for value, members in grouped(queries, group_by).items()} if group_by else {}
    if as_json:
        out = {mode: {**dict(zip(("ndcg@10", "mrr@10", "recall@5"),
                                 (s.ndcg10, s.mrr10, s.recall5) if s.queries else (None,) * 3)),  # null: none judged
                      "queries": s.queries}
               for mode, s in rows.items()}
        if marks is not None:
            out["hybrid"].update({"hits": marks.hits, "hits_weak": marks.hits_weak, "gaps": marks.gaps,
                                  "gaps_flagged": marks.gaps_flagged})
        if groups:
            out["by"] = {"field": group_by, "groups": {
                value: {mode: {"ndcg@10": s.ndcg10 if s.queries else None, "queries": s.queries}
                        for mode, s in scores.items()} for value, scores in groups.items()}}
        click.echo(json.dumps(out, indent=2))
        return
    judged = next(iter(rows.values())).queries
    click.echo(f"{len(queries)} queries from {queries_path}"
               + (f" ({judged} judged, {len(queries) - judged} gaps)" if judged < len(queries) else ""))
    if judged:
        click.echo(f"{'ranking':<10} {'nDCG@10':>8} {'MRR@10':>8} {'Recall@5':>9}")
        for mode, s in rows.items():
            click.echo(f"{mode:<10} {s.ndcg10:>8.3f} {s.mrr10:>8.3f} {s.recall5:>9.3f}")
    for sentence in marks.sentences() if marks else []:
        click.echo(f"weak marks (hybrid): {sentence}")
    if groups:
        names = list(rows)
        click.echo(f"nDCG@10 by {group_by}:")
        click.echo(f"{group_by:<14} {'queries':>7} " + " ".join(f"{mode:>8}" for mode in names))
        for value, scores in groups.items():
            judged_here = next(iter(scores.values())).queries
            if judged_here:
                click.echo(f"{value:<14} {judged_here:>7} " + " ".join(f"{scores[m].ndcg10:>8.3f}" for m in names))


#: Rows of the --tune table besides the current settings.
TUNE_ROWS = 10


def _tune(base, queries, queries_path, drafts, write_path, as_json, settings) -> None:
    from kb.files import replace_file
    from kb.search.ranking_file import ranking_toml
    from kb.tuning import tune

    trials = tune(base, queries, include_drafts=drafts)
    best, current = trials[0], next(t for t in trials if t.current)
    where = str(settings.ranking_file) if settings.ranking_file else "built-in"
    if write_path is not None:
        comment = (f"Written by `kb eval --tune` on {best.scores.queries} queries from {queries_path}:\n"
                   f"nDCG@10 {best.scores.ndcg10:.3f}, MRR@10 {best.scores.mrr10:.3f}, "
                   f"Recall@5 {best.scores.recall5:.3f} (the {where} settings: {current.scores.ndcg10:.3f}).")
        try:
            replace_file(write_path, ranking_toml(best.settings, comment))
        except OSError as exc:
            raise click.ClickException(f"cannot write {write_path}: {exc.strerror or exc}") from None
    if as_json:
        click.echo(json.dumps({"queries": best.scores.queries, "settings_tried": len(trials),
                               "trials": [_trial_dict(t) for t in trials], "best": _trial_dict(best),
                               "written": str(write_path) if write_path else None}, indent=2))
        return
    gaps = len(queries) - best.scores.queries
    click.echo(f"{best.scores.queries} queries from {queries_path}" + (f" ({gaps} gaps left out)" if gaps else "")
               + f"; {len(trials)} ranking settings tried (hybrid, z-score fusion of passage scores)")
    click.echo(f"{'dense':>6} {'lexical':>8} {'2nd passage':>12} {'nDCG@10':>8} {'MRR@10':>8} {'Recall@5':>9}")
    shown = trials[:TUNE_ROWS] + ([] if current in trials[:TUNE_ROWS] else [current])
    for trial in shown:
        s, scores = trial.settings, trial.scores
        total = s.dense_weight + s.lexical_weight
        label = f"current ({where})" if trial.current else ""
        if s.fusion != "zscore":
            label = f"{label}, {s.fusion} fusion".lstrip(", ")
        click.echo(f"{s.dense_weight / total:>6.2f} {s.lexical_weight / total:>8.2f} {s.second_passage_weight:>12.2f} "
                   f"{scores.ndcg10:>8.3f} {scores.mrr10:>8.3f} {scores.recall5:>9.3f}  {label}".rstrip())
    gain = best.scores.ndcg10 - current.scores.ndcg10
    click.echo("the current settings are the best measured" if best.current
               else f"best: {gain:+.3f} nDCG@10 over the current settings")
    if write_path is not None:
        click.echo(f"best settings written to {write_path} (use them with --ranking {write_path} or "
                   f"KB_RANKING={write_path})")
    click.echo("tuned and measured on the same queries: check the best on other judged queries before using it")


def _trial_dict(trial) -> dict:
    s, scores = trial.settings, trial.scores
    return {"fusion": s.fusion, "dense_weight": s.dense_weight, "lexical_weight": s.lexical_weight,
            "second_passage_weight": s.second_passage_weight, "ndcg@10": scores.ndcg10, "mrr@10": scores.mrr10,
            "recall@5": scores.recall5, "current": trial.current}
