"""Writing a new case study from the journey template (``kb new``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from kb.fields import BY_NAME
from kb.errors import ConfigError
from kb.files import create_file
from kb.slugs import case_path

JOURNEY_TEMPLATE = """\
## Situation

Who the customer is: what they do, how big they are, where, and what they ran on before.

## Recognizing the problem

What made them notice: the trigger, often a problem they didn't know they had. What doing
nothing would have cost, in numbers.

## Aligning the buying group

Who was involved (CFO, operations, IT, ...), what each objected to, and how they agreed.

## Making the change

What they did, in what order, and what was hard.

## Results

- A measurable outcome, with its time frame

## Lessons

What a peer in the same situation should know.
"""


def render_case(title: str, body: str = JOURNEY_TEMPLATE, **fields) -> str:
    """Render front matter and body as the text of a case file.

    Empty fields are left out; ``status`` defaults to draft for a story still being written.
    """
    front = {"title": title}
    for key, value in fields.items():
        if value not in (None, "", [], ()):
            front[key] = list(value) if isinstance(value, tuple) else value
    dumped = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{dumped}---\n\n{body.strip()}\n"


def new_case(cases_dir: Path | str, slug: str, title: str | None = None, *, customer: str | None = None,
             industry: str | None = None, company_size: str | None = None, region: str | None = None,
             status: str = "draft") -> Path:
    """Create ``cases_dir/SLUG.md`` from the journey template.

    Raises:
        InvalidSlugError: slug is not ``[a-z0-9-]+``.
        CaseExistsError: the file already exists.
        ConfigError: company_size is not a size band.
    """
    path = case_path(cases_dir, slug)
    problem = BY_NAME["company_size"].choice_problem(company_size) if company_size else None
    if problem:
        raise ConfigError(f"company size {problem}")
    text = render_case(
        title or slug.replace("-", " ").capitalize(),
        customer=customer, industry=industry, company_size=company_size, region=region,
        published=dt.date.today(), status=status,
        summary=None)
    path.parent.mkdir(parents=True, exist_ok=True)
    create_file(path, text)
    return path
