"""Faults while indexing: builds killed at random points under searches, a case file that
becomes unreadable mid-build, and a disk that fills up while a version is written.

Each test is bounded (deadlines on every wait, subprocesses always killed) and uses the
real model on a corpus of four cases. Truncated and corrupted index files are covered in
tests/test_index.py.
"""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import kb.corpus
import kb.service
from indexer import IndexStore, IndexWriteError
from kb.cli import cli
from kb.indexing import index_cases
from kb.service import KnowledgeBase
from kb.settings import load_settings
from tests.conftest import REPO, copy_cases

FOUR = ["pampas-mobile", "saltmarsh-inns", "swiftlane-freight", "tallgrass-tools"]
#: A query each of the four cases answers (any result is fine: the point is that it answers).
QUERY = "boutique inn paying commission to booking sites"
#: Kill rounds, and the seed of their random delays.
KILL_ROUNDS = 4
SEED = 8
#: The longest any subprocess may run before the test gives up on it.
SUBPROCESS_LIMIT = 60.0


@pytest.fixture
def four(tmp_path):
    return load_settings(environ={}, cases_dir=copy_cases(tmp_path / "cases", FOUR), data_dir=tmp_path / "data")


def kb_env(settings) -> dict[str, str]:
    return {**os.environ, "KB_CASES": str(settings.cases_dir), "KB_DATA": str(settings.data_dir),
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def leftovers(store: IndexStore) -> list[str]:
    """Temporary folders and files a build leaves behind when it dies."""
    found = [p.name for p in store.versions_dir.iterdir() if p.name.startswith(".")]
    if (store.root / ".CURRENT.tmp").exists():
        found.append(".CURRENT.tmp")
    return found


class Searcher(threading.Thread):
    """Searches in a loop through one KnowledgeBase until stopped; records every failure."""

    def __init__(self, settings, embedder):
        super().__init__(name="searcher", daemon=True)
        self.base = KnowledgeBase(settings, embedder=embedder)
        self.stop = threading.Event()
        self.count = 0
        self.failures: list[str] = []
        self.versions: set[str] = set()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                response = self.base.search(QUERY, k=3)
                self.versions.add(self.base.version.name)
                if not response.results:
                    self.failures.append("no results")
            except Exception as exc:  # every kind of failure counts
                self.failures.append(f"{type(exc).__name__}: {exc}")
            self.count += 1
            time.sleep(0.005)


def run_kb_index(settings, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kb", "index", "-q", *args], cwd=REPO, env=kb_env(settings),
                          capture_output=True, text=True, timeout=SUBPROCESS_LIMIT, check=False)


def test_builds_killed_at_random_points_never_break_searches(four, embedder, runner, monkeypatch):
    """SIGKILL `kb index --full` at random moments, four times, while searches run without pause."""
    monkeypatch.setattr(kb.service, "RELOAD_CHECK_SECONDS", 0.0)  # look at CURRENT before every search
    index_cases(four, embedder=embedder)
    store = IndexStore(four.index_path)
    searcher = Searcher(four, embedder)
    searcher.start()
    rng = random.Random(SEED)
    try:
        # One complete run sets the time scale. Odd rounds kill anywhere from the start of the
        # process (imports, model load, embedding) to the end; even rounds wait for the new
        # version's folder to appear and kill while it is written or switched to.
        started = time.monotonic()
        done = run_kb_index(four, "--full")
        assert done.returncode == 0, done.stderr
        whole = time.monotonic() - started
        outcomes = []
        for number in range(KILL_ROUNDS):
            before = store.current_name()
            process = subprocess.Popen([sys.executable, "-m", "kb", "index", "--full", "-q"], cwd=REPO,
                                       env=kb_env(four), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                if number % 2 == 0:
                    time.sleep(rng.uniform(0.1, 1.0) * whole)
                else:
                    deadline = time.monotonic() + SUBPROCESS_LIMIT
                    while process.poll() is None and time.monotonic() < deadline and not leftovers(store):
                        time.sleep(0.002)
                    time.sleep(rng.uniform(0.0, 0.05))
                killed = process.poll() is None
                process.send_signal(signal.SIGKILL)
            finally:
                process.kill()
                process.wait(timeout=SUBPROCESS_LIMIT)
            after = store.current_name()
            outcomes.append("killed" if killed else "finished")
            # CURRENT names the old or the new version, and that version is complete.
            assert after in store.version_names()
            assert killed or after != before
            IndexStore(four.index_path).open()
        time.sleep(0.2)  # a few more searches on whatever is live now
    finally:
        searcher.stop.set()
        searcher.join(timeout=30)
    assert not searcher.is_alive()
    assert searcher.failures == [], searcher.failures[:3]
    assert searcher.count > 10
    assert "killed" in outcomes, outcomes

    monkeypatch.setattr("kb.indexing.Embedder", lambda model: embedder)  # `kb index`, model already loaded
    result = runner.invoke(cli, ["index", "-q"], env={"KB_CASES": str(four.cases_dir), "KB_DATA": str(four.data_dir)})
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("4 cases, ")
    assert leftovers(store) == []
    assert len(store.version_names()) <= 2
    assert store.open().doc_ids == sorted(FOUR)


@pytest.mark.parametrize("mutation", ["folder", "invalid UTF-8", "deleted"])
def test_case_file_unreadable_mid_build_is_reported_and_the_rest_indexed(four, embedder, runner, monkeypatch,
                                                                          mutation):
    """The last case file changes under the build after the first two were read."""
    victim = four.cases_dir / "tallgrass-tools.md"
    real_read_case = kb.corpus.read_case
    calls = []

    def read_case_then_break_victim(path, name=None):
        calls.append(Path(path).name)
        if len(calls) == 2:  # the build has listed every file and read two of them
            if mutation == "folder":
                victim.unlink()
                victim.mkdir()
            elif mutation == "invalid UTF-8":
                victim.write_bytes(b"---\ntitle: Tallgrass\n---\n\n## Situation\n\nPrice \xff\xfe list\n")
            else:
                victim.unlink()
        return real_read_case(path, name)

    monkeypatch.setattr(kb.corpus, "read_case", read_case_then_break_victim)
    monkeypatch.setattr("kb.indexing.Embedder", lambda model: embedder)
    monkeypatch.chdir(four.cases_dir.parent)
    result = runner.invoke(cli, ["index", "-q"], env={"KB_CASES": str(four.cases_dir),
                                                      "KB_DATA": str(four.data_dir)})

    assert result.exit_code == 2, result.output
    shown = os.path.join("cases", "tallgrass-tools.md")
    expected = {
        "folder": f"{shown}:1: cannot read the file: Is a directory",
        "invalid UTF-8": f"{shown}:7: not UTF-8 text: invalid byte 0xff at offset 46; save the file as UTF-8",
        "deleted": f"{shown}:1: no such file or folder",
    }[mutation]
    assert result.stderr.strip() == expected
    assert result.stdout.strip().startswith("3 cases, ")
    assert result.stdout.strip().endswith("; 1 file skipped")
    assert IndexStore(four.index_path).open().doc_ids == sorted(set(FOUR) - {"tallgrass-tools"})


@pytest.mark.parametrize("failing", ["data file", "switch to the new version"])
def test_disk_full_keeps_the_old_index_live(four, embedder, runner, monkeypatch, failing):
    """A write fails with ENOSPC while a new version is written: one clear line, exit 1, old index serves."""
    index_cases(four, embedder=embedder)
    store = IndexStore(four.index_path)
    old = store.current_name()
    files = {p: p.read_bytes() for p in (store.versions_dir / old).rglob("*") if p.is_file()}
    story = four.cases_dir / "saltmarsh-inns.md"
    story.write_text(story.read_text(encoding="utf-8") + "\nA sentence that makes a new version.\n",
                     encoding="utf-8")

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(args[0]) if args else None)

    if failing == "data file":
        monkeypatch.setattr("indexer.build.np.save", no_space)
        where = "vectors.npy"
    else:  # the new version is complete and moved into place; replacing CURRENT fails
        real_replace = os.replace

        def replace(src, dst, *args, **kwargs):
            if Path(dst).name == "CURRENT":
                no_space(dst)
            return real_replace(src, dst, *args, **kwargs)

        monkeypatch.setattr("indexer.store.os.replace", replace)
        where = "CURRENT"
    monkeypatch.setattr("kb.indexing.Embedder", lambda model: embedder)
    result = runner.invoke(cli, ["index", "-q"], env={"KB_CASES": str(four.cases_dir),
                                                      "KB_DATA": str(four.data_dir)})
    monkeypatch.undo()

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Error: could not write the new index version in {store.root}: "
                               "No space left on device (")
    assert where in lines[0]
    assert lines[0].endswith("; the previous index is still live. Free some disk space, then run `kb index` again")
    # The old version is still live, complete and searchable; nothing half-written remains.
    assert store.current_name() == old
    assert store.version_names() == [old]
    assert leftovers(store) == []
    assert {p: p.read_bytes() for p in (store.versions_dir / old).rglob("*") if p.is_file()} == files
    response = KnowledgeBase(four, embedder=embedder).search(QUERY, k=1)
    assert response.results[0].id == "saltmarsh-inns"
    # Once there is room again, the next build completes.
    assert index_cases(four, embedder=embedder).report.reembedded == 1


def test_disk_full_on_a_first_build_says_no_index_was_built(four, embedder, monkeypatch):
    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("indexer.build.write_jsonl", no_space)
    with pytest.raises(IndexWriteError, match=r"No space left on device; no index was built\. Free some disk"):
        index_cases(four, embedder=embedder)
    store = IndexStore(four.index_path)
    assert store.current_name() is None and store.version_names() == [] and leftovers(store) == []
