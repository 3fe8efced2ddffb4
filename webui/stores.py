"""The app's :class:`~kb.assembly.Assembly`, and its database stores kept open per thread.

A store's SQLite connection must not run two threads' statements at once, so each thread
gets its own; it stays open across requests because opening one costs a connect, pragmas
and a migration check, and closing the last connection to a WAL database checkpoints it
(two fsyncs, about 20 ms a request).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app

from kb.assembly import Assembly
from kb.db import DatabaseStore

S = TypeVar("S", bound=DatabaseStore)


def assembly() -> Assembly:
    """The app's assembly: its settings, knowledge base, stores, editing and insights."""
    return current_app.extensions["kb_assembly"]


def thread_store(name: str, factory: Callable[[], S]) -> S:
    """This thread's store called ``name`` for the current app, made by ``factory`` on first use
    (e.g. ``thread_store("search_log", assembly().search_log)``)."""
    stores = current_app.extensions["kb_stores"]
    store = getattr(stores, name, None)
    if store is None:
        store = factory()
        setattr(stores, name, store)
    return store


def init_app(app: Flask) -> None:
    app.extensions["kb_stores"] = threading.local()
