"""Compute every tracker item's state (the `ItemState` wire type) from what the learner did.

Inputs: the manifest (what each item means), the store (ticks, choices, text), the autograde
results (gradebook or fetched feedback), the learner's workspace notebooks, and env checks.
`derived` items are computed last, in dependency order, because they summarise other items.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..nbgrader import NbgraderCourse, NotebookGrade, cell_text, cells_by_grade_id, test_cell_ids
from .envchecks import EnvChecker
from .manifest import Assignment, Item, Manifest, is_trackable
from .notebooks import NotebookCache
from .results import Results
from .store import EMPTY, StoredItem
from .wire import feedback_url

ItemState = dict[str, Any]


@dataclass
class StateInputs:
    """Everything `compute_states` reads, gathered so the function itself stays pure."""

    manifest: Manifest
    stored: Mapping[str, StoredItem]
    results: Results
    env: EnvChecker
    course_root: Path
    workspace_dir: Path
    notebooks: NotebookCache
    server_root: Path | None = None
    # The course's nbgrader folders; loaded from course_root when not given.
    nbgrader: NbgraderCourse | None = None
    # assignment id -> available, computed once per state computation
    _available: dict[str, bool] = field(default_factory=dict, repr=False)

    def course(self) -> NbgraderCourse:
        if self.nbgrader is None:
            self.nbgrader = NbgraderCourse.load(self.course_root)
        return self.nbgrader

    def available(self, assignment: str) -> bool:
        """`assignment_available`, asked once per assignment and computation."""
        if assignment not in self._available:
            self._available[assignment] = assignment_available(self.course(), self.workspace_dir, assignment)
        return self._available[assignment]


def assignment_available(course: NbgraderCourse, workspace_dir: Path, assignment: str) -> bool:
    """The assignment exists for this learner: it has a source, release or workspace folder.

    A manifest lists every module of the course, written or not; one without any folder is
    "coming soon" (no notebook to open, nothing to check)."""
    folders = (workspace_dir / assignment, course.release_dir(assignment), course.source_dir(assignment))
    return any(folder.is_dir() for folder in folders)


def _num(value: float) -> str:
    return f"{value:g}"


def _iso(grade: NotebookGrade) -> str | None:
    if grade.submitted is None:
        return None
    return grade.submitted.isoformat(timespec="seconds").replace("+00:00", "Z")


# ---- the learner's own notebooks -----------------------------------------------------------------


def _has_error(cell: Any) -> bool:
    return any(out.get("output_type") == "error" for out in cell.get("outputs", []))


def self_check_passed(nb: Any, grade_ids: list[str]) -> bool:
    """True when every listed cell was run in the learner's notebook and raised no error.

    Visible tests are plain asserts, so a test cell that ran without an error output passed.
    """
    if nb is None or not grade_ids:
        return False
    cells = cells_by_grade_id(nb)
    for grade_id in grade_ids:
        cell = cells.get(grade_id)
        if cell is None or cell.get("execution_count") is None or _has_error(cell):
            return False
    return True


def was_opened(nb: Any) -> bool:
    """The learner ran at least one code cell of their own copy of the notebook.

    Only the learner's workspace copy counts: a submission or an autograded copy was executed by
    the grader, so it says nothing about whether the learner opened the notebook."""
    return nb is not None and any(
        cell.cell_type == "code" and cell.get("execution_count") is not None for cell in nb.cells
    )


# ---- auto items ----------------------------------------------------------------------------------


class AutoEvaluator:
    def __init__(self, inputs: StateInputs) -> None:
        self.inputs = inputs

    def _workspace_nb_path(self, assignment: str, notebook: str) -> Path:
        return self.inputs.workspace_dir / assignment / f"{notebook}.ipynb"

    def _relative_to_server(self, path: Path) -> str | None:
        root = self.inputs.server_root
        if root is None:
            return None
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return None  # outside the server's root: the frontend cannot open it anyway

    def evaluate(self, item: Item) -> ItemState:
        spec = item.auto
        ws_path = self._workspace_nb_path(spec.assignment, spec.notebook)
        ws_nb = self.inputs.notebooks.read(ws_path)
        available = self.inputs.available(spec.assignment)
        state: ItemState = {"id": item.id, "satisfied": False, "value": None, "rev": 0}
        state["available"] = available
        if not available:
            state["status"] = "not_attempted"
            state["detail"] = "coming soon"
            return state
        rel = self._relative_to_server(ws_path)
        # Only a notebook that exists gets a path: the sidebar links it, and a link must open.
        if rel is not None and ws_path.is_file():
            state["notebook_path"] = rel
        grade = self.inputs.results.get(spec.assignment, spec.notebook)

        if spec.rule == "opened":
            opened = was_opened(ws_nb)
            state["satisfied"] = opened
            state["status"] = "self_check_passed" if opened else "not_attempted"
            state["detail"] = "cells run in your copy" if opened else "no cell run in your copy yet"
            return self._with_grade_links(state, grade)

        if spec.rule == "answered":
            return self._answered(item, state, grade, ws_nb)

        if grade is None:
            ids = list(spec.cells or []) if spec.rule == "cells" else (test_cell_ids(ws_nb) if ws_nb else [])
            if self_check_passed(ws_nb, ids):
                state["status"] = "self_check_passed"
                state["detail"] = "visible tests pass; not graded yet"
            else:
                state["status"] = "not_attempted"
                state["detail"] = "not graded yet"
            return state

        state.update(graded_state(spec, grade))
        return self._with_grade_links(state, grade)

    def _with_grade_links(self, state: ItemState, grade: NotebookGrade | None) -> ItemState:
        if grade is None:
            return state
        updated = _iso(grade)
        if updated:
            state["updated"] = updated
        if grade.feedback_path is not None:
            state["feedback_url"] = feedback_url(grade.assignment, grade.notebook)
        return state

    def _answered(self, item: Item, state: ItemState, grade: NotebookGrade | None, ws_nb: Any) -> ItemState:
        """Every listed answer cell is non-empty and differs from the release's stub."""
        spec = item.auto
        # The latest submission is the autograded copy when there is one; a cohort student's
        # fetched feedback has no notebook, so their own workspace copy stands in for it.
        submitted_nb = (
            self.inputs.notebooks.read(grade.submission_path)
            if grade is not None and grade.submission_path is not None
            else None
        )
        answers_nb = submitted_nb if submitted_nb is not None else ws_nb
        release_nb = self.inputs.notebooks.read(
            self.inputs.course().release_dir(spec.assignment) / f"{spec.notebook}.ipynb"
        )
        stubs = cells_by_grade_id(release_nb) if release_nb is not None else {}
        answers = cells_by_grade_id(answers_nb) if answers_nb is not None else {}
        ids = list(spec.cells or [])
        written = 0
        for grade_id in ids:
            cell = answers.get(grade_id)
            if cell is None:
                continue
            text = cell_text(cell).strip()
            stub = cell_text(stubs[grade_id]).strip() if grade_id in stubs else None
            if text and text != stub:
                written += 1
        state["satisfied"] = bool(ids) and written == len(ids)
        state["detail"] = f"{written} of {len(ids)} answers written"
        if grade is not None and submitted_nb is not None:
            state["status"] = "graded"
        else:
            state["status"] = "self_check_passed" if state["satisfied"] else "not_attempted"
        return self._with_grade_links(state, grade)


