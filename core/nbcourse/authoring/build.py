"""Build the student release with nbgrader and prove it is clean and in sync.

`generate_assignment` does the stripping; this module runs it for every assignment and then checks
its work independently, because a release that leaks a solution or a hidden test is the one mistake a
course cannot take back once students have fetched it.
"""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

SOLUTION_BEGIN = "### BEGIN SOLUTION"
SOLUTION_END = "### END SOLUTION"
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
MARK_SCHEME_BEGIN = "=== BEGIN MARK SCHEME ==="
MARK_SCHEME_END = "=== END MARK SCHEME ==="
MARKERS = (SOLUTION_BEGIN, SOLUTION_END, HIDDEN_BEGIN, HIDDEN_END, MARK_SCHEME_BEGIN, MARK_SCHEME_END)

# Path parts that only instructors may see; a release holding any of them is leaking.
INSTRUCTOR_ONLY_PARTS = frozenset({"instructor", "solutions", "answers", "answer_key"})

# A secret line shorter than this is too generic to call a leak ("return df", "pass", "else:").
MIN_SECRET_LINE = 16


class BuildError(RuntimeError):
    """nbgrader could not build an assignment."""


@dataclass
class ReleaseReport:
    """Everything wrong with a release folder; empty lists mean clean and in sync."""

    leaks: list[str] = field(default_factory=list)
    out_of_sync: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.leaks and not self.out_of_sync

    def lines(self) -> list[str]:
        return [f"leak: {x}" for x in self.leaks] + [f"out of sync: {x}" for x in self.out_of_sync]


