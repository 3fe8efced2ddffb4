"""kb: a case-study knowledge base with "customers like you" search.

This package is the domain: case files, the corpus, indexing, search and evaluation, as
data and plain text. The web layer (``webui``) and the CLI (``kb.cli``) call it; it imports
neither, nor Flask, click or HTML tooling: HTML is the web layer's (``webui.render``). The
contracts in pyproject.toml check it (tests/test_architecture.py).
"""

from kb.cases import SIZE_BANDS, STATUSES, Case, Problem, Section
from kb.corpus import Corpus, load_corpus, validate
from kb.indexing import PROFILE_SECTION
from kb.text import plain_text
from kb.errors import (
    CaseExistsError,
    CaseFormatError,
    CaseNotFoundError,
    ConfigError,
    InvalidQueryError,
    InvalidSlugError,
    KbError,
)
from kb.parser import parse_case, read_case
from kb.settings import Settings, load_settings
from kb.stages import STAGES, stage_label, stage_of

__all__ = [
    "SIZE_BANDS",
    "STAGES",
    "STATUSES",
    "Case",
    "CaseExistsError",
    "CaseFormatError",
    "CaseNotFoundError",
    "ConfigError",
    "Corpus",
    "InvalidQueryError",
    "InvalidSlugError",
    "KbError",
    "PROFILE_SECTION",
    "Problem",
    "Section",
    "Settings",
    "load_corpus",
    "load_settings",
    "parse_case",
    "plain_text",
    "read_case",
    "stage_label",
    "stage_of",
    "validate",
]