def graded_state(spec: Any, grade: NotebookGrade) -> ItemState:
    """status/score/max_score/satisfied/detail of a `score`, `cells` or `all_cells` item, from its grade.

    Pure: the learner's sidebar and the instructor's cohort view both judge an item by this.
    """
    state: ItemState = {"status": "graded"}
    if spec.rule == "score":
        state["score"], state["max_score"] = grade.score, grade.max_score
        state["satisfied"] = grade.score >= float(spec.min_score or 0)
        state["detail"] = f"{_num(grade.score)} / {_num(grade.max_score)}" + (
            f" (needs {_num(spec.min_score)})" if spec.min_score is not None else ""
        )
        return state
    tests = [g for g, c in grade.cells.items() if c.kind == "test"]
    ids = list(spec.cells or []) if spec.rule == "cells" else tests
    cells = [grade.cells.get(g) for g in ids]
    present = [c for c in cells if c is not None]
    passing = sum(1 for c in present if c.full_marks)
    state["score"] = sum(c.score for c in present)
    state["max_score"] = sum(c.max_score for c in present)
    state["satisfied"] = bool(ids) and passing == len(ids)
    missing = [g for g, c in zip(ids, cells, strict=True) if c is None]
    detail = f"{passing} of {len(ids)} cells pass"
    if missing:
        detail += f"; not in the grade: {', '.join(missing)}"
    if any(c.needs_manual_grade for c in present):
        detail += "; waiting for manual grading"
    state["detail"] = detail
    return state