def assignments_in(source_dir: Path) -> list[str]:
    """Assignment folders of `source/`, sorted (hidden folders and checkpoints skipped)."""
    if not source_dir.is_dir():
        raise BuildError(f"no source folder at {source_dir}")
    return sorted(p.name for p in source_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def nbgrader_command() -> list[str]:
    """The nbgrader of the running environment (never whatever `nbgrader` is first on PATH)."""
    return [sys.executable, "-m", "nbgrader"]


def generate_assignment(
    course_root: Path, assignment: str, release_dir: Path, *, record_in_gradebook: bool = False
) -> None:
    """Run stock `nbgrader generate_assignment` into `release_dir`.

    Recording in the gradebook stores the master copy of every test cell, which `autograde` needs to
    restore tampered tests; a throwaway build (the sync check) leaves the gradebook alone.
    """
    cmd = [
        *nbgrader_command(),
        "generate_assignment",
        assignment,
        "--force",
        f"--CourseDirectory.root={course_root}",
        f"--CourseDirectory.release_directory={release_dir}",
    ]
    if not record_in_gradebook:
        cmd.append("--no-db")
    proc = subprocess.run(cmd, cwd=course_root, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
        raise BuildError(f"nbgrader generate_assignment {assignment} failed:\n{tail}")


def build_release(
    course_root: Path, release_dir: Path, assignments: Iterable[str], *, record_in_gradebook: bool = False
) -> None:
    """Regenerate `release_dir/<assignment>` for each assignment, replacing what was there."""
    for assignment in assignments:
        target = release_dir / assignment
        if target.exists():
            shutil.rmtree(target)
        generate_assignment(course_root, assignment, release_dir, record_in_gradebook=record_in_gradebook)


def _split_lines(source: str) -> tuple[list[str], list[str]]:
    """(public, secret) stripped lines of one cell: secret ones sit inside solution / hidden-test /
    mark-scheme blocks, public ones outside them (the markers themselves are neither)."""
    ends = {SOLUTION_BEGIN: SOLUTION_END, HIDDEN_BEGIN: HIDDEN_END, MARK_SCHEME_BEGIN: MARK_SCHEME_END}
    public: list[str] = []
    secret: list[str] = []
    closing: str | None = None
    for raw in source.splitlines():
        line = raw.strip()
        if closing is None:
            opening = next((begin for begin in ends if line.startswith(begin)), None)
            if opening is None:
                public.append(line)
            else:
                closing = ends[opening]
        elif line.startswith(closing):
            closing = None
        else:
            secret.append(line)
    return public, secret


def secrets_of(source_nb: nbformat.NotebookNode) -> set[str]:
    """Distinctive secret lines of a source notebook (ones that appear nowhere in public text)."""
    public: set[str] = set()
    secret: set[str] = set()
    for cell in source_nb.cells:
        cell_public, cell_secret = _split_lines(cell.source)
        public.update(cell_public)
        secret.update(cell_secret)
    return {s for s in secret - public if len(s) >= MIN_SECRET_LINE and not s.startswith("#")}


def check_notebook(release_nb_path: Path, source_nb_path: Path | None) -> list[str]:
    """Leaks in one released notebook: outputs, markers, and solution / hidden-test text."""
    problems: list[str] = []
    try:
        nb = nbformat.read(release_nb_path, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for bad files
        return [f"{release_nb_path}: cannot be read as a notebook ({exc})"]
    text_by_cell = []
    for index, cell in enumerate(nb.cells):
        where = f"{release_nb_path} cell {index}"
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            problems.append(f"{where}: has saved outputs or an execution count")
        for marker in MARKERS:
            if marker in cell.source:
                problems.append(f"{where}: still contains the marker '{marker}'")
        text_by_cell.append((where, cell.source))
    if source_nb_path is None:
        problems.append(f"{release_nb_path}: has no counterpart in source/")
        return problems
    secrets = secrets_of(nbformat.read(source_nb_path, as_version=4))
    for where, text in text_by_cell:
        # whole lines, not substrings: a visible line may legitimately contain a hidden one's prefix
        for line in sorted({raw.strip() for raw in text.splitlines()} & secrets):
            problems.append(f"{where}: leaks solution/hidden text {line!r}")
    return problems


def check_release_clean(source_dir: Path, release_dir: Path, assignment: str) -> list[str]:
    """Every leak in `release_dir/<assignment>`, compared with `source_dir/<assignment>`."""
    problems: list[str] = []
    release_root = release_dir / assignment
    source_root = source_dir / assignment
    if not release_root.is_dir():
        return [f"{release_root}: missing (run `course build`)"]
    for path in sorted(p for p in release_root.rglob("*") if p.is_file()):
        rel = path.relative_to(release_root)
        if INSTRUCTOR_ONLY_PARTS.intersection(part.lower() for part in rel.parts):
            problems.append(f"{path}: instructor-only file in the release")
        if not (source_root / rel).exists():
            problems.append(f"{path}: not in source/ (stale or hand-made file)")
        if path.suffix == ".ipynb":
            source_nb = source_root / rel
            problems.extend(check_notebook(path, source_nb if source_nb.exists() else None))
    for path in sorted(source_root.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        if not (release_root / path.relative_to(source_root)).exists():
            problems.append(f"{release_root / path.relative_to(source_root)}: missing from release")
    return problems


def diff_trees(expected: Path, actual: Path) -> list[str]:
    """Files that differ between two folders, byte for byte, as readable lines."""
    differences: list[str] = []

    def walk(cmp: filecmp.dircmp, prefix: Path) -> None:
        differences.extend(f"{prefix / n}: only in a fresh build" for n in cmp.left_only)
        differences.extend(f"{prefix / n}: only in the committed release" for n in cmp.right_only)
        differences.extend(f"{prefix / n}: differs from a fresh build" for n in cmp.diff_files)
        for name, sub in sorted(cmp.subdirs.items()):
            walk(sub, prefix / name)

    walk(filecmp.dircmp(expected, actual, ignore=[".ipynb_checkpoints", "__pycache__"]), Path())
    # dircmp compares size and mtime shallowly; confirm "same" files really are equal bytes
    for path in sorted(p for p in expected.rglob("*") if p.is_file()):
        rel = path.relative_to(expected)
        other = actual / rel
        if other.is_file() and path.read_bytes() != other.read_bytes():
            line = f"{rel}: differs from a fresh build"
            if line not in differences:
                differences.append(line)
    return differences


def check_release(course_root: Path, assignments: list[str] | None = None) -> ReleaseReport:
    """Build every assignment into a temporary folder and compare it with the committed release/."""
    source_dir = course_root / "source"
    release_dir = course_root / "release"
    names = assignments if assignments is not None else assignments_in(source_dir)
    report = ReleaseReport()
    with tempfile.TemporaryDirectory(prefix="course-release-") as tmp:
        fresh = Path(tmp)
        build_release(course_root, fresh, names)
        for name in names:
            report.leaks.extend(check_release_clean(source_dir, fresh, name))
            committed = release_dir / name
            if not committed.is_dir():
                report.out_of_sync.append(f"release/{name}: missing (run `course build`)")
                continue
            report.out_of_sync.extend(
                f"release/{name}/{line}" for line in diff_trees(fresh / name, committed)
            )
    stale = sorted(set(assignments_in(release_dir)) - set(names)) if release_dir.is_dir() else []
    if assignments is None:
        report.out_of_sync.extend(f"release/{name}: no such assignment in source/" for name in stale)
    return report
