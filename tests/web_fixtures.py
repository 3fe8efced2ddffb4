"""Fixtures of the web tests: one real index of a small corpus per session, the app over it.

Test modules import the fixtures they use by name (``from tests.web_fixtures import client``).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

from kb.settings import Settings

CASES_DIR = Path(__file__).resolve().parent.parent / "cases"
#: A draft story: indexed, never shown to sellers.
DRAFT_ID = "atlas-reinsurance-partners"
#: Cases copied into the session corpus: the first twelve by name, and the draft.
WEB_CASE_COUNT = 12
SECRET_KEY = "test-secret-key"


def web_case_files() -> list[Path]:
    """The case files of the web tests' corpus."""
    files = sorted(CASES_DIR.glob("*.md"))[:WEB_CASE_COUNT] + [CASES_DIR / f"{DRAFT_ID}.md"]
    return list(dict.fromkeys(files))


@pytest.fixture(scope="session")
def web_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings over a temporary copy of the corpus and a temporary data folder."""
    root = tmp_path_factory.mktemp("web")
    cases = root / "cases"
    cases.mkdir()
    for path in web_case_files():
        shutil.copy(path, cases / path.name)
    return Settings(cases_dir=cases, data_dir=root / "data")


@pytest.fixture(scope="session")
def web_kb(web_settings: Settings, request: pytest.FixtureRequest):
    """The corpus indexed with the real model, and one knowledge base sharing that model."""
    from kb.assembly import Assembly

    try:
        embedder = request.getfixturevalue("embedder")  # the suite's shared model, when conftest has one
    except pytest.FixtureLookupError:
        embedder = None  # the assembly loads it
    assembly = Assembly(web_settings, embedder=embedder)
    assembly.index()
    return assembly.knowledge_base


def web_app(settings: Settings, knowledge_base=None, **changes):
    """A test app serving ``settings`` (with the test secret key, every search logged; ``changes``
    are other settings), sharing ``knowledge_base`` and its loaded model when given."""
    from kb.assembly import Assembly
    from webui import create_app

    settings = settings.replace(**{"secret_key": SECRET_KEY, "log_searches_per_minute": 0, **changes})
    return create_app(Assembly(settings, knowledge_base=knowledge_base), {"TESTING": True})


@pytest.fixture(scope="session")
def kb_app(web_settings: Settings, web_kb):
    """The Flask app over the session's knowledge base."""
    return web_app(web_settings, web_kb)


@pytest.fixture
def client(kb_app):
    """A test client of :func:`kb_app`."""
    return kb_app.test_client()


@pytest.fixture
def unindexed_app(tmp_path: Path):
    """An app whose index has never been built (no model is loaded)."""
    return web_app(Settings(cases_dir=tmp_path / "cases", data_dir=tmp_path / "data"))


# -- users and sessions ------------------------------------------------------------------

