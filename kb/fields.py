"""The field registry: every metadata field of a case study, declared once.

Each :class:`Field` says what a field holds and where it is used; the parser's validation,
the search filters and facets, the "like you" profile, query understanding, the editor's
form, the CLI's options and the API's schema are all derived from :data:`FIELDS`, so adding
a field is one declaration here (see docs/architecture.md, "Adding a field").

Kinds:
    ``text``   one line of text (``industry: Banking``);
    ``list``   a list of texts (``roles: [CFO, Head of operations]``; a form writes them comma-separated);
    ``choice`` one of fixed ``choices``, in their order (a band such as company size: smallest first);
    ``date``   a date written YYYY-MM-DD.

A field with ``source="sections"`` is not written in front matter: kb derives it from the
story (the journey stages present in its ``##`` sections) and it can still be a filter and a facet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kb.stages import STAGES

Kind = Literal["text", "list", "choice", "date"]

#: Employee bands of ``company_size``, smallest first.
SIZE_BANDS: tuple[str, ...] = ("1-50", "51-200", "201-1000", "1001-5000", "5001+")
#: Values of ``status``.
STATUSES: tuple[str, ...] = ("published", "draft")


@dataclass(frozen=True)
class Field:
    """One metadata field of a case study.

    Attributes:
        name: The front-matter key, filter name and API property (``company_size``).
        label: What a person reads (``Company size``).
        kind: ``text``, ``list``, ``choice`` or ``date`` (see the module docstring).
        help: One sentence for help texts, the editor and the API description.
        choices: The allowed values of a ``choice`` field, in display order.
        required: A case must have it (only the title).
        filter: Searches and the browse page may filter on it (``?industry=Banking``, ``kb search --industry``).
        facet: The filter panel counts its values.
        profile: The "like you" profile may name it (``?like_size=...``, ``kb search --like-size``):
            matching cases are raised, none excluded.
        understood: Query understanding reads it from the seller's words as a soft boost.
        editor: The editor's form shows it.
        reader: Only those who may see drafts may filter on it (``status``).
        flag: The CLI option's name when it differs from the field's (``size`` for ``--size``).
        unit: Words after a value when shown (``employees``).
        hint: A hint under the editor's field.
        source: ``front_matter`` (written by marketers) or ``sections`` (derived from the story).
        noun: What one of its choices is called in messages (``size band``: "'big' is not a size band").
        default: The value of a case that does not give it (lists: empty; ``status``: published).
        short: A shorter label where space is tight (the "Understood" chips); default: the label.
        form: The editor's label; default: the label, with the unit in brackets.
    """

    name: str
    label: str
    kind: Kind
    help: str
    choices: tuple[str, ...] = ()
    required: bool = False
    filter: bool = False
    facet: bool = False
    profile: bool = False
    understood: bool = False
    editor: bool = True
    reader: bool = False
    flag: str | None = None
    unit: str = ""
    hint: str = ""
    source: Literal["front_matter", "sections"] = "front_matter"
    noun: str = ""
    default: str | None = None
    short: str = ""
    form: str = ""

    @property
    def short_label(self) -> str:
        return self.short or self.label

    @property
    def form_label(self) -> str:
        return self.form or (f"{self.label} ({self.unit})" if self.unit else self.label)

    @property
    def option(self) -> str:
        """The CLI option's name without dashes (``size``)."""
        return self.flag or self.name.replace("_", "-")

    @property
    def profile_param(self) -> str:
        """The query parameter of the "like you" profile attribute (``like_size``)."""
        return "like_" + self.option.replace("-", "_")

    @property
    def meta_key(self) -> str:
        """The key of the indexed metadata holding its values (``stages`` for the derived stage)."""
        return "stages" if self.source == "sections" else self.name

    @property
    def is_list(self) -> bool:
        return self.kind == "list"

    @property
    def empty(self) -> tuple[()] | str | None:
        """The value of a case that does not give this field."""
        return () if self.is_list else self.default

    def choice_problem(self, value: str) -> str | None:
        """Why a value is not one of the choices (None when it is, or the field has none)."""
        if not self.choices or value in self.choices:
            return None
        noun = self.noun or f"valid {self.label.lower()}"
        article = "an" if noun[:1] in "aeiou" else "a"
        allowed = " or ".join(self.choices) if len(self.choices) == 2 else "one of " + ", ".join(self.choices)
        return f"'{value}' is not {article} {noun}; use {allowed}"

    def display(self, value: str) -> str:
        """A value as a person reads it (``1001-5000 employees``; a stage's label)."""
        if self.name == "stage":
            return STAGES.get(value, value)
        return f"{value} {self.unit}" if self.unit else value


