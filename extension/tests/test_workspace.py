"""Setting up the workspace adds what is missing and never touches the learner's work."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbcourse.authoring import sync_workspace


@pytest.fixture
def release(tmp_path: Path) -> Path:
    root = tmp_path / "release"
    (root / "m1").mkdir(parents=True)
    (root / "m1" / "01_core.ipynb").write_text('{"course": 1}')
    (root / "m1" / "01_exercises.ipynb").write_text('{"exercises": 1}')
    (root / "m1" / ".ipynb_checkpoints").mkdir()
    (root / "m1" / ".ipynb_checkpoints" / "junk.ipynb").write_text("{}")
    return root


def test_first_setup_copies_every_released_file(release: Path, tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    report = sync_workspace(release, workspace)
    assert sorted(map(str, report.copied)) == ["m1/01_core.ipynb", "m1/01_exercises.ipynb"]
    assert (workspace / "m1" / "01_core.ipynb").read_text() == '{"course": 1}'
    assert not (workspace / "m1" / ".ipynb_checkpoints").exists()
    assert not list(workspace.rglob("*.partial"))


def test_learner_edits_survive_a_course_update(release: Path, tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    sync_workspace(release, workspace)
    (workspace / "m1" / "01_core.ipynb").write_text('{"my": "work"}')
    (release / "m1" / "01_core.ipynb").write_text('{"course": 2}')
    (release / "m1" / "02_new.ipynb").write_text('{"new": 1}')
    report = sync_workspace(release, workspace)
    assert (workspace / "m1" / "01_core.ipynb").read_text() == '{"my": "work"}'
    assert (workspace / "m1" / "02_new.ipynb").read_text() == '{"new": 1}'
    assert [str(p) for p in report.copied] == ["m1/02_new.ipynb"]
    assert [str(p) for p in report.changed_upstream] == ["m1/01_core.ipynb"]


def test_missing_release_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="run `course build` first"):
        sync_workspace(tmp_path / "nope", tmp_path / "workspace")
