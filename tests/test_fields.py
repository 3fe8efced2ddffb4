"""The field registry: what it derives, and the walk-through of adding a field in one file.

The walk-through copies the source, adds a banded ``deal_size`` field to the copy's
kb/fields.py (the one file changed) and checks, in a fresh interpreter over the copy with the
real model, that the field is validated, filtered on, counted as a facet, in the editor, in
``kb search --help``, in the API's description and answers, and on the story page.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kb import fields as registry
from kb.fields import BY_NAME, FIELDS, Field

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("kb", "webui", "indexer")

DEAL_SIZE = '''    Field("deal_size", "Deal size", "choice", "The size of the deal, in euros.",
          choices=("<50k", "50k-250k", "250k-1M", "1M+"), filter=True, facet=True, noun="deal-size band"),
'''


# -- the registry ---------------------------------------------------------------------------


def test_every_derived_list_follows_the_declarations():
    assert registry.FILTER_FIELDS == tuple(f.name for f in FIELDS if f.filter)
    assert registry.FACET_FIELDS == ("industry", "company_size", "region", "stage", "tags")
    assert registry.PROFILE_FIELDS == ("industry", "company_size", "region")
    assert registry.UNDERSTOOD_FIELDS == ("industry", "company_size", "region", "roles")
    assert registry.LIST_FIELDS == ("products", "roles", "tags")
    assert "stage" not in registry.KNOWN_FIELDS, "derived from the sections, never written in front matter"
    assert registry.EDITOR_FIELDS[0] == "title" and "stage" not in registry.EDITOR_FIELDS
    assert len(BY_NAME) == len(FIELDS), "names are unique"


def test_choice_problems_name_the_value_and_the_allowed_ones():
    assert BY_NAME["company_size"].choice_problem("big") == \
        "'big' is not a size band; use one of 1-50, 51-200, 201-1000, 1001-5000, 5001+"
    assert BY_NAME["status"].choice_problem("live") == "'live' is not a status; use published or draft"
    assert BY_NAME["company_size"].choice_problem("51-200") is None
    assert BY_NAME["industry"].choice_problem("anything") is None
    made_up = Field("tier", "Tier", "choice", "A tier.", choices=("a", "b", "c"))
    assert made_up.choice_problem("x") == "'x' is not a valid tier; use one of a, b, c"


def test_names_a_person_reads():
    size = BY_NAME["company_size"]
    assert (size.option, size.profile_param, size.form_label, size.short_label) == \
        ("size", "like_size", "Company size (employees)", "Size")
    assert size.display("51-200") == "51-200 employees"
    assert BY_NAME["stage"].display("aligning") == "Aligning the buying group"
    assert BY_NAME["stage"].meta_key == "stages" and BY_NAME["tags"].meta_key == "tags"
    assert BY_NAME["tags"].option == "tag" and BY_NAME["roles"].empty == () and BY_NAME["status"].empty == "published"


def test_a_case_reads_its_fields_from_the_registry(tmp_path):
    from kb.parser import parse_case

    path = tmp_path / "c.md"
    path.write_text("---\ntitle: T\nindustry: Banking\nroles: [CFO]\nmood: calm\n---\n## Situation\nx\n",
                    encoding="utf-8")
    case = parse_case(path)
    assert (case.industry, case.roles, case.tags, case.company_size, case.status) == \
        ("Banking", ("CFO",), (), None, "published")
    assert case.extra == {"mood": "calm"}
    meta = case.metadata()
    assert [key for key in meta if key in BY_NAME] == list(registry.KNOWN_FIELDS)
    with pytest.raises(AttributeError):
        case.deal_size  # noqa: B018 - not a field of this registry


# -- adding a field: the walk-through ---------------------------------------------------------

WALK_THROUGH = r'''
import json, sys
from pathlib import Path

from click.testing import CliRunner

root = Path(sys.argv[1])
out = {}
from kb.cli import cli

runner = CliRunner()
env = {"KB_CASES": str(root / "cases"), "KB_DATA": str(root / "data"), "HF_HUB_OFFLINE": "1"}
result = runner.invoke(cli, ["validate", str(root / "bad")], env=env)
out["validate"] = result.output
out["help"] = runner.invoke(cli, ["search", "--help"], env=env).output
result = runner.invoke(cli, ["index"], env=env)
assert result.exit_code == 0, result.output
result = runner.invoke(cli, ["search", "--json", "--deal-size", "250k-1M", "warehouse picking errors"], env=env)
assert result.exit_code == 0, result.output
answer = json.loads(result.output)
out["cli_ids"] = [r["id"] for r in answer["results"]]
out["cli_values"] = [r["deal_size"] for r in answer["results"]]
out["cli_facets"] = answer["facets"].get("deal_size")
out["bad_flag"] = runner.invoke(cli, ["search", "--deal-size", "huge", "x"], env=env).exit_code

from tests.web_fixtures import SECRET_KEY, add_users, login
from webui import create_app
from kb.settings import load_settings

settings = load_settings(environ=env)
app = create_app({"KB_SETTINGS": settings, "SECRET_KEY": SECRET_KEY, "TESTING": True})
client = app.test_client()
spec = client.get("/api/openapi.json").get_json()
out["spec"] = json.dumps(spec)
api = client.get("/api/search", query_string={"q": "warehouse picking errors", "deal_size": "250k-1M"})
out["api_status"] = api.status_code
out["api_ids"] = [r["id"] for r in api.get_json()["results"]] if api.status_code == 200 else api.get_json()
out["api_bad"] = client.get("/api/search", query_string={"q": "x", "deal_size": "huge"}).status_code
out["api_facets"] = client.get("/api/facets").get_json()["facets"].get("deal_size")
out["search_page"] = client.get("/", query_string={"q": "warehouse picking errors"}).get_data(as_text=True)
out["browse_page"] = client.get("/browse", query_string={"deal_size": "1M+"}).get_data(as_text=True)
out["story_page"] = client.get("/cases/big-deal").get_data(as_text=True)
add_users(app)
login(client, "mia")
out["editor"] = client.get("/cases/new").get_data(as_text=True)
print(json.dumps(out))
'''

CASE = """---
title: {title}
industry: Logistics
deal_size: "{deal}"
status: published
---
## Situation

