"""Keeping the index fresh while people edit: incremental re-index in a background thread.

Saves call :meth:`LiveIndexer.request` (through :meth:`kb.assembly.Assembly.save_case`, which
builds the one indexer of a process); requests arriving while a build runs are merged into
one follow-up build. The status is written to INDEX_DIR/status.json, so every worker
process of a server (and the page that polls it) sees the same state.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from kb.settings import Settings

STATUS_FILE = "status.json"


def read_status(index_dir: Path) -> dict[str, Any]:
    """The last status written by any live indexer ({"state": "idle"} when none)."""
    try:
        return json.loads((Path(index_dir) / STATUS_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {"state": "idle"}


class LiveIndexer:
    """Runs incremental builds in a daemon thread, one at a time.

    Args:
        settings: Cases, index and model.
        embedder_factory: Returns the model, shared with search (called when a build starts,
            so the model loads only when something is to be indexed).
    """

    def __init__(self, settings: Settings, embedder_factory):
        self.settings = settings
        self._embedder_factory = embedder_factory
        self._wanted = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._reasons: list[str] = []

    def request(self, reason: str = "") -> None:
        """Ask for a build soon; returns at once."""
        with self._lock:
            self._reasons.append(reason)
            self._idle.clear()
            self._wanted.set()
            self._write({"state": "queued", "reason": reason})
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kb-live-indexer", daemon=True)
                self._thread.start()

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until no build is queued or running (for tests and shutdown)."""
        return self._idle.wait(timeout)

    def status(self) -> dict[str, Any]:
        return read_status(self.settings.index_path)

    def _run(self) -> None:
        from kb.indexing import index_cases

        while True:
            with self._lock:
                if not self._wanted.is_set():
                    self._thread = None  # under the lock: a new request starts a new thread
                    self._idle.set()
                    return
                self._wanted.clear()
                reasons, self._reasons = self._reasons, []
            started = time.time()
            self._write({"state": "running", "reason": ", ".join(r for r in reasons if r), "started_at": _now()})
            try:
                result = index_cases(self.settings, embedder=self._embedder_factory(), lock_wait=120)
            except Exception as exc:  # reported on the page; the previous index stays live
                self._write({"state": "failed", "error": str(exc), "finished_at": _now()})
                continue
            self._write({
                "state": "idle", "version": result.report.version, "summary": result.report.summary("cases"),
                "skipped": [str(p) for p in result.skipped], "finished_at": _now(),
                "seconds": round(time.time() - started, 2),
            })

    def _write(self, status: dict[str, Any]) -> None:
        directory = self.settings.index_path
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".{STATUS_FILE}.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(json.dumps(status), encoding="utf-8")
        os.replace(tmp, directory / STATUS_FILE)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