# ---- learner-entered items -----------------------------------------------------------------------


def _entered_state(item: Item, stored: StoredItem) -> ItemState:
    state: ItemState = {"id": item.id, "rev": stored.rev}
    if stored.updated:
        state["updated"] = stored.updated
    value = stored.value
    if item.kind == "self":
        state["value"] = value is True
        state["satisfied"] = value is True
    elif item.kind == "choice":
        chosen = value if isinstance(value, str) and value else None
        accepted = list(item.satisfied_by or item.options or [])
        state["value"] = chosen
        state["satisfied"] = chosen is not None and chosen in accepted
    else:  # text
        text = value if isinstance(value, str) else ""
        state["value"] = text
        state["satisfied"] = bool(text.strip())
    return state


# ---- derived items -------------------------------------------------------------------------------


def _dependencies(item: Item) -> list[str]:
    spec = item.derived
    deps: list[str] = list(spec.of or [])
    for group in spec.groups or []:
        deps.extend(group)
    if spec.source:
        deps.append(spec.source)
    return deps


def derived_order(items: list[Item]) -> list[Item]:
    """Derived items ordered so every item comes after the derived items it reads."""
    by_id = {item.id: item for item in items}
    ordered: list[Item] = []
    state: dict[str, str] = {}

    def visit(item: Item, path: list[str]) -> None:
        mark = state.get(item.id)
        if mark == "done":
            return
        if mark == "visiting":
            cycle = " -> ".join([*path[path.index(item.id) :], item.id])
            raise ValueError(f"derived items depend on each other in a cycle: {cycle}")
        state[item.id] = "visiting"
        for dep in _dependencies(item):
            if dep in by_id:
                visit(by_id[dep], [*path, item.id])
        state[item.id] = "done"
        ordered.append(item)

    for item in items:
        visit(item, [])
    return ordered


def _numeric(state: ItemState | None, counts: Mapping[str, float]) -> float:
    """The number a threshold/level reads from its source item."""
    if state is None:
        return 0.0
    if state["id"] in counts:
        return counts[state["id"]]
    if isinstance(state.get("score"), (int, float)):
        return float(state["score"])
    return 1.0 if state.get("satisfied") else 0.0


def _derived_state(item: Item, states: Mapping[str, ItemState], counts: dict[str, float]) -> ItemState:
    spec = item.derived
    state: ItemState = {"id": item.id, "rev": 0}

    def satisfied(item_id: str) -> bool:
        return bool(states.get(item_id, {}).get("satisfied"))

    if spec.rule in ("count", "count_groups"):
        if spec.rule == "count":
            ids = list(spec.of or [])
            n, total = sum(1 for i in ids if satisfied(i)), len(ids)
        else:
            groups = [list(g) for g in spec.groups or []]
            n = sum(1 for g in groups if g and all(satisfied(i) for i in g))
            total = len(groups)
        counts[item.id] = float(n)
        state["value"] = f"{n} / {total}"
        state["satisfied"] = total > 0 and n == total
    elif spec.rule == "threshold":
        source = _numeric(states.get(spec.source), counts)
        met = source >= float(spec.at_least)
        counts[item.id] = source
        state["value"] = spec.then if met else spec.else_
        state["satisfied"] = met
        state["detail"] = f"{_num(source)} (needs {_num(float(spec.at_least))})"
    else:  # level
        source = _numeric(states.get(spec.source), counts)
        counts[item.id] = source
        reached = [lvl for lvl in spec.levels or [] if float(lvl.at_least) <= source]
        best = max(reached, key=lambda lvl: float(lvl.at_least)) if reached else None
        state["value"] = best.value if best else None
        # The starting level is where everyone is before doing anything: no tick for it.
        state["satisfied"] = best is not None and source > 0
        state["detail"] = _num(source)
    return state


