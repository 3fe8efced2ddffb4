"""Query understanding as pure logic: the industry, size, region and roles a seller's words name."""

from __future__ import annotations

import pytest

from kb.search.understanding import Understood, Vocabulary, size_band

KNOWN = {
    "industry": ["Banking", "Retail", "Healthcare providers", "Financial Services", "Software"],
    "company_size": ["1-50", "201-1000", "1001-5000", "5001+"],
    "region": ["Nordics", "North America", "UK & Ireland"],
    "roles": ["CFO", "Finance Director", "Board of Directors", "Owner", "IT Manager"],
}


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary.from_values(KNOWN)


def test_the_issue_example_is_understood(vocabulary):
    understood = vocabulary.understand("a mid-size regional bank in the Nordics, the CFO is sceptical")
    assert understood.to_dict() == {"industry": ["Banking"], "company_size": ["1001-5000"], "region": ["Nordics"],
                                    "roles": ["CFO", "Finance Director"]}


@pytest.mark.parametrize("text, attribute, values", [
    ("a credit union with young members leaving", "industry", ["Banking"]),
    ("a chain of supermarkets losing margin", "industry", ["Retail"]),
    ("three hospitals merging their rotas", "industry", ["Healthcare providers"]),
    ("a fintech start-up", "industry", ["Financial Services"]),
    ("a SaaS company", "industry", ["Software"]),
    ("offices in Stockholm and Oslo", "region", ["Nordics"]),
    ("a trust in the NHS", "region", ["UK & Ireland"]),
    ("a US manufacturer", "region", ["North America"]),
    ("about 300 staff", "company_size", ["201-1000"]),
    ("~2,000 employees", "company_size", ["1001-5000"]),
    ("4k people across 3 plants", "company_size", ["1001-5000"]),
    ("headcount of 12000", "company_size", ["5001+"]),
    ("a family-owned business", "company_size", ["1-50"]),
    ("the finance director and the board of directors", "roles", ["CFO", "Finance Director", "Board of Directors"]),
])
def test_sellers_words_name_known_values(vocabulary, text, attribute, values):
    assert vocabulary.understand(text).attributes.get(attribute) == tuple(values)


@pytest.mark.parametrize("text", [
    "the bankrupt supplier sent us a letter",  # "bankrupt" is not banking, "us" is not the US
    "their software is old and the carrier contracts expire",  # words with two meanings
    "the owner wants it simple",  # a one-word role as common as "owner" is not read
    "insurers are circling",  # no story is in insurance: nothing to raise
])
def test_words_that_name_nothing_known_are_not_read(vocabulary, text):
    understood = vocabulary.understand(text)
    assert not understood.attributes.get("industry") and not understood.attributes.get("region")
    assert "Owner" not in understood.attributes.get("roles", ())


def test_a_number_of_staff_says_more_than_a_size_word(vocabulary):
    assert vocabulary.understand("a mid-size firm of 40 employees").attributes["company_size"] == ("1-50",)


def test_a_band_no_story_has_is_not_proposed(vocabulary):
    assert "company_size" not in vocabulary.understand("about 120 staff").attributes  # 51-200: no story


def test_size_bands():
    assert [size_band(n) for n in (1, 50, 51, 200, 201, 1000, 1001, 5000, 5001, 10**6)] == [
        "1-50", "1-50", "51-200", "51-200", "201-1000", "201-1000", "1001-5000", "1001-5000", "5001+", "5001+"]


def test_removed_attributes_are_left_out():
    understood = Understood({"industry": ("Banking",), "region": ("Nordics",)})
    assert understood.without({"industry"}).to_dict() == {"region": ["Nordics"]}
    assert not Understood() and not understood.without({"industry", "region"})


def test_a_huge_hostile_query_is_read_in_bounded_work(vocabulary):
    text = ("bank " * 2000) + ("9" * 5000) + " staff " + "credit union " * 500
    understood = vocabulary.understand(text)
    assert understood.attributes["industry"] == ("Banking",)
    assert "company_size" not in understood.attributes or understood.attributes["company_size"] == ("5001+",)


def test_an_empty_vocabulary_understands_nothing():
    assert not Vocabulary.from_values({}).understand("a mid-size bank in the Nordics with 300 staff")
