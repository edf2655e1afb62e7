"""The nbgrader gradebook: reading a student's grades, and knowing whether it can grade yet.

Reads go through nbgrader's own ORM classes (`nbgrader.api`), so the schema is nbgrader's, not a
copy of it. Only `read_student_grades` and `gradebook_up_to_date` open the database; both end
their transaction before returning, because an open read would keep nbgrader from writing SQLite.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from .cells import cells_by_grade_id, nbgrader_meta, read_notebook
from .course import NbgraderCourse
from .feedback import as_utc
from .grades import CellGrade, CellKind, GradeColumn, GradeTable, NotebookGrade
from .runner import DEFAULT_RUN, RunOptions, generate_assignment


def sqlite_file(db_url: str) -> Path | None:
    """The database file when the gradebook is SQLite, else None."""
    if not db_url:
        return None
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite":
        return None
    return Path(url.database or "")


def gradebook_exists(db_url: str) -> bool:
    """False when a SQLite gradebook has no file yet (never let nbgrader create one by looking)."""
    if not db_url:
        return False
    db_file = sqlite_file(db_url)
    return db_file is None or db_file.is_file()


def open_gradebook(db_url: str) -> Any:
    """An `nbgrader.api.Gradebook` (opening one builds an engine and inspects the schema: reuse it)."""
    from nbgrader.api import Gradebook  # slow import; only once a database exists

    return Gradebook(db_url)


def read_student_grades(
    gradebook: Any, course: NbgraderCourse, student: str, assignments: Iterable[str]
) -> dict[tuple[str, str], NotebookGrade] | None:
    """Every graded notebook of `student` in `assignments`; None when the gradebook lacks the student."""
    from nbgrader.api import Student

    session = gradebook.db
    try:
        if session.get(Student, student) is None:
            return None
    finally:
        session.rollback()
    return read_grades(gradebook, course, assignments, student=student).get(student, {})


def read_grades(
    gradebook: Any,
    course: NbgraderCourse,
    assignments: Iterable[str],
    *,
    student: str | None = None,
    with_paths: bool = True,
) -> dict[str, dict[tuple[str, str], NotebookGrade]]:
    """Every graded notebook in `assignments`, by student (one student, or the whole cohort).

    Three small statements whatever the number of students (walking the ORM objects instead costs
    a query per grade: ~0.4 s for one learner's full course, minutes for a cohort). `with_paths`
    looks up each notebook's feedback page and autograded copy on disk. A whole-cohort view reads
    `read_grade_table` instead: the same statements, into arrays.
    """
    statements = _GradeStatements(list(assignments), student)
    session = gradebook.db
    try:
        notebooks = {row[0]: row[1:] for row in session.execute(statements.submissions).all()}
        cells = _cell_kinds(session.execute(statements.cells).all())
        rows = _raw_rows(session, statements.grades)
    finally:
        # End the read transaction: an open one would keep nbgrader from writing SQLite.
        session.rollback()

    by_notebook: dict[str, dict[str, CellGrade]] = {}
    # Equal grades are one object: a cohort repeats few (cell, score) outcomes.
    interned: dict[tuple[str, float, bool], CellGrade] = {}
    for nb_id, cell_id, total, manual in rows:
        if nb_id not in notebooks:
            continue
        value = float(total) if total is not None else 0.0
        key = (cell_id, value, bool(manual))
        cell = interned.get(key)
        if cell is None:
            column = cells[cell_id].column
            cell = CellGrade(column.grade_id, value, column.max_score, column.kind, bool(manual))
            interned[key] = cell
        by_notebook.setdefault(nb_id, {})[cell.grade_id] = cell

    found: dict[str, dict[tuple[str, str], NotebookGrade]] = {}
    stamps: dict[Any, Any] = {}  # one aware timestamp per submission, shared by its notebooks
    for nb_id, graded in by_notebook.items():
        who, assignment, name, when = notebooks[nb_id]
        feedback = autograded = None
        if with_paths:
            feedback = course.feedback_dir(who, assignment) / f"{name}.html"
            autograded = course.autograded_dir(who, assignment) / f"{name}.ipynb"
        found.setdefault(who, {})[(assignment, name)] = NotebookGrade(
            assignment=assignment,
            notebook=name,
            # As nbgrader's SubmittedNotebook.score / max_score: sums over the grade cells.
            score=sum(c.score for c in graded.values()),
            max_score=sum(c.max_score for c in graded.values()),
            cells=graded,
            submitted=stamps.get(when) or stamps.setdefault(when, as_utc(when)),
            feedback_path=feedback if feedback is not None and feedback.is_file() else None,
            submission_path=autograded if autograded is not None and autograded.is_file() else None,
        )
    return found


def read_grade_table(gradebook: Any, assignments: Iterable[str]) -> GradeTable:
    """Every grade of every student in `assignments`, as a students x grade cells table.

    The statements are `read_grades`'; the ~10^5 grade rows of a 500-student cohort go straight
    from the driver into arrays (two list lookups a row), with no object per grade.
    """
    import numpy as np

    statements = _GradeStatements(list(assignments), None)
    session = gradebook.db
    try:
        owners = _raw_rows(session, statements.owners)
        cells = _cell_kinds(session.execute(statements.cells).all())
        rows = _raw_rows(session, statements.scores)
        waiting = _raw_rows(session, statements.waiting)
        stamps = _raw_rows(session, statements.timestamps)
        dialect = session.connection().dialect
    finally:
        session.rollback()  # never leave a read open: nbgrader must be able to write SQLite
    # bare rows hold the driver's value: convert as SQLAlchemy would (SQLite stores text)
    convert = statements.timestamp_type.dialect_impl(dialect).result_processor(dialect, None)
    submitted = {
        (who, assignment): as_utc(convert(when) if convert is not None and when is not None else when)
        for who, assignment, when in stamps
    }

    students = sorted({who for _, who in owners})
    student_row = {who: index for index, who in enumerate(students)}
    # -1 for a grade of an assignment not asked for (the bare read has every assignment's rows);
    # lookups through the bound `__getitem__` keep the ~10^5-row loops in C.
    notebook_row = defaultdict(lambda: -1, {nb_id: student_row[who] for nb_id, who in owners})
    # Columns in the course's order: assignments as asked, then notebook, then the cells' order.
    order = {name: index for index, name in enumerate(statements.wanted)}
    graded_ids = sorted(
        (cell_id for cell_id, column in cells.items() if column.graded),
        key=lambda cell_id: (order.get(cells[cell_id].column.assignment, 0), cells[cell_id].position),
    )
    column_of = defaultdict(lambda: -1, {cell_id: index for index, cell_id in enumerate(graded_ids)})

    def places(found: list[tuple[Any, ...]]) -> tuple[Any, Any, Any]:
        """Table rows and columns of grade rows (notebook id, cell id, ...), and which are wanted."""
        at_row = np.fromiter(map(notebook_row.__getitem__, map(itemgetter(0), found)), np.intp, len(found))
        at_column = np.fromiter(map(column_of.__getitem__, map(itemgetter(1), found)), np.intp, len(found))
        wanted = (at_row >= 0) & (at_column >= 0)  # other assignments' rows are in the bare read
        return at_row[wanted], at_column[wanted], wanted

    score = np.full((len(students), len(graded_ids)), np.nan)
    manual = np.zeros(score.shape, dtype=bool)
    if rows:
        at_row, at_column, wanted = places(rows)
        # nbgrader's score is 0 when a grade has neither an auto nor a manual score (None: NaN here)
        values = np.array(list(map(itemgetter(2), rows)), dtype=float)[wanted]
        score[at_row, at_column] = np.nan_to_num(values, nan=0.0)
    if waiting:
        at_row, at_column, _ = places(waiting)
        manual[at_row, at_column] = True
    columns = [cells[cell_id].column for cell_id in graded_ids]
    return GradeTable(students=students, columns=columns, score=score, manual=manual, submitted=submitted)


@dataclass(frozen=True)
class _Cell:
    """A recorded cell, as both readers need it."""

    column: GradeColumn
    position: tuple[str, int]  # (notebook, the order the gradebook lists its cells in)
    graded: bool  # a grade or task cell (a bare solution cell has no grade of its own)


class _GradeStatements:
    """The three statements both readers run: submitted notebooks, recorded cells, grade rows.

    Plain tables, not nbgrader's ORM entities: `Grade.score` / `Grade.max_score` are correlated
    subqueries per row and ORM row loading costs more than the SQL. The grade rows (the big table:
    students x cells) are read bare and joined in Python to the two small tables.
    """

    def __init__(self, wanted: list[str], student: str | None) -> None:
        from nbgrader.api import (
            Assignment,
            BaseCell,
            Grade,
            GradeCell,
            Notebook,
            SubmittedAssignment,
            SubmittedNotebook,
            TaskCell,
        )
        from sqlalchemy import func, select

        self.wanted = wanted
        grade, base, grade_cell, task_cell = (
            Grade.__table__, BaseCell.__table__, GradeCell.__table__, TaskCell.__table__
        )  # fmt: skip
        sub_nb, sub_a = SubmittedNotebook.__table__, SubmittedAssignment.__table__
        nb, a = Notebook.__table__, Assignment.__table__
        self.submissions = (
            select(sub_nb.c.id, sub_a.c.student_id, a.c.name, nb.c.name, sub_a.c.timestamp)
            .join(sub_a, sub_nb.c.assignment_id == sub_a.c.id)
            .join(a, sub_a.c.assignment_id == a.c.id)
            .join(nb, sub_nb.c.notebook_id == nb.c.id)
            .where(a.c.name.in_(wanted))
        )
        # The table's reads: who owns each submitted notebook (the notebook itself is known from
        # its cells), and each submission's timestamp once, not once per notebook.
        self.owners = (
            select(sub_nb.c.id, sub_a.c.student_id)
            .join(sub_a, sub_nb.c.assignment_id == sub_a.c.id)
            .join(a, sub_a.c.assignment_id == a.c.id)
            .where(a.c.name.in_(wanted))
        )
        self.timestamp_type = sub_a.c.timestamp.type
        self.timestamps = (
            select(sub_a.c.student_id, a.c.name, sub_a.c.timestamp)
            .join(a, sub_a.c.assignment_id == a.c.id)
            .where(a.c.name.in_(wanted))
        )
        if student is not None:
            self.submissions = self.submissions.where(sub_a.c.student_id == student)
        # The arithmetic is nbgrader's: the maximum and type are the grade cell's or the task cell's
        # (its only other graded kind); a cell that is also a solution cell is a written answer.
        self.cells = (
            select(
                base.c.id, base.c.name, base.c.notebook_id, base.c.type,
                func.coalesce(grade_cell.c.max_score, task_cell.c.max_score, 0.0),
                func.coalesce(grade_cell.c.cell_type, task_cell.c.cell_type),
                a.c.name, nb.c.name,
            )
            .select_from(base)
            .join(nb, base.c.notebook_id == nb.c.id)
            .join(a, nb.c.assignment_id == a.c.id)
            .outerjoin(grade_cell, base.c.id == grade_cell.c.id)
            .outerjoin(task_cell, base.c.id == task_cell.c.id)
            .where(a.c.name.in_(wanted))
        )  # fmt: skip
        # nbgrader's Grade.score: the manual score wins over the auto score, extra credit adds to
        # either, and with neither it is 0 (NULL here: NULL + anything is NULL).
        score = func.coalesce(grade.c.manual_score, grade.c.auto_score) + func.coalesce(
            grade.c.extra_credit, 0.0
        )
        self.grades = select(grade.c.notebook_id, grade.c.cell_id, score, grade.c.needs_manual_grade)
        # The table reads the flag apart: few grades wait for a manual grade, and a fourth column
        # on every row costs a fifth of the read.
        self.scores = self.grades.with_only_columns(grade.c.notebook_id, grade.c.cell_id, score)
        self.waiting = select(grade.c.notebook_id, grade.c.cell_id).where(grade.c.needs_manual_grade)
        if student is not None:
            own = self.submissions.with_only_columns(sub_nb.c.id)
            self.grades = self.grades.where(grade.c.notebook_id.in_(own))
        # else the whole table is read, and rows of other assignments are skipped by the reader:
        # for a cohort that is faster than SQLite's IN (subquery) over every row.


def _cell_kinds(cell_rows: Sequence[Any]) -> dict[str, _Cell]:
    """Every recorded cell by id, with its grade id, maximum and kind."""
    # A solution cell and the grade cell of the same answer are two cells with one name.
    solutions = {(row[2], row[1]) for row in cell_rows if row[3] == "SolutionCell"}
    found: dict[str, _Cell] = {}
    for position, (cell_id, name, nb_id, cell_class, max_score, cell_type, assignment, notebook) in enumerate(
        cell_rows
    ):
        if (nb_id, name) in solutions:
            kind: CellKind = "answer"
        elif cell_type == "markdown":
            kind = "task"
        else:
            kind = "test"
        column = GradeColumn(assignment, notebook, name, float(max_score or 0.0), kind)
        graded = cell_class in ("GradeCell", "TaskCell")
        found[cell_id] = _Cell(column, (notebook, position), graded)
    return found


def _raw_rows(session: Any, query: Any) -> list[tuple[Any, ...]]:
    """Rows of `query` as the database driver returns them, in the session's transaction.

    For the grade table only (students x cells rows, plain numbers and ids): SQLAlchemy's Row
    objects and result processing cost more than the SQL there. The statement is compiled with
    its values inlined (quoted by SQLAlchemy), so no driver-specific parameter style is needed.
    """
    connection = session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


def gradebook_up_to_date(
    course: NbgraderCourse, db_url: str, assignment: str, notebooks: Sequence[str]
) -> bool:
    """The gradebook knows the assignment, every notebook, and the source's current tests.

    nbgrader grades with the test cells it recorded at generate_assignment time, so after a course
    update (a fixed hidden test) the gradebook must learn the new source first. Test and locked
    cells are compared by nbgrader's own checksum; solution cells are recorded as their release
    stubs, so for those only their presence is compared.
    """
    from nbgrader.api import MissingEntry
    from nbgrader.utils import compute_checksum

    if not gradebook_exists(db_url):
        return False
    source_dir = course.source_dir(assignment)
    with open_gradebook(db_url) as gb:
        try:
            recorded = {nb.name: nb for nb in gb.find_assignment(assignment).notebooks}
        except MissingEntry:
            return False
        for name in notebooks:
            if name not in recorded:
                return False
            source = read_notebook(source_dir / f"{name}.ipynb")
            if source is None:
                continue  # no source on this machine: the gradebook's record is all there is
            checksums = {cell.name: cell.checksum for cell in recorded[name].source_cells}
            for gid, cell in cells_by_grade_id(source).items():
                if gid not in checksums:
                    return False
                if not nbgrader_meta(cell).get("solution") and compute_checksum(cell) != checksums[gid]:
                    return False
    return True


class MissingSource(FileNotFoundError):
    """The assignment's source (with its tests) is not on this machine."""


def record_assignment(course: NbgraderCourse, assignment: str, options: RunOptions = DEFAULT_RUN) -> None:
    """Record the assignment's current source in the gradebook (`generate_assignment`).

    Its release output goes to a scratch folder, so the course's committed release is never
    rewritten by grading.
    """
    source = course.source_dir(assignment)
    if not source.is_dir():
        raise MissingSource(
            f"cannot check {assignment}: its source folder {source} (with the tests) is "
            "missing, so the gradebook cannot learn how to grade it"
        )
    with tempfile.TemporaryDirectory(prefix="nbcourse-release-") as scratch:
        generate_assignment(course, assignment, release_root=Path(scratch), options=options)
