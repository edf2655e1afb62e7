"""The course manifest (`course.yaml`): its schema and its validation.

The manifest lists the course's nbgrader assignments and every item of the progress tracker, with
how each item is satisfied (see docs/architecture.md, "Manifest", and docs/manifest.md). Everything
else in the extension trusts a `Manifest` object, so this module refuses anything doubtful with a
`ManifestError` that names the file and the path of the bad field, e.g.::

    course.yaml: sections[3].groups[0].items[1] (id unit1.core.ran_all): auto.notebook 'core' is
    not a notebook of assignment unit1 (notebooks: intro, exercises, ...)

Run `python -m nbcourse.tracker.manifest` to regenerate the JSON Schema that editors use to
validate course.yaml (`schemas/manifest.schema.json`). `check_against_source` (validation.py)
checks the manifest against the course's notebooks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ID_PATTERN = r"^[a-z0-9_]+(\.[a-z0-9_]+)*$"
_ID_RE = re.compile(ID_PATTERN)
# Assignment and notebook names become folder and file names, so they may not contain dots.
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")

SCHEMA_PATH = Path(__file__).parent / "schemas" / "manifest.schema.json"
MANIFEST_FILE = "course.yaml"

AutoRule = Literal["cells", "all_cells", "score", "answered", "opened"]
ItemKind = Literal["auto", "env", "self", "choice", "text", "derived"]


class ManifestError(ValueError):
    """course.yaml is unreadable or malformed; the message names the file and the bad field."""


def find_course_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` that holds a course.yaml, or None."""
    start = Path(start).resolve()
    for folder in [start, *start.parents]:
        if (folder / MANIFEST_FILE).is_file():
            return folder
    return None


class _Strict(BaseModel):
    # A typo in a field name ("satisfied_by" as "satisified_by") must fail loudly, not be ignored.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _check_id(value: str) -> str:
    if not _ID_RE.match(value):
        raise ValueError(
            f"id {value!r} is not lowercase dotted (letters a-z, digits, '_', parts joined by '.')"
        )
    return value


