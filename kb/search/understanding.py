"""Query understanding: the industry, company size, region and roles a seller mentions.

"A mid-size regional bank in the Nordics, the CFO is sceptical" names a prospect like
Banking · 1001-5000 · Nordics · CFO. What is understood becomes a soft "like you" boost
(never a filter) and is shown to the seller, who can remove any of it; an explicit profile
attribute replaces what was understood for that attribute.

Only values the index knows are proposed: an industry, region, size band or role that no
story carries cannot help any ranking and would only confuse the page. The words that
point at a value are the value's own words plus the plain synonyms below (a "credit
union" is banking, "Sweden" is in the Nordics, "300 staff" is 201-1000); each is matched
as a whole word or phrase, so "retailer" names retail but "bankrupt" does not name banking.
Work is linear in the query's length (a few set lookups per word).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from kb.fields import SIZE_BANDS, UNDERSTOOD_FIELDS

#: Longest phrase (in words) looked up; no trigger below is longer.
MAX_PHRASE_WORDS = 4

#: Words of industry values that say nothing by themselves ("Financial Services").
_GENERIC_WORDS = frozenset("""
and or of the for a an services service providers provider technology technologies company companies
platform platforms industry solutions online internet web mobile app digital software
""".split())

#: Seller's words for an industry -> a word that appears in the names of matching industry values.
#: Words with a second common meaning stay out ("carrier", "plant", "store", "agency", "software").
INDUSTRY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "bank": ("bank", "banks", "banking", "credit union", "credit unions", "savings bank", "building society",
             "lender", "retail bank", "neobank"),
    "financ": ("fintech", "finance", "financial", "asset manager", "wealth manager", "payments company"),
    "insurance": ("insurer", "insurers", "insurance", "underwriter", "mga", "reinsurer", "insurance broker"),
    "healthcare": ("hospital", "hospitals", "clinic", "clinics", "health system", "healthcare", "health care",
                   "nhs trust", "care provider", "medical centre", "medical center"),
    "life": ("pharma", "pharmaceutical", "biotech", "medtech", "medical device", "medical devices",
             "clinical trials", "life sciences"),
    "education": ("university", "universities", "college", "colleges", "school", "schools", "campus",
                  "school district", "edtech"),
    "energy": ("utility", "utilities", "power company", "energy", "grid operator", "water company", "oil and gas"),
    "hospitality": ("hotel", "hotels", "resort", "resorts", "restaurant", "restaurants", "hospitality"),
    "public": ("government", "ministry", "government agency", "municipality", "city council", "county council", "public sector",
               "local authority", "federal", "state agency"),
    "government": ("government", "ministry", "municipality", "public sector", "local authority"),
    "agriculture": ("farm", "farms", "farming", "farmers", "agriculture", "dairy", "winery", "growers", "cooperative",
                    "co-op"),
    "food": ("food", "food producer", "bakery", "brewery", "winery", "dairy"),
    "logistics": ("logistics", "freight", "trucking", "haulage", "haulier", "warehouse", "warehousing", "3pl",
                  "shipping company", "courier", "distribution centre", "distribution center"),
    "manufacturing": ("manufacturer", "manufacturers", "manufacturing", "factory", "factories", "foundry",
                      "production line", "machine builder"),
    "professional": ("law firm", "accounting firm", "accountants", "consultancy", "consulting firm", "marketing agency",
                     "engineering firm", "architecture firm", "professional services"),
    "retail": ("retailer", "retailers", "retail", "grocer", "grocery", "supermarket", "supermarkets",
               "chain of stores", "e-commerce", "ecommerce", "online shop"),
    "ecommerce": ("e-commerce", "ecommerce", "online shop", "online store", "marketplace"),
    "telecom": ("telco", "telecom", "telecoms", "mobile operator", "broadband", "isp", "network operator"),
    "telecommunications": ("telco", "telecom", "telecoms", "mobile operator"),
    "media": ("media", "publisher", "publishing", "broadcaster", "newspaper", "film studio", "streaming"),
    "software": ("saas", "software company", "software vendor", "isv"),
    "travel": ("airline", "travel", "travel agency", "booking site", "tour operator"),
}

#: Seller's words for a region -> the region value they point at.
REGION_SYNONYMS: dict[str, tuple[str, ...]] = {
    "Nordics": ("nordic", "nordics", "scandinavia", "scandinavian", "sweden", "swedish", "norway", "norwegian",
                "denmark", "danish", "finland", "finnish", "iceland", "icelandic", "stockholm", "oslo",
                "copenhagen", "helsinki"),
    "DACH": ("dach", "germany", "german", "austria", "austrian", "switzerland", "swiss", "berlin", "munich",
             "vienna", "zurich"),
    "UK & Ireland": ("uk", "u.k.", "united kingdom", "britain", "british", "england", "english", "scotland",
                     "scottish", "wales", "welsh", "ireland", "irish", "london", "dublin", "nhs"),
    "North America": ("north america", "north american", "u.s.", "usa", "united states", "america",
                      "american", "canada", "canadian", "midwest", "texas", "california", "ontario"),
    "Europe": ("europe", "european", "eu", "france", "french", "spain", "spanish", "italy", "italian",
               "netherlands", "dutch", "belgium", "belgian", "poland", "polish", "portugal", "benelux"),
    "Asia-Pacific": ("apac", "asia", "asian", "asia-pacific", "asia pacific", "japan", "japanese", "singapore",
                     "india", "indian", "china", "chinese", "korea", "korean", "malaysia", "indonesia",
                     "philippines", "vietnam", "thailand", "hong kong"),
    "Australia & New Zealand": ("australia", "australian", "new zealand", "nz", "anz", "kiwi", "sydney",
                                "melbourne", "auckland"),
    "Latin America": ("latin america", "latam", "brazil", "brazilian", "mexico", "mexican", "argentina",
                      "chile", "chilean", "colombia", "peru", "south america"),
    "Middle East & Africa": ("middle east", "mea", "africa", "african", "uae", "dubai", "saudi", "qatar",
                             "kenya", "nigeria", "south africa", "egypt", "gulf"),
}

#: Words for a company's size -> the size band they point at (numbers are read separately).
SIZE_WORDS: dict[str, tuple[str, ...]] = {
    "1-50": ("small business", "small businesses", "smb", "startup", "start-up", "family business",
             "family-owned", "family owned", "owner-run"),
    "1001-5000": ("mid-size", "mid-sized", "midsize", "midsized", "mid-market", "midmarket"),
    "5001+": ("large enterprise", "global enterprise", "fortune 500", "multinational"),
}

#: Words for a role -> the role names they stand for (matched against the roles stories list).
ROLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "cfo": ("cfo", "chief financial officer", "finance director", "head of finance", "finance chief"),
    "cio": ("cio", "chief information officer", "head of it", "it director"),
    "cto": ("cto", "chief technology officer"),
    "ceo": ("ceo", "chief executive", "chief executive officer", "managing director", "president"),
    "coo": ("coo", "chief operating officer", "operations director", "head of operations"),
    "ciso": ("ciso", "chief information security officer", "head of security"),
    "cmo": ("cmo", "chief marketing officer", "marketing director", "head of marketing"),
    "chro": ("chro", "hr director", "head of hr", "head of people"),
    "data protection officer": ("dpo", "data protection officer"),
    "board": ("board", "board of directors", "the board"),
    "works council": ("works council",),
    "procurement": ("procurement", "purchasing"),
}

#: Region names that are also a common word in lowercase: matched only as written ("US", not "us").
REGION_CAPITALS: dict[str, str] = {"US": "North America"}

_WORD = re.compile(r"[a-z0-9]+(?:[-.&'][a-z0-9]+)*\.?")
#: "300 staff", "~2,000 employees", "4k people", "headcount of 1200". Numbers have at most 7
#: digits and start after no digit, so a long run of digits costs linear time, not quadratic.
_NUMBER = r"(?<![\d,.])(?:\d{1,3}(?:,\d{3}){1,2}|\d{1,7}(?:\.\d{1,3})?)"
_COUNT = re.compile(
    rf"(?:headcount(?:\s+of)?\s+~?(?P<a>{_NUMBER})\s*(?P<ak>k)?)"
    rf"|(?:~?(?P<b>{_NUMBER})\s*(?P<bk>k)?\+?\s*"
    r"(?:staff|employees|people|ftes?|workers|colleagues|headcount|strong))\b")


@dataclass(frozen=True)
class Understood:
    """What a query says about the prospect: attribute -> the known values it points at."""

    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any(self.attributes.values())

    def without(self, fields: Collection[str]) -> Understood:
        """The same, less the attributes named (removed by the seller or given explicitly)."""
        return Understood({key: values for key, values in self.attributes.items() if key not in fields})

    def to_dict(self) -> dict[str, list[str]]:
        return {key: list(values) for key, values in self.attributes.items() if values}


@dataclass(frozen=True)
class Vocabulary:
    """The values the index knows for each understood attribute, with the phrases naming them."""

    phrases: dict[str, dict[str, tuple[str, ...]]]  # attribute -> phrase -> values
    bands: frozenset[str] = frozenset()  # the size bands some story has
    regions: frozenset[str] = frozenset()  # the regions some story has

    @classmethod
    def from_values(cls, known: Mapping[str, Iterable[str]]) -> Vocabulary:
        """Build the phrase tables from the index's values (attribute -> values)."""
        phrases: dict[str, dict[str, set[str]]] = {name: {} for name in UNDERSTOOD_FIELDS}

        def add(attribute: str, phrase: str, value: str) -> None:
            phrase = " ".join(_words(phrase))
            if phrase:
                phrases[attribute].setdefault(phrase, set()).add(value)

        for value in known.get("industry", ()):
            words = set(_words(value))
            if words - _GENERIC_WORDS:  # "Software" alone names too much to be read as written
                add("industry", value, value)
            for key, triggers in INDUSTRY_SYNONYMS.items():
                if any(word.startswith(key) for word in words):
                    for trigger in triggers:
                        add("industry", trigger, value)
        for value in known.get("region", ()):
            add("region", value, value)
            for trigger in REGION_SYNONYMS.get(value, ()):
                add("region", trigger, value)
        sizes = set(known.get("company_size", ()))
        for band, triggers in SIZE_WORDS.items():
            if band in sizes:
                for trigger in triggers:
                    add("company_size", trigger, band)
        for value in known.get("roles", ()):
            name = " ".join(_words(value))
            if " " in name or name in ROLE_SYNONYMS:  # "Owner", "Buyers": too common a word alone
                add("roles", value, value)
            for key, triggers in ROLE_SYNONYMS.items():
                if name == key or name in triggers:
                    for trigger in triggers:
                        add("roles", trigger, value)
        return cls({attribute: {phrase: tuple(sorted(values)) for phrase, values in table.items()}
                    for attribute, table in phrases.items()}, frozenset(sizes), frozenset(known.get("region", ())))

    def understand(self, text: str) -> Understood:
        """What the query text says about the prospect, as values this vocabulary knows."""
        words = _words(text)
        found: dict[str, list[str]] = {name: [] for name in UNDERSTOOD_FIELDS}
        for start in range(len(words)):
            for length in range(min(MAX_PHRASE_WORDS, len(words) - start), 0, -1):
                phrase = " ".join(words[start:start + length])
                for attribute, table in self.phrases.items():
                    for value in table.get(phrase, ()):
                        if value not in found[attribute]:
                            found[attribute].append(value)
        for word, region in REGION_CAPITALS.items():
            if region in self.regions and region not in found["region"] and re.search(rf"\b{word}\b", text):
                found["region"].append(region)
        counted = [band for band in _bands_from_counts(text) if band in self.bands]
        if counted:  # a number of staff says more than "mid-size"
            found["company_size"] = counted
        return Understood({key: tuple(values) for key, values in found.items() if values})


def _words(text: str) -> list[str]:
    """Lowercase words; a trailing full stop is dropped except in abbreviations (u.s.)."""
    return [word if word.count(".") > 1 else word.rstrip(".") for word in _WORD.findall(text.casefold())]


def size_band(count: int) -> str:
    """The size band of a number of employees."""
    for band in SIZE_BANDS:
        low, _, high = band.partition("-")
        if high and int(low) <= count <= int(high):
            return band
        if not high and count >= int(low.rstrip("+")):
            return band
    return SIZE_BANDS[0]


def _bands_from_counts(text: str) -> list[str]:
    bands: list[str] = []
    for match in _COUNT.finditer(text.casefold()[:10_000]):
        number = match.group("a") or match.group("b")
        thousands = match.group("ak") or match.group("bk")
        count = float(number.replace(",", "")) * (1000 if thousands else 1)
        if count >= 1:
            band = size_band(int(count))
            if band not in bands:
                bands.append(band)
    return bands
