"""Ranking quality of kb's search engine on the BEIR SciFact benchmark, against baselines.

Each of SciFact's 5,183 abstracts becomes one indexer document (id ``d-<doc id>``, context
= title, one segment = abstract), indexed with ``indexer.build_index`` and searched through
``kb.service.KnowledgeBase.search`` in the hybrid, dense and lexical modes with the 300
test claims as queries. Printed, per mode: nDCG@10 (graded by the qrels' scores, with
``kb.evaluation.ndcg_at``), MRR@10 and Recall@5/@10 (any judged document counts as
relevant), and queries/second; then a plain reciprocal-rank fusion of the dense and
lexical top-100 lists measured in the same run (the baseline the hybrid mode should beat),
and the published figures for comparison.

kb's built-in ranking settings were chosen on case studies (docs/search-quality.md). A
corpus of another kind can have its own, chosen by measurement: with the training split
present (``qrels/train.tsv``, 809 claims), the script also tunes the settings on it with
``kb.tuning.tune`` (what ``kb eval --tune`` does) and reports the tuned hybrid ranking on
the 300 test claims, which the tuning never saw.

Run from the repository root (indexing the abstracts takes a few minutes on 2 cores)::

    . .venv/bin/activate
    HF_HUB_OFFLINE=1 python benchmarks/beir.py --work /tmp/kb-scifact
    HF_HUB_OFFLINE=1 python benchmarks/beir.py --work /tmp/kb-scifact --reuse --limit 50

``--reuse`` keeps the index already built in ``--work`` (only changed abstracts are
re-embedded); without it the index is rebuilt from scratch. When the data folder is absent
the script says so and exits with status 0.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import harness  # benchmarks/harness.py: run as `python benchmarks/...`

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "corpora" / "scifact"
MODES = ("hybrid", "dense", "lexical")
K = 10
#: Depth of the dense and lexical lists fused by the in-run RRF baseline (kb's most results).
RRF_DEPTH = 100
RRF_K = 60
TARGET_HYBRID = 0.73

#: Published or previously measured nDCG@10 on SciFact (test), for comparison.
REFERENCES = (
    ("BM25, published (BEIR paper; other BM25 runs)", "0.665-0.679"),
    ("all-MiniLM-L6-v2, published", "0.645"),
    ("simple baselines measured on this machine: BM25", "0.686"),
    ("  dense (all-MiniLM-L6-v2)", "0.648"),
    ("  plain RRF of the two", "0.716"),
    ("target for kb hybrid", f">= {TARGET_HYBRID:.2f}"),
)


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    rel: dict[str, int]  # document slug -> grade (> 0)


@dataclass(frozen=True)
class Row:
    name: str
    ndcg10: float
    mrr10: float
    recall5: float
    recall10: float
    seconds: float | None = None
    cpu: float | None = None
    queries: int = 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="nDCG@10, MRR@10 and recall of kb's hybrid, dense and lexical search on BEIR SciFact.",
        epilog="Example: python benchmarks/beir.py --work /tmp/kb-scifact --reuse --limit 50")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help=f"BEIR SciFact folder: corpus.jsonl, queries(_test).jsonl, qrels/ (default: {DEFAULT_DATA})")
    parser.add_argument("--work", type=Path, default=None,
                        help="folder to keep the built index in (default: a temporary folder, deleted at the end)")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the index already in --work instead of rebuilding it from scratch")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="evaluate only the first N test queries (a quick check; figures not comparable)")
    parser.add_argument("--modes", default=",".join(MODES),
                        help=f"comma-separated search modes (default: {','.join(MODES)})")
    parser.add_argument("--no-tune", dest="tune", action="store_false",
                        help="skip tuning the ranking settings on the training split")
    parser.add_argument("--no-rrf-baseline", dest="rrf_baseline", action="store_false",
                        help="skip the in-run plain RRF baseline (saves one more pass of dense and lexical searches)")
    parser.add_argument("--model", default=None,
                        help="packaged model name or model folder (default: KB_MODEL or kb's default)")
    args = parser.parse_args(argv)
    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    if not modes or any(m not in MODES for m in modes):
        parser.error(f"--modes takes some of {', '.join(MODES)}")
    args.modes = modes
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    if args.reuse and args.work is None:
        parser.error("--reuse needs --work DIR (the folder where the index was kept)")
    return args


# -- the data set ------------------------------------------------------------------------

def slug(doc_id: str) -> str:
    """A kb-friendly document id for a BEIR doc id (lowercase letters, digits, hyphens)."""
    return "d-" + (re.sub(r"[^a-z0-9]+", "-", doc_id.lower()).strip("-") or "x")


def read_jsonl(path: Path) -> Iterable[dict]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """query id -> {document slug: grade}, positive grades only (the header row is skipped)."""
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if len(row) < 3 or row[0] == "query-id":
                continue
            grade = int(row[2])
            if grade > 0:
                qrels.setdefault(row[0], {})[slug(row[1])] = grade
    return qrels


def read_queries(data: Path, split: str = "test") -> list[Query]:
    """The judged queries of a split ("test" or "train"), in file order."""
    qrels = read_qrels(data / "qrels" / f"{split}.tsv")
    path = data / f"queries_{split}.jsonl"
    if not path.is_file():
        path = data / "queries.jsonl"
    return [Query(str(row["_id"]), row["text"], qrels[str(row["_id"])])
            for row in read_jsonl(path) if str(row["_id"]) in qrels]


def read_documents(data: Path):
    """One indexer document per abstract: context = title, one segment = the abstract."""
    from indexer import Document, Segment

    documents = []
    seen: dict[str, str] = {}
    for row in read_jsonl(data / "corpus.jsonl"):
        doc_id = str(row["_id"])
        name = slug(doc_id)
        if name in seen:
            raise SystemExit(f"error: doc ids {seen[name]!r} and {doc_id!r} map to the same id {name!r}")
        seen[name] = doc_id
        documents.append(Document(id=name, context=(row.get("title") or "").strip(),
                                  segments=(Segment(text=row.get("text") or ""),)))
    return documents


# -- scoring ------------------------------------------------------------------------------

def score(name: str, rankings: list[list[str]], queries: list[Query], seconds: float | None = None,
          cpu: float | None = None) -> Row:
    """Mean metrics of one ranked list per query.

    nDCG@10 uses the qrels' grades. kb's ``mrr_at`` only counts grade-2 ("exactly relevant")
    cases, and SciFact grades every judged abstract 1, so for MRR any judged abstract counts.
    """
    from kb.evaluation import mrr_at, ndcg_at, recall_at

    totals = [0.0, 0.0, 0.0, 0.0]
    for ranked, query in zip(rankings, queries):
        totals[0] += ndcg_at(ranked, query.rel, K)
        totals[1] += mrr_at(ranked, {doc: 2 for doc in query.rel}, K)
        totals[2] += recall_at(ranked, query.rel, 5)
        totals[3] += recall_at(ranked, query.rel, 10)
    n = len(queries)
    return Row(name, *(t / n for t in totals), seconds=seconds, cpu=cpu, queries=n)


def rrf(lists: Iterable[list[str]], k: float = RRF_K) -> list[str]:
    """Plain reciprocal-rank fusion of ranked lists (ties broken by id)."""
    fused: dict[str, float] = {}
    for ranked in lists:
        for rank, doc in enumerate(ranked, start=1):
            fused[doc] = fused.get(doc, 0.0) + 1.0 / (k + rank)
    return [doc for doc, _ in sorted(fused.items(), key=lambda item: (-item[1], item[0]))]


def run_queries(kb, queries: list[Query], mode: str, k: int) -> tuple[list[list[str]], float, float]:
    """The ranked ids of every query, and the wall and CPU seconds it took."""
    started, cpu_started = time.perf_counter(), time.process_time()
    rankings = [[result.id for result in kb.search(query.text, k=k, mode=mode).results] for query in queries]
    return rankings, time.perf_counter() - started, time.process_time() - cpu_started


# -- tuning on the train split -----------------------------------------------------------

def tune_on_train(kb, data: Path):
    """The best trial of :func:`kb.tuning.tune` on the train split's claims, and the seconds it took."""
    from kb.evaluation import JudgedQuery
    from kb.tuning import tune

    train = [JudgedQuery(q.id, q.text, q.rel) for q in read_queries(data, "train")]
    print(f"tuning the ranking settings on {len(train)} train claims ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    best = tune(kb, train)[0]
    return best, time.perf_counter() - started


def describe(settings) -> str:
    total = settings.dense_weight + settings.lexical_weight
    return (f"dense {settings.dense_weight / total:.2f}, lexical {settings.lexical_weight / total:.2f}, "
            f"second passage {settings.second_passage_weight:.2f}")


# -- the run ------------------------------------------------------------------------------

def machine() -> str:
    """The machine (see benchmarks/harness.py) and its load: other work skews the times."""
    return f"{harness.machine()}; {harness.load_average()}"

def build(store, documents, embedder, reuse: bool):
    """Build (or, with reuse, update) the index, printing progress to stderr."""
    from indexer import build_index

    marks = set()

    def progress(done: int, total: int) -> None:
        tenth = 10 * done // total if total else None
        if tenth is not None and tenth not in marks:
            marks.add(tenth)
            print(f"  embedded {done}/{total} passages", file=sys.stderr, flush=True)

    return build_index(store, documents, embedder, full=not reuse, progress=progress)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    needed = [args.data / "corpus.jsonl", args.data / "qrels" / "test.tsv"]
    missing = [str(p) for p in needed if not p.is_file()]
    if not (args.data / "queries_test.jsonl").is_file() and not (args.data / "queries.jsonl").is_file():
        missing.append(str(args.data / "queries_test.jsonl"))
    if missing:
        print(f"skipped: the SciFact data is not there ({', '.join(missing)} missing)")
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

    from indexer import Embedder, IndexStore
    from kb.service import KnowledgeBase
    from kb.settings import load_settings

    print(f"machine: {machine()}")
    queries = read_queries(args.data)
    if args.limit:
        queries = queries[: args.limit]
    documents = read_documents(args.data)

    with tempfile.TemporaryDirectory(prefix="kb-beir-") as tmp:
        work = args.work or Path(tmp)
        settings = load_settings(index_dir=work / "index", data_dir=work / "data", model=args.model)
        store = IndexStore(settings.index_path)
        embedder = Embedder(settings.model)

        reuse = args.reuse and store.current_name() is not None
        if args.reuse and not reuse:
            print(f"note: no index in {settings.index_path} yet; building it")
        started, cpu_started = time.perf_counter(), time.process_time()
        report = build(store, documents, embedder, reuse)
        index_seconds, index_cpu = time.perf_counter() - started, time.process_time() - cpu_started

        kb = KnowledgeBase(settings, embedder=embedder)
        started = time.perf_counter()
        kb.engine()
        load_seconds = time.perf_counter() - started
        kb.search(queries[0].text, k=K)  # warm-up, so the first mode timed does not pay for it

        rows = []
        for mode in args.modes:
            rankings, seconds, cpu = run_queries(kb, queries, mode, K)
            rows.append(score(mode, rankings, queries, seconds, cpu))
        tuned, tuning_seconds = None, 0.0
        if args.tune and (args.data / "qrels" / "train.tsv").is_file() and "hybrid" in args.modes:
            tuned, tuning_seconds = tune_on_train(kb, args.data)
            tuned_kb = KnowledgeBase(settings, ranking=tuned.settings, embedder=embedder)
            rankings, seconds, cpu = run_queries(tuned_kb, queries, "hybrid", K)
            rows.append(score(f"hybrid, tuned on the train split ({describe(tuned.settings)})",
                              rankings, queries, seconds, cpu))
        if args.rrf_baseline:
            dense, _, _ = run_queries(kb, queries, "dense", RRF_DEPTH)
            lexical, _, _ = run_queries(kb, queries, "lexical", RRF_DEPTH)
            fused = [rrf((d, l))[:K] for d, l in zip(dense, lexical)]
            rows.append(score(f"plain RRF of dense+lexical top-{RRF_DEPTH} (baseline)", fused, queries))

    print(f"machine at the end: {machine()}")
    print(f"BEIR SciFact ({args.data}): {len(documents)} abstracts, {len(queries)} test queries"
          + (f" (first {args.limit} only: not comparable with published figures)" if args.limit else ""))
    what = ("updated (reused unchanged abstracts)" if reuse else "built from scratch")
    embedded = report.reembedded_passages
    rate = f", {embedded / report.seconds:.1f} passages/s" if embedded and report.seconds else ""
    print(f"index {what} in {index_seconds:.1f} s (CPU {index_cpu:.1f} s): {report.summary('abstracts')}{rate}; "
          f"loaded for search in {load_seconds:.1f} s")
    print()
    _table(("system", "nDCG@10", "MRR@10", "R@5", "R@10", "queries/s", "ms/query", "CPU ms/query"),
           [(row.name, f"{row.ndcg10:.3f}", f"{row.mrr10:.3f}", f"{row.recall5:.3f}", f"{row.recall10:.3f}",
             f"{row.queries / row.seconds:.1f}" if row.seconds else "",
             f"{1000 * row.seconds / row.queries:.1f}" if row.seconds else "",
             f"{1000 * row.cpu / row.queries:.1f}" if row.cpu is not None else "") for row in rows])
    by_name = {row.name: row for row in rows}
    hybrid = by_name.get("hybrid")
    if hybrid:
        print()
        for better in (row for row in rows if row.name.startswith("hybrid")):
            name = "hybrid" if better is hybrid else "tuned hybrid"
            for row in rows:
                if not row.name.startswith("hybrid"):
                    print(f"{name} vs {row.name}: {better.ndcg10 - row.ndcg10:+.3f} nDCG@10")
        subset = " (on a subset)" if args.limit else ""
        for row in rows:
            if row.name.startswith("hybrid"):
                verdict = "met" if row.ndcg10 >= TARGET_HYBRID else "NOT met"
                which = "built-in settings" if row is hybrid else "settings tuned on the train split"
                print(f"hybrid target nDCG@10 >= {TARGET_HYBRID:.2f} with the {which}: {verdict}{subset}")
    if tuned is not None:
        print(f"tuning: {tuned.scores.queries} train queries, best nDCG@10 there {tuned.scores.ndcg10:.3f} "
              f"({describe(tuned.settings)}) in {tuning_seconds:.0f} s")
    print()
    _table(("reference (nDCG@10, 300 test queries)", "value"), list(REFERENCES))
    return 0


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [header, tuple("-" * w for w in widths), *rows]
    for row in lines:
        cells = [row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:], widths[1:])]
        print("  ".join(cells).rstrip())


if __name__ == "__main__":
    sys.exit(main())