class Assignment(_Strict):
    """One nbgrader assignment: a folder `source/<id>/` holding `<notebook>.ipynb` files."""

    id: str
    title: str
    notebooks: list[str]

    @field_validator("id", "notebooks")
    @classmethod
    def _names(cls, value: str | list[str]) -> str | list[str]:
        for name in [value] if isinstance(value, str) else value:
            if not _NAME_RE.match(name):
                raise ValueError(
                    f"{name!r} is not a valid assignment/notebook name (letters, digits, '_', '-'; "
                    "notebooks are written without .ipynb)"
                )
        return value

    @field_validator("notebooks")
    @classmethod
    def _notebooks(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("an assignment needs at least one notebook")
        duplicates = sorted({n for n in value if value.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate notebook names: {', '.join(duplicates)}")
        return value


class AutoSpec(_Strict):
    """How an `auto` item is satisfied by the latest autograde of one notebook."""

    assignment: str
    notebook: str
    rule: AutoRule
    cells: list[str] = []
    min_score: float | None = None

    @model_validator(mode="after")
    def _rule_fields(self) -> AutoSpec:
        if self.rule in ("cells", "answered") and not self.cells:
            raise ValueError(f"rule {self.rule!r} needs a non-empty 'cells' list of grade ids")
        if self.rule not in ("cells", "answered") and self.cells:
            raise ValueError(f"rule {self.rule!r} takes no 'cells' (only 'cells'/'answered' do)")
        if self.rule == "score" and self.min_score is None:
            raise ValueError("rule 'score' needs 'min_score' (use 0 for 'graded at all')")
        if self.rule != "score" and self.min_score is not None:
            raise ValueError(f"rule {self.rule!r} takes no 'min_score' (only 'score' does)")
        if self.min_score is not None and self.min_score < 0:
            raise ValueError(f"min_score must be >= 0, got {self.min_score}")
        duplicates = sorted({c for c in self.cells if self.cells.count(c) > 1})
        if duplicates:
            raise ValueError(f"duplicate grade ids in cells: {', '.join(duplicates)}")
        return self


class EnvSpec(_Strict):
    """A check the server runs on the learner's environment."""

    check: Literal["python", "uv", "dependencies", "data", "workspace"]
    args: dict[str, Any] = {}

    @model_validator(mode="after")
    def _check_args(self) -> EnvSpec:
        allowed = {"python": {"min_version"}, "dependencies": {"modules"}}.get(self.check, set())
        unknown = sorted(set(self.args) - allowed)
        if unknown:
            raise ValueError(
                f"check {self.check!r} takes no args {unknown} "
                f"(allowed: {sorted(allowed) if allowed else 'none'})"
            )
        if self.check == "python":
            version = self.args.get("min_version")
            if not isinstance(version, str) or not re.fullmatch(r"\d+(\.\d+){0,2}", version):
                raise ValueError("check 'python' needs args.min_version as a string like '3.10'")
        if self.check == "dependencies":
            modules = self.args.get("modules")
            if (
                not isinstance(modules, list)
                or not modules
                or not all(isinstance(m, str) and m for m in modules)
            ):
                raise ValueError("check 'dependencies' needs args.modules: a non-empty list of module names")
        return self


class Level(_Strict):
    at_least: float
    value: str


class DerivedSpec(_Strict):
    """An item computed from other items (see docs/manifest.md for the exact rules)."""

    rule: Literal["count", "count_groups", "threshold", "level"]
    of: list[str] = []
    groups: list[list[str]] = []
    source: str | None = None
    at_least: float | None = None
    then: str | None = None
    else_: str | None = Field(None, alias="else")
    levels: list[Level] = []

    @model_validator(mode="after")
    def _rule_fields(self) -> DerivedSpec:
        needed = {
            "count": {"of"},
            "count_groups": {"groups"},
            "threshold": {"source", "at_least", "then", "else_"},  # layering: field names
            "level": {"source", "levels"},  # layering: field names
        }[self.rule]
        present = {
            name
            for name in ("of", "groups", "source", "at_least", "then", "else_", "levels")  # layering: fields
            if getattr(self, name) not in (None, [])
        }
        missing = sorted(n.rstrip("_") for n in needed - present)
        foreign = sorted(n.rstrip("_") for n in present - needed)
        if missing:
            raise ValueError(f"derived rule {self.rule!r} needs {', '.join(missing)}")
        if foreign:
            raise ValueError(f"derived rule {self.rule!r} takes no {', '.join(foreign)}")
        if any(not group for group in self.groups):
            raise ValueError("count_groups: every group needs at least one item id")
        if self.levels:
            bounds = [level.at_least for level in self.levels]
            if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
                raise ValueError(f"levels must have strictly increasing at_least, got {bounds}")
        return self

    def references(self) -> list[str]:
        """Every item id this rule reads, in order."""
        refs = [*self.of, *(item_id for group in self.groups for item_id in group)]
        return [*refs, self.source] if self.source else refs


# --- Markdown render hints ---------------------------------------------------------------------
# These only shape the Markdown export (SEED_TRACKER.md's layout); the sidebar ignores them.

ItemStyle = Literal["checkbox", "field", "prompt", "bullet", "options", "inline"]


class ItemMarkdown(_Strict):
    """How an item is written in the Markdown export. Every field is optional."""

    style: ItemStyle | None = Field(
        None,
        description="checkbox '- [x] line'; field '**text**: value'; prompt '**text**:' with the "
        "answer below; bullet '- value'; options one checkbox line per option; inline only inside "
        "another item's line via {item:<id>}. Default: by kind (see docs/manifest.md).",
    )
    text: str | None = Field(
        None,
        description="Markdown template for the line instead of the plain text. Placeholders: "
        "{value}, {options}, {item:<id>}.",
    )
    blank: str | None = Field(
        None, description="Written instead of {value} while there is none (default: 17 '_')."
    )
    options: list[str] = Field([], description="Markdown for each option (style 'options').")
    indent: int = Field(0, ge=0, le=8, description="Spaces before the line (nested bullets).")


class GroupMarkdown(_Strict):
    heading: Literal["h3", "h4", "label"] = Field(
        "h3", description="How the group title is written: '### t', '#### t' or '**t**:'."
    )
    before: str | None = Field(None, description="Fixed Markdown written before the group.")
    prefix: str = Field("", description="Written before the text of each checkbox line.")
    tight: bool = Field(False, description="No blank line between the previous group and this.")


class SectionMarkdown(_Strict):
    heading: bool = Field(True, description="Write the '## title' line.")
    intro: str | None = Field(None, description="Fixed paragraph under the section heading.")


class Item(_Strict):
    id: str
    kind: ItemKind
    text: str
    options: list[str] = []
    satisfied_by: list[str] = []
    multiline: bool = False
    auto: AutoSpec | None = None
    env: EnvSpec | None = None
    derived: DerivedSpec | None = None
    md: ItemMarkdown | None = None

    _check_ids = field_validator("id")(_check_id)

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must not be empty")
        return value

    @model_validator(mode="after")
    def _kind_fields(self) -> Item:
        spec_for_kind = {"auto": "auto", "env": "env", "derived": "derived"}
        for spec in ("auto", "env", "derived"):
            given = getattr(self, spec) is not None
            if spec_for_kind.get(self.kind) == spec and not given:
                raise ValueError(f"a {self.kind!r} item needs an '{spec}' block")
            if spec_for_kind.get(self.kind) != spec and given:
                raise ValueError(f"a {self.kind!r} item must not have an '{spec}' block")
        if self.kind == "choice":
            if len(self.options) < 2:
                raise ValueError("a 'choice' item needs at least two options")
            if len(set(self.options)) != len(self.options):
                raise ValueError(f"duplicate options in {self.options}")
            outside = [s for s in self.satisfied_by if s not in self.options]
            if outside:
                raise ValueError(f"satisfied_by {outside} not among options {self.options}")
        else:
            for name in ("options", "satisfied_by"):
                if getattr(self, name):
                    raise ValueError(f"only 'choice' items take '{name}', this is {self.kind!r}")
        if self.multiline and self.kind != "text":
            raise ValueError(f"only 'text' items take 'multiline', this is {self.kind!r}")
        if self.md and self.md.options:
            if self.kind != "choice" or self.md.style != "options":
                raise ValueError("md.options is only for 'choice' items with md.style 'options'")
            if len(self.md.options) != len(self.options):
                raise ValueError(
                    f"md.options has {len(self.md.options)} entries for {len(self.options)} options"
                )
        return self

    @property
    def choice_values(self) -> list[str]:
        """The values this item can take when shown as options (choice, or threshold labels)."""
        if self.kind == "choice":
            return self.options
        if self.derived and self.derived.rule == "threshold":
            return [self.derived.then or "", self.derived.else_ or ""]
        return []


class Group(_Strict):
    id: str
    title: str | None
    items: list[Item]
    md: GroupMarkdown | None = None

    _check_ids = field_validator("id")(_check_id)


class Section(_Strict):
    id: str
    title: str
    groups: list[Group]
    md: SectionMarkdown | None = None

    _check_ids = field_validator("id")(_check_id)


# --- The course's environment ------------------------------------------------------------------
# Course facts the library's environment checks and the `course` CLI need, so no course name or
# file is ever written into library code.


def _relative_path(value: str) -> str:
    path = Path(value)
    if not value or path.is_absolute() or ".." in path.parts:
        raise ValueError(f"{value!r} must be a path relative to the course root, inside it")
    return value


class DataSpec(_Strict):
    """Where the course data lives and how it is made and verified."""

    dir: str = Field("data", description="The data folder, relative to the course root.")
    checksums: str = Field(
        "SHA256SUMS",
        description="A `sha256sum`-format file in the data folder; the `data` check verifies it.",
    )
    generator: str | None = Field(
        None,
        description="A Python script (relative to the course root) that writes the data; "
        "`<script> --verify` must exit 0 when the data matches the checksums. `course setup` runs it.",
    )

    @field_validator("dir", "checksums", "generator")
    @classmethod
    def _paths(cls, value: str | None) -> str | None:
        return value if value is None else _relative_path(value)


class Environment(_Strict):
    data: DataSpec = DataSpec()


_TEMPLATE_REF = re.compile(r"\{item:([^}]*)\}")


class Manifest(_Strict):
    """The whole course.yaml. Cross-item rules are checked here; see `load_manifest`."""

    schema_version: Literal[1]
    course_id: str
    title: str
    assignments: list[Assignment]
    sections: list[Section]
    footer: str | None = Field(None, description="Fixed Markdown written at the end of the Markdown export.")
    environment: Environment = Environment()

    @field_validator("course_id")
    @classmethod
    def _course_id(cls, value: str) -> str:
        # The course id names the learner's store file (<course_id>.json), so keep it file-safe.
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", value):
            raise ValueError(f"course_id {value!r} must be lowercase letters, digits, '_' or '-'")
        return value

    def iter_items(self) -> Iterator[Item]:
        """Every item, in manifest (= tracker) order."""
        for section in self.sections:
            for group in section.groups:
                yield from group.items

    def item(self, item_id: str) -> Item:
        """The item with this id; KeyError names the unknown id."""
        try:
            return self._items_by_id()[item_id]
        except KeyError:
            raise KeyError(f"no item {item_id!r} in manifest {self.course_id!r}") from None

    def assignment(self, assignment_id: str) -> Assignment:
        """The assignment with this id; KeyError names the unknown id."""
        for assignment in self.assignments:
            if assignment.id == assignment_id:
                return assignment
        raise KeyError(f"no assignment {assignment_id!r} in manifest {self.course_id!r}")

    def _items_by_id(self) -> dict[str, Item]:
        return {item.id: item for item in self.iter_items()}

    def _item_paths(self) -> Iterator[tuple[str, Item]]:
        for s, section in enumerate(self.sections):
            for g, group in enumerate(section.groups):
                for i, item in enumerate(group.items):
                    yield f"sections[{s}].groups[{g}].items[{i}] (id {item.id})", item

    @model_validator(mode="after")
    def _cross_references(self) -> Manifest:
        problems: list[str] = []
        problems += _duplicates(
            "assignment", [(f"assignments[{i}]", a.id) for i, a in enumerate(self.assignments)]
        )
        problems += _duplicates("section", [(f"sections[{i}]", s.id) for i, s in enumerate(self.sections)])
        problems += _duplicates(
            "group",
            [
                (f"sections[{s}].groups[{g}]", group.id)
                for s, section in enumerate(self.sections)
                for g, group in enumerate(section.groups)
            ],
        )
        paths = list(self._item_paths())
        problems += _duplicates("item", [(path.split(" ")[0], item.id) for path, item in paths])
        if problems:
            # Lookups below would be ambiguous with duplicate ids.
            raise ValueError("\n".join(problems))

        assignments = {a.id: a for a in self.assignments}
        items = self._items_by_id()
        inline_refs: dict[str, list[str]] = {}
        for path, item in paths:
            if item.auto:
                problems += _auto_problems(path, item.auto, assignments)
            if item.derived:
                for ref in item.derived.references():
                    if ref not in items:
                        problems.append(f"{path}: derived references unknown item {ref!r}")
                    elif ref == item.id:
                        problems.append(f"{path}: derived item references itself")
                if item.derived.rule in ("threshold", "level") and item.derived.source in items:
                    source = items[item.derived.source]
                    if not _is_numeric(source):
                        problems.append(
                            f"{path}: derived.source {source.id!r} has no number to compare "
                            "(use a derived item or an auto item with rule 'score')"
                        )
            for ref in _TEMPLATE_REF.findall(item.md.text or "") if item.md else []:
                inline_refs.setdefault(ref, []).append(item.id)
                if ref not in items:
                    problems.append(f"{path}: md.text references unknown item {ref!r}")
        for path, item in paths:
            is_inline = bool(item.md and item.md.style == "inline")
            users = inline_refs.get(item.id, [])
            if is_inline and len(users) != 1:
                problems.append(
                    f"{path}: an md.style 'inline' item must be used by exactly one other item's "
                    f"md.text as {{item:{item.id}}} (used by {users or 'none'})"
                )
            if users and not is_inline:
                problems.append(
                    f"{path}: used as {{item:{item.id}}} by {users}, so it needs md.style 'inline'"
                )
        if not problems:
            cycle = _find_cycle(items)
            if cycle:
                problems.append(f"derived items form a cycle: {' -> '.join(cycle)}")
        if problems:
            raise ValueError("\n".join(problems))
        return self


def is_trackable(item: Item) -> bool:
    """Whether an item is a step a learner can have done or not, and so counts in the summary.

    auto, env and self items are; a choice only when it names the options that mean done
    (`satisfied_by`, e.g. a module status). Text (name, dates, journal, aha moments) is something
    to fill in, not a step; a derived item summarises others; a choice without `satisfied_by` is
    a self-assessment where every answer is as good as another.
    """
    if item.kind in ("auto", "env", "self"):
        return True
    return item.kind == "choice" and bool(item.satisfied_by)


def _is_numeric(item: Item) -> bool:
    """Whether the item has a number a threshold/level can compare: a score or a derived count."""
    if item.kind == "auto":
        return item.auto is not None and item.auto.rule == "score"
    return item.kind == "derived"


def _duplicates(what: str, located_ids: Sequence[tuple[str, str]]) -> list[str]:
    first_seen: dict[str, str] = {}
    problems = []
    for path, ident in located_ids:
        if ident in first_seen:
            problems.append(f"{path}: duplicate {what} id {ident!r} (first at {first_seen[ident]})")
        else:
            first_seen[ident] = path
    return problems


def _auto_problems(path: str, auto: AutoSpec, assignments: Mapping[str, Assignment]) -> list[str]:
    assignment = assignments.get(auto.assignment)
    if assignment is None:
        return [
            f"{path}: auto.assignment {auto.assignment!r} is not declared under assignments "
            f"(declared: {', '.join(assignments) or 'none'})"
        ]
    if auto.notebook not in assignment.notebooks:
        return [
            f"{path}: auto.notebook {auto.notebook!r} is not a notebook of assignment "
            f"{assignment.id} (notebooks: {', '.join(assignment.notebooks)})"
        ]
    return []


def _find_cycle(items: Mapping[str, Item]) -> list[str] | None:
    """A derived-item cycle as [a, b, ..., a], or None. Depth-first search with colours."""
    visiting: list[str] = []
    done: set[str] = set()

    def visit(item_id: str) -> list[str] | None:
        if item_id in done:
            return None
        if item_id in visiting:
            return [*visiting[visiting.index(item_id) :], item_id]
        derived = items[item_id].derived
        visiting.append(item_id)
        for ref in derived.references() if derived else []:
            cycle = visit(ref)
            if cycle:
                return cycle
        visiting.pop()
        done.add(item_id)
        return None

    for item_id, item in items.items():
        if item.derived:
            cycle = visit(item_id)
            if cycle:
                return cycle
    return None


# --- Loading -------------------------------------------------------------------------------------


def load_manifest(path: Path) -> Manifest:
    """Read and validate a course.yaml; ManifestError says what is wrong and where."""
    path = Path(path)
    try:
        raw_text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ManifestError(f"{path}: cannot read the manifest: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise ManifestError(f"{path}: not UTF-8 text ({error.reason})") from None
    try:
        data = yaml.safe_load(raw_text)
    except yaml.YAMLError as error:
        where = ""
        mark = getattr(error, "problem_mark", None)
        if mark is not None:
            where = f"line {mark.line + 1}, column {mark.column + 1}: "
        problem = getattr(error, "problem", None) or str(error)
        raise ManifestError(f"{path}: {where}invalid YAML: {problem}") from None
    return parse_manifest(data, source=str(path))


def parse_manifest(data: object, source: str = "course.yaml") -> Manifest:
    """Validate already-parsed YAML/JSON data; `source` names it in error messages."""
    if not isinstance(data, dict):
        raise ManifestError(
            f"{source}: the manifest must be a mapping with schema_version, course_id, title, "
            f"assignments and sections, got {type(data).__name__}"
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as error:
        lines = [line for e in error.errors() for line in _describe(e, data)]
        if len(lines) == 1:
            raise ManifestError(f"{source}: {lines[0]}") from None
        listing = "\n".join(f"  {line}" for line in lines)
        raise ManifestError(f"{source}: {len(lines)} problems:\n{listing}") from None


def _describe(error: Mapping[str, Any], data: Any) -> list[str]:
    """One pydantic error as lines like 'sections[3].groups[0].items[2] (id x): field: message'."""
    loc = list(error["loc"])
    message = error["msg"]
    if error["type"] == "value_error" and "error" in error.get("ctx", {}):
        message = str(error["ctx"]["error"])  # without pydantic's "Value error, " prefix
    if not loc:
        # Cross-item problems from Manifest._cross_references already carry their own paths.
        return message.splitlines()
    # Name the innermost object on the path that has an id: that is what an author searches for.
    node: Any = data
    split, node_id = 0, None
    for index, part in enumerate(loc):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            split, node_id = index + 1, node["id"]
    object_path, field_path = _format_loc(loc[:split]), _format_loc(loc[split:])
    where = f"{object_path} (id {node_id})" if node_id is not None else object_path
    where = ": ".join(part for part in (where, field_path) if part)
    return [f"{where}: {message}"]


def _format_loc(parts: Sequence[Any]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


# --- JSON Schema ---------------------------------------------------------------------------------


def manifest_json_schema() -> dict[str, Any]:
    """The JSON Schema of course.yaml, for editors (yaml-language-server) and other tools."""
    schema = Manifest.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$comment"] = (
        "Generated by `python -m nbcourse.tracker.manifest` from nbcourse/tracker/manifest.py; "
        "do not edit by hand. Cross-item rules (unique ids, references) are checked by the loader."
    )
    return schema


def manifest_json_schema_text() -> str:
    return json.dumps(manifest_json_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    SCHEMA_PATH.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA_PATH.write_text(manifest_json_schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
