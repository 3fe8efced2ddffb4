"""Running the app under gunicorn: several workers, each loading the model and index once."""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication


#: Request threads per worker: one computing (the model releases the GIL while it runs),
#: one reading or writing a request meanwhile.
THREADS_PER_WORKER = 2


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
            "threads": THREADS_PER_WORKER,
            # A worker accepts a connection only while one of its threads is free, and closes
            # it after the answer: each request goes to a worker with room. With keep-alive,
            # the first worker to wake kept every client's connection (measured: one worker
            # at 142% CPU, the other idle, 68 instead of 110 requests/s; see
            # docs/performance.md). A reverse proxy in front keeps browsers' connections alive.
            "worker_connections": THREADS_PER_WORKER,
            "keepalive": 0,
            "preload_app": False,
            "timeout": 120,
            "graceful_timeout": 10,
            "accesslog": "-",
            # The path without its query string: sellers' situations stay out of the access log
            # (the search log keeps them, with a retention period). Duration and worker pid.
            "access_log_format": '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms pid %(p)s',
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
