"""The committed release/ is exactly what nbgrader builds from source/, and leaks nothing."""

from __future__ import annotations

import pytest

from nbcourse import authoring as build
from notebooks import ROOT, assignments


@pytest.mark.slow
def test_committed_release_is_clean_and_in_sync_with_source() -> None:
    assert assignments(), "no assignments in source/"
    report = build.check_release(ROOT)
    assert report.ok, "run `uv run course build` and commit release/:\n" + "\n".join(report.lines())


def test_every_source_assignment_is_in_the_manifest() -> None:
    from nbcourse.tracker.manifest import load_manifest

    manifest = load_manifest(ROOT / "course.yaml")
    declared = {a.id: a for a in manifest.assignments}
    for name in assignments():
        assert name in declared, f"source/{name} is not declared in course.yaml"
        notebooks = sorted(p.stem for p in (ROOT / "source" / name).glob("*.ipynb"))
        assert notebooks == sorted(declared[name].notebooks), f"course.yaml notebooks of {name}"
