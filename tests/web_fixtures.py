"""Fixtures of the web tests: one real index of a small corpus per session, the app over it.

Test modules import the fixtures they use by name (``from tests.web_fixtures import client``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb.settings import Settings

CASES_DIR = Path(__file__).resolve().parent.parent / "cases"
#: A draft story: indexed, never shown to sellers.
DRAFT_ID = "atlas-reinsurance-partners"
#: Cases copied into the session corpus: the first twelve by name, and the draft.
WEB_CASE_COUNT = 12
SECRET_KEY = "test-secret-key"


def web_case_files() -> list[Path]:
    """The case files of the web tests' corpus."""
    files = sorted(CASES_DIR.glob("*.md"))[:WEB_CASE_COUNT] + [CASES_DIR / f"{DRAFT_ID}.md"]
    return list(dict.fromkeys(files))


@pytest.fixture(scope="session")
def web_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings over a temporary copy of the corpus and a temporary data folder."""
    root = tmp_path_factory.mktemp("web")
    cases = root / "cases"
    cases.mkdir()
    for path in web_case_files():
        shutil.copy(path, cases / path.name)
    return Settings(cases_dir=cases, data_dir=root / "data")


@pytest.fixture(scope="session")
def web_kb(web_settings: Settings, request: pytest.FixtureRequest):
    """The corpus indexed with the real model, and one knowledge base sharing that model."""
    from indexer import Embedder
    from kb.indexing import index_cases
    from kb.service import KnowledgeBase

    try:
        embedder = request.getfixturevalue("embedder")  # the suite's shared model, when conftest has one
    except pytest.FixtureLookupError:
        embedder = Embedder(web_settings.model)
    index_cases(web_settings, embedder=embedder)
    return KnowledgeBase(web_settings, embedder=embedder)


@pytest.fixture(scope="session")
def kb_app(web_settings: Settings, web_kb):
    """The Flask app over the session's knowledge base."""
    from webui import create_app

    return create_app({"KB_SETTINGS": web_settings, "SECRET_KEY": SECRET_KEY, "TESTING": True,
                       "KB_KNOWLEDGE_BASE": web_kb})


@pytest.fixture
def client(kb_app):
    """A test client of :func:`kb_app`."""
    return kb_app.test_client()


@pytest.fixture
def unindexed_app(tmp_path: Path):
    """An app whose index has never been built (no model is loaded)."""
    from webui import create_app

    settings = Settings(cases_dir=tmp_path / "cases", data_dir=tmp_path / "data")
    return create_app({"KB_SETTINGS": settings, "SECRET_KEY": SECRET_KEY, "TESTING": True})
