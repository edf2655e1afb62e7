"""The grader's settings: `c.CourseGrader.*` in the course's nbgrader_config.py, with course-derived defaults.

Nothing here names a course or a library the course uses: the modules the fork server pre-imports
are, unless the config lists them, the top-level imports of the assignment's own source notebooks.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from traitlets import Bool, Dict, Float, Integer, List, Unicode
from traitlets.config import Config, Configurable

from ..nbgrader import cell_text, read_notebook
from .forkserver import DEFAULT_FORK_TOLERANT_THREADS

# Thread pools read their size at import. Parallelism comes from grading notebooks side by side,
# so each kernel computes single-threaded unless the environment or the config says otherwise
# (N workers x N BLAS threads would oversubscribe the cores, and a pool started at import would
# make forking unsafe).
SINGLE_THREADED = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# What ipykernel sets when MPLBACKEND is unset; matplotlib reads it at import, so the fork server
# must import matplotlib under the same value a kernel would.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


class CourseGrader(Configurable):  # type: ignore[misc]
    """Configuration of `course grade` (section `CourseGrader` of nbgrader_config.py)."""

    preimport = List(
        Unicode(),
        default_value=None,
        allow_none=True,
        help="Modules the fork server imports once (default: the source notebooks' top-level imports).",
    ).tag(config=True)
    use_fork = Bool(True, help="Fork kernels from a warm server (False: plain kernels).").tag(config=True)
    workers = Integer(0, help="Notebooks graded at once (0: one per core).").tag(config=True)
    kernel_env = Dict(
        value_trait=Unicode(),
        help="Extra kernel environment; '{course_root}' in a value is the course root on the machine "
        "that runs the kernel.",
    ).tag(config=True)
    fork_tolerant_threads = List(
        Unicode(),
        default_value=list(DEFAULT_FORK_TOLERANT_THREADS),
        help="Names of native threads known to survive fork.",
    ).tag(config=True)
    private_paths = List(
        Unicode(),
        help="Paths (relative to the course root) never named in feedback, e.g. instructor-only answer keys.",
    ).tag(config=True)
    notebook_timeout = Float(
        900.0, help="Seconds one notebook may run in all; its kernel is killed after that."
    ).tag(config=True)


def grader_settings(config: Config) -> CourseGrader:
    return CourseGrader(config=config)


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_workers(settings: CourseGrader, requested: int | None) -> int:
    return max(1, requested or settings.workers or cpu_count())


def kernel_extras(settings: CourseGrader) -> dict[str, str]:
    """What the grader adds to a machine's environment for its kernels ('{course_root}' unresolved).

    Only these travel to a remote worker: PATH, HOME and the rest are that machine's own.
    """
    extras = {key: os.environ.get(key, value) for key, value in SINGLE_THREADED.items()}
    extras["MPLBACKEND"] = os.environ.get("MPLBACKEND", INLINE_BACKEND)
    extras.update(settings.kernel_env)
    # nbgrader's Autograde runs its kernels under this (utils.setenv around the autograde step).
    extras["NBGRADER_EXECUTION"] = "autograde"
    return extras


def kernel_environment(
    extras: Mapping[str, str], course_root: Path, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment every grading kernel on this machine gets, forked or plain."""
    env = dict(os.environ if base is None else base)
    env.update(resolve_env(extras, course_root))
    env.pop("PYTHONEXECUTABLE", None)  # as jupyter_client's provisioner drops it
    return env


def resolve_env(values: Mapping[str, str], course_root: Path) -> dict[str, str]:
    return {k: str(v).replace("{course_root}", str(course_root)) for k, v in values.items()}


def top_level_imports(notebooks: Iterable[Path]) -> list[str]:
    """Modules the notebooks import at the top level of a code cell, in first-seen order."""
    seen: dict[str, None] = {}
    for path in notebooks:
        nb = read_notebook(path)
        if nb is None:
            continue
        for cell in nb.cells:
            if cell.get("cell_type") != "code":
                continue
            try:
                tree = ast.parse(_without_magics(cell_text(cell)))
            except SyntaxError:
                continue
            for node in tree.body:
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        seen.setdefault(alias.name, None)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    seen.setdefault(node.module, None)
    return list(seen)


def _without_magics(text: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in text.splitlines())


def preimport_modules(settings: CourseGrader, source_dirs: Iterable[Path]) -> list[str]:
    """The configured list, or every top-level import of the given assignments' source notebooks."""
    if settings.preimport is not None:
        return list(settings.preimport)
    return top_level_imports(sorted(p for folder in source_dirs for p in Path(folder).glob("*.ipynb")))
