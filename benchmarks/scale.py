"""Scale: kb on N synthetic cases (10,000 by default, about 60,000 passages).

Measured in one run, on this machine:

1. the full index time: ``kb index --full`` in a subprocess, as an operator runs it
   (wall time with the model load, and the build time kb reports);
2. the incremental time after editing one case (``kb index``);
3. the index size on disk (the live version folder, and the whole index directory);
4. the dense index type chosen at that size (exact below ``indexer.dense.EXACT_LIMIT``
   vectors, HNSW above) and its recall@10 against exact (flat) search over the same vectors,
   for queries that are passage vectors of the index (a sample) and for the seller queries;
5. the production server (``kb serve --prod``) on that index: resident memory per process
   and in total, and the query latency in-process and end-to-end (p50, p95, p99), with the
   ratio, from :mod:`benchmarks.query_latency`.

Building 10,000 cases takes long on 2 cores (about 27 passages/s here): the build phase can
run alone (``--build-only``) and its timings are kept in ``WORK/timings.json``; a later run
with ``--reuse`` measures the rest on that index without rebuilding it.

Run from the repository root::

    . .venv/bin/activate
    HF_HUB_OFFLINE=1 python benchmarks/scale.py --count 10000 --work /tmp/kb-scale
    HF_HUB_OFFLINE=1 python benchmarks/scale.py --count 10000 --work /tmp/kb-scale --build-only   # phase 1
    HF_HUB_OFFLINE=1 python benchmarks/scale.py --count 10000 --work /tmp/kb-scale --reuse        # phase 2
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness  # noqa: E402
from benchmarks.synthetic_cases import case_path, generate  # noqa: E402

TARGET_RECALL = 0.98
TIMINGS = "timings.json"
EDIT_SENTENCE = "An extra sentence appended by the scale benchmark to test incremental indexing."


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Index N synthetic cases; report index times, size, memory, latency and ANN recall.",
        epilog="Example: python benchmarks/scale.py --count 10000 --work /tmp/kb-scale")
    parser.add_argument("--count", type=int, default=10_000, help="synthetic cases (default: 10000)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/kb-scale"),
                        help="working folder: WORK/cases, WORK/data (default: /tmp/kb-scale)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default: 7)")
    parser.add_argument("--build-only", action="store_true", help="generate and build, then stop")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the index built earlier in WORK (its timings.json) instead of rebuilding")
    parser.add_argument("--port", type=int, default=8765, help="server port on 127.0.0.1 (default: 8765)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default: 2)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="passes over the seller queries for the latency figures (default: 3)")
    parser.add_argument("--recall-sample", type=int, default=1000,
                        help="passage vectors used as recall queries (default: 1000)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    return args


def env_for(work: Path) -> dict[str, str]:
    return {**os.environ, "KB_CASES": str(work / "cases"), "KB_DATA": str(work / "data"),
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def run_index(work: Path, *extra: str) -> tuple[float, str]:
    """Run ``kb index`` in a subprocess; return (wall seconds, its summary line)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "kb", "index", "-q", *extra], cwd=harness.REPO,
                          env=env_for(work), capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"error: kb index {' '.join(extra)} failed ({done.returncode}): {done.stderr.strip()}")
    return seconds, done.stdout.strip().splitlines()[-1]


def reported_seconds(summary: str) -> float:
    match = re.search(r" in ([0-9.]+) s", summary)
    return float(match.group(1)) if match else float("nan")


