"""Hybrid search over the case index."""

from kb.fields import FACET_FIELDS, FILTER_FIELDS, PROFILE_FIELDS
from kb.search.engine import SearchEngine
from kb.search.query import MAX_QUERY_CHARS, SearchRequest, make_request
from kb.search.results import Response, Result, Why
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