{situation}

## Results

- Picking errors fell by a third within a quarter.
"""


def _copy_source(target: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(REPO / package, target / package, ignore=shutil.ignore_patterns("__pycache__"))


def _changed_files(copy: Path) -> list[str]:
    changed = []
    for package in PACKAGES:
        for path in sorted((copy / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                original = REPO / path.relative_to(copy)
                if not original.exists() or not filecmp.cmp(path, original, shallow=False):
                    changed.append(str(path.relative_to(copy)))
    return changed


@pytest.mark.slow
def test_adding_a_banded_deal_size_field_takes_one_declaration(tmp_path):
    source = tmp_path / "src"
    _copy_source(source)
    fields_py = source / "kb" / "fields.py"
    text = fields_py.read_text(encoding="utf-8")
    anchor = '    Field("published",'
    assert anchor in text
    fields_py.write_text(text.replace(anchor, DEAL_SIZE + anchor, 1), encoding="utf-8")
    assert _changed_files(source) == ["kb/fields.py"], "the walk-through changes one file"

    cases = tmp_path / "cases"
    cases.mkdir()
    stories = {
        "big-deal": ("A distributor stops picking errors", "1M+", "A warehouse with picking errors on every shift."),
        "mid-deal": ("A wholesaler fixes warehouse picking", "250k-1M", "Warehouse picking errors cost a client."),
        "small-deal": ("A shop counts its stock right", "<50k", "A small shop's warehouse had picking errors."),
    }
    for slug, (title, deal, situation) in stories.items():
        (cases / f"{slug}.md").write_text(CASE.format(title=title, deal=deal, situation=situation), encoding="utf-8")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "bad-deal.md").write_text(CASE.format(title="T", deal="huge", situation="x"), encoding="utf-8")

    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(source), str(REPO)]), "HF_HUB_OFFLINE": "1"}
    script = tmp_path / "walk_through.py"
    script.write_text(textwrap.dedent(WALK_THROUGH), encoding="utf-8")
    run = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True,
                         env=environ_without_kb(environment), cwd=tmp_path, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])

    # validation
    assert "bad-deal.md:4: deal_size: 'huge' is not a deal-size band; use one of <50k, 50k-250k, 250k-1M, 1M+" \
        in out["validate"]
    # kb search --help and the filter
    assert "--deal-size [<50k|50k-250k|250k-1M|1M+]" in out["help"]
    assert out["cli_ids"] == ["mid-deal"] and out["cli_values"] == ["250k-1M"]
    assert out["bad_flag"] == 2, "a value outside the bands is a usage error"
    # facets, in the CLI's answer and the API's
    assert out["cli_facets"] == {"1M+": 1, "250k-1M": 1, "<50k": 1}, "disjunctive: its own filter left out"
    assert out["api_facets"] == {"1M+": 1, "250k-1M": 1, "<50k": 1}
    # the API: its description and its answers
    spec = out["spec"]
    assert '"deal_size"' in spec and "250k-1M" in spec
    assert out["api_status"] == 200 and out["api_ids"] == ["mid-deal"]
    assert out["api_bad"] == 400
    # the pages: the filter panel, the browse filter, the story page and the editor
    assert "Deal size" in out["search_page"] and 'name="deal_size"' in out["search_page"]
    assert "big-deal" in out["browse_page"] and "small-deal" not in out["browse_page"]
    assert "Deal size" in out["story_page"] and "1M+" in out["story_page"]
    assert 'name="deal_size"' in out["editor"] and "250k-1M</option>" in out["editor"]


def environ_without_kb(environment: dict[str, str]) -> dict[str, str]:
    """The environment without KB_* settings, so the walk-through reads only what it sets."""
    return {key: value for key, value in environment.items() if not key.startswith("KB_")}
