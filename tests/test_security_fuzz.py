"""The JSON API against its own OpenAPI description, fuzzed by schemathesis as a seller and a marketer.

The app requires a login and runs over the session's real index and a seeded search log.
Every response must be no 5xx, carry a documented status code and content type, and match
its documented schema; a request the description allows must be accepted, one it forbids
must be refused. The run is bounded (MAX_EXAMPLES per operation, mode and role; a fixed
seed) so that CI's answer is the same on every run: about a minute on two cores. Set
KB_FUZZ_SEED to explore other inputs locally.

Each operation is a Hypothesis test over schemathesis's strategy for it (``as_strategy``):
schemathesis's own pytest loader (``schemathesis.pytest.from_fixture``) does not run on
pytest 9.2, which no longer lets it rename the test node.
"""

from __future__ import annotations

import os
import time

import pytest
import schemathesis

from tests.web_fixtures import (  # noqa: F401
    DRAFT_ID,
    SECRET_KEY,
    add_users,
    login,
    seed_search_log,
    web_kb,
    web_settings,
)

pytestmark = pytest.mark.slow

#: Generated requests per operation, generation mode and role.
MAX_EXAMPLES = 50
#: The same inputs on every run, unless KB_FUZZ_SEED says otherwise.
SEED = int(os.environ.get("KB_FUZZ_SEED", "20240615"))
#: Checks every response must pass (schemathesis's names).
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "positive_data_acceptance", "negative_data_rejection")
#: A published case of the web corpus.
PUBLISHED_ID = "andes-cargo"
#: A user of each role that reads: the seller sees published stories, the marketer drafts and insights too.
ROLES = {"seller": "sam", "marketer": "mia"}


@pytest.fixture(scope="module")
def fuzz_app(web_settings, web_kb, tmp_path_factory):  # noqa: F811
    """The session's knowledge base behind a login, with its own database and a seeded search log."""
    from kb.searchlog import SearchLog
    from webui import create_app

    database = tmp_path_factory.mktemp("fuzz") / "kb.sqlite3"
    app = create_app({"KB_SETTINGS": web_settings, "SECRET_KEY": SECRET_KEY, "TESTING": True,
                      "KB_KNOWLEDGE_BASE": web_kb, "KB_DATABASE": database, "KB_REQUIRE_LOGIN": True,
                      "KB_STALE_MONTHS": 24, "KB_LOG_RETENTION_DAYS": 0})
    add_users(app)
    log = SearchLog(database, retention=0)
    try:
        seed_search_log(log, web_kb, time.time())
    finally:
        log.close()
    return app


@pytest.fixture(scope="module", params=list(ROLES), ids=list(ROLES))
def role(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def session_cookie(fuzz_app, role) -> dict[str, str]:
    """The session cookie of the role's user, signed in through the login form."""
    client = fuzz_app.test_client()
    response = login(client, ROLES[role])
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return {"session": client.get_cookie("session").value}


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    """The description the live app serves.

    Its routes declare the session cookie as their security scheme; each request here carries a
    real one (the role's), so schemathesis generates no cookie of its own (one it made up, or
    left out in a "negative" case, would be replaced by the real session and then accepted).
    """
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app)
    schema.config.generation.update(with_security_parameters=False)
    return schema


def _runs() -> list[tuple[str, str]]:
    """(operationId, generation mode) of each run: negative only where there is a parameter to break."""
    from webui.openapi import openapi_spec

    operations = [operation for item in openapi_spec()["paths"].values() for operation in item.values()]
    return [(operation["operationId"], mode) for operation in operations
            for mode in ("positive", "negative") if mode == "positive" or operation.get("parameters")]


def _checks():
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi import checks

    return [not_a_server_error] + [getattr(checks, name) for name in CHECKS[1:]]


def _strategy(operation, mode: str):
    """Generated requests; those with a case id also go to real cases (a published one and the draft)."""
    from hypothesis import strategies as st

    kwargs = {"generation_mode": schemathesis.GenerationMode(mode)}
    strategies = [operation.as_strategy(**kwargs)]
    if "{case_id}" in operation.path:
        strategies += [operation.as_strategy(path_parameters={"case_id": case_id}, **kwargs)
                       for case_id in (PUBLISHED_ID, DRAFT_ID)]
    return st.one_of(strategies)


def _repeatable() -> frozenset[str]:
    from webui.openapi import openapi_spec

    return frozenset(parameter["name"] for item in openapi_spec()["paths"].values()
                     for parameter in item["get"].get("parameters", []) if parameter["schema"].get("type") == "array")


REPEATABLE = _repeatable()


@pytest.mark.parametrize("operation_id, mode", _runs())
def test_api_answers_as_described(api_schema, session_cookie, operation_id, mode):
    from hypothesis import HealthCheck, assume, given, seed, settings

    checks = _checks()

    @seed(SEED)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=_strategy(api_schema.find_operation_by_id(operation_id), mode))
    def answers_as_described(case):
        # A "negative" value that is sent as nothing (None, an empty list or map: the query
        # string drops it) makes a request the description allows; schemathesis would still
        # expect it refused.
        assume(mode == "positive" or not any(value is None or value in ([], {}) for value in (case.query or {}).values()))
        # A text where a repeatable parameter (an array) is expected is sent as that array of one
        # item (``products=x`` reads as ["x"]): not a request the description forbids.
        assume(mode == "positive" or not any(isinstance(value, str) and name in REPEATABLE
                                             for name, value in (case.query or {}).items()))
        case.call_and_validate(cookies=session_cookie, checks=checks)

    answers_as_described()
