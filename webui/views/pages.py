"""HTML pages: search, story, browse. Without JavaScript every page works through plain GET forms."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template, request, url_for

from kb.fields import FIELDS, Field
from webui.auth import include_drafts
from webui.browse import browse_cases
from webui.facets import active_filters, facet_groups
from webui.params import PROFILE_PARAMS, SORTS, SearchArgs, filter_args, is_partial, search_args, sort_arg
from webui.searchlog import log_open, log_search
from webui.schemas import SearchResult
from webui.stories import find_match, load_story
from webui.understood import understood_chips
from webui.views import knowledge_base

bp = Blueprint("pages", __name__)

#: Situations offered as examples on the empty search page.
EXAMPLES = (
    "Regional bank losing young customers to fintech apps; the board is skeptical",
    "Small firm where staff burn out every busy season and people keep quitting",
    "Deals stuck in enterprise security review, no compliance team",
)


@bp.get("/")
def search():
    """The search page: the situation, a "like you" profile, facet filters and results.

    Every search with a query is logged (the results fragment's too: a filter change is a new
    search); result links carry its id as ``sid``.
    """
    base = knowledge_base()
    args = search_args(request.args, include_drafts=include_drafts())
    response = base.search(**args.kwargs()) if args.text else None
    search_id = log_search(response, args) if response is not None else None
    facets = response.facets if response else base.facets(args.filters, include_drafts=args.include_drafts)
    context = {
        "args": args,
        "response": response,
        "search_id": search_id,
        "results": [SearchResult.from_result(result).answer() for result in response.results] if response else [],
        "groups": facet_groups(facets, args.filters),
        "active": active_filters(args.filters),
        "clear_url": url_for("pages.search", q=args.text or None, **_profile_params(args)),
        "understood": understood_chips(response.understood, request.args) if response else [],
        "examples": EXAMPLES,
    }
    if is_partial(request.args):
        return render_template("_search_results.html", **context)
    return render_template("search.html", profile_fields=_profile_fields(base.facets(include_drafts=args.include_drafts)),
                           **context)


@bp.get("/cases/<case_id>")
def story(case_id: str):
    """A story: its journey, sections, metadata, the matched passage and similar stories.

    The open is logged, linked to the search of the link's ``sid`` when it is the reader's.
    """
    base = knowledge_base()
    drafts = include_drafts()
    meta = base.case_meta(case_id, include_drafts=drafts)
    story = load_story(meta, base.settings.cases_dir)
    log_open(case_id, request.args.get("sid"))
    query = (request.args.get("q") or "").strip()
    section = request.args.get("section")
    match = find_match(story, section, query) if query and section is not None else None
    return render_template("story.html", story=story, meta=meta, query=query, match=match,
                           similar=base.similar(case_id, k=5, include_drafts=drafts),
                           canonical=url_for("pages.story", case_id=case_id, _external=True))


@bp.get("/browse")
def browse():
    """Every story the reader may see, filterable by facets and sorted by date or title.

    Marketers also see drafts, and may list only them (``status=draft``).
    """
    base = knowledge_base()
    drafts = include_drafts()
    filters = filter_args(request.args, include_drafts=drafts)
    sort = sort_arg(request.args)
    cases, facets = browse_cases(base, filters, sort, include_drafts=drafts)
    context = {
        "cases": cases,
        "sort": sort,
        "sorts": SORTS,
        "groups": facet_groups(facets, filters),
        "active": active_filters(filters),
        "clear_url": url_for("pages.browse", sort=None if sort == SORTS[0] else sort,
                             status=filters.get("status")),
        "status_filter": filters.get("status", ()),
    }
    if is_partial(request.args):
        return render_template("_browse_results.html", **context)
    return render_template("browse.html", **context)


def _profile_params(args: SearchArgs) -> dict[str, str]:
    return {PROFILE_PARAMS[key]: value for key, value in args.profile.items()}


@dataclass(frozen=True)
class ProfileField:
    """One select of the "like you" profile: its field, query parameter and choices."""

    field: Field
    param: str
    options: tuple[str, ...]


def _profile_fields(facets: dict[str, dict[str, int]]) -> list[ProfileField]:
    """The "like you" selects: a banded field's bands, else the values the stories have."""
    return [ProfileField(field=known, param=PROFILE_PARAMS[known.name],
                         options=known.choices or tuple(sorted(facets.get(known.name, {}), key=str.casefold)))
            for known in FIELDS if known.profile]