# ---- everything ----------------------------------------------------------------------------------


def required_items(manifest: Manifest, item_ids: Iterable[str]) -> set[str]:
    """`item_ids` and every item their derived rules read, transitively: what computing their
    states needs (an edited checkbox needs only itself; a derived count needs what it counts)."""
    needed: set[str] = set()
    todo = list(item_ids)
    while todo:
        item_id = todo.pop()
        if item_id in needed:
            continue
        needed.add(item_id)
        item = manifest.item(item_id)
        if item.kind == "derived":
            todo.extend(_dependencies(item))
    return needed


def compute_states(inputs: StateInputs, only: Iterable[str] | None = None) -> dict[str, ItemState]:
    """Every item's state (or those of `only` and what they need), keyed by id, in manifest order."""
    auto = AutoEvaluator(inputs)
    items = list(inputs.manifest.iter_items())
    if only is not None:
        needed = required_items(inputs.manifest, only)
        items = [item for item in items if item.id in needed]
    states: dict[str, ItemState] = {}
    evaluators: dict[str, Callable[[Item], ItemState]] = {
        "auto": auto.evaluate,
        "env": lambda item: _env_state(item, inputs.env),
        "self": lambda item: _entered_state(item, inputs.stored.get(item.id, EMPTY)),
        "choice": lambda item: _entered_state(item, inputs.stored.get(item.id, EMPTY)),
        "text": lambda item: _entered_state(item, inputs.stored.get(item.id, EMPTY)),
    }
    for item in items:
        if item.kind != "derived":
            states[item.id] = evaluators[item.kind](item)
    counts: dict[str, float] = {}
    for item in derived_order([i for i in items if i.kind == "derived"]):
        states[item.id] = _derived_state(item, states, counts)
    return {item.id: states[item.id] for item in items}


def _env_state(item: Item, env: EnvChecker) -> ItemState:
    ok, detail = env.run(item.env.check, item.env.args)
    return {
        "id": item.id,
        "satisfied": ok,
        "value": None,
        "rev": 0,
        "status": "ok" if ok else "failed",
        "detail": detail,
    }


def summary(manifest: Manifest, states: Mapping[str, ItemState]) -> dict[str, int]:
    """How many trackable items (`is_trackable`) are satisfied, of how many."""
    counted = [item.id for item in manifest.iter_items() if is_trackable(item)]
    return {
        "satisfied": sum(1 for i in counted if states.get(i, {}).get("satisfied")),
        "total": len(counted),
    }


def assignment_progress(inputs: StateInputs, assignment: Assignment) -> dict[str, Any]:
    """`available`, `state` and (once graded) `score`/`max_score` of one assignment, for its badge.

    state: coming_soon (no folder yet), not_started, started (the learner ran cells of their
    own copy), graded (a grade below full marks, 0 included) or complete (full marks).
    """
    if not inputs.available(assignment.id):
        return {"available": False, "state": "coming_soon"}
    grades = [g for nb in assignment.notebooks if (g := inputs.results.get(assignment.id, nb)) is not None]
    if grades:
        score = sum(g.score for g in grades)
        max_score = sum(g.max_score for g in grades)
        complete = len(grades) == len(assignment.notebooks) and max_score > 0 and score >= max_score
        return {
            "available": True,
            "state": "complete" if complete else "graded",
            "score": score,
            "max_score": max_score,
        }
    started = any(
        was_opened(inputs.notebooks.read(inputs.workspace_dir / assignment.id / f"{nb}.ipynb"))
        for nb in assignment.notebooks
    )
    return {"available": True, "state": "started" if started else "not_started"}
