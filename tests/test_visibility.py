"""The one visibility rule: drafts only for those who may read them."""

from __future__ import annotations

import pytest

from kb.visibility import is_draft, is_visible


@pytest.mark.parametrize("meta, draft", [
    ({"status": "draft"}, True), ({"status": "Draft "}, True), ({"status": "published"}, False),
    ({}, False), ({"status": None}, False), ({"status": ["draft"]}, False),
])
def test_a_draft_is_a_story_whose_status_says_so(meta, draft):
    assert is_draft(meta) is draft
    assert is_visible(meta, include_drafts=True)
    assert is_visible(meta, include_drafts=False) is not draft


def test_every_reader_of_the_index_applies_the_same_rule(knowledge_base):
    """Results, the peer ranking, similar stories, facets and the story's metadata agree."""
    from kb.errors import CaseNotFoundError

    draft = "atlas-reinsurance-partners"
    text = "reinsurance treaty renewals and claims"
    assert draft not in [r.id for r in knowledge_base.search(text, k=13).results]
    assert draft in [r.id for r in knowledge_base.search(text, k=13, include_drafts=True).results]
    assert draft not in knowledge_base.whole_document_bm25(text, k=13)
    assert draft not in [s["id"] for s in knowledge_base.similar("harbourview-savings-bank", k=12)]
    assert "Insurance" not in knowledge_base.facets()["industry"]
    with pytest.raises(CaseNotFoundError):
        knowledge_base.case_meta(draft)
    assert knowledge_base.case_meta(draft, include_drafts=True)["status"] == "draft"
