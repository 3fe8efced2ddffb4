"""Reading a case file: bytes to a typed :class:`~kb.cases.Case`, or precise problems.

Front matter is delimited with python-frontmatter's YAML handler and read with YAML's
safe loader; every problem names the file and the line it is on.

Front matter is untrusted input, so the loader refuses, before building anything, what could
make a small file cost a lot: aliases (a 400-byte "billion laughs" expands to gigabytes
wherever the value is walked), nesting deeper than :data:`MAX_YAML_DEPTH` (recursion) and
integers longer than :data:`MAX_NUMBER_CHARS` (quadratic conversion). A whole file is at most
:data:`MAX_FILE_BYTES`, so flat front matter is bounded too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler
from yaml.composer import Composer
from yaml.constructor import SafeConstructor

from kb.cases import Case, Problem, Section
from kb.errors import CaseFormatError
from kb.fields import FRONT_MATTER, KNOWN_FIELDS, Field
from kb.stages import stage_of

#: Largest case file kb reads.
MAX_FILE_BYTES = 1_000_000
#: Deepest nesting of lists and mappings in front matter (kb's own fields need two levels).
MAX_YAML_DEPTH = 20
#: Longest integer front matter may hold (Python refuses 4,300 digits; ``1:2:3...`` is quadratic).
MAX_NUMBER_CHARS = 100

_HANDLER = YAMLHandler()
#: The registry's front-matter fields by name.
FRONT_MATTER_FIELDS: dict[str, Field] = {known.name: known for known in FRONT_MATTER}


class RefusedYAMLError(yaml.MarkedYAMLError):
    """Valid YAML that kb refuses to read: ``problem`` says why, ``problem_mark`` where."""


def _refuse(problem: str, mark) -> RefusedYAMLError:
    return RefusedYAMLError(problem=problem, problem_mark=mark)


class _GuardedComposer(Composer):
    """PyYAML's composer, refusing aliases and deep nesting before any node is built.

    Checked on the parser's events, so an alias never expands and the recursive composer and
    constructor never go deeper than MAX_YAML_DEPTH.
    """

    _depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _refuse("uses YAML aliases (&anchor/*alias), which kb does not allow; write the value out",
                          event.start_mark)
        if not isinstance(event, yaml.CollectionStartEvent):
            return super().compose_node(parent, index)
        if self._depth >= MAX_YAML_DEPTH:
            raise _refuse(f"is nested deeper than {MAX_YAML_DEPTH} levels, which kb does not allow; flatten it",
                          event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _construct_int(loader, node):
    if len(node.value) > MAX_NUMBER_CHARS:
        raise _refuse(f"has a number of {len(node.value):,} characters; kb reads numbers of up to "
                      f"{MAX_NUMBER_CHARS}: put it in quotes to keep it as text", node.start_mark)
    return SafeConstructor.construct_yaml_int(loader, node)


class _FrontMatterLoader(_GuardedComposer, yaml.SafeLoader):
    """YAML's safe loader, with dates left as text so kb checks them and names their line."""


_CSafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _FastFrontMatterLoader(_GuardedComposer, _CSafeLoader):
    """The same on libyaml's parser: events from C, composed by the guarded composer above.

    The front matter of a starter case: 680 us with the pure-Python loader, 60 us with libyaml
    composing too, 90 us like this (the guard needs the composer in Python).
    """

    def __init__(self, stream):
        _CSafeLoader.__init__(self, stream)
        Composer.__init__(self)


_FrontMatterLoader.yaml_implicit_resolvers = _FastFrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_FrontMatterLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_FastFrontMatterLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)

_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")


def parse_case(path: Path | str, display_path: str | None = None) -> Case:
    """Parse one case file.

    Args:
        path: The Markdown file; its name without ``.md`` is the case id.
        display_path: How to name the file in problems (defaults to ``path``).

    Returns:
        The parsed case.

    Raises:
        CaseFormatError: The file has at least one error; ``problems`` lists them all.
    """
    case, problems = read_case(path, display_path)
    errors = [p for p in problems if p.is_error]
    if errors or case is None:
        raise CaseFormatError(errors)
    return case


def read_case(path: Path | str, display_path: str | None = None) -> tuple[Case | None, list[Problem]]:
    """Parse one case file and collect every problem instead of stopping at the first.

    Returns:
        The case (None when an error prevents building it) and the problems found,
        warnings included.
    """
    path = Path(path)
    name = display_path or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(name, 1, f"cannot read the file: {exc.strerror or exc}")]
    return parse_bytes(raw, path, name)


