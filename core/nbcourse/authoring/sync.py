"""Prove the committed release equals a fresh build of the source, byte for byte (CI's guard
against an edited source that nobody rebuilt)."""

from __future__ import annotations

import filecmp
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..nbgrader import NbgraderCourse, assignment_folders
from .build import build_release
from .leaks import check_release_clean


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


def check_release(course: NbgraderCourse | Path, assignments: list[str] | None = None) -> ReleaseReport:
    """Build every assignment into a temporary folder and compare it with the committed release."""
    course = NbgraderCourse.of(course)
    source_dir, release_dir = course.source_root, course.release_root
    # Lines name the release as the course does (e.g. "release/a1/..."), relative to the root.
    shown = release_dir.relative_to(course.root) if release_dir.is_relative_to(course.root) else release_dir
    names = assignments if assignments is not None else course.assignments_in_source()
    report = ReleaseReport()
    with tempfile.TemporaryDirectory(prefix="course-release-") as tmp:
        fresh = Path(tmp)
        build_release(course, fresh, names)
        for name in names:
            report.leaks.extend(check_release_clean(source_dir, fresh, name))
            committed = release_dir / name
            if not committed.is_dir():
                report.out_of_sync.append(f"{shown / name}: missing (run `course build`)")
                continue
            differences = diff_trees(fresh / name, committed)
            report.out_of_sync.extend(f"{shown / name / line}" for line in differences)
    stale = sorted(set(assignment_folders(release_dir)) - set(names)) if release_dir.is_dir() else []
    if assignments is None:
        report.out_of_sync.extend(f"{shown / name}: no such assignment in the source" for name in stale)
    return report
