"""Every item kind's state, from the store, the workspace, real autograde results and env checks."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from nbcourse.nbgrader import read_db_url as read_nbgrader_db_url
from nbcourse.tracker.envchecks import EnvChecker
from nbcourse.tracker.manifest import Item, load_manifest, parse_manifest
from nbcourse.tracker.notebooks import NotebookCache
from nbcourse.tracker.results import ResultsReader
from nbcourse.tracker.states import (
    StateInputs,
    assignment_progress,
    compute_states,
    derived_order,
    is_trackable,
    summary,
)
from nbcourse.tracker.store import StoredItem
from nbcourse.tracker.wire import item_def, sections_json


def states_for(
    course: Path, stored: dict[str, Any] | None = None, student: str = "learner"
) -> dict[str, dict[str, Any]]:
    manifest = load_manifest(course / "course.yaml")
    reader = ResultsReader(read_nbgrader_db_url(course) or "", course, course / "workspace", student)
    pairs = [(a.id, nb) for a in manifest.assignments for nb in a.notebooks]
    inputs = StateInputs(
        manifest=manifest,
        stored={k: StoredItem(v, 1, "2026-11-27T10:00:00Z") for k, v in (stored or {}).items()},
        results=reader.read(pairs),
        env=EnvChecker(course, course / "workspace"),
        course_root=course,
        workspace_dir=course / "workspace",
        notebooks=NotebookCache(),
        server_root=course,
    )
    return compute_states(inputs)


def test_fresh_course_states(course_root: Path) -> None:
    s = states_for(course_root)
    assert list(s)[:2] == ["setup.env.python", "setup.env.deps"]  # manifest order
    assert s["setup.env.python"]["status"] == "ok" and s["setup.env.python"]["satisfied"]
    deps = s["setup.env.deps"]
    assert (deps["status"], deps["satisfied"], deps["detail"]) == (
        "failed",
        False,
        "no_such_module_xyz missing",
    )
    assert s["setup.env.data"]["satisfied"] and s["setup.env.workspace"]["satisfied"]
    for item_id in ("m1.core.squares", "m1.core.all", "m1.core.score"):
        assert s[item_id]["status"] == "not_attempted" and not s[item_id]["satisfied"]
        assert s[item_id]["notebook_path"] == "workspace/ps1/problem1.ipynb"
        assert "score" not in s[item_id]
    assert not s["m1.core.opened"]["satisfied"]
    assert s["m1.reflect.q1"] == {"id": "m1.reflect.q1", "rev": 0, "value": False, "satisfied": False}
    assert s["m1.reflect.status"]["value"] is None
    assert s["m1.reflect.name"]["value"] == ""
    assert s["summary.questions"]["value"] == "0 / 2" and not s["summary.questions"]["satisfied"]
    assert s["summary.ready"]["value"] == "Not yet"
    assert s["summary.level"]["value"] == "Beginner"


def test_self_check_passes_when_visible_tests_ran_without_error(
    course_root: Path, tools: SimpleNamespace
) -> None:
    nb = course_root / "workspace" / "ps1" / "problem1.ipynb"
    tools.set_solution(nb, tools.CORRECT_SOLUTION)
    tools.mark_executed(nb)
    s = states_for(course_root)
    assert s["m1.core.squares"]["status"] == "self_check_passed"
    assert not s["m1.core.squares"]["satisfied"]  # only a grade satisfies an auto item
    assert s["m1.core.all"]["status"] == "self_check_passed"
    assert s["m1.core.opened"]["satisfied"]


def test_self_check_fails_on_an_error_output(course_root: Path, tools: SimpleNamespace) -> None:
    nb = course_root / "workspace" / "ps1" / "problem1.ipynb"
    tools.mark_executed(nb, error=True)
    s = states_for(course_root)
    assert s["m1.core.squares"]["status"] == "not_attempted"
    assert s["m1.core.opened"]["satisfied"]  # it was run, just not passing


def test_graded_course_states(graded_course: Path) -> None:
    s = states_for(graded_course)
    squares = s["m1.core.squares"]
    assert squares["status"] == "graded" and squares["satisfied"]
    assert (squares["score"], squares["max_score"]) == (1.0, 1.0)
    assert squares["detail"] == "1 of 1 cells pass"
    assert squares["feedback_url"] == "course-tracker/feedback/ps1/problem1"
    assert squares["updated"] == "2026-11-27T10:00:00Z"
    assert s["m1.core.all"]["satisfied"]
    score = s["m1.core.score"]
    assert score["satisfied"] and (score["score"], score["max_score"]) == (1.0, 2.0)
    opened = s["m1.core.opened"]  # a submission is not the learner running their own copy
    assert not opened["satisfied"] and opened["status"] == "not_attempted"
    assert score["detail"] == "1 / 2 (needs 1)"
    explain = s["m1.core.explain"]
    assert explain["satisfied"] and explain["status"] == "graded"
    assert explain["detail"] == "1 of 1 answers written"


def test_wrong_solution_is_graded_but_not_satisfied(graded_course: Path, tools: SimpleNamespace) -> None:
    tools.submit(graded_course, tools.WRONG_SOLUTION)  # the written answer stays the stub
    tools.run_nbgrader(graded_course, "autograde", "ps1", "--student", "learner", "--force")
    s = states_for(graded_course)
    squares = s["m1.core.squares"]
    assert squares["status"] == "graded" and not squares["satisfied"]
    assert squares["score"] == 0.0 and squares["detail"] == "0 of 1 cells pass"
    assert not s["m1.core.score"]["satisfied"]
    assert not s["m1.core.explain"]["satisfied"]  # "YOUR ANSWER HERE" is the release stub
    assert s["m1.core.explain"]["detail"] == "0 of 1 answers written"


def test_learner_values_and_derived_items(course_root: Path) -> None:
    s = states_for(
        course_root,
        {
            "m1.reflect.q1": True,
            "m1.reflect.q2": True,
            "m1.reflect.status": "In progress",
            "m1.reflect.name": "   ",
            "m1.reflect.journal": "Learned\nthings",
        },
    )
    assert s["m1.reflect.q1"]["satisfied"] and s["m1.reflect.q1"]["rev"] == 1
    assert s["m1.reflect.q1"]["updated"] == "2026-11-27T10:00:00Z"
    assert not s["m1.reflect.status"]["satisfied"]  # only "Complete" satisfies it
    assert not s["m1.reflect.name"]["satisfied"]  # blank text is not an answer
    assert s["m1.reflect.journal"]["satisfied"]
    assert s["summary.questions"]["value"] == "2 / 2" and s["summary.questions"]["satisfied"]
    # The second group also needs the (ungraded) squares exercise.
    assert s["summary.groups"]["value"] == "1 / 2" and not s["summary.groups"]["satisfied"]
    assert s["summary.ready"]["value"] == "Ready" and s["summary.ready"]["satisfied"]
    assert s["summary.level"]["value"] == "Advanced"
    assert s["summary.level"]["detail"] == "2"
    # Trackable items only: 3 of 4 env checks, 2 ticks; the status is "In progress", the text
    # fields and the derived summaries are not counted (4 env + 5 auto + 2 self + 1 choice).
    assert summary(load_manifest(course_root / "course.yaml"), s) == {"satisfied": 5, "total": 12}


def test_choice_satisfied_by_listed_option(course_root: Path) -> None:
    s = states_for(course_root, {"m1.reflect.status": "Complete"})
    assert s["m1.reflect.status"] == {
        "id": "m1.reflect.status",
        "rev": 1,
        "updated": "2026-11-27T10:00:00Z",
        "value": "Complete",
        "satisfied": True,
    }


def _derived(item_id: str, **spec: Any) -> Item:
    return Item.model_validate({"id": item_id, "kind": "derived", "text": item_id, "derived": spec})


def test_derived_order_puts_sources_first_and_rejects_cycles() -> None:
    level = _derived("a.level", rule="level", source="a.count", levels=[{"at_least": 1, "value": "one"}])
    count = _derived("a.count", rule="count", of=["x.y"])
    assert [i.id for i in derived_order([level, count])] == ["a.count", "a.level"]
    loop_a = _derived("loop.a", rule="count", of=["loop.b"])
    loop_b = _derived("loop.b", rule="count", of=["loop.a"])
    with pytest.raises(ValueError, match=re.escape("cycle: loop.a -> loop.b -> loop.a")):
        derived_order([loop_a, loop_b])


def test_derived_item_reading_a_later_derived_item(course_root: Path) -> None:
    """A level listed before the count it reads still sees the count's final value."""
    manifest = parse_manifest(
        {
            "schema_version": 1,
            "course_id": "mini",
            "title": "Mini",
            "assignments": [],
            "sections": [
                {
                    "id": "s",
                    "title": "S",
                    "groups": [
                        {
                            "id": "s.g",
                            "title": None,
                            "items": [
                                {
                                    "id": "s.level",
                                    "kind": "derived",
                                    "text": "Level",
                                    "derived": {
                                        "rule": "level",
                                        "source": "s.count",
                                        "levels": [
                                            {"at_least": 0, "value": "low"},
                                            {"at_least": 1, "value": "high"},
                                        ],
                                    },
                                },
                                {
                                    "id": "s.count",
                                    "kind": "derived",
                                    "text": "Count",
                                    "derived": {"rule": "count", "of": ["s.tick"]},
                                },
                                {"id": "s.tick", "kind": "self", "text": "Tick"},
                            ],
                        }
                    ],
                }
            ],
        }
    )
    inputs = StateInputs(
        manifest=manifest,
        stored={"s.tick": StoredItem(True, 1, None)},
        results=ResultsReader("", course_root, course_root, "learner").read([]),
        env=EnvChecker(course_root, course_root),
        course_root=course_root,
        workspace_dir=course_root,
        notebooks=NotebookCache(),
    )
    s = compute_states(inputs)
    assert list(s) == ["s.level", "s.count", "s.tick"]
    assert s["s.level"]["value"] == "high"


