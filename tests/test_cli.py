"""The README's first command: `course start` sets up a workspace and serves JupyterLab with the tracker."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from nbcourse.cli import main
from notebooks import RELEASE, ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_setup_copies_the_release_into_a_new_workspace(tmp_path: Path, capsys) -> None:
    workspace = tmp_path / "ws"
    assert main(["--root", str(ROOT), "setup", "--workspace", str(workspace)]) == 0
    released = sorted(p.relative_to(RELEASE) for p in RELEASE.rglob("*.ipynb"))
    assert released, "release/ is empty"
    assert sorted(p.relative_to(workspace) for p in workspace.rglob("*.ipynb")) == released
    assert "data: verified" in capsys.readouterr().out


def test_unknown_course_folder_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["--root", str(tmp_path), "setup"]) == 2
    assert f"no course.yaml found at or above {tmp_path}" in capsys.readouterr().err


def test_unknown_options_are_refused_outside_start(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--root", str(ROOT), "check", "--no-browser"])
    assert "unrecognized arguments: --no-browser" in capsys.readouterr().err


@pytest.mark.slow
def test_start_serves_jupyterlab_with_the_tracker(tmp_path: Path) -> None:
    port, token = free_port(), "course-start-test"
    env = dict(
        os.environ,
        JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        COURSE_DB_URL=f"sqlite:///{tmp_path / 'gradebook.db'}",
    )
    cmd = [
        sys.executable, "-m", "nbcourse.cli", "--root", str(ROOT), "start",
        "--workspace", str(tmp_path / "ws"), "--no-browser", f"--port={port}",
        f"--IdentityProvider.token={token}", f"--CourseTracker.store_path={tmp_path / 'store.json'}",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        tracker = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                req = urllib.request.Request(
                    f"{base}/course-tracker/tracker", headers={"Authorization": f"token {token}"}
                )
                with urllib.request.urlopen(req, timeout=10) as resp:
                    tracker = json.load(resp)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(1)
        assert tracker is not None, f"JupyterLab did not serve the tracker; exit={proc.poll()}"
        assert tracker["course_id"] == "ml-engineering"
        assert len(tracker["states"]) > 100
        assert (tmp_path / "ws" / "m1_data_engineering").is_dir()
        # the lab page itself loads with the extension installed
        req = urllib.request.Request(f"{base}/lab", headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200
    finally:
        proc.terminate()  # SIGTERM: jupyter server shuts down without asking
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
