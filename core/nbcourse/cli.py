"""`course`: set up, open, build and check an nbgrader course that has a progress tracker.

course start      set up (data, workspace) and open JupyterLab with the Progress sidebar, learner's
                  tools only (--instructor: nbgrader's instructor tools too);
                  other options (--no-browser, --port=N) go on to jupyter lab
course setup      the same set-up without opening JupyterLab
course build      regenerate the release from the source with nbgrader and prove it clean
course check      prove the committed release equals a fresh build and leaks nothing
course validate   validate course.yaml against SEED-style rules and the source notebooks
course grade      autograde every submission of an assignment: nbgrader's scores, in parallel,
                  resumable (`--feedback` then writes feedback that hides the hidden tests)
course feedback   generate feedback for graded submissions, hidden tests hidden
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from . import authoring
from .launch import lab_launch
from .nbgrader import NbgraderCourse
from .tracker.manifest import MANIFEST_FILE, Manifest, ManifestError, load_manifest


class CliError(RuntimeError):
    """A problem the user can fix; printed without a traceback."""


def find_course_root(explicit: str | None) -> Path:
    """The folder holding course.yaml: --root, then $COURSE_ROOT, then the cwd and its parents."""
    candidates: list[Path]
    if explicit:
        candidates = [Path(explicit)]
    elif os.environ.get("COURSE_ROOT"):
        candidates = [Path(os.environ["COURSE_ROOT"])]
    else:
        cwd = Path.cwd()
        candidates = [cwd, *cwd.parents]
    for candidate in candidates:
        if (candidate / MANIFEST_FILE).is_file():
            return candidate.resolve()
    where = candidates[0] if len(candidates) == 1 else Path.cwd()
    raise CliError(
        f"no {MANIFEST_FILE} found at or above {where}; run inside the course folder or pass --root"
    )


def manifest_of(root: Path) -> Manifest:
    try:
        return load_manifest(root / MANIFEST_FILE)
    except ManifestError as exc:
        raise CliError(str(exc)) from None


def ensure_data(root: Path) -> None:
    """Generate the course data when it is missing or differs from the committed checksums.

    The generator is the course's (course.yaml `environment.data.generator`); a course without
    one has nothing to generate.
    """
    spec = manifest_of(root).environment.data
    if spec.generator is None:
        return
    generator = root / spec.generator
    if not generator.is_file():
        raise CliError(f"course.yaml names the data generator {spec.generator}, but {generator} is missing")
    verify = [sys.executable, str(generator), "--verify"]
    if subprocess.run(verify, cwd=root, capture_output=True, check=False).returncode == 0:
        print("data: verified")
        return
    print("data: generating (a few seconds, no downloads)...")
    generated = subprocess.run([sys.executable, str(generator)], cwd=root, check=False)
    checked = subprocess.run(verify, cwd=root, capture_output=True, text=True, check=False)
    if generated.returncode != 0 or checked.returncode != 0:
        raise CliError(
            "data: generation did not reproduce the committed checksums:\n"
            + (checked.stdout + checked.stderr).strip()
        )
    print("data: generated and verified")


def workspace_dir(root: Path, explicit: str | None) -> Path:
    return Path(explicit).resolve() if explicit else authoring.default_workspace(root)


def setup(root: Path, workspace: Path) -> None:
    ensure_data(root)
    report = authoring.sync_workspace(NbgraderCourse.load(root).release_root, workspace)
    print(f"workspace: {workspace} ({len(report.copied)} new files, {len(report.kept)} yours kept)")
    for rel in report.changed_upstream:
        print(f"  note: the course has a newer {rel}; your copy was kept unchanged")


def cmd_setup(args: argparse.Namespace) -> int:
    root = find_course_root(args.root)
    setup(root, workspace_dir(root, args.workspace))
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    root = find_course_root(args.root)
    workspace = workspace_dir(root, args.workspace)
    setup(root, workspace)
    data_dir = root / manifest_of(root).environment.data.dir
    launch = lab_launch(root, workspace, data_dir, instructor=args.instructor, extra=args.extra)
    mode = "instructor mode: nbgrader's tools are on" if args.instructor else "learner mode"
    print(f"opening JupyterLab ({mode}): the Progress tracker is in the left sidebar")
    sys.stdout.flush()
    os.execve(sys.executable, launch.argv, launch.env)
    return 0  # not reached


def cmd_build(args: argparse.Namespace) -> int:
    course = NbgraderCourse.load(find_course_root(args.root))
    names = args.assignments or course.assignments_in_source()
    release = course.release_root
    authoring.build_release(course, release, names, record_in_gradebook=not args.no_db)
    problems = [
        line for name in names for line in authoring.check_release_clean(course.source_root, release, name)
    ]
    for line in problems:
        print(f"leak: {line}", file=sys.stderr)
    print(f"built {len(names)} assignment(s) into {release}")
    return 1 if problems else 0


def cmd_check(args: argparse.Namespace) -> int:
    course = NbgraderCourse.load(find_course_root(args.root))
    report = authoring.check_release(course, args.assignments or None)
    for line in report.lines():
        print(line, file=sys.stderr)
    if report.ok:
        print("release: clean and in sync with the source")
        return 0
    print("release: NOT clean or out of sync; run `course build` and commit the release", file=sys.stderr)
    return 1


def cmd_validate(args: argparse.Namespace) -> int:
    from .tracker.validation import check_against_source

    root = find_course_root(args.root)
    try:
        manifest = load_manifest(root / MANIFEST_FILE)
    except ManifestError as exc:
        print(exc, file=sys.stderr)
        return 1
    report = check_against_source(manifest, NbgraderCourse.load(root).source_root)
    for line in report.pending:
        print(f"pending: {line}")
    for line in report.errors:
        print(f"error: {line}", file=sys.stderr)
    items = sum(1 for _ in manifest.iter_items())
    print(f"{MANIFEST_FILE}: {items} items, {len(report.pending)} pending, {len(report.errors)} errors")
    return 0 if report.ok else 1


def grading_root(explicit: str | None) -> Path:
    """--root when it is an nbgrader course (course.yaml optional there), else the course.yaml search."""
    if explicit and (Path(explicit) / "nbgrader_config.py").is_file():
        return Path(explicit).resolve()
    return find_course_root(explicit)


def cmd_grade(args: argparse.Namespace) -> int:
    import warnings

    from sqlalchemy.exc import SAWarning

    from .grading.feedback import generate_feedback
    from .grading.grader import GradeError, grade_assignment
    from .grading.progress import reporter_for

    warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's gradebook code, harmless
    course = NbgraderCourse.load(grading_root(args.root))
    try:
        report = grade_assignment(
            course,
            args.assignment,
            students=args.students,
            force=args.force,
            workers=args.workers,
            executor=args.executor,
            scheduler=args.scheduler,
            reporter=reporter_for(),
        )
    except GradeError as exc:
        raise CliError(str(exc)) from None
    if report.interrupted:
        return 130
    if args.feedback:
        graded = sorted({item.student for item in report.graded})
        if graded:
            generate_feedback(course, args.assignment, graded)
            print(f"feedback written for {len(graded)} student(s)")
    return 1 if report.problems else 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from .grading.feedback import generate_feedback

    course = NbgraderCourse.load(grading_root(args.root))
    generate_feedback(course, args.assignment, args.students)
    print(f"feedback written for {', '.join(args.students) if args.students else 'every graded student'}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="course", description=__doc__.split("\n\n")[0])
    top.add_argument("--root", help="course folder (default: the one holding course.yaml above cwd)")
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("start", help="set up and open JupyterLab with the Progress sidebar")
    p.add_argument("--workspace", help="where your notebooks live (default: <course>/workspace)")
    p.add_argument(
        "--instructor",
        action="store_true",
        help="keep nbgrader's instructor tools (menu, Create Assignment, formgrader); off for learners",
    )
    p.set_defaults(func=cmd_start, passthrough=True)

    p = sub.add_parser("setup", help="generate and verify data, copy new notebooks to the workspace")
    p.add_argument("--workspace", help="where your notebooks live (default: <course>/workspace)")
    p.set_defaults(func=cmd_setup)

    p = sub.add_parser("build", help="regenerate the release from the source with nbgrader")
    p.add_argument("assignments", nargs="*", help="default: every assignment of the source")
    p.add_argument("--no-db", action="store_true", help="do not record the assignments in the gradebook")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("check", help="prove the release is clean and equals a fresh build")
    p.add_argument("assignments", nargs="*", help="default: every assignment of the source")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("validate", help="validate course.yaml and its links to the source notebooks")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("grade", help="autograde an assignment's submissions: in parallel, resumable")
    p.add_argument("assignment")
    p.add_argument("--student", action="append", dest="students", help="only this student (repeatable)")
    p.add_argument("--force", action="store_true", help="regrade submissions already graded")
    p.add_argument("--workers", type=int, help="notebooks at once (default: one per core)")
    p.add_argument("--executor", choices=["local", "dask"], default="local")
    p.add_argument("--scheduler", help="a Dask scheduler address (tcp://host:port); default: a LocalCluster")
    p.add_argument("--feedback", action="store_true", help="then generate feedback (hidden tests hidden)")
    p.set_defaults(func=cmd_grade)

    # layering: the verb's name, not nbgrader's folder
    p = sub.add_parser("feedback", help="generate feedback (hidden tests hidden) for graded submissions")
    p.add_argument("assignment")
    p.add_argument("--student", action="append", dest="students", help="only this student (repeatable)")
    p.set_defaults(func=cmd_feedback)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    top = parser()
    # `course start` passes unknown options (--no-browser, --port=...) on to jupyter lab
    args, extra = top.parse_known_args(argv)
    if extra and not getattr(args, "passthrough", False):
        top.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    try:
        return int(args.func(args))
    except (CliError, authoring.BuildError, FileNotFoundError) as exc:
        print(f"course: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
