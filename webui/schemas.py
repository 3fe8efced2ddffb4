"""The JSON API's answers as typed models.

Every view of :mod:`webui.views.api` builds its JSON through one of these models
(``SearchAnswer.from_response(response, search_id).answer()``), and :mod:`webui.openapi`
generates ``/api/openapi.json`` from the same models, so the description and the answers
cannot drift apart. The case metadata properties are derived from the field registry
(:mod:`kb.fields`): a field declared there is typed, answered and described here without a
change. What a property means is its ``description``: the API's prose lives next to the type.

A model is built from the domain's objects (a :class:`kb.search.Response`, an indexed case's
metadata, an insights report's ``to_dict()``); it keeps only the properties it declares (a
case's server path never leaves), and a value of the wrong type is an error at the server,
not a surprise for a client.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, RootModel, WithJsonSchema, create_model
from pydantic import Field as Prop
from pydantic.json_schema import SkipJsonSchema

from kb.fields import FACET_FIELDS, FIELDS, FRONT_MATTER, UNDERSTOOD_FIELDS, Field
from kb.search import RankingSettings, Response, Result
from kb.stages import STAGES
from webui.snippets import snippet_html

_DEFAULTS = RankingSettings()

#: The one meaning of a weak match, described once (``SearchResult.weak``); ``all_weak`` and
#: the insights' weak counts refer to it.
WEAK = (f"A weak match: the similarity of its best passage plus {_DEFAULTS.weak_coverage_weight} × its coverage "
        f"is below {_DEFAULTS.weak_threshold} (RankingSettings.is_weak; the figures are the built-in ranking "
        "settings, a ranking file (KB_RANKING) may change them). Every other result is a strong match.")

#: A time in UTC, as the server writes it (``2026-11-23T15:44:27Z``), kept as written.
DateTimeText = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
#: A journey stage's key.
Stage = Literal[tuple(STAGES)]
#: A facet's name (the registry's facet fields).
FacetName = Literal[FACET_FIELDS]
#: An attribute query understanding reads from the situation (the registry's understood fields).
UnderstoodName = Literal[UNDERSTOOD_FIELDS]


class ApiModel(BaseModel):
    """An answer of the API, or a part of one: every property it declares is always there."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    def answer(self) -> dict[str, Any]:
        """The JSON-ready answer (what the view sends)."""
        return self.model_dump(mode="json")


# -- case metadata, from the field registry ------------------------------------------------


def registry_property(known: Field) -> tuple[Any, Any]:
    """The type and the property of a registry field in the API, as ``create_model`` takes them.

    ``list`` fields and fields derived from the story (``stages``) are arrays (empty when the
    case gives none); ``choice`` fields take their choices; ``date`` fields a date; a field
    that is neither required nor has a default may be null.
    """
    description = known.help
    if known.source != "front_matter" or known.is_list:
        item: Any = Literal[known.choices] if known.choices else str
        if known.source != "front_matter":
            description = f"The {known.label.lower()}s the story tells, in order."
        return list[item], Prop(default_factory=list, description=description)
    value: Any = {"choice": Literal[known.choices] if known.choices else str,
                  "date": dt.date}.get(known.kind, str)
    if known.required:
        return value, Prop(description=description)
    if known.default is not None:
        return value, Prop(default=known.default, description=description)
    return value | None, Prop(default=None, description=description)



def given(meta: Mapping[str, Any], names: Sequence[str] | None = None) -> dict[str, Any]:
    """The values of a case's metadata that are set (of ``names`` only, when given): a value
    left out takes its property's default (null, an empty list, a field's default)."""
    return {key: value for key, value in meta.items() if value is not None and (names is None or key in names)}


#: The id and the front-matter fields of a case: what a search result and a case share.
CaseFields = create_model(
    "CaseFields", __base__=ApiModel, __doc__="A case's id and the metadata its file gives.",
    id=(str, Prop(description="The case id: its file name without .md.")),
    **{known.name: registry_property(known) for known in FRONT_MATTER})


