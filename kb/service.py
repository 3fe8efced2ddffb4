"""The knowledge base as its users see it: search, cases and health over the live index.

One :class:`KnowledgeBase` per process loads the model once and follows the index: when a
build switches to a new version, the next call picks it up without a restart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from indexer import Embedder, IndexStore, IndexVersion

from kb.errors import INDEX_WORDING, CaseNotFoundError, InvalidQueryError
from kb.search import RankingSettings, Response, SearchEngine, make_request
from kb.search.query import MAX_RESULTS, SearchRequest, check_filters
from kb.search.ranking_file import load_ranking
from kb.settings import Settings
from kb.visibility import is_visible

#: Seconds between checks of the index's CURRENT pointer.
RELOAD_CHECK_SECONDS = 1.0


class KnowledgeBase:
    """Search and read cases from the live index version.

    Args:
        settings: Paths and model.
        ranking: Ranking settings (default: those of ``settings.ranking_file``, else the
            built-in ones).
        embedder: An already loaded model to share (loaded on first use otherwise).
        load_embedder: How to get the model on first use (default: load ``settings.model``);
            :class:`kb.assembly.Assembly` passes its own, so search, the background indexer
            and insights share one model.

    Raises:
        ConfigError: the ranking file cannot be used (the message names the file and setting).
    """

    def __init__(self, settings: Settings, ranking: RankingSettings | None = None, embedder: Embedder | None = None,
                 *, load_embedder: Callable[[], Embedder] | None = None):
        self.settings = settings
        if ranking is None:
            ranking = load_ranking(settings.ranking_file) if settings.ranking_file else RankingSettings()
        self.ranking = ranking
        self.store = IndexStore(settings.index_path, INDEX_WORDING)
        self._embedder = embedder
        self._load_embedder = load_embedder or (lambda: Embedder(settings.model))
        self._engine: SearchEngine | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = self._load_embedder()
            return self._embedder

    @property
    def model_loaded(self) -> bool:
        """Whether the model is loaded already (asking does not load it)."""
        return self._embedder is not None

    def engine(self) -> SearchEngine:
        """The engine over the live version, reloaded when the index has switched.

        Raises:
            IndexNotFoundError, IndexFormatError, IndexCorruptError: see :meth:`IndexStore.open`.
        """
        now = time.monotonic()
        engine = self._engine
        if engine is not None and now - self._checked < RELOAD_CHECK_SECONDS:
            return engine
        name = self.store.current_name()
        if engine is None or name != engine.version.name:
            embedder = self.embedder
            with self._lock:
                if self._engine is None or self.store.current_name() != self._engine.version.name:
                    self._engine = SearchEngine(self.store.open(), embedder, self.ranking)
                engine = self._engine
        self._checked = now
        return engine

    @property
    def version(self) -> IndexVersion:
        return self.engine().version

    def search(self, text: str | None, k: int = 10, filters: dict | None = None, profile: dict | None = None,
               mode: str = "hybrid", include_drafts: bool = False, understand: bool = True,
               ignore: Sequence[str] = ()) -> Response:
        """Rank cases for a situation (see :func:`kb.search.make_request` for the checks)."""
        request, notices = make_request(text, k=k, filters=filters, profile=profile, mode=mode,
                                        include_drafts=include_drafts, understand=understand, ignore=ignore)
        return self.engine().search(request, notices)

    def whole_document_bm25(self, text: str | None, k: int = 10, filters: dict | None = None,
                            include_drafts: bool = False) -> list[str]:
        """The top k case ids by plain whole-document BM25: the peer `kb eval` measures beside kb."""
        request, _ = make_request(text, k=k, filters=filters, include_drafts=include_drafts)
        return self.engine().whole_document_bm25(request)

    def rankings(self, text: str | None, variants: Sequence[RankingSettings], k: int = 10,
                 filters: dict | None = None, include_drafts: bool = False) -> list[list[str]]:
        """The top k case ids of a hybrid search under each of several ranking settings.

        One candidate search serves every variant (see :meth:`SearchEngine.rankings`).
        """
        request, _ = make_request(text, k=k, filters=filters, include_drafts=include_drafts)
        return self.engine().rankings(request, variants)

    def case_meta(self, case_id: str, include_drafts: bool = False) -> dict[str, Any]:
        """The indexed metadata of a case.

        Raises:
            CaseNotFoundError: No such case, or a draft when drafts are not shown.
        """
        meta = self.version.doc_meta.get(case_id)
        if meta is None or not is_visible(meta, include_drafts):
            raise CaseNotFoundError(f"no case with id '{case_id}'")
        return meta

    def similar(self, case_id: str, k: int = 5, include_drafts: bool = False) -> list[dict[str, Any]]:
        """The cases nearest to a case by their vectors, with their metadata and similarity."""
        self.case_meta(case_id, include_drafts)
        if not isinstance(k, int) or not 1 <= k <= MAX_RESULTS:
            raise InvalidQueryError(f"k must be a whole number from 1 to {MAX_RESULTS}")
        engine = self.engine()
        return [{**engine.version.doc_meta[doc_id], "similarity": round(score, 4)}
                for doc_id, score in engine.similar(case_id, k, include_drafts)]

    def facets(self, filters: dict | None = None, include_drafts: bool = False) -> dict[str, dict[str, int]]:
        """Facet counts over the cases shown to the reader, each facet under every other filter."""
        request = SearchRequest(text="", filters=check_filters(filters), include_drafts=include_drafts)
        return self.engine().facet_counts(request)

    def list_cases(self, filters: dict | None = None, sort: str = "date",
                   include_drafts: bool = False) -> list[dict[str, Any]]:
        """The metadata of the cases matching filters, newest first (``sort="date"``) or by title.

        Raises:
            InvalidQueryError: a bad filter or sort.
        """
        if sort not in ("date", "title"):
            raise InvalidQueryError("sort must be date or title")
        engine = self.engine()
        cases = [engine.version.doc_meta[i] for i in engine.matching(check_filters(filters), include_drafts)]
        cases.sort(key=lambda meta: (str(meta.get("title") or "").casefold(), meta["id"]))
        if sort == "date":
            cases.sort(key=lambda meta: meta.get("published") or "", reverse=True)
        return cases

    def health(self) -> dict[str, Any]:
        """Index version, counts, model and ranking settings file, for monitoring."""
        version = self.version
        manifest = version.manifest
        return {"status": "ok", "index_version": version.name, "built_at": manifest.get("built_at"),
                "cases": manifest["counts"]["documents"], "passages": manifest["counts"]["passages"],
                "model": manifest["model"]["name"], "dimension": manifest["model"]["dimension"],
                "ranking": str(self.settings.ranking_file) if self.settings.ranking_file else "built-in"}
