"""What travels between the writer and the workers: one notebook to run, and what came of it.

Both are plain picklable data, so a Dask worker on another machine needs nothing else: the
notebook (already sanitized by nbgrader's own preprocessors on the writer's side), the
assignment's declared files, the nbgrader config and the kernel environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class NotebookJob:
    assignment: str
    student: str
    notebook: str  # name without .ipynb
    sanitized: str  # notebook JSON after nbgrader's sanitize preprocessors
    files: dict[str, bytes]  # relative path -> content: the assignment's declared (non-notebook) files
    config: Any  # the course's traitlets Config
    kernel_env: dict[str, str]  # '{course_root}' still unresolved: the worker's root fills it in
    timeout: float  # seconds for the whole notebook
    estimate: float = 0.0  # expected seconds (longest first)
    policy: Any = None  # the sandbox policy, opaque here

    @property
    def key(self) -> tuple[str, str]:
        return (self.student, self.notebook)


@dataclass
class NotebookOutcome:
    student: str
    notebook: str
    output: str | None  # the executed notebook JSON, or None when nothing could run
    problem: str | None = None  # why this notebook was not graded normally
    seconds: float = 0.0  # wall time on the worker, scratch copy to kill
    compute: float = 0.0  # the cells' own execution time (execute_input to execute_reply)
    kernel: str = "none"  # "fork" | "plain" | "none"
    worker: str = ""
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # what the test guard saw: for an instructor's review
    # Modules the forked kernel imported beyond its server's: the worker's pool learns them and
    # empties this before the outcome leaves the worker.
    imported: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.student, self.notebook)