class _CaseMeta(CaseFields):
    extra: dict[str, Any] = Prop(default_factory=dict,
                                 description="Front-matter keys kb does not know, as written.")
    content_hash: str = Prop(description="SHA-256 of the case file when it was indexed.")


#: A case's indexed metadata, as the API shows it (never its server path).
CaseMeta = create_model(
    "CaseMeta", __base__=_CaseMeta, __doc__="A case's indexed metadata.",
    **{known.meta_key: registry_property(known) for known in FIELDS if known.source != "front_matter"})


# -- /api/search -------------------------------------------------------------------------


class Why(ApiModel):
    """The signals that made a result match."""

    similarity: float = Prop(description="Cosine similarity of the best passage to the situation.")
    coverage: float = Prop(ge=0, le=1, description="IDF-weighted share of the situation's terms the story's "
                                                   "text holds.")
    terms: list[str] = Prop(description="Terms of the situation the passage shares.")
    attributes: list[str] = Prop(description='"Like you" attributes the case shares.')
    reasons: list[str] = Prop(description="Why it matched, in words.")



class SearchResult(CaseFields):
    """One case in the ranking, with the passage that matched best."""

    score: float = Prop(description="The case's ranking score (higher first; comparable within one search).")
    snippet: str = Prop(description="The window of the matched passage, plain text ('...' where it was cut).")
    snippet_html: str = Prop(description="The same, HTML-escaped, with the situation's terms in <mark>.")
    section: str | None = Prop(description='The ## heading of the matched passage\'s section ("At a glance": '
                                           "the case's profile; null: the text before the first heading).")
    stage: Stage | None = Prop(description="The journey stage of that section, if it has one.")
    stage_label: str = Prop(description="The stage as a person reads it.")
    why: Why
    weak: bool = Prop(description=WEAK)

    @classmethod
    def from_result(cls, result: Result) -> SearchResult:
        """A ranked result; its snippet is rendered to HTML here (the domain emits no HTML)."""
        return cls.model_validate({**given(result.to_dict()), "snippet_html": str(snippet_html(result.snippet))})


class Facets(RootModel[dict[FacetName, dict[str, int]]]):
    """Facet name -> value -> number of cases, each facet counted under every other filter."""


class Understood(RootModel[dict[UnderstoodName, list[str]]]):
    """What the situation says about the prospect, as values the stories carry (only the attributes
    it names). They raise matching stories (never filter); `ignore` removes one, and a profile
    attribute replaces it."""


class SearchAnswer(ApiModel):
    """Ranked cases for a situation, with facet counts and notices: the JSON of `kb search --json`,
    its snippets also as HTML, and the id the search was logged under."""

    query: str = Prop(description="The situation as searched (normalized, maybe cut).")
    total: int = Prop(description="Cases that matched before the cut to k.")
    results: list[SearchResult]
    facets: Facets
    notices: list[str] = Prop(description="Things the person should know (a cut query, no strong match).")
    understood: Understood
    all_weak: bool = Prop(description="Results were found and every one is a weak match (see SearchResult.weak).")
    search_id: int | None = Prop(description="The id this search was logged under (null when it could not be "
                                             "logged).")

    @classmethod
    def from_response(cls, response: Response, search_id: int | None) -> SearchAnswer:
        return cls(query=response.query, total=response.total,
                   results=[SearchResult.from_result(result) for result in response.results],
                   facets=response.facets, notices=list(response.notices),
                   understood=response.understood.to_dict(), all_weak=response.all_weak, search_id=search_id)


# -- /api/cases/<id>, /similar, /api/facets ------------------------------------------------------


class Section(ApiModel):
    """One ## section of a story, rendered."""

    title: str | None = Prop(description="The ## heading; null for the text before the first one.")
    stage: Stage | None = Prop(description="The journey stage it tells, if any.")
    stage_label: str = Prop(description="The stage as a person reads it.")
    html: str = Prop(description="The section's Markdown as sanitized HTML.")


