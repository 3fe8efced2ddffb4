"""When the search log prunes itself while recording: at most once per interval.

Recording a search or an open deletes what is older than the retention first, but not on
every insert: a :class:`PruneSchedule` says when the next prune is due. It is an object, not
module state, so whoever builds the search logs owns it: the composition root (or the web
app) keeps one per database and hands it to every :class:`~kb.searchlog.SearchLog` it makes
(e.g. one per web request or thread), so the database is pruned once per interval however
many logs are made. A log given none has a schedule of its own.
"""

from __future__ import annotations

import threading

#: Seconds between automatic prunes while recording.
PRUNE_EVERY = 3600.0


class PruneSchedule:
    """When the next automatic prune of one database is due. Thread-safe.

    Args:
        every: Seconds between prunes.
    """

    def __init__(self, every: float = PRUNE_EVERY):
        if every <= 0:
            raise ValueError("a prune schedule needs an interval of more than 0 seconds")
        self.every = every
        self._next = 0.0
        self._lock = threading.Lock()

    def due(self, now: float) -> bool:
        """Whether to prune at ``now``: the first time, once ``every`` seconds have passed
        since the last prune, or when the clock went back. A True answer books the next
        prune ``every`` seconds later (a second caller at once gets False)."""
        with self._lock:
            if now >= self._next or now < self._next - self.every:
                self._next = now + self.every
                return True
            return False
