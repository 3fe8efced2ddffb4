"""Settings: defaults, then environment variables (``KB_*``), then explicit values (flags).

A value given as None is "not given" and never overrides the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from indexer import DEFAULT_MODEL

from kb.errors import ConfigError

#: Environment variable of each setting.
ENVIRONMENT = {
    "cases_dir": "KB_CASES",
    "index_dir": "KB_INDEX",
    "data_dir": "KB_DATA",
    "model": "KB_MODEL",
    "ranking_file": "KB_RANKING",
    "database_file": "KB_DATABASE",
}


@dataclass(frozen=True)
class Settings:
    """Where kb finds its cases and keeps its index and data, and which model it uses.

    Attributes:
        cases_dir: The folder of case-study Markdown files (``KB_CASES``, default ``cases``).
        index_dir: The index directory (``KB_INDEX``, default ``DATA_DIR/index``).
        data_dir: Where kb keeps its index, database and secret key (``KB_DATA``, default ``.kb``).
        model: A packaged model name or a local model folder (``KB_MODEL``).
        ranking_file: A TOML file of ranking settings (``KB_RANKING``; default: none, the
            built-in settings; see :mod:`kb.search.ranking_file`).
        database_file: The SQLite database of users and the search log (``KB_DATABASE``,
            default ``DATA_DIR/kb.sqlite3``). The CLI and the server read the same one.
    """

    cases_dir: Path = Path("cases")
    index_dir: Path | None = None
    data_dir: Path = Path(".kb")
    model: str = DEFAULT_MODEL
    ranking_file: Path | None = None
    database_file: Path | None = None

    @property
    def index_path(self) -> Path:
        return self.index_dir if self.index_dir is not None else self.data_dir / "index"

    @property
    def database_path(self) -> Path:
        """The SQLite database of users and the search log: KB_DATABASE, else DATA_DIR/kb.sqlite3."""
        return self.database_file if self.database_file is not None else self.data_dir / "kb.sqlite3"


def load_settings(environ: dict[str, str] | None = None, **given: Any) -> Settings:
    """Build settings from the environment, then from the given values that are not None."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for field in fields(Settings):
        env_name = ENVIRONMENT.get(field.name)
        if env_name and environ.get(env_name):
            values[field.name] = environ[env_name]
    unknown = set(given) - {f.name for f in fields(Settings)}
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    values.update({key: value for key, value in given.items() if value is not None})
    for key in ("cases_dir", "index_dir", "data_dir", "ranking_file", "database_file"):
        if key in values and values[key] is not None:
            values[key] = Path(values[key]).expanduser()
    return replace(Settings(), **values)
