"""Shared fixtures: the real model and a real index of a small corpus, built once per session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
STARTER_CASES = REPO / "cases"
SHARED = REPO.parent / "shared"
K8S_CASES = SHARED / "corpora" / "kubernetes-case-studies" / "cases"
SECURITY = SHARED / "security"

#: A small, varied slice of the starter corpus (one draft among them) for the session index.
SMALL_CORPUS = [
    "alder-community-credit-union", "atlas-reinsurance-partners", "baltic-merchant-bank",
    "city-of-westbrook", "copperline-castings", "harbourview-savings-bank", "lumen-media-group",
    "northgate-grocers", "pampas-mobile", "riverside-community-health", "saltmarsh-inns",
    "swiftlane-freight", "tallgrass-tools",
]


def copy_cases(target: Path, names=SMALL_CORPUS) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(STARTER_CASES / f"{name}.md", target / f"{name}.md")
    return target


@pytest.fixture(scope="session")
def embedder():
    """The real embedding model, loaded once."""
    from indexer import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def small_settings(tmp_path_factory, embedder):
    """Settings of a real index over SMALL_CORPUS, built once per session. Treat as read-only."""
    from kb.indexing import index_cases
    from kb.settings import load_settings

    root = tmp_path_factory.mktemp("small")
    settings = load_settings(environ={}, cases_dir=copy_cases(root / "cases"), data_dir=root / "data")
    index_cases(settings, embedder=embedder)
    return settings


@pytest.fixture(scope="session")
def assembly(small_settings, embedder):
    """The composition root over the session index, sharing the session's model."""
    from kb.assembly import Assembly

    return Assembly(small_settings, embedder=embedder)


@pytest.fixture(scope="session")
def knowledge_base(assembly):
    """A KnowledgeBase over the session index."""
    return assembly.knowledge_base


@pytest.fixture
def runner():
    from click.testing import CliRunner

    return CliRunner()
