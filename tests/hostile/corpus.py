"""The hostile corpus: broken or hostile submissions, written as small specs over a course notebook.

Each `tests/hostile/c<N>_*.yaml` file lists submissions of one class of the hardening issue. A spec
starts from the reference solution in student form (the released notebook with the source's answers
pasted in, so no hidden test is in it) or from the untouched release (`base: stub`) and applies edits:

    replace:   {grade_id: source}        a cell's whole source (`@@SOLUTION@@` = the reference answer)
    append:    {grade_id: source}        code added at the end of a cell
    insert_after: [{after: grade_id, source: ..., cell_type: code, nbgrader: {...}}]  new cells
    duplicate: [grade_id]                a pasted copy right after the cell
    meta:      {grade_id: {key: value}}  nbgrader metadata changes (e.g. a renamed grade_id)
    crlf:      [grade_id]                the cell's source saved with Windows line endings
    saved_outputs: true                  every code cell keeps outputs from the student's own run
    format:    v3 | no_ids | no_kernelspec | raw   (raw: `raw_text` is the whole file)
    files:     {name: text}              files beside the notebook
    symlinks:  {name: target}            `{course}` in a target is the course root

and states the outcome a correct grader reaches:

    expect:    {grade_id: score}         cells not listed get full marks (`default: 0` to flip that)
    lenient:   [grade_id]                either full marks or 0 is acceptable
    flagged:   true                      the grader must flag the submission for review
    no_output: [text]                    text that must not appear in the graded notebook's outputs

The victims (`aa_victim`, `zz_victim`: honest reference solutions graded before and after every
other submission) must always get full marks.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ASSIGNMENT = "m1_data_engineering"
SOURCE = ROOT / "source" / ASSIGNMENT
RELEASE = ROOT / "release" / ASSIGNMENT
VICTIMS = ("aa_victim", "zz_victim")
SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)


@dataclass
class Spec:
    name: str
    klass: int
    why: str
    notebook: str = "01_exercises"
    student: str = ""
    base: str = "solved"
    edits: dict[str, Any] = field(default_factory=dict)
    expect: dict[str, float] = field(default_factory=dict)
    default: str = "full"
    lenient: list[str] = field(default_factory=list)
    flagged: bool = False
    no_output: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.student = self.student or self.name


EDIT_KEYS = {
    "replace",
    "append",
    "insert_after",
    "duplicate",
    "meta",
    "crlf",
    "saved_outputs",
    "format",
    "raw_text",
    "files",
    "symlinks",
}
BIG = re.compile(r"@@BIG:(\d+)@@")


def _expand(source: str, answer: str) -> str:
    """Placeholders in a spec's source: the reference answer, and a pasted table of n characters."""
    source = source.replace("@@SOLUTION@@", answer)
    line = "25,Pikachu,Electric,,320,35,55,40,50,50,90,1,False\n"
    return BIG.sub(lambda m: (line * (int(m.group(1)) // len(line) + 1))[: int(m.group(1))], source)


def load_corpus() -> list[Spec]:
    specs: list[Spec] = []
    for path in sorted(HERE.glob("c[1-8]_*.yaml")):
        klass = int(path.name[1])
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")):
            edits = {k: entry.pop(k) for k in list(entry) if k in EDIT_KEYS}
            specs.append(Spec(klass=klass, edits=edits, **entry))
    names = [s.name for s in specs]
    assert len(names) == len(set(names)), "hostile spec names must be unique"
    students = [s.student for s in specs]
    assert len(students) == len(set(students)), "each hostile spec is its own student"
    return specs


def _meta(cell: nbformat.NotebookNode) -> dict[str, Any]:
    return cell.get("metadata", {}).get("nbgrader", {})


def reference_answers(notebook: str) -> dict[str, str]:
    """grade_id -> the reference answer of each solution cell, without nbgrader's markers."""
    nb = nbformat.read(SOURCE / f"{notebook}.ipynb", as_version=4)
    return {
        _meta(c)["grade_id"]: SOLUTION_MARKERS.sub("", c.source) for c in nb.cells if _meta(c).get("solution")
    }


def solved(notebook: str, release: Path = RELEASE) -> nbformat.NotebookNode:
    """The released notebook with the reference answers pasted in: what an excellent student submits.

    `release`: the student versions to start from; a test passes the ones it just generated from
    source/, so the corpus follows the course as it is edited.
    """
    nb = nbformat.read(release / f"{notebook}.ipynb", as_version=4)
    answers = reference_answers(notebook)
    for cell in nb.cells:
        gid = _meta(cell).get("grade_id")
        if _meta(cell).get("solution") and gid in answers:
            cell.source = answers[gid]
    return nb


def max_scores(notebook: str) -> dict[str, float]:
    """grade_id -> points of every autograded test cell of a notebook."""
    nb = nbformat.read(SOURCE / f"{notebook}.ipynb", as_version=4)
    return {
        _meta(c)["grade_id"]: float(_meta(c)["points"])
        for c in nb.cells
        if c.cell_type == "code" and _meta(c).get("grade") and not _meta(c).get("solution")
    }


def _index(nb: nbformat.NotebookNode, grade_id: str) -> int:
    for i, cell in enumerate(nb.cells):
        if _meta(cell).get("grade_id") == grade_id:
            return i
    raise KeyError(f"no cell {grade_id!r}")


def build_notebook(spec: Spec, release: Path = RELEASE) -> str:
    """The submitted file's text."""
    edits = spec.edits
    if edits.get("format") == "raw":
        return edits["raw_text"]
    base = (
        solved(spec.notebook, release)
        if spec.base == "solved"
        else nbformat.read(release / f"{spec.notebook}.ipynb", 4)
    )
    answers = reference_answers(spec.notebook)
    for gid, source in (edits.get("replace") or {}).items():
        base.cells[_index(base, gid)].source = _expand(source, answers.get(gid, ""))
    for gid, source in (edits.get("append") or {}).items():
        cell = base.cells[_index(base, gid)]
        cell.source = cell.source.rstrip("\n") + "\n\n" + source
    for gid, changes in (edits.get("meta") or {}).items():
        base.cells[_index(base, gid)].metadata["nbgrader"].update(changes)
    for gid in edits.get("duplicate") or []:
        i = _index(base, gid)
        copy = nbformat.from_dict(json.loads(json.dumps(base.cells[i])))
        copy.pop("id", None)
        base.cells.insert(i + 1, copy)
    for new in edits.get("insert_after") or []:
        i = _index(base, new["after"])
        kind = new.get("cell_type", "code")
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        cell = make(_expand(new["source"], ""))
        if "nbgrader" in new:
            cell.metadata["nbgrader"] = new["nbgrader"]
        base.cells.insert(i + 1, cell)
    for gid in edits.get("crlf") or []:
        cell = base.cells[_index(base, gid)]
        cell.source = cell.source.replace("\n", "\r\n")
    if edits.get("saved_outputs"):
        for n, cell in enumerate(c for c in base.cells if c.cell_type == "code"):
            cell.execution_count = n + 1
            cell.outputs = [
                nbformat.v4.new_output("stream", name="stdout", text="an old run\n"),
                nbformat.v4.new_output(
                    "error", ename="ValueError", evalue="stale", traceback=["ValueError: stale"]
                ),
            ]
    fmt = edits.get("format")
    if fmt == "v3":
        return nbformat.writes(nbformat.convert(base, 3), version=3)
    if fmt == "no_ids":
        base.nbformat_minor = 4
        for cell in base.cells:
            cell.pop("id", None)
        return json.dumps(base, indent=1, ensure_ascii=False) + "\n"
    if fmt == "no_kernelspec":
        base.metadata.pop("kernelspec", None)
    return nbformat.writes(base)


def write_submission(spec: Spec, folder: Path, course: Path, release: Path = RELEASE) -> None:
    """The student's submitted folder for the assignment: the notebook and any files beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{spec.notebook}.ipynb").write_text(build_notebook(spec, release), encoding="utf-8")
    for name, text in (spec.edits.get("files") or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    for name, target in (spec.edits.get("symlinks") or {}).items():
        (folder / name).symlink_to(target.replace("{course}", str(course)))
    (folder / "timestamp.txt").write_text("2026-01-01 00:00:00.000000 UTC")


VICTIM_NOTEBOOKS = ("01_exercises", "01_checkpoint")


def write_victim(folder: Path, release: Path = RELEASE) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for notebook in VICTIM_NOTEBOOKS:
        (folder / f"{notebook}.ipynb").write_text(
            nbformat.writes(solved(notebook, release)), encoding="utf-8"
        )
    (folder / "timestamp.txt").write_text("2026-01-01 00:00:00.000000 UTC")


def submit_corpus(course: Path, specs: list[Spec], submitted: Path, release: Path) -> None:
    """Every spec's submission and the victims', into nbgrader's submitted folder of `course`."""
    for victim in VICTIMS:
        write_victim(submitted / victim / ASSIGNMENT, release)
    for spec in specs:
        write_submission(spec, submitted / spec.student / ASSIGNMENT, course, release)


def expected_scores(spec: Spec) -> dict[str, float]:
    full = max_scores(spec.notebook)
    base = dict.fromkeys(full, 0.0) if spec.default == "0" else dict(full)
    return {**base, **{k: float(v) for k, v in spec.expect.items()}}


def judge(spec: Spec, got: dict[str, float]) -> list[str]:
    """What a grader got wrong on this spec (empty: graded right); `got`: grade_id -> score."""
    wrong = []
    full = max_scores(spec.notebook)
    for gid, want in expected_scores(spec).items():
        have = got.get(gid)
        if gid in spec.lenient:
            if have not in (0.0, full[gid]):
                wrong.append(f"{gid}: {have} (0 or {full[gid]} expected)")
        elif have != want:
            wrong.append(f"{gid}: {have} ({want} expected)")
    extra = sorted(set(got) - set(full))
    if extra:
        wrong.append(f"graded cells that are not the course's: {extra}")
    return wrong