class CaseStory(CaseMeta):
    """A case with its sections as sanitized HTML."""

    sections: list[Section]
    url: str = Prop(json_schema_extra={"format": "uri"}, description="The story page.")

    @classmethod
    def from_story(cls, story: Any, url: str) -> CaseStory:
        """A rendered story (:class:`webui.stories.Story`) and the address of its page."""
        sections = [Section(title=s.title, stage=s.stage, stage_label=s.stage_label, html=s.html)
                    for s in story.sections]
        return cls.model_validate({**given(story.meta), "sections": sections, "url": url})


class SimilarCase(CaseMeta):
    """A case near another one."""

    similarity: float = Prop(description="Cosine similarity of the two cases' vectors.")


class SimilarAnswer(ApiModel):
    """The cases nearest to a case, nearest first."""

    id: str = Prop(description="The case they are near.")
    results: list[SimilarCase]

    @classmethod
    def from_cases(cls, case_id: str, cases: Sequence[Mapping[str, Any]]) -> SimilarAnswer:
        return cls(id=case_id, results=[SimilarCase.model_validate(given(meta)) for meta in cases])


class FacetsAnswer(ApiModel):
    """Facet counts over every case the reader may see."""

    facets: Facets


# -- /api/index/status, /healthz ----------------------------------------------------------------


class IndexStatus(ApiModel):
    """The background indexer's last state, as the editor polls it after a save. A property that
    does not apply to the state is left out."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=False)

    state: Literal["idle", "queued", "running", "failed"]
    message: str = Prop(description="The state in words, as the editor page shows it.")
    busy: bool = Prop(description="A build is queued or running: poll again.")
    reason: str | SkipJsonSchema[None] = Prop(default=None, description="Why a build was asked for.")
    version: str | SkipJsonSchema[None] = Prop(default=None, description="The index version the last build made live.")
    summary: str | SkipJsonSchema[None] = Prop(default=None, description="What the last build indexed.")
    skipped: list[str] | SkipJsonSchema[None] = Prop(default=None, description="Files the last build could not read.")
    error: str | SkipJsonSchema[None] = Prop(default=None, description="Why the last build failed (the previous "
                                                                        "index stays live).")
    started_at: DateTimeText | SkipJsonSchema[None] = None
    finished_at: DateTimeText | SkipJsonSchema[None] = None
    seconds: float | SkipJsonSchema[None] = Prop(default=None, description="How long the last build took.")

    def answer(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class HealthStatus(ApiModel):
    """The index is usable (all /healthz tells a caller who is no admin)."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["ok"]


class Health(ApiModel):
    """The details of /healthz, for admins only."""

    status: Literal["ok"]
    index_version: str = Prop(description="The live index version.")
    built_at: DateTimeText | None = Prop(description="When it was built.")
    cases: int = Prop(description="Cases indexed, drafts included.")
    passages: int = Prop(description="Passages indexed.")
    model: str = Prop(description="The embedding model.")
    dimension: int = Prop(description="The model's vector dimension.")
    ranking: str = Prop(description='The ranking settings file in use (KB_RANKING), or "built-in".')


# -- /api/insights ---------------------------------------------------------------------------


class InsightTotals(ApiModel):
    """Counts over the period."""

    searches: int = Prop(description="Searches logged.")
    weak: int = Prop(description="Searches with no strong match: no result, or only weak ones (see "
                                 "SearchResult.weak).")
    strong: int = Prop(description="Searches with a strong match.")
    opens: int = Prop(description="Stories opened.")
    users: int = Prop(description="Distinct signed-in users who searched.")
    cases: int = Prop(description="Published stories.")


class TopSearch(ApiModel):
    """A search text and how often it was run."""

    text: str = Prop(description="The wording typed most often (searches are counted casefolded, spaces "
                                 "collapsed).")
    count: int = Prop(description="Times it was searched.")
    weak: int = Prop(description="Of those, times it found no strong match.")
    users: int = Prop(description="Distinct signed-in users who searched it.")
    last_seen: DateTimeText


class NearestCase(ApiModel):
    """The published story closest to a group of searches."""

    id: str
    title: str
    similarity: float