#: Every field, in the order the editor and the story page show them.
FIELDS: tuple[Field, ...] = (
    Field("title", "Title", "text", "The story's headline.", required=True),
    Field("customer", "Customer", "text", "The customer's name, or an anonymized description."),
    Field("industry", "Industry", "text", "The customer's industry, e.g. Banking.",
          filter=True, facet=True, profile=True, understood=True),
    Field("company_size", "Company size", "choice", "The customer's employee band.", choices=SIZE_BANDS,
          filter=True, facet=True, profile=True, understood=True, flag="size", unit="employees", noun="size band",
          short="Size"),
    Field("region", "Region", "text", "Where the customer operates, e.g. North America.",
          filter=True, facet=True, profile=True, understood=True),
    Field("stage", "Journey stage", "choice", "A journey stage the story's sections cover.",
          choices=tuple(STAGES), filter=True, facet=True, editor=False, source="sections"),
    Field("products", "Products", "list", "The products the customer uses.", filter=True, flag="product",
          hint="Comma-separated."),
    Field("roles", "Buying group", "list", "The roles in the customer's buying group.",
          understood=True, hint="Comma-separated, e.g. CFO, Head of operations.",
          form="Buying group (roles)"),
    Field("tags", "Tags", "list", "Free topic tags.", filter=True, facet=True, flag="tag",
          hint="Comma-separated."),
    Field("published", "Published", "date", "When the story was published.", hint="YYYY-MM-DD.",
          form="Published on"),
    Field("status", "Status", "choice", "published (sellers find it) or draft (marketers only).",
          choices=STATUSES, filter=True, reader=True, noun="status", default="published"),
    Field("summary", "Summary", "text", "One or two sentences: the situation and the outcome.",
          hint="One or two sentences: the situation and the outcome."),
)

#: Field by name.
BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
#: Fields written in front matter (all but those derived from the story).
FRONT_MATTER: tuple[Field, ...] = tuple(f for f in FIELDS if f.source == "front_matter")
#: Names of the fields searches may filter on, in order.
FILTER_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.filter)
#: Names of the fields the filter panel counts, in display order.
FACET_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.facet)
#: Names of the "like you" profile's attributes.
PROFILE_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.profile)
#: Names of the attributes query understanding reads from the text.
UNDERSTOOD_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.understood)
#: Names of the fields the editor's form shows, in order.
EDITOR_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.editor)
#: Names of list fields.
LIST_FIELDS: tuple[str, ...] = tuple(f.name for f in FRONT_MATTER if f.is_list)
#: Front-matter keys kb knows; any other key is kept as extra metadata.
KNOWN_FIELDS: tuple[str, ...] = tuple(f.name for f in FRONT_MATTER)


def field(name: str) -> Field:
    """The field of a name (KeyError when there is none)."""
    return BY_NAME[name]


__all__ = ["BY_NAME", "EDITOR_FIELDS", "FACET_FIELDS", "FIELDS", "FILTER_FIELDS", "FRONT_MATTER", "KNOWN_FIELDS",
           "LIST_FIELDS", "PROFILE_FIELDS", "SIZE_BANDS", "STATUSES", "UNDERSTOOD_FIELDS", "Field", "field"]
