"""Grade the hostile corpus with stock `nbgrader autograde` (the course's config) and say what it got wrong.

    uv run python tests/hostile/stock_baseline.py            # writes tests/hostile/BASELINE.md

This is the figure `course grade` is measured against; it is not part of the test suite (it takes
about ten minutes and needs root for its safety net). The hostile submissions would harm this
machine under stock nbgrader (kill(-1) as root, memory and fork bombs), so the stock grader runs
inside a safety net that changes none of its behaviour towards the course: a PID namespace, a
memory and pids cgroup, a private /tmp and HOME, and the repository, the venv and the Python
installation read-only. What the corpus does to the throwaway course is exactly what it would do
to a real one.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from corpus import ASSIGNMENT, ROOT, VICTIM_NOTEBOOKS, VICTIMS, judge, load_corpus, max_scores, submit_corpus  # noqa: E402

CELL_TIMEOUT = 20  # the same per-cell timeout the hardening test gives course grade
SAFETY_MEMORY_MB = 6144
SAFETY_PIDS = 4096


def make_course(where: Path) -> Path:
    course = where / "course"
    (course / "source").mkdir(parents=True)
    config = (ROOT / "nbgrader_config.py").read_text()
    (course / "nbgrader_config.py").write_text(config + f"\nc.Execute.timeout = {CELL_TIMEOUT}\n")
    shutil.copytree(ROOT / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    env = dict(
        os.environ, COURSE_DB_URL=f"sqlite:///{course / 'gradebook.db'}", COURSE_DATA_DIR=str(ROOT / "data")
    )
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force"],
        cwd=course,
        env=env,
        check=True,
        capture_output=True,
    )
    return course


def safety_cgroup(name: str) -> list[Path]:
    made = []
    for controller, limit_file, value in (
        ("memory", "memory.limit_in_bytes", SAFETY_MEMORY_MB * 1024 * 1024),
        ("pids", "pids.max", SAFETY_PIDS),
    ):
        folder = Path("/sys/fs/cgroup") / controller / name
        folder.mkdir(exist_ok=True)
        (folder / limit_file).write_text(str(value))
        made.append(folder)
    return made


def run_stock(course: Path, where: Path, student: str | None = None) -> tuple[int, float, str]:
    home = where / "home"
    home.mkdir(exist_ok=True)
    cgroups = safety_cgroup(f"hostile-stock-{os.getpid()}")
    only = f" --student={shlex.quote(student)}" if student else ""
    join = " && ".join(f"echo $$ > {c}/cgroup.procs" for c in cgroups)
    env = dict(
        os.environ,
        HOME=str(home),
        COURSE_DB_URL=f"sqlite:///{course / 'gradebook.db'}",
        COURSE_DATA_DIR=str(ROOT / "data"),
        TMPDIR="/tmp",
    )
    argv = [
        "bwrap",
        "--dev-bind",
        "/",
        "/",
        "--ro-bind",
        str(ROOT),
        str(ROOT),
        "--ro-bind",
        "/root",
        "/root",
        "--tmpfs",
        "/tmp",
        "--bind",
        str(where),
        str(where),
        "--proc",
        "/proc",
        "--unshare-pid",
        "--die-with-parent",
        "--chdir",
        str(course),
        "--",
        "sh",
        "-c",
        f'{join} && exec "$0" -m nbgrader autograde {ASSIGNMENT} --force{only}',
        sys.executable,
    ]
    started = time.monotonic()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, timeout=3600)
    seconds = time.monotonic() - started
    for folder in cgroups:
        subprocess.run(
            ["sh", "-c", f"for p in $(cat {folder}/cgroup.procs); do kill -9 $p; done"], check=False
        )
        time.sleep(0.5)
        with __import__("contextlib").suppress(OSError):
            folder.rmdir()
    with open(where / "nbgrader.log", "a") as log:
        log.write(done.stdout + done.stderr)
    return done.returncode, seconds, (done.stdout + done.stderr)[-4000:]


def graded(course: Path, student: str) -> dict[str, dict[str, float]] | None:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        try:
            submission = gb.find_submission(ASSIGNMENT, student)
        except MissingEntry:
            return None
        result: dict[str, dict[str, float]] = {}
        for nb in submission.notebooks:
            result[nb.name] = {g.name: float(g.score) for g in nb.grades if g.cell_type == "code"}
        return result


def _verdict(course: Path, spec: object) -> str:
    scores = graded(course, spec.student)  # type: ignore[attr-defined]
    if scores is None:
        return "not graded"
    wrong = judge(spec, scores.get(spec.notebook, {}))  # type: ignore[arg-type, attr-defined]
    return "right" if not wrong else "; ".join(wrong)


def main() -> None:
    where = Path(tempfile.mkdtemp(prefix="hostile-stock-", dir="/var/tmp"))
    specs = load_corpus()
    course = make_course(where)
    source_before = sorted(p.relative_to(course) for p in (course / "source").rglob("*"))
    config_before = (course / "nbgrader_config.py").read_text()
    submit_corpus(course, specs, course / "submitted", course / "release" / ASSIGNMENT)
    code, seconds, tail = run_stock(course, where)
    time.sleep(3)  # give a daemon the time it would have on a real grader
    batch = {spec.name: _verdict(course, spec) for spec in specs}
    # What an instructor does next: grade each student the batch left out on their own.
    retried = 0.0
    for spec in specs:
        if batch[spec.name] == "not graded":
            _, took, _ = run_stock(course, where, spec.student)
            retried += took
    alone = {spec.name: _verdict(course, spec) for spec in specs}
    rows = []
    right = sum(v == "right" for v in batch.values())
    right_alone = sum(v == "right" for v in alone.values())
    for spec in specs:
        rows.append(f"| {spec.klass} | `{spec.name}` | {batch[spec.name]} | {alone[spec.name]} |")
    victims = []
    for victim in VICTIMS:
        scores = graded(course, victim)
        ok = scores is not None and all(
            scores.get(nb, {}).get(gid) == pts
            for nb in VICTIM_NOTEBOOKS
            for gid, pts in max_scores(nb).items()
        )
        victims.append(f"- `{victim}`: {'full marks' if ok else f'WRONG: {scores}'}")
    source_after = sorted(p.relative_to(course) for p in (course / "source").rglob("*"))
    lines = [
        "# Stock nbgrader on the hostile corpus",
        "",
        f"`nbgrader autograde {ASSIGNMENT}` with the course's nbgrader_config.py "
        f"(cell timeout {CELL_TIMEOUT} s),",
        f"one batch of {len(specs)} hostile submissions plus the victims {', '.join(VICTIMS)};",
        f"exit code {code}, {seconds:.0f} s. Written by `tests/hostile/stock_baseline.py`.",
        "",
        f"**Graded right in the batch: {right} of {len(specs)}; after retrying each left-out student on "
        f"their own ({retried:.0f} s more): {right_alone} of {len(specs)}.**",
        "",
        "| class | submission | stock, one batch | stock, left-out students retried alone |",
        "|---|---|---|---|",
        *rows,
        "",
        "Victims (honest reference solutions graded before and after every attacker):",
        *victims,
        f"- source/ changed: {source_before != source_after}; nbgrader_config.py changed: "
        f"{config_before != (course / 'nbgrader_config.py').read_text()}",
        f"- IPython startup file left in the grader's HOME: {any((where / 'home').rglob('startup/*.py'))}",
        "",
        "The end of nbgrader's log:",
        "",
        "```",
        *tail.splitlines()[-25:],
        "```",
    ]
    (HERE / "BASELINE.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:8]))
    print(f"course left in {where}")


if __name__ == "__main__":
    main()
