"""`kb new`: the journey template, no overwrite, and no way out of the cases folder."""

from __future__ import annotations

import pytest

from kb.cli import cli
from kb.parser import parse_case
from tests.conftest import SECURITY


def snapshot(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_new_writes_a_valid_draft_with_every_journey_section(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["new", "regional-bank", "--title", "A regional bank", "--industry", "Banking",
                                 "--size", "201-1000"], env={"KB_CASES": "cases"})
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("created cases/regional-bank.md")
    case = parse_case(tmp_path / "cases" / "regional-bank.md")
    assert case.title == "A regional bank" and case.industry == "Banking" and case.company_size == "201-1000"
    assert case.status == "draft"
    assert case.stages == ("situation", "recognizing", "aligning", "changing", "results", "lessons")


def test_new_refuses_to_overwrite(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "taken.md").write_text("mine", encoding="utf-8")
    result = runner.invoke(cli, ["new", "taken", "--cases", "cases"])
    assert result.exit_code == 1
    assert "already exists" in result.stderr
    assert (tmp_path / "cases" / "taken.md").read_text(encoding="utf-8") == "mine"
    assert snapshot(tmp_path / "cases") == ["taken.md"]


@pytest.mark.parametrize("slug", ["Upper", "under_score", "-lead", "trail-", "double--hyphen", "a.b", "a/b", "..",
                                  "", "x" * 101, "caf\u00e9"])
def test_new_refuses_malformed_slugs(runner, tmp_path, slug):
    result = runner.invoke(cli, ["new", "--cases", str(tmp_path / "cases"), "--", slug])
    assert result.exit_code == 1
    assert "invalid case id" in result.stderr
    assert not (tmp_path / "cases").exists() or snapshot(tmp_path / "cases") == []


def test_no_path_traversal_payload_creates_or_touches_anything(tmp_path):
    """Every line of the shared path-traversal list, used as a slug, is refused and writes nothing."""
    payloads_file = SECURITY / "path-traversal.txt"
    if not payloads_file.exists():
        pytest.skip("../shared/security is absent")
    from kb.errors import InvalidSlugError
    from kb.scaffold import new_case

    sandbox = tmp_path / "sandbox"
    cases = sandbox / "deep" / "cases"
    cases.mkdir(parents=True)
    (sandbox / "outside.md").write_text("keep", encoding="utf-8")
    before = snapshot(sandbox)
    payloads = payloads_file.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    assert len(payloads) > 1000
    created = []
    for payload in payloads:
        try:
            created.append(new_case(cases, payload))
        except InvalidSlugError:
            continue
    # A payload that happens to be a plain slug ("passwd") is a legitimate case id: it lands
    # inside the cases folder. Nothing else is created or touched anywhere.
    assert all(path.parent == cases.resolve() for path in created)
    assert [p.name for p in created] == ["passwd.md"]
    assert snapshot(sandbox) == sorted(before + ["deep/cases/passwd.md"])
    assert (sandbox / "outside.md").read_text(encoding="utf-8") == "keep"
