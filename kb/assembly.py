"""The composition root: everything kb is made of, built from one :class:`~kb.settings.Settings`.

One :class:`Assembly` is handed to everything, the way datasette hands one ``Datasette``
object to its CLI, views and plugins: each CLI command receives one
(:func:`kb.cli.options.assembly_options`), and so does the web app
(``webui.create_app(assembly)``). Nothing else builds a knowledge base, opens the
database, loads the model or reads settings.

The expensive parts are built on first use and then shared: the model (loaded once, for
search, the background indexer and insights alike) and the knowledge base over the index.
``kb users add`` or ``kb --help`` never load either.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kb.settings import Settings, load_settings, stored_secret_key

if TYPE_CHECKING:  # the heavy modules are imported when first used
    from indexer import Embedder
    from kb.cases import Case
    from kb.editing import CaseForm
    from kb.indexing import IndexResult
    from kb.live import LiveIndexer
    from kb.searchlog import SearchLog
    from kb.service import KnowledgeBase
    from kb.users import UserStore

__all__ = ["Assembly"]


class Assembly:
    """Settings in; the knowledge base, the repositories, the indexing job and insights out.

    Args:
        settings: Every setting (see :func:`kb.settings.load_settings`).
        knowledge_base: An existing knowledge base to serve (tests share one, and its loaded
            model, between apps); by default one is built from ``settings`` on first use.
        embedder: An already loaded model to share (by default loaded on first use).

    Thread-safe: a web app's request threads share one assembly. The stores it opens
    (:meth:`users`, :meth:`search_log`) are new objects each time: one SQLite connection
    must not run two threads' statements at once, so each thread keeps its own (the web
    layer keeps one per thread; a command uses one in a ``with`` block).
    """

    def __init__(self, settings: Settings, *, knowledge_base: KnowledgeBase | None = None,
                 embedder: Embedder | None = None):
        self.settings = settings
        self._given_knowledge_base = knowledge_base
        self._knowledge_base = knowledge_base
        self._embedder = embedder
        self._live: LiveIndexer | None = None
        self._secret_key: str | None = None
        self._prune_schedule = None
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, **given: Any) -> Assembly:
        """An assembly of :func:`~kb.settings.load_settings` (flags given > ``environ`` > defaults)."""
        return cls(load_settings(environ, **given))

    def __repr__(self) -> str:
        return f"Assembly(cases={self.settings.cases_dir}, index={self.settings.index_path})"

    # -- search -----------------------------------------------------------------------------

    @property
    def knowledge_base(self) -> KnowledgeBase:
        """Search and read over the live index (built on first use; the model loads on first search).

        Raises:
            ConfigError: The ranking file cannot be used.
        """
        with self._lock:
            if self._knowledge_base is None:
                from kb.service import KnowledgeBase

                self._knowledge_base = KnowledgeBase(self.settings, embedder=self._embedder,
                                                     load_embedder=self._load_model)
            return self._knowledge_base

    @property
    def embedder(self) -> Embedder:
        """The model, loaded once per assembly (or the given knowledge base's)."""
        if self._embedder is None and self._given_knowledge_base is not None:
            return self._given_knowledge_base.embedder
        return self._load_model()

    def _load_model(self) -> Embedder:
        with self._model_lock:
            if self._embedder is None:
                from indexer import Embedder

                self._embedder = Embedder(self.settings.model)
            return self._embedder

    @property
    def model_loaded(self) -> bool:
        """Whether the model is loaded already (nothing is loaded to answer)."""
        if self._embedder is not None:
            return True
        base = self._given_knowledge_base
        return base is not None and base.model_loaded

    # -- the database -------------------------------------------------------------------------

    def users(self) -> UserStore:
        """A new store of the users (``settings.database_path``): one per thread; close it."""
        from kb.users import UserStore

        return UserStore(self.settings.database_path)

    def search_log(self) -> SearchLog:
        """A new store of the search log, keeping ``settings.log_retention_days``: one per thread; close it.

        Every log of an assembly shares one prune schedule, so recording prunes the database at
        most once an hour however many logs are made (e.g. one per web thread).
        """
        from kb.searchlog import PruneSchedule, SearchLog

        with self._lock:
            if self._prune_schedule is None:
                self._prune_schedule = PruneSchedule()
        return SearchLog(self.settings.database_path, retention=self.settings.log_retention_days,
                         schedule=self._prune_schedule)

    # -- indexing -----------------------------------------------------------------------------

    def index(self, *, full: bool = False, progress: Callable[[int, int], None] | None = None) -> IndexResult:
        """Build or refresh the index now from the cases folder (see :func:`kb.indexing.index_cases`).

        Uses the assembly's model when it is loaded already; else the build loads one (after
        checking the cases folder exists).
        """
        from kb.indexing import index_cases

        embedder = self.embedder if self.model_loaded else None
        return index_cases(self.settings, full=full, embedder=embedder, progress=progress)

    @property
    def live_indexer(self) -> LiveIndexer:
        """The background indexer: incremental builds in a thread, sharing the model with search."""
        with self._lock:
            if self._live is None:
                from kb.live import LiveIndexer

                self._live = LiveIndexer(self.settings, lambda: self.embedder)
            return self._live

    def update_index(self, reason: str = "") -> None:
        """Ask the background indexer to bring the index up to date soon; returns at once."""
        self.live_indexer.request(reason)

    def index_status(self) -> dict[str, Any]:
        """The background indexer's last status, as any process of this kb wrote it."""
        from kb.live import read_status

        return read_status(self.settings.index_path)

    # -- editing ------------------------------------------------------------------------------

    def save_case(self, form: CaseForm, *, expected_hash: str | None, create: bool) -> Case:
        """Save a case from the editor (:func:`kb.editing.save_case`), then schedule the index update.

        Raises:
            CaseExistsError, ConcurrentEditError, CaseFormatError: see :func:`kb.editing.save_case`
                (nothing is saved or scheduled then).
        """
        from kb.editing import save_case

        case = save_case(self.settings.cases_dir, form, expected_hash=expected_hash, create=create)
        self.update_index(f"saved {case.id}")
        return case

    def set_status(self, case_id: str, status: str, expected_hash: str | None) -> Case:
        """Publish (``status="published"``) or unpublish (``"draft"``) a case, then schedule the index update.

        Raises:
            ConcurrentEditError, CaseFormatError, UserError: see :func:`kb.editing.set_status`.
        """
        from kb.editing import set_status

        case = set_status(self.settings.cases_dir, case_id, status, expected_hash)
        self.update_index(f"{'published' if status == 'published' else 'unpublished'} {case.id}")
        return case

    # -- insights -----------------------------------------------------------------------------

    def insights(self, *, since_days: int | None = None, stale_months: int | None = None, top: int = 20,
                 log: SearchLog | None = None, version=None, now: float | None = None):
        """Every insight over the search log (:func:`kb.insights.build_report`).

        Args:
            since_days: Only searches and opens of the last this many days (default: all).
            stale_months: Stale after this many months (default ``settings.stale_months``).
            top: Rows of the frequent-searches, weak-groups and most-opened lists.
            log: The search log to read (default: one opened for this report and closed).
            version: The index version (default: the live one, opened without loading the model).
            now: The current time in seconds (default: now).

        The model is loaded only when weak wordings must be grouped that no report embedded before.

        Raises:
            IndexNotFoundError, IndexFormatError, IndexCorruptError: No usable index.
        """
        from kb.insights import build_report

        months = self.settings.stale_months if stale_months is None else stale_months
        if version is None:
            version = self.knowledge_base.store.open()
        embedder = self.embedder if self.model_loaded else _ModelOnDemand(self.settings.model, lambda: self.embedder)
        opened = log is None
        log = self.search_log() if opened else log
        try:
            return build_report(log, version, embedder, now=now, since_days=since_days, months=months, top=top)
        finally:
            if opened:
                log.close()

    # -- the web ------------------------------------------------------------------------------

    @property
    def secret_key(self) -> str:
        """The session signing key: ``settings.secret_key``, else the one generated once into
        DATA_DIR/secret_key."""
        with self._lock:
            if self._secret_key is None:
                self._secret_key = self.settings.secret_key or stored_secret_key(self.settings.data_dir)
            return self._secret_key


class _ModelOnDemand:
    """The model's name now, the model itself only when something is to be embedded."""

    def __init__(self, name: str, load: Callable[[], Embedder]):
        self.name = name
        self._load = load

    def encode(self, texts: Sequence[str]):
        return self._load().encode(texts)
