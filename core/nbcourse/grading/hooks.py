"""The sandbox's two integration points, looked up lazily (the sandbox module is optional).

`nbcourse.grading.sandbox` (issue 12) may define `policy_for(course_root, config)`,
`wrap_command(argv, policy)` and `child_setup(policy, scratch_dir)`; see .coord/grader_hooks.md for
the contract. Without it, or without one of them, that step does nothing.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any


def _sandbox_function(name: str) -> Any:
    try:
        module = importlib.import_module("nbcourse.grading.sandbox")
    except ImportError:
        return None
    return getattr(module, name, None)


def policy_for(course_root: Path, config: Any) -> Any:
    """The sandbox policy for a course (picklable), or None when there is no sandbox."""
    make = _sandbox_function("policy_for")
    return make(Path(course_root), config) if make is not None else None


def wrap_command(argv: list[str], policy: Any) -> list[str]:
    """The fork server's command line, wrapped by the sandbox when there is one."""
    wrap = _sandbox_function("wrap_command")
    return list(wrap(list(argv), policy)) if wrap is not None else list(argv)


def child_setup(policy: Any, scratch_dir: Path) -> None:
    """Confine a freshly forked kernel child before its kernel starts."""
    setup = _sandbox_function("child_setup")
    if setup is not None:
        setup(policy, scratch_dir)