def build(args: argparse.Namespace) -> dict:
    """Generate the cases and build the index from scratch; keep the timings in WORK."""
    cases = args.work / "cases"
    started = time.perf_counter()
    generate(cases, args.count, args.seed)
    generate_seconds = time.perf_counter() - started
    print(f"generated {args.count} synthetic cases in {generate_seconds:.1f} s; full build...", flush=True)
    wall, summary = run_index(args.work, "--full")
    timings = {"count": args.count, "seed": args.seed, "generate_seconds": generate_seconds,
               "full_wall_seconds": wall, "full_summary": summary,
               "full_build_seconds": reported_seconds(summary),
               "machine": harness.machine(), "finished_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
    (args.work / TIMINGS).write_text(json.dumps(timings, indent=1), encoding="utf-8")
    print(f"full build: {summary} ({wall:.1f} s wall)", flush=True)
    return timings


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    timings_path = args.work / TIMINGS
    if args.reuse and timings_path.is_file():
        timings = json.loads(timings_path.read_text(encoding="utf-8"))
        if timings.get("count") != args.count or timings.get("seed") != args.seed:
            raise SystemExit(f"error: {timings_path} is for {timings.get('count')} cases (seed "
                             f"{timings.get('seed')}); run without --reuse to rebuild")
        print(f"reusing the index built in {args.work} ({timings['full_summary']})")
    else:
        timings = build(args)
    if args.build_only:
        return 0
    return measure(args, timings)


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def recall_at_10(version, query_vectors) -> tuple[float, float, float]:
    """Mean recall@10 of the live dense index against exact search; and ms/query of each."""
    import faiss
    import numpy as np

    exact = faiss.IndexFlatIP(version.vectors.shape[1])
    exact.add(np.ascontiguousarray(version.vectors, dtype=np.float32))
    hits = 0
    dense_seconds = exact_seconds = 0.0
    for vector in query_vectors:
        started = time.perf_counter()
        found, _ = version.dense.search(vector, 10)
        dense_seconds += time.perf_counter() - started
        started = time.perf_counter()
        _, truth = exact.search(vector.reshape(1, -1), 10)
        exact_seconds += time.perf_counter() - started
        hits += len(set(found.tolist()) & set(truth[0].tolist()))
    count = len(query_vectors)
    return hits / (10 * count), dense_seconds / count * 1000, exact_seconds / count * 1000


def measure(args: argparse.Namespace, timings: dict) -> int:
    import numpy as np

    from benchmarks import query_latency
    from indexer import IndexStore
    from indexer.dense import EXACT_LIMIT, HNSW_EF_SEARCH, HNSW_M

    cases, data = args.work / "cases", args.work / "data"
    texts = harness.queries()

    # 1. Latency and memory of the production server on this index (a fresh process: no batch
    #    encoding has run in it, see harness.index_in_subprocess).
    def read_memory(server):
        return {"memory": server.memory()}

    figures = query_latency.measure(cases, data, port=args.port, workers=args.workers, rounds=args.repeat,
                                    texts=texts, log=args.work / "server.log", server_hook=read_memory)

    # 2. Incremental build after editing one case.
    edited = case_path(cases, 0)
    edited.write_text(edited.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + EDIT_SENTENCE + "\n",
                      encoding="utf-8")
    incremental_wall, incremental_summary = run_index(args.work)

    # 3. Size on disk.
    store = IndexStore(data / "index")
    version = store.open()
    live_bytes = folder_bytes(version.path)
    all_bytes = folder_bytes(store.root)

    # 4. Recall@10 of the chosen dense index against exact search on the same vectors.
    rng = np.random.default_rng(args.seed)
    sample = rng.choice(len(version.vectors), size=min(args.recall_sample, len(version.vectors)), replace=False)
    passage_recall, dense_ms, exact_ms = recall_at_10(version, version.vectors[sample])
    encoded = [figures["embedder"].encode_query(text) for text in texts]
    query_recall, _, _ = recall_at_10(version, encoded)

    passages = version.manifest["counts"]["passages"]
    full_seconds = timings["full_build_seconds"]
    rate = passages / full_seconds
    per_case = passages / args.count
    print(f"\nmachine: {harness.machine()}")
    print(f"full build measured on: {timings['machine']} (finished {timings['finished_at']})")
    print(f"{args.count} synthetic cases (seed {args.seed}), {passages} passages ({per_case:.2f} per case)")
    memory = figures["memory"]
    rows = [
        ("full index (kb index --full), kb's own time", f"{full_seconds:.0f} s ({full_seconds / 60:.1f} min)",
         f"{rate:.1f} passages/s"),
        ("full index, wall time with process start and model load", f"{timings['full_wall_seconds']:.0f} s", ""),
        ("incremental, one case edited (kb index)", f"{reported_seconds(incremental_summary):.1f} s",
         f"wall {incremental_wall:.1f} s; {incremental_summary.split(':')[1].split(' in ')[0].strip()}"),
        ("index size on disk, live version", f"{live_bytes / 2**20:.0f} MiB", ""),
        ("index size on disk, index directory (live + previous)", f"{all_bytes / 2**20:.0f} MiB", ""),
        ("dense index type", version.dense.kind,
         f"exact up to {EXACT_LIMIT} vectors; HNSW M={HNSW_M}, efSearch={HNSW_EF_SEARCH}"),
        ("recall@10 vs exact, 1 query per sampled passage vector", f"{passage_recall:.4f}",
         f"{len(sample)} queries; target >= {TARGET_RECALL}: {'met' if passage_recall >= TARGET_RECALL else 'NOT met'}"),
        ("recall@10 vs exact, the seller queries", f"{query_recall:.4f}",
         f"{len(encoded)} queries; target >= {TARGET_RECALL}: {'met' if query_recall >= TARGET_RECALL else 'NOT met'}"),
        ("dense search time per query: chosen index / exact", f"{dense_ms:.2f} / {exact_ms:.2f} ms", ""),
        (f"server resident memory, {args.workers} workers + master", f"{memory['total'] / 2**20:.0f} MiB",
         ", ".join(f"{k} {v / 2**20:.0f} MiB" for k, v in memory.items() if k != "total")),
    ]
    harness.table(("measure", "value", "note"), rows)
    query_latency.report(figures, f"query latency at {args.count} cases")
    if args.count < 10_000:
        estimate = 10_000 * per_case / rate
        print(f"\nextrapolation to 10,000 cases ({10_000 * per_case:.0f} passages) at {rate:.1f} passages/s: "
              f"a full index of about {estimate / 60:.0f} min on this machine")
    print(harness.load_average() + " at the end (other work on the machine skews the times)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
