"""DEMO ONLY: a search log of realistic seller searches, for ``kb insights seed-demo``.

The searches are run for real against the current index and logged as user ``demo``
(:data:`kb.searchlog.DEMO_USER`; ``kb insights seed-demo --remove`` takes them out). This is
dev and demo tooling, not part of the domain: it lives with the command that runs it, and
only that command (and its tests) import it, so no server or report can write demo rows.
"""

from __future__ import annotations

import random
import time
from typing import Any

from kb.searchlog import DEMO_USER, SearchLog

#: Situations sellers describe, for the demo log: (weight, wordings). The first ones have
#: stories in the starter corpus; the last ones (marked) have none, so they come back weak.
DEMO_SITUATIONS: list[tuple[int, list[str]]] = [
    (8, ["regional bank losing deposits to fintech apps", "mid-size bank, deposits leaking to fintechs",
         "savings bank customers moving paychecks to neobanks"]),
    (5, ["AML alert backlog after a regulator finding", "bank with a huge backlog of anti money laundering alerts"]),
    (5, ["credit union young members leave after first loan", "credit union losing younger members"]),
    (6, ["subscriber churn at a digital publisher", "news site losing subscribers as ad revenue falls"]),
    (5, ["prepaid mobile operator churn to a cheaper rival", "telecom churn prepaid customers"]),
    (6, ["grocer fresh food waste and empty shelves", "supermarket throwing away fresh produce"]),
    (4, ["foundry scrap rate too high after failed audit", "manufacturing scrap and rework costs"]),
    (4, ["retiring scheduler knowledge in a spreadsheet", "small shop depends on one person's spreadsheet"]),
    (5, ["patients not showing up for appointments", "clinic no-shows, nurses overloaded"]),
    (4, ["hotels paying too much commission to booking sites", "win back direct bookings from OTAs"]),
    (4, ["trucks driving empty, dispatchers ignore the optimizer", "haulier empty running"]),
    (3, ["city building permit backlog", "municipality permit applications piling up"]),
    (3, ["merged insurer with duplicate claims systems"]),
    # No story covers these: most wordings come back weak, the demo's "stories to write next".
    (5, ["satellite launch insurance", "insuring a satellite launch", "space launch failure cover"]),
    (4, ["esports team sponsorship deals", "gaming team looking for sponsors"]),
    (3, ["church donations falling", "congregation donations dropping"]),
]

_DAY = 86400.0


def seed_demo(log: SearchLog, base, count: int = 200, days: int = 60, seed: int = 7,
              now: float | None = None) -> dict[str, int]:
    """Fill the log with realistic demo searches, run for real against the current index.

    Each search is a wording from :data:`DEMO_SITUATIONS` (popular situations more often),
    sometimes typed differently, at a random time in the last ``days`` days; about half of
    the searches with a strong match open one of their top results. Rows are logged as user
    ``demo`` (remove them with ``log.remove_user("demo")``). Deterministic for a seed.

    Args:
        log: The search log to fill.
        base: Has ``search(text, k=10)`` returning a :class:`kb.search.Response`: the
            :class:`kb.service.KnowledgeBase`.

    Returns:
        How many searches (and weak ones) and opens were logged.
    """
    rng = random.Random(seed)
    now = time.time() if now is None else now
    weights = [weight for weight, _ in DEMO_SITUATIONS]
    responses: dict[str, Any] = {}
    planned = sorted(now - rng.uniform(0, days) * _DAY for _ in range(count))
    counts = {"searches": 0, "weak": 0, "opens": 0}
    for at in planned:
        _, wordings = rng.choices(DEMO_SITUATIONS, weights=weights)[0]
        text = rng.choice(wordings)
        if rng.random() < 0.15:
            text = text.capitalize()  # the same search, typed differently
        if text not in responses:
            responses[text] = base.search(text, k=10)
        response = responses[text]
        search_id = log.record_response(response, user=DEMO_USER, at=at)
        weak = response.no_strong_match
        counts["searches"] += 1
        counts["weak"] += int(weak)
        if not weak and rng.random() < 0.55:
            pick = response.results[0 if rng.random() < 0.7 else min(1, len(response.results) - 1)]
            if log.record_open(search_id, pick.id, user=DEMO_USER, at=at + rng.uniform(5, 300)) is not None:
                counts["opens"] += 1
    return counts


__all__ = ["DEMO_SITUATIONS", "seed_demo"]