def parse_bytes(raw: bytes, path: Path, name: str) -> tuple[Case | None, list[Problem]]:
    """Parse the bytes of a case file (see :func:`read_case`)."""
    if len(raw) > MAX_FILE_BYTES:
        size = len(raw) / 1_000_000
        return None, [Problem(name, 1, f"file is too large ({size:.1f} MB); the limit is 1 MB")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        byte = raw[exc.start]
        return None, [Problem(name, line, f"not UTF-8 text: invalid byte 0x{byte:02x} at offset {exc.start}; save the file as UTF-8")]
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    return parse_text(text, path, name, hashlib.sha256(raw).hexdigest())


def parse_text(text: str, path: Path, name: str, content_hash: str) -> tuple[Case | None, list[Problem]]:
    """Parse the decoded text of a case file (see :func:`read_case`)."""
    boundaries = list(_HANDLER.FM_BOUNDARY.finditer(text))
    if not boundaries or boundaries[0].start() != 0:
        return None, [Problem(name, 1, "missing front matter: the file must start with a '---' line, then the fields, then '---'")]
    if len(boundaries) < 2:
        return None, [Problem(name, 1, "front matter is not closed: add a '---' line after the fields")]
    opening, closing = boundaries[0], boundaries[1]
    fm_text = text[opening.end():closing.start()]
    fm_line = text[: opening.end()].count("\n") + 1
    body = text[closing.end():]
    body_line = text[: closing.end()].count("\n") + 1

    problems: list[Problem] = []
    try:
        data, key_lines = _load_yaml(fm_text)
    except RefusedYAMLError as exc:
        return None, [Problem(name, fm_line + exc.problem_mark.line, f"front matter {exc.problem}")]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = fm_line + (mark.line if mark else 0)
        reason = exc.problem or exc.context or "invalid YAML"
        return None, [Problem(name, line, f"YAML syntax error: {reason}")]
    except yaml.YAMLError as exc:
        return None, [Problem(name, fm_line, f"YAML error: {exc}")]

    fields_line = fm_line + 1  # the opening '---' line, then the fields
    if data is None:
        return None, [Problem(name, fields_line, "front matter is empty: add at least a title")]
    if not isinstance(data, dict):
        return None, [Problem(name, fields_line, f"front matter must be a mapping of fields (key: value), not a {_type_name(data)}")]

    def line_of(key: str) -> int:
        return fm_line + key_lines.get(key, 0)

    fields: dict[str, Any] = {}
    for key, raw_value in data.items():  # in the file's order, so problems come line by line
        known = FRONT_MATTER_FIELDS.get(key)
        if known is not None:
            value, problem = _read_field(known, raw_value)
            if problem:
                problems.append(Problem(name, line_of(key), f"{key}: {problem}"))
            fields[key] = value

    title = fields.get("title")
    if "title" not in data:
        problems.append(Problem(name, fields_line, "title: required field is missing"))
    elif not title:
        problems.append(Problem(name, line_of("title"), "title: must not be empty"))

    sections = split_sections(body, body_line)
    if not any(section.stage for section in sections):
        problems.append(Problem(
            name, body_line,
            "no journey sections: add ## headings such as Situation, Recognizing the problem, "
            "Aligning the buying group, Making the change, Results, Lessons",
            severity="warning"))

    if any(p.is_error for p in problems):
        return None, problems

    case = Case(
        id=path.name.removesuffix(".md"),
        path=path,
        title=title,
        sections=tuple(sections),
        body=body.strip("\n"),
        content_hash=content_hash,
        values={key: value for key, value in fields.items() if key != "title" and value not in (None, "", ())},
        extra={str(k): v for k, v in data.items() if k not in KNOWN_FIELDS},
    )
    return case, problems


def split_sections(body: str, first_line: int = 1) -> list[Section]:
    """Split a Markdown body into sections at its ``##`` headings.

    Text before the first heading becomes an untitled section when it is not blank; a body
    without headings is one untitled section. Headings inside fenced code are ignored.

    Args:
        body: The Markdown after the front matter.
        first_line: The file line number of the body's first line.
    """
    sections: list[Section] = []
    title: str | None = None
    start = first_line
    lines: list[str] = []
    in_fence = False

    def flush() -> None:
        text = "\n".join(lines).strip("\n")
        if title is not None or text.strip():
            sections.append(Section(title=title, stage=stage_of(title), text=text, line=start))

    for offset, line in enumerate(body.split("\n")):
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _heading_title(line)
        if heading is not None:
            flush()
            title = heading
            start = first_line + offset
            lines = []
        else:
            lines.append(line)
    flush()
    return sections


def load_yaml(text: str) -> Any:
    """Read YAML as kb reads front matter (the editor's extra metadata uses it too).

    Raises:
        RefusedYAMLError: aliases, nesting deeper than MAX_YAML_DEPTH or an integer longer
            than MAX_NUMBER_CHARS (``problem`` says which, ``problem_mark`` where).
        yaml.YAMLError: the text is not YAML, in PyYAML's words.
    """
    return _load_yaml(text)[0]


def _heading_title(line: str) -> str | None:
    """The title of a ``##`` heading line (closing ``#`` and blanks dropped), or None.

    The rule of the pattern ``^##[ \\t]+(.+?)[ \\t]*#*[ \\t]*$`` (with the title stripped), in
    string operations: that pattern backtracks cubically on a long run of blanks inside the
    title (1,600 blanks inside a title: 3 to 9 s), these are linear.
    """
    if not line.startswith(("## ", "##\t")):
        return None
    rest = line[2:]
    words = rest.lstrip(" \t")
    if not words:  # blanks only: one for the separator and at least one for the "title"
        return "" if len(rest) > 1 else None
    title = words.rstrip(" \t").rstrip("#").rstrip(" \t")
    return (title or words[0]).strip()


def _load_yaml(fm_text: str) -> tuple[Any, dict[str, int]]:
    """Load YAML with the safe loader, returning the data and each top-level key's line offset.

    libyaml reads; when it finds an error, the pure-Python parser reads again, so the message
    a marketer sees is PyYAML's ("mapping values are not allowed here"), not libyaml's wording.
    Both refuse alike what the guard refuses; a refusal on libyaml's events is final (nesting
    past libyaml's own limit of 1,000 levels stops libyaml first, and the Python loader refuses).
    """
    try:
        return _load_yaml_with(_FastFrontMatterLoader, fm_text)
    except RefusedYAMLError:
        raise
    except yaml.YAMLError:
        return _load_yaml_with(_FrontMatterLoader, fm_text)


def _load_yaml_with(loader_class: type, fm_text: str) -> tuple[Any, dict[str, int]]:
    loader = loader_class(fm_text)
    try:
        node = loader.get_single_node()
        key_lines: dict[str, int] = {}
        if isinstance(node, yaml.MappingNode):
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    key_lines.setdefault(str(key_node.value), key_node.start_mark.line)
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, key_lines


def _read_field(known: Field, value: Any) -> tuple[Any, str | None]:
    """A front-matter value as its field's kind holds it, and what is wrong with it (or None).

    The problem is worded without the field's name (the caller puts it in front).
    """
    if known.kind == "list":
        return _list_field(known.name, value)
    if known.kind == "date":
        return _date_field(value)
    text, problem = _text_field(value)
    if known.kind == "choice" and text is not None and problem is None:
        text = str(value).strip()
        problem = known.choice_problem(text)
    return text, problem


def _text_field(value: Any) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, (list, dict)):
        return None, f"must be text, not a {_type_name(value)}"
    if isinstance(value, bool):
        return None, "must be text, not true/false"
    return str(value).strip(), None


def _list_field(key: str, value: Any) -> tuple[tuple[str, ...], str | None]:
    if value is None:
        return (), None
    if isinstance(value, str):
        return (), f"must be a list, not a string (write {key}: [{value}])"
    if not isinstance(value, list):
        return (), f"must be a list, not a {_type_name(value)}"
    items: list[str] = []
    for index, item in enumerate(value, start=1):
        if isinstance(item, (list, dict)) or item is None:
            return (), f"item {index} must be text, not a {_type_name(item)}"
        text = str(item).strip()
        if text:
            items.append(text)
    return tuple(items), None


def _date_field(value: Any) -> tuple[dt.date | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, dt.datetime):
        return value.date(), None
    if isinstance(value, dt.date):
        return value, None
    try:
        return dt.date.fromisoformat(str(value).strip()), None
    except ValueError:
        return None, f"'{value}' is not a date; use YYYY-MM-DD"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__
