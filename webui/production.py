"""Running the app under gunicorn: several workers, each loading the model and index once."""

from __future__ import annotations

import os
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
        import torch

        from webui import create_app

        # Workers share the cores: each gets its share of intra-op threads. Left at torch's
        # default (every core in every worker), a query's encoding waits for threads that
        # the other workers hold, and takes ten times longer on a busy 2-core machine.
        torch.set_num_threads(threads_per_worker(self.kb_config["WORKERS"]))
        app = create_app(self.kb_config)
        app.extensions["kb"].engine()  # load the model and index before serving
        return app


def threads_per_worker(workers: int, cpus: int | None = None) -> int:
    """Torch intra-op threads for each of ``workers`` processes: the CPUs shared out, at least 1."""
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cpus // max(1, workers))


def run_gunicorn(config: dict[str, Any]) -> None:
    """Serve until interrupted."""
    KbServer(config).run()