class WeakGroup(ApiModel):
    """Searches with no strong match that mean the same thing: a story to write next."""

    size: int = Prop(description="Searches in the group (repeats included).")
    queries: int = Prop(description="Distinct wordings in the group.")
    example: str = Prop(description="The wording closest to the group's centre.")
    examples: list[str] = Prop(description="Other wordings, closest to the centre first.")
    users: int = Prop(description="Distinct signed-in users who searched it.")
    last_seen: DateTimeText
    nearest_case: NearestCase | None = Prop(description="What we have, and how far it is (null: no index).")


class CoverageTable(ApiModel):
    """Published stories per combination of two attributes; every combination is listed."""

    title: str
    row_field: str = Prop(description="The rows' attribute (stage: journey stage).")
    column_field: str = Prop(description="The columns' attribute.")
    rows: list[str]
    columns: list[str]
    column_labels: list[str] = Prop(description="The columns as a person reads them.")
    counts: list[list[int]] = Prop(description="counts[r][c]: stories with rows[r] and columns[c].")
    cases: list[list[list[str]]] = Prop(description="cases[r][c]: the ids of those stories.")
    empty: int = Prop(description="Combinations with no story.")


class StaleStory(ApiModel):
    """A published story and how old it is."""

    id: str
    title: str
    published: dt.date | None = Prop(description="null: the story has no (readable) date.")
    months: int | None = Prop(description="Whole months since it was published.")


class StoryActivity(ApiModel):
    """How often a published story was in a search's top results, and opened."""

    id: str
    title: str
    shown: int = Prop(description="Searches that had it in their top results.")
    opened: int = Prop(description="Times it was opened.")
    opened_from_search: int = Prop(description="Of those, from a search's results.")


class TimeBucket(ApiModel):
    """Searches in one day or week."""

    start: dt.date = Prop(description="The day, or the Monday the week starts on.")
    searches: int
    weak: int = Prop(description="Searches with no strong match.")
    strong: int


class InsightsAnswer(ApiModel):
    """Every section of the Insights page (docs/insights.md says what each means)."""

    generated_at: DateTimeText
    since: DateTimeText | None = Prop(description="Searches and opens from this time on are counted.")
    totals: InsightTotals
    top_searches: list[TopSearch] = Prop(description="The most frequent searches, most frequent first.")
    weak_groups: list[WeakGroup] = Prop(description="Stories to write next: searches with no strong match grouped "
                                                    "by meaning, largest group first.")
    coverage: list[CoverageTable] = Prop(description="Published stories per industry × journey stage and per "
                                                     "company size × region.")
    stale_months: int = Prop(description="A story is stale this many months after it was published.")
    stale: list[StaleStory] = Prop(description="Published stale_months or more ago, oldest first.")
    undated: list[StaleStory] = Prop(description="Published stories without a date.")
    never_shown: list[StoryActivity] = Prop(description="In no logged search's top 10.")
    never_opened: list[StoryActivity] = Prop(description="Never opened, most often shown first.")
    most_opened: list[StoryActivity] = Prop(description="Most opened first.")
    bucket: Literal["day", "week"] = Prop(description="The timeline's period.")
    timeline: list[TimeBucket] = Prop(description="Searches per day or week, empty ones included.")
    demo_rows: int = Prop(description="Searches logged by `kb insights seed-demo`.")
    notes: list[str]

    @classmethod
    def from_report(cls, report: Any) -> InsightsAnswer:
        """An insights report (its ``to_dict()``: :class:`kb.insights.InsightsReport`)."""
        return cls.model_validate(report.to_dict())


# -- errors and the description itself -------------------------------------------------------


class ErrorDetail(ApiModel):
    status: int = Prop(description="The HTTP status.")
    message: str = Prop(description="What is wrong and what to do.")


class ErrorBody(ApiModel):
    """Every error of the API (webui.errors answers in JSON for /api/ and /healthz)."""

    error: ErrorDetail

    @classmethod
    def of(cls, status: int, message: str) -> ErrorBody:
        return cls(error=ErrorDetail(status=status, message=message))


class ApiDescription(ApiModel):
    """An OpenAPI 3.1 document."""

    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]