PASSWORD = "correct horse battery staple"
#: A user of each role, added to an app's database by :func:`add_users`.
USERS = {"mia": "marketer", "sam": "seller", "ada": "admin"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_users(app) -> None:
    """Give an app one user of each role (all with PASSWORD); already there is fine."""
    from kb.errors import UserError

    with app.extensions["kb_assembly"].users() as store:
        for name, role in USERS.items():
            try:
                store.add(name, role, PASSWORD)
            except UserError:
                pass


def csrf_token(client, url: str = "/login") -> str:
    """The CSRF token of a page's form (the session's token: valid for every form)."""
    html = client.get(url, follow_redirects=True).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def login(client, name: str, password: str = PASSWORD, **form):
    """Sign a test client in through the login form; returns the response."""
    return client.post("/login", data={"name": name, "password": password, "csrf_token": csrf_token(client),
                                       **form})


def post(client, url: str, data: dict | None = None, token_from: str = "/login", **kwargs):
    """POST a form with the session's CSRF token."""
    return client.post(url, data={"csrf_token": csrf_token(client, token_from), **(data or {})}, **kwargs)


# -- a fast stand-in model for hostile corpora -------------------------------------------


class HashingEmbedder:
    """The real model's tokenizer (so chunking is real) with hashed bag-of-words vectors.

    For tests about rendering, not ranking: indexing thousands of hostile passages with the
    real model would take minutes; this takes a moment.
    """

    def __init__(self, real):
        self._real = real
        self.name = real.name
        self.dimension = real.dimension
        self.max_tokens = real.max_tokens
        self.batch_size = 64

    def token_spans(self, text):
        return self._real.token_spans(text)

    def count_tokens(self, text):
        return self._real.count_tokens(text)

    def encode(self, texts, progress=None):
        import numpy as np

        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                vectors[row, int(hashlib.blake2b(word.encode(), digest_size=4).hexdigest(), 16) % self.dimension] += 1
            norm = np.linalg.norm(vectors[row])
            if norm:
                vectors[row] /= norm
            else:
                vectors[row, 0] = 1.0
        if progress:
            progress(len(texts))
        return vectors

    def encode_query(self, text):
        return self.encode([text])[0]


def read_payloads(path: Path) -> list[str]:
    """The lines of a payload file, as written (only blank lines dropped)."""
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    return [line for line in text.split("\n") if line.strip()]


def hostile_case(slug: str, payloads: list[str], body: str, published: str = "2024-01-01", status: str = "published",
                 marker: str = "") -> str:
    """A case file with payloads in every text metadata field, its tags, products, roles and extras.

    ``payloads`` needs at least 10 entries; they are spread over the fields in order.
    """
    from kb.scaffold import render_case

    p = payloads
    extra = {"source_url": p[7], p[8][:60] or "key": p[8], "note": f"{marker}{p[9]}"}
    return render_case(f"{marker}{p[0]}", body, customer=p[1], industry=p[2], region=p[3],
                       summary=f"{marker}{p[4]}", tags=[p[5], "hostile"], products=[p[6]], roles=[p[9]],
                       company_size="51-200", published=published, status=status, **extra)


@pytest.fixture(scope="session")
def kb_users(kb_app):
    """The session app with one user of each role (see USERS)."""
    add_users(kb_app)
    return USERS


@pytest.fixture
def sign_in(kb_app, kb_users):
    """Returns a new test client of the session app, signed in as the named user."""

    def signed_in(name: str, app=None):
        client = (app or kb_app).test_client()
        response = login(client, name)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return signed_in


# -- a seeded search log ------------------------------------------------------------------

#: Searches the web corpus answers well, with who ran each (None: anonymous), oldest first.
FOUND_SEARCHES = [
    ("credit union losing young members after their car loan is paid off", ["sam", "sam", "mia", None]),
    ("trucks waiting days at border crossings because customs paperwork is wrong", ["sam", "ada"]),
    ("accounting firm staff burning out every busy season", ["sam"]),
]
#: Situations no story of the web corpus tells, each worded four ways: stories to write next.
GAP_SEARCHES = {
    "pharmacy": ["hospital pharmacy drug shortages", "drug shortages at hospital pharmacies",
                 "our hospital pharmacists cannot get enough medicines", "hospital running out of critical drugs"],
    "crew": ["airline crew scheduling", "rebuilding pilot and cabin crew rosters after flight disruptions",
             "airline crews out of position after cancellations", "flight crew rostering problems"],
}
#: A search of 200 days ago: outside the page's default 90 days.
OLD_SEARCH = "dairy cooperative milk price volatility"
#: The story opened most from the seeded searches.
MOST_OPENED = "alder-community-credit-union"


def seed_search_log(log, base, now: float) -> dict[str, int]:
    """Log FOUND_SEARCHES (strong), GAP_SEARCHES (weak), OLD_SEARCH and some opens through
    ``log``, with the top 3 results of real searches of ``base`` (so some stories are never
    shown); return the search ids by text."""
    day = 86400.0
    at = now - 20 * day
    ids: dict[str, int] = {}
    for text, users in FOUND_SEARCHES:
        results = [(r.id, r.score) for r in base.search(text, k=3).results]
        for n, user in enumerate(users):
            at += 3600
            ids[f"{text}#{n}"] = log.record_search(text, {}, {}, results, weak=False, user=user, at=at)
    for wordings in GAP_SEARCHES.values():
        for text in wordings:
            at += 3600
            results = [(r.id, r.score) for r in base.search(text, k=3).results]
            ids[text] = log.record_search(text, {}, {}, results, weak=True, user="sam", at=at)
    ids[OLD_SEARCH] = log.record_search(OLD_SEARCH, {}, {}, [("brightwater-dairy-cooperative", 0.61)], weak=False,
                                        user="sam", at=now - 200 * day)
    credit_union = FOUND_SEARCHES[0]
    for n, user in enumerate(credit_union[1][:3]):
        log.record_open(ids[f"{credit_union[0]}#{n}"], MOST_OPENED, user, at=at + 60 * (n + 1))
    log.record_open(ids[f"{FOUND_SEARCHES[1][0]}#0"], "andes-cargo", "sam", at=at + 300)
    log.record_open(None, "andes-cargo", None, at=at + 400)
    return ids


@pytest.fixture(scope="module")
def insights_app(web_settings: Settings, web_kb, tmp_path_factory: pytest.TempPathFactory):
    """The session's knowledge base with its own database: one user of each role and a seeded
    search log (``app.config["KB_SEED_IDS"]``: the seeded search ids by text)."""
    import time

    database = tmp_path_factory.mktemp("insights") / "kb.sqlite3"
    app = web_app(web_settings, web_kb, database_file=database, stale_months=24, log_retention_days=0)
    add_users(app)
    with app.extensions["kb_assembly"].search_log() as log:
        app.config["KB_SEED_IDS"] = seed_search_log(log, web_kb, time.time())
    return app


# -- one Chromium for every browser test module --------------------------------------------

_CHROMIUM: dict = {"users": 0, "playwright": None, "browser": None}


@contextmanager
def shared_chromium(executable: Path, args: list[str]):
    """Debian's Chromium through Playwright, started once however many modules use it.

    Playwright's sync API cannot run twice at once in a process, so each module's browser
    fixture borrows this one; the last to finish closes it.
    """
    if _CHROMIUM["users"] == 0:
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        _CHROMIUM.update(playwright=playwright,
                         browser=playwright.chromium.launch(executable_path=str(executable), args=args))
    _CHROMIUM["users"] += 1
    try:
        yield _CHROMIUM["browser"]
    finally:
        _CHROMIUM["users"] -= 1
        if _CHROMIUM["users"] == 0:
            _CHROMIUM["browser"].close()
            _CHROMIUM["playwright"].stop()
            _CHROMIUM.update(playwright=None, browser=None)


@pytest.fixture(name="marketer")
def editor_marketer(editor_app):
    """A client signed in as the marketer "mia", on the module's own ``editor_app``."""
    client = editor_app.test_client()
    assert login(client, "mia").status_code == 302
    return client


@pytest.fixture(name="cases_dir")
def editor_cases_dir(editor_app) -> Path:
    """The cases folder of the module's own ``editor_app``."""
    return editor_app.config["KB_SETTINGS"].cases_dir
