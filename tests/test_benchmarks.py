"""The grading benchmarks' own logic: arguments, the cohort they grade, the figures they print.

Running them, even at their smallest size, grades Module 1 with stock nbgrader (well over a
minute on 2 cores), so this tests what can go wrong without a grading: the cohort's size and
make-up, and the arithmetic of the printed figures.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from notebooks import RELEASE, ROOT, SOURCE

M1 = "m1_data_engineering"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def grade_speed() -> ModuleType:
    return load("grade_speed")


@pytest.fixture(scope="module")
def check_my_work() -> ModuleType:
    return load("check_my_work")


def test_the_cohort_has_enough_complete_students_with_distinct_ids(grade_speed: ModuleType) -> None:
    assert [s.student for s in grade_speed.full_cohort(SOURCE / M1, RELEASE / M1, 2)] == [
        "reference",
        "blank",
    ]
    subs = grade_speed.full_cohort(SOURCE / M1, RELEASE / M1, 150)
    notebooks = {p.stem for p in (SOURCE / M1).glob("*.ipynb")}
    ids = [s.student for s in subs]
    assert len(subs) == 150 and len(set(ids)) == len(ids)
    assert {"reference", "blank", "reference-2"} <= set(ids)
    assert all(set(s.notebooks) == notebooks for s in subs)
    # A wrong-answer student differs from the reference in the notebook of the mistake only.
    reference = next(s for s in subs if s.student == "reference").notebooks
    wrong = next(s for s in subs if s.student.startswith("01_exercises-"))
    assert wrong.notebooks["01_checkpoint"] is reference["01_checkpoint"]
    assert wrong.notebooks["01_exercises"] is not reference["01_exercises"]
    # Twenty students already hold mistakes of every notebook.
    first = [s.student for s in subs[:20]]
    assert all(any(i.startswith(f"{nb}-") for i in first) for nb in notebooks)


def test_overheads_limit_and_ratio(grade_speed: ModuleType) -> None:
    stock = grade_speed.Run("nbgrader autograde", 200.0, 60, 50.0, 200.0, 1)
    ours = grade_speed.Run("course grade", 40.0, 60, 54.0, 66.0, 2)
    assert stock.overhead_in_worker() == pytest.approx(2.5)
    assert ours.overhead_in_worker() == pytest.approx(0.2)
    assert ours.overhead_end_to_end() == pytest.approx((80.0 - 54.0) / 60)
    text = "\n".join(grade_speed.report_lines(stock, ours, 2))
    assert "5.0x stock" in text
    assert "= 54.0 s / 2 = 27.0 s" in text and "at best 7.4x stock" in text


def test_arguments(grade_speed: ModuleType, check_my_work: ModuleType) -> None:
    args = grade_speed.parse_args([])
    assert (args.students, args.assignment, args.workers) == (20, M1, None)
    assert grade_speed.parse_args(["--students", "2", "--workers", "1"]).students == 2
    with pytest.raises(SystemExit):
        grade_speed.parse_args(["--students", "0"])
    assert check_my_work.parse_args([]).repeat == 3
    with pytest.raises(SystemExit):
        check_my_work.parse_args(["--repeat", "0"])


def test_check_my_work_figures(check_my_work: ModuleType) -> None:
    lines = check_my_work.report_lines(40.0, [9.0, 8.0, 12.0], 11.5, [1.0, 2.5, 3.0])
    text = "\n".join(lines)
    assert "40.0 s" in text and "median of 3" in text and " 9.0 s" in text
    assert "ratio: 4.4x" in text
    assert "6.5 s in all, 3.0 s in the longest notebook" in text
    assert "11.5 s" in text
