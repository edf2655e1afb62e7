"""Environment checks behind `env` items."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

from nbcourse.tracker.envchecks import (
    DataChecker,
    EnvChecker,
    check_dependencies,
    check_python,
    check_uv,
    check_workspace,
)


def test_python_version_compared_numerically() -> None:
    ok, detail = check_python("3.10")
    assert ok and detail.startswith("Python 3.")
    too_new = f"{sys.version_info.major}.{sys.version_info.minor + 1}"
    ok, detail = check_python(too_new)
    assert not ok and f"older than {too_new}" in detail
    ok, detail = check_python("three")
    assert not ok and "not a version" in detail


def test_uv_found_from_env_or_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_uv = tmp_path / "bin" / "uv"
    fake_uv.parent.mkdir()
    fake_uv.write_text("#!/bin/sh\n")
    fake_uv.chmod(0o755)
    monkeypatch.setenv("UV", str(fake_uv))
    assert check_uv() == (True, f"uv at {fake_uv}")
    monkeypatch.delenv("UV")
    monkeypatch.setenv("PATH", str(fake_uv.parent))
    assert check_uv() == (True, f"uv at {fake_uv}")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert check_uv() == (False, "uv not found on PATH")


def test_dependencies_names_the_missing_modules() -> None:
    assert check_dependencies(["json", "os.path"])[0]
    ok, detail = check_dependencies(["json", "no_such_mod_a", "no_such_mod_b.sub"])
    assert not ok
    assert detail == "no_such_mod_a, no_such_mod_b.sub missing"


def test_workspace(tmp_path: Path) -> None:
    assert check_workspace(tmp_path)[0]
    ok, detail = check_workspace(tmp_path / "workspace")
    assert not ok and "no workspace" in detail


def _write_data(data: Path) -> Path:
    data.mkdir(parents=True, exist_ok=True)
    (data / "sub").mkdir(exist_ok=True)
    a = data / "a.csv"
    a.write_text("x\n1\n")
    b = data / "sub" / "b.csv"
    b.write_text("y\n2\n")
    lines = [
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(data).as_posix()}" for p in (a, b)
    ]
    (data / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    return a


def test_data_verifies_and_reports_changed_and_missing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    a = _write_data(data)
    checker = DataChecker()
    assert checker.check(data) == (True, "2 files verified")
    a.write_text("x\n999\n")
    ok, detail = checker.check(data)
    assert not ok and "differs from SHA256SUMS: a.csv" in detail
    (data / "sub" / "b.csv").unlink()
    ok, detail = checker.check(data)
    assert "missing: sub/b.csv" in detail


def test_data_hash_is_cached_until_size_or_mtime_changes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    a = _write_data(data)
    checker = DataChecker()
    assert checker.check(data)[0]
    # Same size, same mtime, different bytes: the cache answers without reading the file.
    st = a.stat()
    a.write_text("x\n7\n")
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert checker.check(data)[0]
    # A new mtime invalidates the cached digest, and the change is found.
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    ok, detail = checker.check(data)
    assert not ok and "a.csv" in detail


def test_data_missing_sums_file_or_malformed_line(tmp_path: Path) -> None:
    checker = DataChecker()
    ok, detail = checker.check(tmp_path)
    assert not ok and "SHA256SUMS not found" in detail
    (tmp_path / "SHA256SUMS").write_text("abc file.csv\n")
    ok, detail = checker.check(tmp_path)
    assert not ok and "line 1" in detail


def test_env_checker_dispatch(tmp_path: Path) -> None:
    _write_data(tmp_path / "data")
    checker = EnvChecker(tmp_path, tmp_path / "workspace")
    assert checker.run("data")[0]
    assert not checker.run("workspace")[0]
    assert checker.run("python", {"min_version": "3.8"})[0]
    assert checker.run("dependencies", {"modules": ["json"]})[0]
    assert checker.run("nonsense") == (False, "unknown env check 'nonsense'")
