"""The layers, enforced: import-linter runs the contracts of pyproject.toml ([tool.importlinter]).

webui sits above kb, which sits above indexer; the domain imports no web framework, no HTML
tooling and no click (its command line, kb.cli, excepted), and nothing in it imports kb.cli;
webui reaches the indexer only through kb. The first test runs the contracts over the code and
fails with import-linter's report. The others show the check has teeth: the same contracts,
run over a small stand-in tree of the three packages, hold when it respects them and report
each import that breaks them once it does not.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO

CONFIG = REPO / "pyproject.toml"
#: The contracts kb relies on, by id (removing one from pyproject.toml must fail a test).
CONTRACTS = {"layers", "domain-without-web", "click-in-cli-only", "cli-on-top", "web-through-kb"}

#: A stand-in for the three packages that keeps every contract: only the imports that matter.
CLEAN_TREE = {
    "indexer/__init__.py": "",
    "indexer/errors.py": "",
    "kb/__init__.py": "import indexer\n",
    "kb/__main__.py": "from kb.cli import main\n",
    "kb/errors.py": "from indexer.errors import *\n",
    "kb/cli/__init__.py": "import click\n\nimport kb.errors\n",
    "kb/cli/index.py": "import click\n",
    "webui/__init__.py": "import flask\nimport markupsafe\nimport nh3\n\nimport kb.errors\n",
    "webui/cli.py": "import click\n\nfrom kb.cli import index\n",
}
#: A module added to it that breaks a contract: its text, the contract, what is reported.
VIOLATIONS = {
    "indexer/store.py": ("import numpy\nimport kb.errors\n", "layers", "indexer.store -> kb.errors (l.2)"),
    "kb/serve.py": ("import webui\n", "layers", "kb.serve -> webui (l.1)"),
    "kb/render.py": ("import re\nimport nh3\n", "domain-without-web", "kb.render -> nh3 (l.2)"),
    "kb/charts.py": ("from markupsafe import Markup\n", "domain-without-web", "kb.charts -> markupsafe (l.1)"),
    "indexer/progress.py": ("import flask\n", "domain-without-web", "indexer.progress -> flask (l.1)"),
    "kb/service.py": ("import click\n", "click-in-cli-only", "kb.service -> click (l.1)"),
    # click through the back door: the ignored kb.cli -> click imports hide it from the
    # contract above, so this one forbids importing kb.cli at all
    "kb/search.py": ("from kb.cli import index\n", "cli-on-top", "kb.search -> kb.cli.index (l.1)"),
    "webui/errors.py": ("from indexer.errors import *\n", "web-through-kb", "webui.errors -> indexer.errors (l.1)"),
}


def contracts() -> list[dict]:
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]


def contract_name(contract_id: str) -> str:
    return next(contract["name"] for contract in contracts() if contract["id"] == contract_id)


def lint_imports(root: Path, cache: Path) -> subprocess.CompletedProcess:
    """Run `lint-imports` with the repository's contracts over the packages found in ``root``.

    import-linter puts its working directory first on the path, so the packages of ``root``
    are the ones analysed (the repository's own for ``root=REPO``).
    """
    command = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run(
        [sys.executable, "-c", command, str(CONFIG), "--cache-dir", str(cache), "--no-logo"],
        cwd=root, env={**os.environ, "COLUMNS": "200"}, capture_output=True, text=True, timeout=120, check=False)


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_code_keeps_the_layer_contracts(tmp_path):
    result = lint_imports(REPO, tmp_path / "cache")
    assert result.returncode == 0, f"import-linter:\n{result.stdout}{result.stderr}"
    assert f"Contracts: {len(contracts())} kept, 0 broken." in result.stdout


def test_the_contracts_kb_relies_on_are_declared_and_each_is_shown_to_fail():
    config = tomllib.loads(CONFIG.read_text(encoding="utf-8"))["tool"]["importlinter"]
    assert set(config["root_packages"]) == {"webui", "kb", "indexer"}
    assert {contract["id"] for contract in contracts()} >= CONTRACTS
    layers = next(contract for contract in contracts() if contract["id"] == "layers")
    assert layers["layers"] == ["webui", "kb", "indexer"]
    assert {contract for _, contract, _ in VIOLATIONS.values()} == CONTRACTS


def test_a_tree_that_respects_the_layers_keeps_every_contract(tmp_path):
    result = lint_imports(write_tree(tmp_path / "tree", CLEAN_TREE), tmp_path / "cache")
    assert result.returncode == 0, f"import-linter:\n{result.stdout}{result.stderr}"
    assert f"Contracts: {len(contracts())} kept, 0 broken." in result.stdout


@pytest.mark.parametrize("name", sorted(VIOLATIONS), ids=lambda name: name.removesuffix(".py"))
def test_one_import_breaks_its_contract_and_is_reported(tmp_path, name):
    text, contract, reported = VIOLATIONS[name]
    result = lint_imports(write_tree(tmp_path / "tree", {**CLEAN_TREE, name: text}), tmp_path / "cache")
    report = result.stdout
    assert result.returncode == 1, f"import-linter:\n{report}{result.stderr}"
    assert f"{contract_name(contract)} BROKEN" in report, report
    assert reported in report, f"{reported!r} is not reported:\n{report}"
