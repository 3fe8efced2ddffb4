"""Query latency: the bare cost of a search in-process against GET /api/search end-to-end.

Measured in one run, with the same seller queries (eval/starter_queries.jsonl) in both:

* **bare**: ``KnowledgeBase.search(q, k=10)`` in this process: encoding the query, FAISS and
  BM25 search, fusion, snippets and facets (everything the server calls), with its parts
  timed separately (query encoding, dense search, BM25 scores) for the record;
* **end-to-end**: ``GET /api/search?q=...&k=10`` against the production server (``kb serve
  --prod``, gunicorn) on 127.0.0.1, signed in as a seller (production needs a login to read),
  one request at a time; the server closes each connection after its answer (see
  webui/production.py), so each request includes connecting on the loopback.

The bare search runs with the torch threads each server worker gets (the CPUs shared out
between the workers, see webui/production.py), so both sides compute with the same budget.
Both are warmed up first; rounds alternate the order (bare then HTTP, then HTTP then bare).
Printed: p50, p95 and p99 of each and the ratio end-to-end / bare (target at p50: <= 1.5).

The cases are copied to a temporary folder and indexed there, so the corpus is never touched;
with ``--data`` an index already built in DATA (over ``--cases``) is used as it is.

Run from the repository root::

    . .venv/bin/activate
    HF_HUB_OFFLINE=1 python benchmarks/query_latency.py
    HF_HUB_OFFLINE=1 python benchmarks/query_latency.py --cases /tmp/kb-scale/cases --data /tmp/kb-scale/data

A corpus folder that does not exist is skipped with a message (exit status 0).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness  # noqa: E402

TARGET_RATIO = 1.5
K = 10


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="p50/p95/p99 of a search in-process and through GET /api/search, and their ratio.",
        epilog="Example: python benchmarks/query_latency.py --cases /tmp/kb-scale/cases --data /tmp/kb-scale/data")
    harness.add_server_arguments(parser, port=8766)
    parser.add_argument("--rounds", type=int, default=2, help="rounds, alternating the order (default: 2)")
    parser.add_argument("--queries", type=int, default=None, help="use only the first N queries")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def same_threads_as_a_worker(workers: int) -> int:
    """Give this process the torch threads each server worker gets (webui.production)."""
    import torch

    from webui.production import threads_per_worker

    threads = threads_per_worker(workers)
    torch.set_num_threads(threads)
    return threads


def bare_parts(base, texts: list[str]) -> dict[str, list[float]]:
    """Seconds of the parts of a search: query encoding, FAISS search, BM25 scores."""
    engine = base.engine()
    version = engine.version
    candidates = max(engine.settings.candidates, K * 20)
    parts: dict[str, list[float]] = {"encode query": [], "FAISS search": [], "BM25 scores": []}
    for text in texts:
        started = time.perf_counter()
        vector = engine.embedder.encode_query(text)
        encoded = time.perf_counter()
        version.dense.search(vector, candidates)
        searched = time.perf_counter()
        version.lexical.scores(text)
        scored = time.perf_counter()
        parts["encode query"].append(encoded - started)
        parts["FAISS search"].append(searched - encoded)
        parts["BM25 scores"].append(scored - searched)
    return parts


def time_bare(base, texts: list[str]) -> list[float]:
    out = []
    for text in texts:
        started = time.perf_counter()
        response = base.search(text, k=K)
        out.append(time.perf_counter() - started)
        if not response.results:
            raise RuntimeError(f"no results in-process for {text!r}")
    return out


def time_http(client: harness.Client, texts: list[str]) -> list[float]:
    out = []
    for text in texts:
        started = time.perf_counter()
        status, body = client.search(text, K)
        out.append(time.perf_counter() - started)
        if status != 200 or not json.loads(body)["results"]:
            raise RuntimeError(f"GET /api/search answered {status} for {text!r}: {body[:200]!r}")
    return out


def measure(cases: Path, data: Path, *, port: int, workers: int, rounds: int, texts: list[str],
            log: Path, embedder=None, server_hook=None) -> dict:
    """Run the bare and end-to-end measurements; return the figures (seconds lists and more).

    ``server_hook(server)`` is called while the server runs (the scale benchmark reads its memory).
    """
    from indexer import Embedder
    from kb.service import KnowledgeBase
    from kb.settings import load_settings

    settings = load_settings(environ={}, cases_dir=cases, data_dir=data)
    embedder = embedder or Embedder(settings.model)
    same_threads_as_a_worker(workers)
    base = KnowledgeBase(settings, embedder=embedder)
    health = base.health()
    bare: list[float] = []
    http: list[float] = []
    sizes: list[int] = []
    extra: dict = {}
    harness.add_user(cases, data)
    with harness.Server(cases, data, port, workers, log) as server:
        client = harness.Client(port)
        try:
            client.login()  # production needs a login to read: search as a signed-in seller
            # Warm-up: every query once each way (and each worker sees a few).
            time_bare(base, texts)
            for _ in range(workers):
                time_http(client, texts[:10])
            for number in range(1, rounds + 1):
                order = ("bare", "http") if number % 2 else ("http", "bare")
                for step in order:
                    if step == "bare":
                        bare += time_bare(base, texts)
                    else:
                        http += time_http(client, texts)
                print(f"round {number} ({' then '.join(order)}): bare p50 "
                      f"{harness.percentile(bare, 50) * 1000:.1f} ms, HTTP p50 "
                      f"{harness.percentile(http, 50) * 1000:.1f} ms", file=sys.stderr)
            sizes = [len(client.search(text, K)[1]) for text in texts[:20]]
            if server_hook:
                extra = server_hook(server) or {}
        finally:
            client.close()
    parts = bare_parts(base, texts)
    return {"bare": bare, "http": http, "parts": parts, "health": health, "bytes": sizes,
            "reconnects": client.reconnects, "embedder": embedder, **extra}


def report(figures: dict, title: str) -> dict[str, float]:
    """Print the latency table; return the p50 ratio and the bare p50 (ms)."""
    bare, http = harness.summary_ms(figures["bare"]), harness.summary_ms(figures["http"])
    health = figures["health"]
    import torch

    print(f"\n{title}: {health['cases']} cases, {health['passages']} passages, index {health['index_version']}; "
          f"{len(figures['bare'])} searches each way (k={K}); mean JSON answer "
          f"{sum(figures['bytes']) / max(1, len(figures['bytes'])) / 1024:.1f} KiB; torch threads "
          f"{torch.get_num_threads()} in-process and per worker")
    rows = [("bare, in-process (KnowledgeBase.search)", *(f"{bare[p]:.1f}" for p in ("p50", "p95", "p99"))),
            ("end-to-end, GET /api/search", *(f"{http[p]:.1f}" for p in ("p50", "p95", "p99"))),
            ("ratio end-to-end / bare", *(f"{http[p] / bare[p]:.2f}" for p in ("p50", "p95", "p99")))]
    for name, seconds in figures["parts"].items():
        ms = harness.summary_ms(seconds)
        rows.append((f"  part of bare: {name}", *(f"{ms[p]:.1f}" for p in ("p50", "p95", "p99"))))
    harness.table(("measure (ms)", "p50", "p95", "p99"), rows)
    ratio = http["p50"] / bare["p50"]
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"ratio at p50: {ratio:.2f} (target <= {TARGET_RATIO}: {verdict})")
    return {"ratio_p50": ratio, "bare_p50_ms": bare["p50"], "http_p50_ms": http["p50"]}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.cases.is_dir():
        print(f"skipped: corpus folder {args.cases} does not exist")
        return 0
    texts = harness.queries(args.queries)
    with harness.indexed_corpus(args.cases, args.data, prefix="kb-latency-") as (cases, data, tmp):
        figures = measure(cases, data, port=args.port, workers=args.workers, rounds=args.rounds,
                          texts=texts, log=tmp / "server.log")
    report(figures, f"{args.cases}, server: kb serve --prod --workers {args.workers}")
    print(harness.load_average() + " at the end (other work on the machine skews the times)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
