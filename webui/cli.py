"""``kb serve``: the web UI and JSON API, for a laptop or under gunicorn in production.

The web layer adds this command to the ``kb`` command line through the ``kb.commands``
entry-point group (pyproject.toml), so the domain and its CLI never import ``webui``.
Flask, gunicorn and the model are imported or loaded inside the command: ``kb --help``
stays fast.
"""

from __future__ import annotations

import click

from kb.cli.options import assembly_options, ranking_option, setting_option


@click.command()
@setting_option("host", "--host", help="Address to listen on")
@setting_option("port", "--port", type=click.IntRange(1, 65535), help="Port")
@setting_option("prod", "--prod", is_flag=True, help="Serve with gunicorn and several worker processes")
@setting_option("workers", "--workers", type=click.IntRange(1, 64), help="Worker processes with --prod")
@setting_option("secret_key", "--secret-key", help="Session signing key")
@setting_option("require_login", "--require-login/--no-require-login",
                help="Whether reading needs a login too (writing always does)")
@assembly_options
@ranking_option
def serve(assembly):
    """Serve the web UI and JSON API over the index.

    The model and index load once per process at start; a rebuilt index (`kb index`) is
    picked up without a restart. With --prod, gunicorn runs several workers, each loading
    the model and index once, and reading needs a login unless --no-require-login; put a
    reverse proxy in front of it (TLS, browsers' keep-alive, slow clients). Marketers sign in
    to write stories; add users with `kb users add`.

    Example:

    \b
        kb serve --port 8000
        kb serve --prod --host 0.0.0.0 --workers 2
    """
    from kb.search.ranking_file import load_ranking

    settings = assembly.settings
    if settings.ranking_file:
        load_ranking(settings.ranking_file)  # a bad file stops the start here, not in every worker
    url = f"http://{settings.host}:{settings.port}/"
    click.echo(access_line(assembly))
    if settings.host in ("0.0.0.0", "::") and "trusted_hosts" not in settings.model_fields_set:
        click.echo(f"kb hosts: answering only to {', '.join(settings.trusted_hosts)}; set KB_TRUSTED_HOSTS "
                   "to the names people reach kb by (docs/security.md)")
    if settings.prod:
        from webui.config import flask_config
        from webui.production import run_gunicorn

        click.echo(f"kb serving {url} with gunicorn, {settings.workers} workers (Ctrl-C to stop)")
        run_gunicorn(flask_config(assembly))  # each worker builds its app (and assembly) from it
        return
    from werkzeug.serving import run_simple

    from webui import create_app

    app = create_app(assembly)
    assembly.knowledge_base.engine()  # load the model and index before the first request
    click.echo(f"kb serving {url} (Ctrl-C to stop)")
    run_simple(settings.host, settings.port, app, threaded=True, use_reloader=False, use_debugger=False)


def access_line(assembly) -> str:
    """Who may read, and a hint when nobody can sign in yet."""
    with assembly.users() as store:
        count = len(store.list())
    reading = "reading needs a login" if assembly.settings.require_login else "anyone may read (login needed to write)"
    hint = "" if count else "; no users yet: add one with `kb users add NAME --role admin`"
    return f"kb access: {reading}{hint}"
