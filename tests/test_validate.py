"""`kb validate`: every problem as path:line: message, exit codes, strictness."""

from __future__ import annotations

import pytest

from kb.cli import cli

GOOD = """---
title: A good story
industry: Banking
company_size: 201-1000
tags: [churn]
published: 2024-05-01
---

## Situation

Text.

## Results

More text.
"""


def write(path, text, encoding="utf-8"):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding=encoding)
    return path


def run_validate(runner, *args):
    result = runner.invoke(cli, ["validate", *args])
    return result.exit_code, result.stdout.splitlines()


@pytest.mark.parametrize("text, expected", [
    ("title: no front matter\n", "c.md:1: missing front matter: the file must start with a '---' line, then the fields, then '---'"),
    ("---\ntitle: open\n\n## Situation\n", "c.md:1: front matter is not closed: add a '---' line after the fields"),
    ("---\ntitle: x\ntags: [a, b\n---\n## Situation\n", "c.md:4: YAML syntax error: expected ',' or ']', but got '<stream end>'"),
    ("---\ntitle: x\ncustomer: a: b\n---\n## Situation\n", "c.md:3: YAML syntax error: mapping values are not allowed here"),
    ("---\n- a\n- b\n---\n", "c.md:2: front matter must be a mapping of fields (key: value), not a list"),
    ("---\n---\nbody\n", "c.md:2: front matter is empty: add at least a title"),
    ("---\ncustomer: x\n---\n## Situation\n", "c.md:2: title: required field is missing"),
    ("---\ntitle: ''\n---\n## Situation\n", "c.md:2: title: must not be empty"),
    ("---\ntitle: x\ntags: churn\n---\n## Situation\n", "c.md:3: tags: must be a list, not a string (write tags: [churn])"),
    ("---\ntitle: x\nroles: {cfo: 1}\n---\n## Situation\n", "c.md:3: roles: must be a list, not a mapping"),
    ("---\ntitle: x\nindustry: [a, b]\n---\n## Situation\n", "c.md:3: industry: must be text, not a list"),
    ("---\ntitle: x\n\ncompany_size: big\n---\n## Situation\n",
     "c.md:4: company_size: 'big' is not a size band; use one of 1-50, 51-200, 201-1000, 1001-5000, 5001+"),
    ("---\ntitle: x\npublished: March 2024\n---\n## Situation\n", "c.md:3: published: 'March 2024' is not a date; use YYYY-MM-DD"),
    ("---\ntitle: x\npublished: 2024-13-45\n---\n## Situation\n", "c.md:3: published: '2024-13-45' is not a date; use YYYY-MM-DD"),
    ("---\ntitle: x\nstatus: live\n---\n## Situation\n", "c.md:3: status: 'live' is not a status; use published or draft"),
])
def test_each_error_names_file_line_and_problem(runner, tmp_path, monkeypatch, text, expected):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "c.md", text)
    code, lines = run_validate(runner, "c.md")
    assert code == 1
    assert lines == [expected]


def test_non_utf8_file_is_reported_with_its_line(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "c.md", b"---\ntitle: caf\xe9\n---\n")
    code, lines = run_validate(runner, "c.md")
    assert code == 1
    assert lines == ["c.md:2: not UTF-8 text: invalid byte 0xe9 at offset 14; save the file as UTF-8"]


def test_file_over_one_megabyte_is_refused(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "c.md", GOOD + "x" * 1_100_000)
    code, lines = run_validate(runner, "c.md")
    assert code == 1
    assert lines == ["c.md:1: file is too large (1.1 MB); the limit is 1 MB"]


def test_duplicate_ids_across_folders(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "cases" / "a" / "same.md", GOOD)
    write(tmp_path / "cases" / "b" / "same.md", GOOD)
    code, lines = run_validate(runner, "cases")
    assert code == 1
    assert lines == ["cases/b/same.md:1: duplicate id 'same': also used by cases/a/same.md"]


def test_missing_journey_is_a_warning_unless_strict(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "c.md", "---\ntitle: x\n---\n\n## Notes\n\nText.\n")
    message = ("c.md:4: warning: no journey sections: add ## headings such as Situation, Recognizing the "
               "problem, Aligning the buying group, Making the change, Results, Lessons")
    assert run_validate(runner, "c.md") == (0, [message])
    code, lines = run_validate(runner, "--strict", "c.md")
    assert code == 1
    assert lines == [message.replace("warning: ", "")]


def test_several_problems_in_one_file_are_all_reported(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "c.md", "---\ntitle: x\ntags: churn\ncompany_size: huge\n---\n## Situation\n")
    code, lines = run_validate(runner, "c.md")
    assert code == 1
    assert [line.split(":")[1] for line in lines] == ["3", "4"]


def test_clean_files_exit_zero_with_a_count_on_stderr(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "cases" / "good.md", GOOD)
    result = runner.invoke(cli, ["validate"], env={"KB_CASES": "cases"})
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.strip() == "1 file checked: 0 errors, 0 warnings"


def test_missing_path_is_reported(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_validate(runner, "nope.md") == (1, ["nope.md:1: no such file or folder"])