def test_wire_shapes_of_sections(course_root: Path) -> None:
    manifest = load_manifest(course_root / "course.yaml")
    sections = sections_json(manifest)
    assert [sec["id"] for sec in sections] == ["setup", "m1", "summary"]
    assert sections[2]["groups"][0]["title"] is None
    assert item_def(manifest.item("m1.core.squares")) == {
        "id": "m1.core.squares",
        "kind": "auto",
        "text": "Exercise: squares",
        "counted": True,
        "assignment": "ps1",
        "notebook": "problem1",
    }
    assert item_def(manifest.item("m1.reflect.status"))["options"] == [
        "Not started",
        "In progress",
        "Complete",
    ]
    assert item_def(manifest.item("m1.reflect.journal"))["multiline"] is True
    assert "options" not in item_def(manifest.item("m1.reflect.q1"))


def test_notebook_outside_server_root_has_no_path(course_root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    shutil.copytree(course_root / "workspace", outside)
    manifest = load_manifest(course_root / "course.yaml")
    inputs = StateInputs(
        manifest=manifest,
        stored={},
        results=ResultsReader("", course_root, outside, "learner").read([]),
        env=EnvChecker(course_root, outside),
        course_root=course_root,
        workspace_dir=outside,
        notebooks=NotebookCache(),
        server_root=course_root,
    )
    assert "notebook_path" not in compute_states(inputs)["m1.core.squares"]


# ---- what a learner reads into ticks and counts (issue 14, points 3, 5, 6) -----------------------


def _inputs(course: Path) -> StateInputs:
    manifest = load_manifest(course / "course.yaml")
    reader = ResultsReader(read_nbgrader_db_url(course) or "", course, course / "workspace", "learner")
    return StateInputs(
        manifest=manifest,
        stored={},
        results=reader.read([(a.id, nb) for a in manifest.assignments for nb in a.notebooks]),
        env=EnvChecker(course, course / "workspace"),
        course_root=course,
        workspace_dir=course / "workspace",
        notebooks=NotebookCache(),
        server_root=course,
    )


def test_opened_means_the_learner_ran_their_own_copy(graded_course: Path, tools: SimpleNamespace) -> None:
    # A graded submission exists, but the learner never ran the workspace copy.
    assert not states_for(graded_course)["m1.core.opened"]["satisfied"]
    tools.mark_executed(graded_course / "workspace" / "ps1" / "problem1.ipynb")
    opened = states_for(graded_course)["m1.core.opened"]
    assert opened["satisfied"] and opened["detail"] == "cells run in your copy"
    assert opened["feedback_url"] == "course-tracker/feedback/ps1/problem1"  # still links the grade


def test_starting_level_is_not_ticked(course_root: Path) -> None:
    level = states_for(course_root)["summary.level"]
    # The lowest level (at_least 0) is where everyone starts: shown, but not a tick.
    assert level["value"] == "Beginner" and level["satisfied"] is False
    level = states_for(course_root, {"m1.reflect.q1": True})["summary.level"]
    assert level["value"] == "Intermediate" and level["satisfied"] is True


def test_summary_counts_only_trackable_items(course_root: Path) -> None:
    manifest = load_manifest(course_root / "course.yaml")
    filled = states_for(
        course_root,
        {
            "m1.reflect.name": "Ada",
            "m1.reflect.journal": "Notes",
            "m1.reflect.q1": True,
        },
    )
    # Filling in name and journal changes nothing; the tick counts.
    assert summary(manifest, filled) == {"satisfied": 4, "total": 12}
    assert summary(manifest, states_for(course_root)) == {"satisfied": 3, "total": 12}
    counted = {i.id for i in manifest.iter_items() if is_trackable(i)}
    assert "m1.reflect.status" in counted  # a choice with satisfied_by is a step
    assert not counted & {"m1.reflect.name", "m1.reflect.journal", "summary.level"}
    # the sidebar's section counts read the same rule from the wire
    defs = {d["id"]: d for s in sections_json(manifest) for g in s["groups"] for d in g["items"]}
    assert {i for i, d in defs.items() if d["counted"]} == counted


def test_notebook_path_only_when_the_notebook_exists(course_root: Path) -> None:
    (course_root / "workspace" / "ps1" / "problem1.ipynb").unlink()
    squares = states_for(course_root)["m1.core.squares"]
    # Released but not copied into the workspace: available, but no link that would 404.
    assert squares["available"] is True and "notebook_path" not in squares


def test_assignment_state_follows_the_learner(course_root: Path, tools: SimpleNamespace) -> None:
    ps1 = load_manifest(course_root / "course.yaml").assignments[0]
    assert assignment_progress(_inputs(course_root), ps1) == {"available": True, "state": "not_started"}
    tools.mark_executed(course_root / "workspace" / "ps1" / "problem1.ipynb")
    assert assignment_progress(_inputs(course_root), ps1)["state"] == "started"


def test_assignment_state_graded_is_not_complete_below_full_marks(graded_course: Path) -> None:
    ps1 = load_manifest(graded_course / "course.yaml").assignments[0]
    # The fixture's grade: the test cell passes (1) but the written answer awaits manual grading.
    progress = assignment_progress(_inputs(graded_course), ps1)
    assert progress == {"available": True, "state": "graded", "score": 1.0, "max_score": 2.0}
