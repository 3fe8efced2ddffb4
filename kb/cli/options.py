"""Option groups shared by commands, and the one :class:`~kb.assembly.Assembly` a command receives.

A setting's flag is an option named after the setting (``--cases`` is ``cases_dir``), None
when not given, with its help ending in the setting's variable and default from
:class:`kb.settings.Settings` (declared once there). :func:`assembly_options` gathers every
such flag of the command, reads the settings (flags > environment > defaults) and hands the
command one assembly built from them.

Tests may share a loaded model with the commands: ``runner.invoke(cli, args,
obj=lambda settings: Assembly(settings, embedder=embedder))`` (the root context's ``obj``,
when callable, builds the assembly from the settings).
"""

from __future__ import annotations

import functools
from pathlib import Path

import click

from kb.settings import Settings, default_text, env_name, load_settings

#: The flags :func:`settings_options` reads (the commands that still take ``settings``).
_SETTINGS_FLAGS = ("cases_dir", "index_dir", "model", "ranking_file")


def setting_option(name: str, *param_decls: str, help: str, **kwargs):
    """A click option that is the flag of the setting ``name`` (None when not given)."""
    if name not in Settings.model_fields:
        raise ValueError(f"no setting named {name!r}")
    default = default_text(name).replace("`", "")
    kwargs.setdefault("default", None)
    return click.option(*param_decls, name, help=f"{help} [env {env_name(name)}; default: {default}].", **kwargs)


def _path_flags(func):
    func = setting_option("model", "--model",
                          help="Embedding model: a packaged model name or a local folder")(func)
    func = setting_option("index_dir", "--index", type=click.Path(file_okay=False, path_type=str),
                          help="Index directory")(func)
    return setting_option("cases_dir", "--cases", type=click.Path(file_okay=False, path_type=str),
                          help="Folder of case-study files")(func)


def assembly_options(func):
    """Add --cases, --index and --model; pass the command one ``assembly``.

    Every option of the command named after a setting (these, ``--ranking``, ``serve``'s
    ``--port`` ...) is that setting's flag: it is not passed on by itself but read into
    ``assembly.settings``, over the environment when given.
    """

    @_path_flags
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        given = {name: kwargs.pop(name) for name in list(kwargs) if name in Settings.model_fields}
        kwargs["assembly"] = build_assembly(load_settings(**given))
        return func(*args, **kwargs)

    return wrapper


def settings_options(func):
    """Add --cases, --index and --model; pass the resulting settings as ``settings``.

    For the commands that take settings rather than an assembly (prefer
    :func:`assembly_options`). Flags win over the environment; unset flags leave it alone.
    """

    @_path_flags
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        given = {name: kwargs.pop(name) for name in _SETTINGS_FLAGS if name in kwargs}
        kwargs["settings"] = load_settings(**given)
        return func(*args, **kwargs)

    return wrapper


def build_assembly(settings: Settings):
    """The assembly of a command: the root context's ``obj`` builds it when it is callable."""
    from kb.assembly import Assembly

    context = click.get_current_context(silent=True)
    factory = context.find_root().obj if context is not None else None
    return factory(settings) if callable(factory) else Assembly(settings)


def ranking_option(func):
    """Add --ranking FILE (a TOML file of ranking settings): the flag of ``KB_RANKING``.

    Use it with :func:`assembly_options` or :func:`settings_options`, in either order.
    """
    return setting_option("ranking_file", "--ranking", type=click.Path(dir_okay=False, exists=True, path_type=Path),
                          help="TOML file of ranking settings, e.g. from `kb eval --tune --write`")(func)


def json_option(func):
    """Add --json: print machine-readable JSON instead of text."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(func)
