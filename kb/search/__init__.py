"""Hybrid search over the case index."""

from kb.search.engine import FACET_FIELDS, Response, Result, SearchEngine, Why
from kb.search.query import FILTER_FIELDS, MAX_QUERY_CHARS, PROFILE_FIELDS, SearchRequest, make_request
from kb.search.settings import RankingSettings
from kb.search.snippets import Snippet, make_snippet, query_terms

__all__ = [
    "FACET_FIELDS",
    "FILTER_FIELDS",
    "MAX_QUERY_CHARS",
    "PROFILE_FIELDS",
    "RankingSettings",
    "Response",
    "Result",
    "SearchEngine",
    "SearchRequest",
    "Snippet",
    "Why",
    "make_request",
    "make_snippet",
    "query_terms",
]
