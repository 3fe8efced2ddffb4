"""A bounded, in-memory limit of events per client and window: what the web logs through.

Anyone who can search writes to the log, so the web logs at most so many searches (and as
many story opens) per client and minute; beyond it a search is answered but not logged, so
one client cannot fill the log and, through it, the work of the insights report.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from typing import Any

#: Searches (and, separately, story opens) logged per client and minute by default; beyond it
#: a search is answered but not logged.
DEFAULT_SEARCHES_PER_MINUTE = 30
#: Clients a :class:`RateLimiter` keeps track of at most (its memory bound).
MAX_TRACKED_CLIENTS = 10_000


class RateLimiter:
    """At most ``limit`` events per client in any ``window`` seconds (0 = no limit).

    Kept in this process's memory: with several worker processes each counts on its own, so
    a client may get up to workers x limit. The memory is bounded: at most ``max_clients``
    clients are tracked, each with at most ``limit`` times. When the table is full, the
    clients seen least recently that had no event in the last window are forgotten; when
    every tracked client is still active, a new client is refused until one goes quiet, so
    a flood from many addresses fills neither this table nor what it protects.

    Thread-safe.
    """

    def __init__(self, limit: int = DEFAULT_SEARCHES_PER_MINUTE, window: float = 60.0,
                 max_clients: int = MAX_TRACKED_CLIENTS, clock=time.monotonic):
        if limit < 0 or window <= 0 or max_clients < 1:
            raise ValueError("a rate limit needs a limit of 0 or more, a window and room for a client")
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._clock = clock
        self._clients: OrderedDict[Any, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, client: Any) -> bool:
        """Count an event of ``client`` and return True, or return False (not counted) when
        the client already had ``limit`` events in the last window."""
        if self.limit == 0:
            return True
        now = self._clock()
        with self._lock:
            times = self._clients.get(client)
            if times is None:
                if len(self._clients) >= self.max_clients and not self._forget_quiet(now):
                    return False
                times = self._clients[client] = deque(maxlen=self.limit)
            else:
                self._clients.move_to_end(client)
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True

    def __len__(self) -> int:
        """Clients tracked."""
        return len(self._clients)

    def _forget_quiet(self, now: float) -> bool:
        """Forget the least recently seen clients while their last event is a window old;
        True when there is room for a new client."""
        while self._clients:
            client, times = next(iter(self._clients.items()))
            if times and times[-1] > now - self.window:
                break
            del self._clients[client]
        return len(self._clients) < self.max_clients
