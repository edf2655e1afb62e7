"""`course start` launches a learner's JupyterLab without nbgrader's instructor tools (issue 14.8).

These check the launch `course start` computes, against what nbgrader actually installs in this
environment, and that JupyterLab's own page-config reader sees the plugins disabled.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

from nbcourse import cli
from nbcourse.launch import (
    INSTRUCTOR_SERVER_EXTENSIONS,
    LEARNER_CONFIG_DIR,
    instructor_lab_plugins,
    lab_launch,
)
from notebooks import ROOT

PREFIX = Path(sys.prefix)
NBGRADER_LAB = PREFIX / "share" / "jupyter" / "labextensions" / "@jupyter" / "nbgrader"
NBGRADER_SERVER_CONFIG = PREFIX / "etc" / "jupyter" / "jupyter_server_config.d" / "nbgrader.json"
# nbgrader's learner tool: the "Validate" button on a notebook. Everything else is instructor-side
# (menu, Create Assignment, formgrader) or the exchange's lists, which `course start` does not use.
LEARNER_TOOLS = {"@jupyter/nbgrader:validate-assignment", "nbgrader.server_extensions.validate_assignment"}


def installed_nbgrader_plugins() -> set[str]:
    found: set[str] = set()
    for js in (NBGRADER_LAB / "static").glob("*.js"):
        found.update(re.findall(r'"(@jupyter/nbgrader:[a-z-]+)"', js.read_text(errors="replace")))
    return found


def server_extension_options(argv: list[str]) -> dict[str, str]:
    prefix = "--ServerApp.jpserver_extensions="
    return dict(arg[len(prefix) :].split("=", 1) for arg in argv if arg.startswith(prefix))


def test_learner_mode_disables_every_instructor_plugin_nbgrader_installs() -> None:
    plugins = installed_nbgrader_plugins()
    assert "@jupyter/nbgrader:menu" in plugins, f"nbgrader's lab extension not found in {NBGRADER_LAB}"
    assert set(instructor_lab_plugins()) == plugins - LEARNER_TOOLS


def test_learner_mode_disables_every_instructor_server_extension() -> None:
    enabled = json.loads(NBGRADER_SERVER_CONFIG.read_text())["ServerApp"]["jpserver_extensions"]
    assert set(INSTRUCTOR_SERVER_EXTENSIONS) == set(enabled) - LEARNER_TOOLS


def test_learner_launch_turns_the_instructor_tools_off(tmp_path: Path) -> None:
    launch = lab_launch(
        ROOT, tmp_path / "ws", tmp_path / "data", environ={"JUPYTER_CONFIG_PATH": "/mine"}, as_root=False
    )
    assert server_extension_options(launch.argv) == dict.fromkeys(INSTRUCTOR_SERVER_EXTENSIONS, "False")
    # the learner config first (highest priority), the user's own config path kept after it
    assert launch.env["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [str(LEARNER_CONFIG_DIR), "/mine"]
    assert "--CourseTracker.role=instructor" not in launch.argv
    assert "--allow-root" not in launch.argv
    assert f"--ServerApp.root_dir={tmp_path / 'ws'}" in launch.argv
    assert launch.env["COURSE_DATA_DIR"] == str(tmp_path / "data")


def test_instructor_launch_keeps_nbgrader_as_installed(tmp_path: Path) -> None:
    launch = lab_launch(ROOT, tmp_path / "ws", tmp_path / "data", instructor=True, environ={}, as_root=True)
    assert server_extension_options(launch.argv) == {}
    assert "JUPYTER_CONFIG_PATH" not in launch.env
    assert "--CourseTracker.role=instructor" in launch.argv
    assert "--allow-root" in launch.argv


def test_jupyterlab_reads_the_learner_page_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from jupyterlab_server.config import get_static_page_config

    launch = lab_launch(ROOT, ROOT / "workspace", ROOT / "data", environ={}, as_root=False)
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", launch.env["JUPYTER_CONFIG_PATH"])
    disabled = get_static_page_config(level="all").get("disabledExtensions", {})
    assert disabled.get("@jupyter/nbgrader:menu") is True
    assert disabled.get("@jupyter/nbgrader:create-assignment") is True
    assert "@jupyter/nbgrader:validate-assignment" not in disabled


@pytest.mark.parametrize("flag, instructor", [([], False), (["--instructor"], True)])
def test_course_start_execs_the_launch_for_its_mode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, flag: list[str], instructor: bool
) -> None:
    ran: dict[str, object] = {}
    monkeypatch.setattr(cli, "setup", lambda root, workspace: None)
    monkeypatch.setattr(cli.os, "execve", lambda path, argv, env: ran.update(argv=argv, env=env))
    ws = tmp_path / "ws"
    argv = ["--root", str(ROOT), "start", "--workspace", str(ws), *flag, "--no-browser"]
    assert cli.main(argv) == 0
    assert ran["argv"][-1] == "--no-browser"
    assert bool(server_extension_options(ran["argv"])) is not instructor
    assert ("--CourseTracker.role=instructor" in ran["argv"]) is instructor
