"""The manifest schema and loader: what a valid course.yaml is, and the errors for invalid ones.

Every test builds a small manifest of its own (see `minimal()`), so these tests are independent of
the real course; tests/test_course_manifest.py covers the real course.yaml.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import nbformat
import pytest
import yaml

from nbcourse.tracker.manifest import (
    SCHEMA_PATH,
    ManifestError,
    load_manifest,
    manifest_json_schema,
    manifest_json_schema_text,
    parse_manifest,
)
from nbcourse.tracker.validation import check_against_source

REPO_ROOT = Path(__file__).resolve().parents[2]


def minimal() -> dict[str, Any]:
    """A small valid manifest with one item of every kind; tests break one thing at a time."""
    return {
        "schema_version": 1,
        "course_id": "demo",
        "title": "Demo Tracker",
        "assignments": [{"id": "a1", "title": "Assignment 1", "notebooks": ["nb1", "nb2"]}],
        "sections": [
            {
                "id": "s1",
                "title": "Section 1",
                "groups": [
                    {
                        "id": "s1.g1",
                        "title": "Group 1",
                        "items": [
                            {
                                "id": "s1.auto",
                                "kind": "auto",
                                "text": "Exercise 1",
                                "auto": {
                                    "assignment": "a1",
                                    "notebook": "nb1",
                                    "rule": "cells",
                                    "cells": ["ex1_tests"],
                                },
                            },
                            {
                                "id": "s1.score",
                                "kind": "auto",
                                "text": "Quiz score",
                                "auto": {
                                    "assignment": "a1",
                                    "notebook": "nb2",
                                    "rule": "score",
                                    "min_score": 3,
                                },
                            },
                            {
                                "id": "s1.env",
                                "kind": "env",
                                "text": "Python",
                                "env": {"check": "python", "args": {"min_version": "3.10"}},
                            },
                            {"id": "s1.self", "kind": "self", "text": "I can explain it"},
                            {
                                "id": "s1.choice",
                                "kind": "choice",
                                "text": "Status",
                                "options": ["Not Started", "Completed"],
                                "satisfied_by": ["Completed"],
                            },
                            {"id": "s1.text", "kind": "text", "text": "Notes", "multiline": True},
                        ],
                    },
                    {
                        "id": "s1.g2",
                        "title": None,
                        "items": [
                            {
                                "id": "s1.count",
                                "kind": "derived",
                                "text": "Done",
                                "derived": {"rule": "count", "of": ["s1.auto", "s1.self"]},
                            },
                            {
                                "id": "s1.pass",
                                "kind": "derived",
                                "text": "Status",
                                "derived": {
                                    "rule": "threshold",
                                    "source": "s1.score",
                                    "at_least": 3,
                                    "then": "Pass",
                                    "else": "Review",
                                },
                            },
                        ],
                    },
                ],
            }
        ],
    }


def item(data: dict[str, Any], item_id: str) -> dict[str, Any]:
    for section in data["sections"]:
        for group in section["groups"]:
            for entry in group["items"]:
                if entry["id"] == item_id:
                    return entry
    raise KeyError(item_id)


def error_of(data: Any) -> str:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(data, source="demo.yaml")
    return str(caught.value)


# --- valid manifests -----------------------------------------------------------------------------


def test_minimal_manifest_loads_with_lookups() -> None:
    manifest = parse_manifest(minimal())
    ids = [entry.id for entry in manifest.iter_items()]
    assert ids == ["s1.auto", "s1.score", "s1.env", "s1.self", "s1.choice", "s1.text", "s1.count", "s1.pass"]
    assert manifest.item("s1.choice").satisfied_by == ["Completed"]
    assert manifest.item("s1.pass").derived is not None
    assert manifest.item("s1.pass").derived.else_ == "Review"
    assert manifest.assignment("a1").notebooks == ["nb1", "nb2"]


def test_unknown_ids_raise_key_error_naming_them() -> None:
    manifest = parse_manifest(minimal())
    with pytest.raises(KeyError, match="nope"):
        manifest.item("nope")
    with pytest.raises(KeyError, match="a9"):
        manifest.assignment("a9")


def test_load_manifest_reads_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "course.yaml"
    path.write_text(yaml.safe_dump(minimal(), allow_unicode=True), encoding="utf-8")
    assert load_manifest(path).course_id == "demo"


# --- file-level errors ---------------------------------------------------------------------------


def test_missing_file_is_a_manifest_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"course\.yaml: cannot read the manifest"):
        load_manifest(tmp_path / "course.yaml")


def test_invalid_yaml_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "course.yaml"
    path.write_text("schema_version: 1\ntitle: [unclosed\ncourse_id: x\n", encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        load_manifest(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: line ")
    assert "invalid YAML" in message


def test_top_level_must_be_a_mapping() -> None:
    assert "must be a mapping" in error_of(["not", "a", "mapping"])


def test_missing_required_field_names_it() -> None:
    data = minimal()
    del data["title"]
    assert error_of(data) == "demo.yaml: title: Field required"


def test_unknown_field_is_rejected_with_item_path() -> None:
    data = minimal()
    item(data, "s1.self")["satisified_by"] = ["x"]  # typo of satisfied_by
    assert error_of(data) == (
        "demo.yaml: sections[0].groups[0].items[3] (id s1.self): satisified_by: "
        "Extra inputs are not permitted"
    )


def test_several_problems_are_all_listed() -> None:
    data = minimal()
    del item(data, "s1.auto")["auto"]
    item(data, "s1.self")["options"] = ["a", "b"]
    message = error_of(data)
    assert message.startswith("demo.yaml: 2 problems:\n")
    assert "(id s1.auto): a 'auto' item needs an 'auto' block" in message
    assert "(id s1.self): only 'choice' items take 'options', this is 'self'" in message


# --- ids -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad_id", ["M1.core", "m1..core", "m1-core", ".m1", "m1.", "m1 core"])
def test_item_ids_must_be_lowercase_dotted(bad_id: str) -> None:
    data = minimal()
    item(data, "s1.self")["id"] = bad_id
    assert f"id {bad_id!r} is not lowercase dotted" in error_of(data)


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (
            "item",
            "sections[0].groups[1].items[0]: duplicate item id 's1.auto' "
            "(first at sections[0].groups[0].items[0])",
        ),
        ("group", "sections[0].groups[1]: duplicate group id 's1.g1' (first at sections[0].groups[0])"),
        ("section", "sections[1]: duplicate section id 's1' (first at sections[0])"),
        ("assignment", "assignments[1]: duplicate assignment id 'a1' (first at assignments[0])"),
    ],
)
def test_duplicate_ids_are_rejected(where: str, expected: str) -> None:
    data = minimal()
    if where == "item":
        data["sections"][0]["groups"][1]["items"][0]["id"] = "s1.auto"
    elif where == "group":
        data["sections"][0]["groups"][1]["id"] = "s1.g1"
    elif where == "section":
        data["sections"].append(copy.deepcopy(data["sections"][0]))
    else:
        data["assignments"].append(copy.deepcopy(data["assignments"][0]))
    message = error_of(data)
    assert expected in message


def test_duplicate_notebook_names_are_rejected() -> None:
    data = minimal()
    data["assignments"][0]["notebooks"] = ["nb1", "nb1", "nb2"]
    assert error_of(data) == ("demo.yaml: assignments[0] (id a1): notebooks: duplicate notebook names: nb1")


def test_notebook_names_are_written_without_extension() -> None:
    data = minimal()
    data["assignments"][0]["notebooks"] = ["nb1.ipynb", "nb2"]
    assert "'nb1.ipynb' is not a valid assignment/notebook name" in error_of(data)


# --- kind-specific fields ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item_id", "change", "expected"),
    [
        ("s1.auto", {"auto": None}, "a 'auto' item needs an 'auto' block"),
        (
            "s1.self",
            {"auto": {"assignment": "a1", "notebook": "nb1", "rule": "opened"}},
            "a 'self' item must not have an 'auto' block",
        ),
        ("s1.env", {"env": None}, "a 'env' item needs an 'env' block"),
        (
            "s1.text",
            {"derived": {"rule": "count", "of": ["s1.self"]}},
            "a 'text' item must not have an 'derived' block",
        ),
        (
            "s1.choice",
            {"options": ["Only one"], "satisfied_by": []},
            "a 'choice' item needs at least two options",
        ),
        (
            "s1.choice",
            {"satisfied_by": ["Done"]},
            "satisfied_by ['Done'] not among options ['Not Started', 'Completed']",
        ),
        ("s1.choice", {"options": ["A", "A"], "satisfied_by": []}, "duplicate options"),
        ("s1.text", {"options": ["a", "b"]}, "only 'choice' items take 'options', this is 'text'"),
        ("s1.self", {"multiline": True}, "only 'text' items take 'multiline', this is 'self'"),
        ("s1.self", {"text": "  "}, "text must not be empty"),
        ("s1.self", {"kind": "checkbox"}, "kind: Input should be 'auto'"),
    ],
)
def test_kind_fields_must_match_the_kind(item_id: str, change: dict[str, Any], expected: str) -> None:
    data = minimal()
    entry = item(data, item_id)
    for key, value in change.items():
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    message = error_of(data)
    assert message.startswith("demo.yaml: sections[0].groups[0].items[")
    assert f"(id {item_id})" in message
    assert expected in message


@pytest.mark.parametrize(
    ("auto", "expected"),
    [
        ({"rule": "cells"}, "rule 'cells' needs a non-empty 'cells' list of grade ids"),
        ({"rule": "answered"}, "rule 'answered' needs a non-empty 'cells' list"),
        ({"rule": "all_cells", "cells": ["x"]}, "rule 'all_cells' takes no 'cells'"),
        ({"rule": "score"}, "rule 'score' needs 'min_score' (use 0 for 'graded at all')"),
        ({"rule": "opened", "min_score": 2}, "rule 'opened' takes no 'min_score'"),
        ({"rule": "score", "min_score": -1}, "min_score must be >= 0, got -1.0"),
        ({"rule": "cells", "cells": ["a", "a"]}, "duplicate grade ids in cells: a"),
        (
            {"rule": "passed"},
            "auto.rule: Input should be 'cells', 'all_cells', 'score', 'answered' or 'opened'",
        ),
    ],
)
def test_auto_rule_fields(auto: dict[str, Any], expected: str) -> None:
    data = minimal()
    item(data, "s1.auto")["auto"] = {"assignment": "a1", "notebook": "nb1", **auto}
    message = error_of(data)
    assert "(id s1.auto)" in message
    assert expected in message


def test_auto_item_must_reference_a_declared_assignment() -> None:
    data = minimal()
    item(data, "s1.auto")["auto"]["assignment"] = "a2"
    assert error_of(data) == (
        "demo.yaml: sections[0].groups[0].items[0] (id s1.auto): auto.assignment 'a2' is not "
        "declared under assignments (declared: a1)"
    )


def test_auto_item_must_reference_a_notebook_of_its_assignment() -> None:
    data = minimal()
    item(data, "s1.auto")["auto"]["notebook"] = "nb_core"
    assert error_of(data) == (
        "demo.yaml: sections[0].groups[0].items[0] (id s1.auto): auto.notebook 'nb_core' is not "
        "a notebook of assignment a1 (notebooks: nb1, nb2)"
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"check": "python"}, "check 'python' needs args.min_version as a string like '3.10'"),
        ({"check": "python", "args": {"min_version": 3.1}}, "needs args.min_version as a string"),
        ({"check": "dependencies", "args": {"modules": []}}, "needs args.modules"),
        ({"check": "uv", "args": {"path": "/usr/bin"}}, "check 'uv' takes no args ['path']"),
        ({"check": "gpu"}, "env.check: Input should be"),
    ],
)
def test_env_check_arguments(env: dict[str, Any], expected: str) -> None:
    data = minimal()
    item(data, "s1.env")["env"] = env
    message = error_of(data)
    assert "(id s1.env)" in message
    assert expected in message


# --- derived items -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("derived", "expected"),
    [
        ({"rule": "count"}, "derived rule 'count' needs of"),
        ({"rule": "count", "of": ["s1.self"], "source": "s1.score"}, "derived rule 'count' takes no source"),
        (
            {"rule": "threshold", "source": "s1.score", "at_least": 3},
            "derived rule 'threshold' needs else, then",
        ),
        (
            {"rule": "count_groups", "groups": [["s1.self"], []]},
            "count_groups: every group needs at least one item id",
        ),
        (
            {
                "rule": "level",
                "source": "s1.score",
                "levels": [{"at_least": 2, "value": "B"}, {"at_least": 1, "value": "A"}],
            },
            "levels must have strictly increasing at_least, got [2.0, 1.0]",
        ),
    ],
)
def test_derived_rule_fields(derived: dict[str, Any], expected: str) -> None:
    data = minimal()
    item(data, "s1.count")["derived"] = derived
    message = error_of(data)
    assert "(id s1.count)" in message
    assert expected in message


def test_derived_reference_must_exist() -> None:
    data = minimal()
    item(data, "s1.count")["derived"]["of"] = ["s1.self", "s1.missing"]
    assert error_of(data) == (
        "demo.yaml: sections[0].groups[1].items[0] (id s1.count): derived references unknown "
        "item 's1.missing'"
    )


def test_derived_item_cannot_reference_itself() -> None:
    data = minimal()
    item(data, "s1.count")["derived"]["of"] = ["s1.count"]
    assert "(id s1.count): derived item references itself" in error_of(data)


def test_derived_cycle_is_reported_with_its_path() -> None:
    data = minimal()
    item(data, "s1.count")["derived"]["of"] = ["s1.pass"]
    item(data, "s1.pass")["derived"]["source"] = "s1.count"
    assert error_of(data) == "demo.yaml: derived items form a cycle: s1.count -> s1.pass -> s1.count"


def test_threshold_source_must_have_a_number() -> None:
    data = minimal()
    item(data, "s1.pass")["derived"]["source"] = "s1.text"
    assert "(id s1.pass): derived.source 's1.text' has no number to compare" in error_of(data)


# --- Markdown hints ------------------------------------------------------------------------------


def test_inline_item_must_be_used_by_exactly_one_template() -> None:
    data = minimal()
    item(data, "s1.text")["md"] = {"style": "inline"}
    assert "(id s1.text): an md.style 'inline' item must be used by exactly one" in error_of(data)


def test_template_reference_needs_an_inline_item() -> None:
    data = minimal()
    item(data, "s1.self")["md"] = {"text": "I can explain {item:s1.text}"}
    assert "(id s1.text): used as {item:s1.text} by ['s1.self'], so it needs md.style 'inline'" in error_of(
        data
    )


def test_template_reference_must_exist() -> None:
    data = minimal()
    item(data, "s1.self")["md"] = {"text": "I can explain {item:s1.nothing}"}
    assert "(id s1.self): md.text references unknown item 's1.nothing'" in error_of(data)


def test_md_options_must_match_options() -> None:
    data = minimal()
    item(data, "s1.choice")["md"] = {"style": "options", "options": ["**Only one**"]}
    assert "md.options has 1 entries for 2 options" in error_of(data)


# --- check_against_source ------------------------------------------------------------------------


def grade_cell(grade_id: str, *, kind: str, points: float = 1) -> nbformat.NotebookNode:
    """An nbgrader cell: 'test' (autograded test), 'answer' (manually graded), 'solution', or
    'task' (a manually graded task: instructions a human grades, with no answer in the cell)."""
    meta = {
        "grade_id": grade_id,
        "schema_version": 3,
        "locked": kind in ("test", "task"),
        "grade": kind in ("test", "answer"),
        "solution": kind in ("answer", "solution"),
        "task": kind == "task",
    }
    if kind != "solution":
        meta["points"] = points
    if kind in ("answer", "task"):
        return nbformat.v4.new_markdown_cell("YOUR ANSWER HERE", metadata={"nbgrader": meta})
    return nbformat.v4.new_code_cell("assert True", metadata={"nbgrader": meta})


def write_notebook(path: Path, cells: list[nbformat.NotebookNode]) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Intro"), *cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


def source_manifest(**auto: Any) -> Any:
    """A manifest whose item s1.auto is bound by `auto` (assignment a1, notebook nb1)."""
    data = minimal()
    item(data, "s1.auto")["auto"] = {"assignment": "a1", "notebook": "nb1", **auto}
    return parse_manifest(data)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """source/a1/nb1.ipynb with a solution, a 2-point test and an answer; nb2 with 4 points."""
    write_notebook(
        tmp_path / "a1" / "nb1.ipynb",
        [
            grade_cell("ex1", kind="solution"),
            grade_cell("ex1_tests", kind="test", points=2),
            grade_cell("ex1_explain", kind="answer"),
        ],
    )
    write_notebook(tmp_path / "a1" / "nb2.ipynb", [grade_cell("q1", kind="test", points=4)])
    return tmp_path


def test_bindings_that_exist_are_ok(source: Path) -> None:
    report = check_against_source(parse_manifest(minimal()), source)
    assert report.errors == []
    assert report.pending == []
    assert report.ok


def test_absent_assignment_folder_is_pending_not_an_error(tmp_path: Path) -> None:
    report = check_against_source(parse_manifest(minimal()), tmp_path)
    assert report.ok
    assert [issue.item_id for issue in report.pending] == ["s1.auto", "s1.score"]
    assert str(report.pending[0]) == (f"s1.auto: assignment folder {tmp_path / 'a1'} does not exist yet")


def test_missing_notebook_of_existing_assignment_is_an_error(source: Path) -> None:
    (source / "a1" / "nb2.ipynb").unlink()
    report = check_against_source(parse_manifest(minimal()), source)
    assert not report.ok
    assert [str(e) for e in report.errors] == [
        f"s1.score: notebook {source / 'a1' / 'nb2.ipynb'} does not exist"
    ]


@pytest.mark.parametrize(
    ("auto", "expected"),
    [
        (
            {"rule": "cells", "cells": ["ex2_tests"]},
            "grade cell 'ex2_tests' not found in {nb} (autograded test cells: ex1_tests)",
        ),
        (
            {"rule": "cells", "cells": ["ex1_explain"]},
            "rule 'cells' needs autograded test cells, but 'ex1_explain' in {nb} is a manually "
            "graded answer (use rule 'answered')",
        ),
        (
            {"rule": "answered", "cells": ["ex1_tests"]},
            "rule 'answered' needs manually graded answer cells, but 'ex1_tests' in {nb} is an "
            "autograded test cell (use rule 'cells')",
        ),
        (
            {"rule": "answered", "cells": ["ex1_essay"]},
            "answer cell 'ex1_essay' not found in {nb} (manually graded answer cells: ex1_explain)",
        ),
        ({"rule": "score", "min_score": 5}, "min_score 5 is more than the 3 points of {nb}"),
    ],
)
def test_rule_and_cell_kind_mismatches_are_errors(source: Path, auto: dict[str, Any], expected: str) -> None:
    report = check_against_source(source_manifest(**auto), source)
    notebook = source / "a1" / "nb1.ipynb"
    assert [str(e) for e in report.errors] == [f"s1.auto: {expected.format(nb=notebook)}"]


@pytest.mark.parametrize(
    "auto",
    [
        {"rule": "cells", "cells": ["ex1_tests"]},
        {"rule": "answered", "cells": ["ex1_explain"]},
        {"rule": "all_cells"},
        {"rule": "opened"},
        {"rule": "score", "min_score": 3},
    ],
)
def test_every_rule_accepts_a_matching_notebook(source: Path, auto: dict[str, Any]) -> None:
    assert check_against_source(source_manifest(**auto), source).errors == []


def test_all_cells_on_a_notebook_without_tests_is_an_error(source: Path) -> None:
    write_notebook(source / "a1" / "nb1.ipynb", [grade_cell("essay", kind="answer")])
    report = check_against_source(source_manifest(rule="all_cells"), source)
    assert [e.message for e in report.errors] == [
        f"rule 'all_cells' but {source / 'a1' / 'nb1.ipynb'} has no autograded test cells"
    ]


def test_unreadable_notebook_is_an_error_not_a_crash(source: Path) -> None:
    (source / "a1" / "nb1.ipynb").write_text("{not json", encoding="utf-8")
    report = check_against_source(parse_manifest(minimal()), source)
    assert len(report.errors) == 1
    assert report.errors[0].item_id == "s1.auto"
    assert report.errors[0].message.startswith(f"cannot read {source / 'a1' / 'nb1.ipynb'}")


# --- JSON Schema ---------------------------------------------------------------------------------


def test_committed_json_schema_is_up_to_date() -> None:
    assert SCHEMA_PATH.is_file(), "run `uv run python -m nbcourse.tracker.manifest` to write it"
    assert SCHEMA_PATH.read_text(encoding="utf-8") == manifest_json_schema_text(), (
        "schemas/manifest.schema.json is stale: run `uv run python -m nbcourse.tracker.manifest`"
    )


def test_json_schema_accepts_valid_and_rejects_invalid_manifests() -> None:
    schema = manifest_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(minimal())) == []
    bad = minimal()
    item(bad, "s1.auto")["auto"]["rule"] = "passed"
    errors = list(validator.iter_errors(bad))
    assert errors, "the JSON Schema should reject an unknown auto rule"


def test_json_schema_accepts_the_real_course_yaml() -> None:
    data = yaml.safe_load((REPO_ROOT / "course.yaml").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text("utf-8")))
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]
    assert problems == []


def test_error_messages_never_leak_pydantic_boilerplate() -> None:
    data = minimal()
    item(data, "s1.choice")["satisfied_by"] = ["Done"]
    message = error_of(data)
    assert "Value error," not in message
    assert not re.search(r"https://errors\.pydantic\.dev", message)


def test_task_cells_count_for_score_but_are_neither_tests_nor_answers(source: Path) -> None:
    write_notebook(
        source / "a1" / "nb1.ipynb",
        [grade_cell("ex1_tests", kind="test", points=2), grade_cell("report", kind="task", points=3)],
    )
    notebook = source / "a1" / "nb1.ipynb"
    assert check_against_source(source_manifest(rule="score", min_score=5), source).errors == []
    as_test = check_against_source(source_manifest(rule="cells", cells=["report"]), source)
    assert [e.message for e in as_test.errors] == [
        f"rule 'cells' needs autograded test cells, but 'report' in {notebook} is a manually graded task"
    ]
    as_answer = check_against_source(source_manifest(rule="answered", cells=["report"]), source)
    assert [e.message for e in as_answer.errors] == [
        f"rule 'answered' needs manually graded answer cells, but 'report' in {notebook} is a "
        "manually graded task, which holds no answer"
    ]
