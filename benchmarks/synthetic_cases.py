"""Synthetic case studies for scale tests: varied, deterministic, and clearly marked synthetic.

Each case follows docs/case-format.md: front matter with every field kb knows (plus
``synthetic: true``, kept as extra metadata), a title ending in "(synthetic)", and five or
six journey sections (Situation, Recognizing the problem, Aligning the buying group, Making
the change, Results, and Lessons in about a fifth of them). Each section is short enough to
be one passage, so a case yields about six passages with the profile passage.

The text is assembled from templates and vocabularies (industries with their own nouns,
sizes, regions, triggers, objections, buying-group roles, changes, results with numbers),
so neighbouring cases differ in wording and facts, not only in names. Case ``i`` depends
only on ``--seed`` and ``i``: generating 2,000 cases gives the first 2,000 of 10,000.

Run from the repository root::

    . .venv/bin/activate
    python benchmarks/synthetic_cases.py --count 10000 --out /tmp/kb-scale/cases --seed 7
    KB_CASES=/tmp/kb-scale/cases KB_DATA=/tmp/kb-scale/data kb index

The output folder must be empty or hold only files this script wrote (``synthetic-*.md``).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

#: File names of generated cases: synthetic-00042.md (the id is the name without .md).
PREFIX = "synthetic-"

#: Industry -> (what they sell or run, their customers, a core process, a metric they watch).
INDUSTRIES: dict[str, tuple[str, str, str, str]] = {
    "Banking": ("current accounts and mortgages", "account holders", "loan origination", "deposit balances"),
    "Insurance": ("home and motor policies", "policyholders", "claims handling", "loss ratio"),
    "Healthcare providers": ("outpatient clinics", "patients", "appointment scheduling", "no-show rate"),
    "Retail": ("stores and a web shop", "shoppers", "replenishment", "stock-outs"),
    "Grocery": ("neighbourhood supermarkets", "shoppers", "fresh-food ordering", "waste"),
    "Logistics": ("parcel and pallet delivery", "shippers", "route planning", "on-time delivery"),
    "Manufacturing": ("machined parts", "OEM buyers", "production scheduling", "scrap rate"),
    "Software": ("a subscription product", "subscribers", "onboarding", "net revenue retention"),
    "Telecommunications": ("mobile and broadband plans", "subscribers", "number porting", "churn"),
    "Hospitality": ("hotels and inns", "guests", "reservations", "direct bookings"),
    "Public sector": ("municipal services", "residents", "permit processing", "backlog"),
    "Education": ("degree programmes", "students", "enrolment", "retention"),
    "Energy": ("electricity and gas supply", "households", "meter-to-cash", "bad debt"),
    "Media": ("news and streaming titles", "readers", "subscription billing", "cancellations"),
    "Professional services": ("audit and advisory work", "clients", "time recording", "utilisation"),
    "Construction": ("commercial buildings", "developers", "site reporting", "rework"),
    "Pharmaceuticals": ("generic medicines", "pharmacies", "batch release", "release time"),
    "Agriculture": ("a dairy cooperative", "member farms", "milk collection", "yield"),
    "Automotive": ("dealerships and workshops", "car owners", "service booking", "workshop utilisation"),
    "Real estate": ("rental apartments", "tenants", "maintenance requests", "vacancy"),
}
SIZES = ("1-50", "51-200", "201-1000", "1001-5000", "5001+")
SIZE_WORDS = {"1-50": "small", "51-200": "growing", "201-1000": "mid-size", "1001-5000": "large regional",
              "5001+": "national"}
REGIONS = ("North America", "Latin America", "Western Europe", "Nordics", "Central Europe", "UK and Ireland",
           "Middle East", "Africa", "India", "Asia-Pacific", "Japan", "Australia and New Zealand")
NAME_FIRST = ("Alder", "Basalt", "Cobalt", "Dunmore", "Elmwood", "Fairhaven", "Granite", "Heron", "Ironbridge",
              "Juniper", "Kestrel", "Larkspur", "Meridian", "Northwind", "Oakridge", "Pinecrest", "Quarry",
              "Redfern", "Silverton", "Thornbury", "Upland", "Valemont", "Westmere", "Yarrow", "Zephyr",
              "Amberly", "Brookfield", "Castlegate", "Driftwood", "Emberly", "Foxglove", "Glenrock")
NAME_SECOND = ("Partners", "Group", "Holdings", "Cooperative", "Services", "Trust", "Works", "Collective",
               "Company", "Network", "Alliance", "Systems")
PRODUCTS = ("Kestrel Engage", "Kestrel Insight", "Kestrel Flow", "Kestrel Ledger", "Kestrel Field",
            "Kestrel Assist", "Kestrel Connect")
TRIGGERS = (
    ("a competitor launched a cheaper, faster offer", "competition"),
    ("an auditor flagged gaps in the records", "audit finding"),
    ("a merger doubled the number of systems overnight", "merger"),
    ("a key spreadsheet owner retired", "key-person risk"),
    ("customers complained publicly about response times", "customer complaints"),
    ("the board asked for a cost cut of ten percent", "cost pressure"),
    ("a new regulation set a deadline for reporting", "regulatory deadline"),
    ("two large customers left within one quarter", "churn"),
    ("staff turnover reached a record high", "staff turnover"),
    ("an outage stopped operations for a full day", "outage"),
    ("growth outpaced the manual processes", "rapid growth"),
    ("a price war squeezed margins", "margin squeeze"),
)
OBJECTIONS = (
    ("IT worried about another system to integrate and support", "IT capacity"),
    ("finance wanted proof of payback within a year", "payback proof"),
    ("compliance feared new data flows outside the firm", "data privacy"),
    ("operations managers had been burned by a failed project before", "no-decision history"),
    ("the frontline teams were afraid of being measured more closely", "change resistance"),
    ("procurement insisted on a full tender", "procurement rules"),
    ("the owners doubted that the team had time to learn a new tool", "limited time"),
    ("security asked who could see customer data", "security review"),
)
ROLES = ("CFO", "CIO", "COO", "CEO", "Head of Operations", "Head of Customer Service", "IT security",
         "Chief Compliance Officer", "Procurement lead", "VP Sales", "Head of Marketing", "Finance controller",
         "Owner", "General Manager", "Data protection officer", "Plant manager", "Head of HR")
CHANGES = (
    "replaced the shared spreadsheets with one workflow that every team could see",
    "connected the {process} data to a weekly dashboard of {metric}",
    "piloted the change in one site for ninety days before rolling it out",
    "automated the reminders that staff used to send by hand",
    "set up alerts when {metric} moved more than a few points in a week",
    "trained two champions per team who answered questions on the floor",
    "moved {process} from paper forms to tablets",
    "cleaned up duplicate {customers} records and agreed on one owner for the data",
    "ran {process} reviews every Monday with the numbers on one screen",
    "gave {customers} a self-service portal for the most common requests",
)
RESULTS = (
    "{metric} improved by {pct}% within {months} months",
    "time spent on {process} fell from {big} hours to {small} hours a week",
    "{customers} satisfaction rose from {low} to {high} out of 10",
    "the cost of {process} dropped by {money} thousand a year",
    "errors in {process} went down by {pct}%",
    "the team handled {pct}% more volume without new hires",
    "payback came in {months} months, sooner than the business case said",
)
LESSONS = (
    "Start with the number the CFO already watches, not with the tool.",
    "Pilot in one place and let the results sell the rollout.",
    "Give the sceptics a role in the project instead of a presentation.",
    "Clean the data before you automate anything.",
    "Agree on one metric for success and report it every week.",
    "Bring compliance in on day one; they become allies when they shape the rules.",
    "Do not underestimate the time frontline staff need to trust a new process.",
    "Celebrate the first small win publicly.",
)
OPENERS = (
    "{name} is a {sizeword} {industry_l} business in {region} that runs {offer} for {customers}.",
    "Founded {years} years ago, {name} serves {customers} in {region} with {offer}.",
    "With about {staff} employees, {name} is one of the {sizeword} {industry_l} firms in {region}.",
)


def case_text(number: int, seed: int) -> str:
    """The Markdown of synthetic case ``number``: the same for the same (seed, number)."""
    rng = random.Random(f"{seed}:{number}")
    industry = rng.choice(list(INDUSTRIES))
    offer, customers, process, metric = INDUSTRIES[industry]
    size = rng.choice(SIZES)
    region = rng.choice(REGIONS)
    name = f"{rng.choice(NAME_FIRST)} {rng.choice(NAME_FIRST)} {rng.choice(NAME_SECOND)}"
    trigger, trigger_tag = rng.choice(TRIGGERS)
    objection, objection_tag = rng.choice(OBJECTIONS)
    roles = rng.sample(ROLES, rng.randint(2, 4))
    changes = rng.sample(CHANGES, 3)
    results = rng.sample(RESULTS, 3)
    products = rng.sample(PRODUCTS, rng.randint(1, 2))
    values = {
        "name": name, "industry_l": industry.lower(), "region": region, "offer": offer, "customers": customers,
        "process": process, "metric": metric, "sizeword": SIZE_WORDS[size], "years": rng.randint(5, 120),
        "staff": {"1-50": 30, "51-200": 120, "201-1000": 600, "1001-5000": 2500, "5001+": 9000}[size],
    }

    def fill(template: str) -> str:
        numbers = {"pct": rng.randint(8, 60), "months": rng.randint(3, 18), "big": rng.randint(20, 60),
                   "small": rng.randint(2, 15), "low": rng.randint(4, 6), "high": rng.randint(7, 9),
                   "money": rng.randint(40, 900)}
        return template.format(**values, **numbers)

    headline = fill(results[0])
    title = (f"A {SIZE_WORDS[size]} {industry.lower()} firm in {region} acts after {trigger_tag}: "
             f"{headline} (synthetic)")
    summary = (f"After {trigger}, {name} {fill(changes[0])}; {headline}.").replace("\n", " ")
    published = f"20{rng.randint(19, 26)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    front = [
        "---",
        f"title: {_yaml(title)}",
        f"customer: {_yaml(name + ' (synthetic)')}",
        f"industry: {industry}",
        f"company_size: {size}",
        f"region: {region}",
        f"products: [{', '.join(products)}]",
        f"roles: [{', '.join(roles)}]",
        f"tags: [{trigger_tag}, {objection_tag}, {metric}]",
        f"published: {published}",
        "status: published",
        f"summary: {_yaml(summary)}",
        "synthetic: true",
        "---",
    ]
    situation = " ".join([
        "(A synthetic story, generated for scale tests.)",
        fill(rng.choice(OPENERS)),
        f"Most of the work in {process} was done by hand, and the {metric} figures arrived weeks late.",
        f"The {roles[0]} owned the budget, while the {roles[-1]} ran the day-to-day.",
    ])
    recognizing = " ".join([
        f"The turning point came when {trigger}.",
        f"A review showed that {metric} had drifted for {rng.randint(2, 8)} quarters without anyone noticing,",
        f"and that about {rng.randint(10, 45)}% of the effort in {process} went into rework.",
        f"Doing nothing would have cost an estimated {rng.randint(100, 5000)} thousand over three years.",
    ])
    aligning = " ".join([
        f"Not everyone agreed. {_capital(objection)}.",
        f"The {roles[0]} asked for a business case in their own numbers;",
        f"the {roles[1]} joined the evaluation early and set the conditions for a pilot.",
        f"It took {rng.randint(3, 16)} weeks and {rng.randint(2, 6)} meetings to get a yes.",
    ])
    changing = " ".join([f"The team {fill(change)}." for change in changes]
                        + [f"They used {' and '.join(products)} and kept the old process running in parallel "
                           f"for {rng.randint(2, 8)} weeks."])
    result_lines = "\n".join(f"- {_capital(text)}." for text in [headline] + [fill(r) for r in results[1:]])
    sections = [("Situation", situation), ("Recognizing the problem", recognizing),
                ("Aligning the buying group", aligning), ("Making the change", changing),
                ("Results", result_lines)]
    if rng.random() < 0.2:
        sections.append(("Lessons", " ".join(rng.sample(LESSONS, 2))))
    body = "\n\n".join(f"## {heading}\n\n{text}" for heading, text in sections)
    return "\n".join(front) + "\n\n" + body + "\n"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _yaml(text: str) -> str:
    """A YAML double-quoted scalar."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def case_path(out: Path, number: int) -> Path:
    return out / f"{PREFIX}{number:05d}.md"


def generate(out: Path, count: int, seed: int = 7) -> list[Path]:
    """Write cases 0..count-1 into out (unchanged files are not rewritten); return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    foreign = [p for p in out.iterdir() if not p.name.startswith(PREFIX)]
    if foreign:
        raise SystemExit(f"error: {out} holds files this script did not write ({foreign[0].name}); "
                         "use an empty folder")
    paths = []
    for number in range(count):
        path = case_path(out, number)
        text = case_text(number, seed)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    wanted = set(paths)
    for stale in out.glob(f"{PREFIX}*.md"):
        if stale not in wanted:
            stale.unlink()
    return paths


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Write N synthetic case studies (marked synthetic) for scale tests.",
        epilog="Example: python benchmarks/synthetic_cases.py --count 10000 --out /tmp/kb-scale/cases --seed 7")
    parser.add_argument("--count", type=int, required=True, help="number of cases to write")
    parser.add_argument("--out", type=Path, required=True, help="folder to write them into (created)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default: 7)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    paths = generate(args.out, args.count, args.seed)
    print(f"wrote {len(paths)} synthetic cases to {args.out} (seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
