"""Reading every grade of an assignment out of a gradebook, and comparing two gradebooks cell by cell."""

from __future__ import annotations

from pathlib import Path

Grades = dict[tuple[str, str, str], tuple[float | None, float, bool]]


def all_grades(db_file: Path, assignment: str) -> Grades:
    """(student, notebook, grade_id) -> (auto_score, max_score, needs_manual_grade)."""
    from nbcourse.nbgrader import open_gradebook

    found: Grades = {}
    with open_gradebook(f"sqlite:///{db_file}") as gb:
        for submission in gb.assignment_submissions(assignment):
            for nb in submission.notebooks:
                for grade in nb.grades:
                    found[(submission.student.id, nb.name, grade.name)] = (
                        grade.auto_score,
                        grade.max_score,
                        bool(grade.needs_manual_grade),
                    )
    return found


def differences(stock: Grades, ours: Grades) -> list[str]:
    lines = []
    for key in sorted(set(stock) | set(ours)):
        if stock.get(key) != ours.get(key):
            lines.append(f"{'/'.join(key)}: stock {stock.get(key)} vs course grade {ours.get(key)}")
    return lines
