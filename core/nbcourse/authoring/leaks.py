"""Prove a built release leaks nothing: no outputs, no nbgrader markers, no solution or hidden-test
text, no instructor-only files, nothing that is not in the source."""

from __future__ import annotations

from pathlib import Path

import nbformat

from ..nbgrader import MARKERS
from ..nbgrader.cells import BLOCKS, INSIDE, OUTSIDE, region_lines

# Path parts that only instructors may see; a release holding any of them is leaking.
INSTRUCTOR_ONLY_PARTS = frozenset({"instructor", "solutions", "answers", "answer_key"})

# A secret line shorter than this is too generic to call a leak ("return df", "pass", "else:").
MIN_SECRET_LINE = 16


def _split_lines(source: str) -> tuple[list[str], list[str]]:
    """(public, secret) stripped lines of one cell: secret ones sit inside solution / hidden-test /
    mark-scheme blocks, public ones outside them (the markers themselves are neither)."""
    lines = region_lines(source, BLOCKS)
    return [t.strip() for t, at in lines if at == OUTSIDE], [t.strip() for t, at in lines if at == INSIDE]


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
        problems.append(f"{release_nb_path}: has no counterpart in the source")
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
            problems.append(f"{path}: not in {source_dir.name}/ (stale or hand-made file)")
        if path.suffix == ".ipynb":
            source_nb = source_root / rel
            problems.extend(check_notebook(path, source_nb if source_nb.exists() else None))
    for path in sorted(source_root.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        if not (release_root / path.relative_to(source_root)).exists():
            problems.append(f"{release_root / path.relative_to(source_root)}: missing from release")
    return problems
