"""Running the app under gunicorn: several workers, each loading the model and index once."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class KbServer(BaseApplication):
    """A gunicorn application whose workers each build the Flask app (no preloading).

    Each worker process creates the app, which loads the model and the index once; threads
    inside a worker share them.
    """

    def __init__(self, config: dict[str, Any]):
        self.kb_config = config
        super().__init__()

    def load_config(self):
        options = {
            "bind": f"{self.kb_config['HOST']}:{self.kb_config['PORT']}",
            "workers": self.kb_config["WORKERS"],
            "worker_class": "gthread",
            "threads": 4,
            "preload_app": False,
            "timeout": 120,
            "graceful_timeout": 10,
            "accesslog": "-",
            "errorlog": "-",
            "loglevel": "warning",
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self):
        from webui import create_app

        app = create_app(self.kb_config)
        app.extensions["kb"].engine()  # load the model and index before serving
        return app


def run_gunicorn(config: dict[str, Any]) -> None:
    """Serve until interrupted."""
    KbServer(config).run()
