"""The fork server learns the modules notebooks import lazily, and only what is safe to import."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest

from nbcourse.grading.forkserver import ForkServer, ForkServerError, learnable


def test_learnable_only_submodules_of_packages_already_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "imported_pkg", types.ModuleType("imported_pkg"))
    assert learnable("imported_pkg.sub")
    assert not learnable("imported_pkg.sub.deeper")  # its own package is not imported yet
    assert not learnable("json")  # already imported (and a top-level name: never)
    assert not learnable("antigravity")  # top level: a student could name any program
    assert not learnable("nosuchpackage.sub")  # its package is not imported here
    assert not learnable("imported_pkg.__main__")  # runs a program on import
    assert not learnable("imported_pkg.tests")  # test modules
    assert not learnable("imported_pkg.sub; import os")
    assert not learnable(42)


def _server(tmp_path: Path, preimport: list[str], pythonpath: Path | None = None) -> ForkServer:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), env.get("PYTHONPATH", "")])
    return ForkServer(env, preimport, tmp_path / "scratch")


def test_preload_imports_reported_submodules_once(tmp_path: Path) -> None:
    server = _server(tmp_path, ["email"])
    try:
        assert server.usable, server.info().reason
        # A kernel reports a module's parents with it; the server takes parents first.
        reported = ["email.mime.text", "email.__main__", "antigravity", "email.mime"]
        assert server.preload(reported) == ["email.mime", "email.mime.text"]
        assert server.preload(reported) == []  # already in
    finally:
        server.close()


def test_a_preloaded_module_that_starts_a_thread_stops_the_server(tmp_path: Path) -> None:
    pkg = tmp_path / "lib" / "threadpkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "pool.py").write_text(
        "import threading, time\nthreading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
    )
    server = _server(tmp_path, ["threadpkg"], pythonpath=tmp_path / "lib")
    try:
        assert server.usable, server.info().reason
        with pytest.raises(ForkServerError, match="threads alive"):
            server.preload(["threadpkg.pool"])
        server.proc.wait(timeout=10)  # it stopped: nothing forks from it any more
        with pytest.raises(ForkServerError):
            server.spawn([], dict(server.env), tmp_path / "k")
    finally:
        server.close()


def test_a_kernel_forked_into_a_course_folder_writes_its_log_beside_its_connection_file(
    tmp_path: Path,
) -> None:
    """The course tests run notebooks in their own folder: the kernel must leave nothing there."""
    import time

    from jupyter_core.utils import run_sync

    from nbcourse.grading.execute import forked_kernel_manager, shutdown_kernel

    server = _server(tmp_path, [])
    folder, scratch = tmp_path / "course" / "m1", tmp_path / "scratch" / "k1"
    folder.mkdir(parents=True)
    scratch.mkdir(parents=True)
    km = forked_kernel_manager(server, scratch, dict(server.env), "python3")
    try:
        assert server.usable, server.info().reason
        run_sync(km.start_kernel)(cwd=str(folder))
        # The child opens its log first thing after the fork (before the kernel starts up).
        deadline = time.monotonic() + 120
        while not (scratch / ".kernel.log").is_file() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (scratch / ".kernel.log").is_file()
        assert list(folder.iterdir()) == []
    finally:
        shutdown_kernel(km)
        server.close()
