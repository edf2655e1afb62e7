"""The real course.yaml: it loads, it covers every line of SEED_TRACKER.md, and it points at real
grade cells in source/.

The generic validator is tested in extension/tests/test_manifest.py; here each error case is
made by breaking one thing in the real course.yaml, so the messages a course author will see are
the ones checked.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from nbcourse.tracker.manifest import Manifest, ManifestError, load_manifest, parse_manifest
from nbcourse.tracker.markdown import render_markdown
from nbcourse.tracker.validation import check_against_source

ROOT = Path(__file__).resolve().parent.parent
COURSE_YAML = ROOT / "course.yaml"
MODULES = ["m1", "m2", "m3", "m4", "m5"]


def seed_lines() -> list[str]:
    """SEED_TRACKER.md: $SEED_TRACKER, else docs/SEED_TRACKER.md, else the shared design folder."""
    candidates = [Path(os.environ["SEED_TRACKER"])] if "SEED_TRACKER" in os.environ else []
    candidates += [ROOT / "docs" / "SEED_TRACKER.md", Path("/work/shared/SEED_TRACKER.md")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8").splitlines()
    pytest.fail(f"SEED_TRACKER.md not found (looked in {', '.join(map(str, candidates))})")


@pytest.fixture(scope="module")
def course() -> Manifest:
    return load_manifest(COURSE_YAML)


@pytest.fixture
def raw() -> dict[str, Any]:
    """course.yaml as plain data, for tests that break one thing in it."""
    return yaml.safe_load(COURSE_YAML.read_text(encoding="utf-8"))


def raw_item(data: dict[str, Any], item_id: str) -> dict[str, Any]:
    for section in data["sections"]:
        for group in section["groups"]:
            for entry in group["items"]:
                if entry["id"] == item_id:
                    return entry
    raise KeyError(item_id)


def error_of(data: dict[str, Any]) -> str:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(data, source="course.yaml")
    return str(caught.value)


# --- it loads and has the seed's shape ------------------------------------------------------------


def test_course_yaml_loads(course: Manifest) -> None:
    assert course.course_id == "ml-engineering"
    assert [a.id for a in course.assignments] == [
        "m1_data_engineering",
        "m2_eda_features",
        "m3_model_training",
        "m4_model_evaluation",
        "m5_inference_service",
        "checkpoint1",
        "checkpoint2",
        "capstone",
    ]
    seed_sections = [line[3:] for line in seed_lines() if line.startswith("## ")]
    headed = [s.title for s in course.sections if s.md is None or s.md.heading]
    assert headed == seed_sections


def test_every_seed_checkbox_is_an_item(course: Manifest) -> None:
    """Each `- [ ]` line of the seed is one checkbox item, or one option of a 'check one' item."""
    seed_boxes = [line for line in seed_lines() if line.lstrip().startswith("- [ ]")]
    rendered = 0
    for entry in course.iter_items():
        style = (entry.md.style if entry.md else None) or (
            "checkbox" if entry.kind in ("self", "auto", "env") else None
        )
        rendered += len(entry.options) if style == "options" else style == "checkbox"
    assert rendered == len(seed_boxes) == 176


def test_every_seed_blank_is_an_item(course: Manifest) -> None:
    """Fill every item; then no blank, unticked box, unchosen choice or empty prompt is left."""
    states: dict[str, dict[str, Any]] = {}
    for entry in course.iter_items():
        state: dict[str, Any] = {"id": entry.id, "satisfied": True, "rev": 1}
        if entry.kind == "text":
            state["value"] = f"answer for {entry.id}"
        elif entry.kind == "choice":
            state["value"] = entry.options[-1]
        elif entry.kind == "derived":
            state["value"] = entry.choice_values[0] if entry.choice_values else "9 / 9"
        elif entry.kind == "auto":
            state.update(status="graded", score=99, max_score=99)
        else:
            state["value"] = True
        states[entry.id] = state
    lines = render_markdown(course, states).splitlines()
    level_options = len(course.item("skills.current_level").options)
    assert sum("- [ ]" in line for line in lines) == level_options - 1  # "check one"
    assert not [line for line in lines if "__" in line]
    assert not [line for line in lines if re.fullmatch(r"\s*-", line)]
    assert not [line for line in lines if "⬜" in line and "✅" not in line]
    # Every prompt ("**...**:" on its own line) is followed by its answer (a label heading by a blank
    # line, so the list under it renders as a list), not by the next prompt.
    prompts = [i for i, line in enumerate(lines) if re.fullmatch(r"\*\*.+\*\*:", line)]
    assert prompts
    following = [next(line for line in lines[i + 1 :] if line) for i in prompts]
    assert all(line.startswith(("answer for", "-")) for line in following)


def test_item_kinds_follow_the_design(course: Manifest) -> None:
    for module in MODULES:
        for entry in course.iter_items():
            if entry.id.startswith((f"{module}.socratic.", f"{module}.mastery.")):
                assert entry.kind == "self", entry.id
            if entry.id.startswith(f"{module}.aha."):
                assert entry.kind == "text", entry.id
        status = course.item(f"{module}.status")
        assert status.kind == "choice"
        assert status.options == ["Not Started", "In Progress", "Completed"]
        assert status.satisfied_by == ["Completed"]
    checks = {}
    for check in ("python", "uv", "dependencies", "data", "workspace"):
        env = course.item(f"setup.{check}").env
        checks[check] = env.check if env else None
    assert checks == {check: check for check in checks}
    assert course.item("skills.current_level").kind == "choice"
    reflections = [e for e in course.iter_items() if e.id.startswith("reflection.")]
    assert len(reflections) == 15
    assert all(e.kind == "text" and e.multiline for e in reflections)


def test_module1_bindings_use_the_module_1_grade_ids(course: Manifest) -> None:
    expected = {
        "m1.core.opened": ("01_data_engineering", "opened", []),
        "m1.core.ran_all": ("01_data_engineering", "all_cells", []),
        "m1.core.loading": ("01_data_engineering", "cells", ["core_loading_tests"]),
        "m1.core.validation": ("01_data_engineering", "cells", ["core_validation_tests"]),
        "m1.core.polars": ("01_data_engineering", "cells", ["core_polars_tests"]),
        "m1.core.inline_exercises": (
            "01_data_engineering",
            "cells",
            ["core_loading_tests", "core_versioning_tests", "core_validation_tests", "core_polars_tests"],
        ),
        "m1.exercises.1": ("01_exercises", "cells", ["ex1_1_tests"]),
        "m1.exercises.2": ("01_exercises", "cells", ["ex1_2_tests"]),
        "m1.exercises.3": ("01_exercises", "cells", ["ex1_3_tests"]),
        "m1.checkpoint.challenge": ("01_checkpoint", "all_cells", []),
        "m1.checkpoint.validation_pipeline": ("01_checkpoint", "cells", ["cp1_schema_tests"]),
        "m1.checkpoint.caught_issues": ("01_checkpoint", "cells", ["cp1_issues_tests"]),
        "m1.checkpoint.documented": ("01_checkpoint", "answered", ["cp1_findings"]),
    }
    actual = {}
    for entry in course.iter_items():
        if entry.auto and entry.auto.assignment == "m1_data_engineering":
            actual[entry.id] = (entry.auto.notebook, entry.auto.rule, entry.auto.cells)
    assert actual == expected


def test_derived_items_count_what_the_tracker_says(course: Manifest) -> None:
    exercises = [e.id for e in course.iter_items() if re.fullmatch(r"m\d\.exercises\.\d", e.id)]
    assert len(exercises) == 15
    counted = course.item("overall.exercises_completed").derived
    assert counted is not None and counted.rule == "count" and counted.of == exercises

    modules = course.item("overall.modules_completed").derived
    assert modules is not None and modules.rule == "count_groups"
    assert modules.groups == [
        [f"{m}.exercises.1", f"{m}.exercises.2", f"{m}.exercises.3", f"{m}.checkpoint.challenge"]
        for m in MODULES
    ]
    passed = course.item("overall.checkpoints_passed").derived
    assert passed is not None and passed.of == ["ck1.status", "ck2.status", "ck3.final_score"]

    level = course.item("overall.current_level").derived
    assert level is not None and level.source == "overall.modules_completed"
    assert [(lvl.at_least, lvl.value) for lvl in level.levels] == [
        (0, "Level 0 (Beginner)"),
        (1, "Level 1 (Advanced Beginner)"),
        (4, "Level 2 (Competent)"),
        (5, "Level 3 (Proficient)"),
    ]
    for checkpoint, target in (("ck1", 16), ("ck2", 20)):
        status = course.item(f"{checkpoint}.status").derived
        score = course.item(f"{checkpoint}.score").auto
        assert status is not None and score is not None
        assert (status.rule, status.source, status.at_least) == ("threshold", f"{checkpoint}.score", target)
        assert (score.rule, score.min_score) == ("score", target)
    final = course.item("ck3.final_score").auto
    assert final is not None and (final.assignment, final.rule, final.min_score) == ("capstone", "score", 80)


def test_docs_list_every_grade_id_course_yaml_uses(course: Manifest) -> None:
    """docs/manifest.md is where module authors look up the ids; it must not drift."""
    docs = (ROOT / "docs" / "manifest.md").read_text(encoding="utf-8")
    missing = sorted(
        {
            f"{entry.auto.notebook}: {cell}"
            for entry in course.iter_items()
            if entry.auto
            for cell in entry.auto.cells
            if not re.search(rf"`{re.escape(entry.auto.notebook)}`[^\n]*`{re.escape(cell)}`", docs)
        }
    )
    assert missing == []


# --- the bindings point at real cells -------------------------------------------------------------


def test_existing_assignments_have_every_bound_cell(course: Manifest) -> None:
    """Assignments present in source/ must have every notebook and grade cell course.yaml names."""
    report = check_against_source(course, ROOT / "source")
    assert [str(e) for e in report.errors] == []
    absent = {a.id for a in course.assignments if not (ROOT / "source" / a.id).is_dir()}
    auto_of = {e.id: e.auto.assignment for e in course.iter_items() if e.auto}
    pending_assignments = {auto_of[p.item_id] for p in report.pending}
    assert pending_assignments == absent


def test_exercise_items_need_every_test_cell_of_their_exercise(course: Manifest) -> None:
    """Exercise N.M is done when all of its `exN_M_*_tests` cells pass, not just the first."""
    checked = 0
    for entry in course.iter_items():
        match = re.fullmatch(r"m(\d)\.exercises\.(\d)", entry.id)
        if not match or entry.auto is None:
            continue
        path = ROOT / "source" / entry.auto.assignment / f"{entry.auto.notebook}.ipynb"
        if not path.is_file():
            continue  # not written yet: test_existing_assignments_... reports a missing notebook
        prefix = f"ex{match[1]}_{match[2]}_"
        tests = []
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            grade_id = meta.get("grade_id", "")
            if meta.get("grade") and not meta.get("solution") and grade_id.startswith(prefix):
                tests.append(grade_id)
        assert sorted(entry.auto.cells) == sorted(tests), entry.id
        checked += 1
    assert checked >= 3, "Module 1's exercises exist, so at least three items are checked"


def _cell(grade_id: str, *, answer: bool = False, points: float = 2) -> nbformat.NotebookNode:
    meta = {
        "grade_id": grade_id,
        "grade": True,
        "solution": answer,
        "locked": not answer,
        "points": points,
        "schema_version": 3,
    }
    if answer:
        return nbformat.v4.new_markdown_cell("YOUR ANSWER HERE", metadata={"nbgrader": meta})
    return nbformat.v4.new_code_cell("assert True", metadata={"nbgrader": meta})


def build_module1(source: Path, skip: str | None = None) -> None:
    """A stand-in source/m1_data_engineering/ with exactly the grade cells Module 1 promises."""
    notebooks = {
        "01_data_engineering": [
            _cell(c)
            for c in (
                "core_loading_tests",
                "core_versioning_tests",
                "core_validation_tests",
                "core_polars_tests",
            )
        ],
        "01_exercises": [_cell(c) for c in ("ex1_1_tests", "ex1_2_tests", "ex1_3_tests")],
        "01_checkpoint": [
            _cell("cp1_schema_tests"),
            _cell("cp1_issues_tests"),
            _cell("cp1_findings", answer=True),
        ],
    }
    for name, cells in notebooks.items():
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [cell for cell in cells if cell.metadata.nbgrader["grade_id"] != skip]
        path = source / "m1_data_engineering" / f"{name}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, path)


def test_module1_bindings_match_the_promised_cells(course: Manifest, tmp_path: Path) -> None:
    build_module1(tmp_path)
    report = check_against_source(course, tmp_path)
    assert report.errors == []
    assert report.ok
    m1_items = [e.id for e in course.iter_items() if e.auto and e.auto.assignment == "m1_data_engineering"]
    assert not [p for p in report.pending if p.item_id in m1_items]
    assert len(report.pending) == sum(1 for e in course.iter_items() if e.auto) - len(m1_items)


def test_missing_cell_of_existing_assignment_is_an_error(course: Manifest, tmp_path: Path) -> None:
    build_module1(tmp_path, skip="core_versioning_tests")
    report = check_against_source(course, tmp_path)
    notebook = tmp_path / "m1_data_engineering" / "01_data_engineering.ipynb"
    assert [str(e) for e in report.errors] == [
        f"m1.core.inline_exercises: grade cell 'core_versioning_tests' not found in {notebook} "
        "(autograded test cells: core_loading_tests, core_polars_tests, core_validation_tests)"
    ]
    assert not report.ok


def test_documented_findings_must_be_a_written_answer(course: Manifest, tmp_path: Path) -> None:
    build_module1(tmp_path)
    notebook = tmp_path / "m1_data_engineering" / "01_checkpoint.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    nb.cells[-1] = _cell("cp1_findings")  # now an autograded test, not a written answer
    nbformat.write(nb, notebook)
    assert [str(e) for e in check_against_source(course, tmp_path).errors] == [
        f"m1.checkpoint.documented: rule 'answered' needs manually graded answer cells, but "
        f"'cp1_findings' in {notebook} is an autograded test cell (use rule 'cells')"
    ]


def test_absent_assignment_is_pending(course: Manifest, tmp_path: Path) -> None:
    report = check_against_source(course, tmp_path)
    assert report.ok
    assert len(report.pending) == sum(1 for e in course.iter_items() if e.auto)
    first = report.pending[0]
    assert str(first) == (
        f"m1.core.opened: assignment folder {tmp_path / 'm1_data_engineering'} does not exist yet"
    )


# --- error cases, made by breaking the real course.yaml -------------------------------------------


def test_duplicate_item_id(raw: dict[str, Any]) -> None:
    raw_item(raw, "m1.core.ran_all")["id"] = "m1.core.opened"
    assert error_of(raw) == (
        "course.yaml: sections[3].groups[0].items[1]: duplicate item id 'm1.core.opened' "
        "(first at sections[3].groups[0].items[0])"
    )


def test_self_item_with_an_auto_block(raw: dict[str, Any]) -> None:
    raw_item(raw, "m1.socratic.1")["auto"] = {
        "assignment": "m1_data_engineering",
        "notebook": "01_data_engineering",
        "rule": "opened",
    }
    assert error_of(raw) == (
        "course.yaml: sections[3].groups[2].items[0] (id m1.socratic.1): a 'self' item must not "
        "have an 'auto' block"
    )


def test_auto_item_without_its_auto_block(raw: dict[str, Any]) -> None:
    del raw_item(raw, "m1.core.ran_all")["auto"]
    assert error_of(raw) == (
        "course.yaml: sections[3].groups[0].items[1] (id m1.core.ran_all): a 'auto' item needs "
        "an 'auto' block"
    )


def test_notebook_not_in_assignment(raw: dict[str, Any]) -> None:
    raw_item(raw, "m1.core.ran_all")["auto"]["notebook"] = "01_core"
    assert error_of(raw) == (
        "course.yaml: sections[3].groups[0].items[1] (id m1.core.ran_all): auto.notebook "
        "'01_core' is not a notebook of assignment m1_data_engineering (notebooks: "
        "01_data_engineering, 01_exercises, 01_checkpoint)"
    )


def test_unknown_derived_source(raw: dict[str, Any]) -> None:
    raw_item(raw, "ck1.status")["derived"]["source"] = "ck1.quiz_score"
    assert error_of(raw) == (
        "course.yaml: sections[8].groups[0].items[5] (id ck1.status): derived references "
        "unknown item 'ck1.quiz_score'"
    )


def test_status_satisfied_by_must_be_an_option(raw: dict[str, Any]) -> None:
    raw_item(raw, "m2.status")["satisfied_by"] = ["Done"]
    assert error_of(raw) == (
        "course.yaml: sections[4].groups[5].items[0] (id m2.status): satisfied_by ['Done'] not "
        "among options ['Not Started', 'In Progress', 'Completed']"
    )


def test_load_manifest_names_the_file(raw: dict[str, Any], tmp_path: Path) -> None:
    raw_item(raw, "m1.core.ran_all")["kind"] = "self"
    path = tmp_path / "course.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        load_manifest(path)
    assert str(caught.value) == (
        f"{path}: sections[3].groups[0].items[1] (id m1.core.ran_all): a 'self' item must not "
        "have an 'auto' block"
    )


def test_breaking_one_thing_never_changes_the_valid_file(raw: dict[str, Any]) -> None:
    """The fixture is a fresh copy each time: the real course.yaml still loads afterwards."""
    broken = copy.deepcopy(raw)
    broken["sections"] = []
    parse_manifest(broken)  # an empty tracker is valid, if useless
    assert len(list(load_manifest(COURSE_YAML).iter_items())) == 237
