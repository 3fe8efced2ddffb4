"""``kb serve``: the web UI and JSON API, for a laptop or under gunicorn in production."""

from __future__ import annotations

import os

import click

from kb.cli import cli
from kb.cli.options import ranking_option, settings_options


@cli.command()
@click.option("--host", default=None, help="Address to listen on [env KB_HOST; default 127.0.0.1].")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Port [env KB_PORT; default 5000].")
@click.option("--prod", is_flag=True, help="Serve with gunicorn and several worker processes.")
@click.option("--workers", default=None, type=click.IntRange(1, 64),
              help="Worker processes with --prod [env KB_WORKERS; default 2].")
@click.option("--secret-key", default=None, help="Session signing key [env KB_SECRET_KEY; default: generated "
              "once and stored in the data folder].")
@click.option("--require-login/--no-require-login", "require_login", default=None,
              help="Whether reading needs a login too (writing always does) [env KB_REQUIRE_LOGIN; "
                   "default: on with --prod, off otherwise].")
@settings_options
@ranking_option
def serve(host, port, prod, workers, secret_key, require_login, settings):
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
    from webui import create_app
    from webui.config import web_config

    if settings.ranking_file:
        load_ranking(settings.ranking_file)  # a bad file stops the start here, not in every worker

    config = web_config(prod=prod, host=host, port=port, workers=workers, secret_key=secret_key,
                        require_login=require_login, settings=settings)
    url = f"http://{config['HOST']}:{config['PORT']}/"
    click.echo(_access_line(config))
    if config["HOST"] in ("0.0.0.0", "::") and not os.environ.get("KB_TRUSTED_HOSTS"):
        click.echo(f"kb hosts: answering only to {', '.join(config['TRUSTED_HOSTS'])}; set KB_TRUSTED_HOSTS "
                   "to the names people reach kb by (docs/security.md)")
    if prod:
        from webui.production import run_gunicorn

        click.echo(f"kb serving {url} with gunicorn, {config['WORKERS']} workers (Ctrl-C to stop)")
        run_gunicorn(config)
        return
    app = create_app(config)
    app.extensions["kb"].engine()  # load the model and index before the first request
    click.echo(f"kb serving {url} (Ctrl-C to stop)")
    os.environ.setdefault("FLASK_ENV", "production")
    from werkzeug.serving import run_simple

    run_simple(config["HOST"], config["PORT"], app, threaded=True, use_reloader=False, use_debugger=False)


def _access_line(config) -> str:
    """Who may read, and a hint when nobody can sign in yet."""
    from kb.users import UserStore

    store = UserStore(config["KB_DATABASE"])
    try:
        count = len(store.list())
    finally:
        store.close()
    reading = "reading needs a login" if config["KB_REQUIRE_LOGIN"] else "anyone may read (login needed to write)"
    hint = "" if count else "; no users yet: add one with `kb users add NAME --role admin`"
    return f"kb access: {reading}{hint}"
