"""The hostile corpus, graded by `course grade` in ONE batch (issue 12).

Every submission of tests/hostile/c<N>_*.yaml (see tests/hostile/corpus.py) plus two honest
victims, `aa_victim` graded before every attacker and `zz_victim` after, go through one
`grade_assignment` call with the sandbox on (bubblewrap, per-kernel namespaces, cgroups). One test
per class of the issue checks the scores every spec states, the review flags, that no hidden test
or answer key reached an output, and the side effects (other students, course folders, leftovers).
tests/hostile/BASELINE.md records what stock nbgrader does with the same corpus.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from grading.compare import all_grades
from hostile.corpus import (
    ASSIGNMENT,
    VICTIM_NOTEBOOKS,
    VICTIMS,
    Spec,
    judge,
    load_corpus,
    max_scores,
    submit_corpus,
)

from nbcourse.grading import sandbox
from notebooks import DATA, make_course

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        sys.platform != "linux" or os.geteuid() != 0 or not sandbox.bwrap_works("bwrap"),
        reason="the full sandbox needs Linux, root and bubblewrap (.ci/run installs bubblewrap)",
    ),
]

# Places a kernel might leave files if it were not confined (class 8 writes a marker into each).
OUTSIDE = [Path("/tmp"), Path("/dev/shm"), Path("/var/tmp"), Path.home()]
MARKERS = ("c8_marker", ".c8_marker", "c8_left_")


@dataclass
class Batch:
    course: Path
    specs: list[Spec]
    grades: dict[str, dict[str, dict[str, float | None]]]  # student -> notebook -> grade_id -> score
    problems: dict[str, list[str]]
    before: dict[str, str]  # course files (outside autograded/, feedback/) -> sha256, before grading
    after: dict[str, str]
    leftovers: list[str]


def _tree(course: Path) -> dict[str, str]:
    """Every course file a grader must not change: all but its own outputs and bookkeeping."""
    skip = ("autograded", "feedback", ".nbcourse")
    found = {}
    for path in sorted(course.rglob("*")):
        rel = path.relative_to(course)
        if rel.parts[0] in skip or rel.name.startswith("gradebook.db") or not path.is_file():
            continue
        found[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _outside_markers() -> set[str]:
    names: set[str] = set()
    for folder in OUTSIDE:
        with contextlib.suppress(OSError):
            names |= {p.name for p in folder.iterdir() if p.name.startswith(MARKERS)}
    return names


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    from nbcourse.grading.grader import grade_assignment
    from nbcourse.nbgrader import NbgraderCourse

    specs = load_corpus()
    root = make_course(tmp_path_factory.mktemp("hostile"), ASSIGNMENT)
    course = NbgraderCourse.load(root)
    submit_corpus(
        root, specs, course.step_root(course.coursedir.submitted_directory), course.release_dir(ASSIGNMENT)
    )
    before = _tree(root)
    markers_before = _outside_markers()
    saved = {k: os.environ.get(k) for k in ("COURSE_DATA_DIR", "COURSE_DB_URL")}
    os.environ["COURSE_DATA_DIR"] = str(DATA)
    os.environ.pop("COURSE_DB_URL", None)
    try:
        report = grade_assignment(root, ASSIGNMENT, workers=2)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert not report.interrupted
    grades: dict[str, dict[str, dict[str, float | None]]] = {}
    for (student, notebook, gid), (score, _max, _manual) in all_grades(
        root / "gradebook.db", ASSIGNMENT
    ).items():
        grades.setdefault(student, {}).setdefault(notebook, {})[gid] = score
    return Batch(
        root,
        specs,
        grades,
        {k: list(v) for k, v in report.problems.items()},
        before,
        _tree(root),
        sorted(_outside_markers() - markers_before),
    )


def _outputs_text(course: Path, student: str, notebook: str) -> str:
    from nbcourse.nbgrader import NbgraderCourse

    path = NbgraderCourse.load(course).autograded_dir(student, ASSIGNMENT) / f"{notebook}.ipynb"
    if not path.is_file():
        return ""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return json.dumps([c.get("outputs", []) for c in nb["cells"]])


def _check_class(batch: Batch, klass: int) -> None:
    specs = [s for s in batch.specs if s.klass == klass]
    assert specs, f"the corpus has no submission of class {klass}"
    wrong = []
    for spec in specs:
        # Written answers wait for a human grade (None): only what the grader scores is judged.
        graded = batch.grades.get(spec.student, {}).get(spec.notebook, {})
        got = {gid: score for gid, score in graded.items() if score is not None}
        if not got:
            wrong.append(f"{spec.name}: not graded ({batch.problems.get(spec.student)})")
            continue
        wrong += [f"{spec.name}: {w}" for w in judge(spec, got)]
        if spec.flagged and not any("Flagged for review" in p for p in batch.problems.get(spec.student, [])):
            wrong.append(f"{spec.name}: not flagged for review ({batch.problems.get(spec.student)})")
        text = _outputs_text(batch.course, spec.student, spec.notebook)
        wrong += [f"{spec.name}: output shows {t!r}" for t in spec.no_output if t in text]
    assert not wrong, f"class {klass} graded wrong:\n" + "\n".join(wrong)


def test_the_victims_keep_full_marks(batch: Batch) -> None:
    for victim in VICTIMS:
        for notebook in VICTIM_NOTEBOOKS:
            full = max_scores(notebook)
            got = batch.grades[victim][notebook]
            # Written answers are graded by hand: only auto-graded cells are compared.
            auto = {g: s for g, s in got.items() if s is not None}
            assert auto and all(auto[g] == full[g] for g in auto), f"{victim}/{notebook}: {got}"
        assert victim not in batch.problems, batch.problems[victim]


@pytest.mark.parametrize("klass", [1, 3, 5, 6, 7])
def test_each_class_is_graded_right(batch: Batch, klass: int) -> None:
    _check_class(batch, klass)


def test_class_2_no_student_affects_another(batch: Batch) -> None:
    _check_class(batch, 2)
    changed = sorted(
        k for k in set(batch.before) | set(batch.after) if batch.before.get(k) != batch.after.get(k)
    )
    assert not changed, f"grading changed course files: {changed}"


def test_class_4_hidden_tests_and_keys_stay_out_of_reach(batch: Batch) -> None:
    _check_class(batch, 4)
    key = (DATA / "instructor" / "pokemon_drop_v2_issues.json").read_text(encoding="utf-8")
    sample = json.dumps(json.loads(key)[0]["row_ids"][:3])[1:-1]
    for spec in batch.specs:
        assert sample not in _outputs_text(batch.course, spec.student, spec.notebook), spec.name


def test_class_8_grading_leaves_nothing_behind(batch: Batch) -> None:
    _check_class(batch, 8)
    assert not batch.leftovers, f"files left outside the course: {batch.leftovers}"
    stray = [k for k in batch.after if k not in batch.before]
    assert not stray, f"new files outside autograded/ and feedback/: {stray}"
