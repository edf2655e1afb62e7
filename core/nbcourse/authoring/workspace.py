"""The self-paced learner's workspace: their own copies of the released notebooks.

The release is the course's; the workspace is the learner's. Copying only ever adds files that are
missing, so re-running setup after a course update brings new material without touching a single
edited cell.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

IGNORED_PARTS = frozenset({".ipynb_checkpoints", "__pycache__"})
WORKSPACE_FOLDER = "workspace"


def default_workspace(course_root: Path) -> Path:
    """Where a self-paced learner's notebooks live unless they say otherwise."""
    return Path(course_root) / WORKSPACE_FOLDER


@dataclass
class WorkspaceReport:
    """What a setup run did: files it copied, and learner files it left alone."""

    copied: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    changed_upstream: list[Path] = field(default_factory=list)


def sync_workspace(release_dir: Path, workspace_dir: Path) -> WorkspaceReport:
    """Copy every released file the workspace lacks; never overwrite one the learner has.

    `changed_upstream` lists kept files whose released version now differs from the learner's copy,
    so the caller can tell the learner a newer version exists without replacing their work.
    """
    if not release_dir.is_dir():
        raise FileNotFoundError(f"no release folder at {release_dir}: run `course build` first")
    report = WorkspaceReport()
    for released in sorted(p for p in release_dir.rglob("*") if p.is_file()):
        rel = released.relative_to(release_dir)
        if IGNORED_PARTS.intersection(rel.parts):
            continue
        target = workspace_dir / rel
        if target.exists():
            report.kept.append(rel)
            if target.read_bytes() != released.read_bytes():
                report.changed_upstream.append(rel)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        # copy to a temporary name first so an interrupted copy never leaves a half notebook
        partial = target.with_name(f".{target.name}.partial")
        shutil.copyfile(released, partial)
        partial.replace(target)
        report.copied.append(rel)
    return report
