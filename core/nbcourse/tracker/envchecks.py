"""Checks of the learner's environment behind the tracker's `env` items.

Each check returns `(ok, detail)`: `detail` says what was found, or exactly what is missing, in
words a learner can act on ("pandera missing", "data/churn.csv differs from SHA256SUMS").
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import platform
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .manifest import DataSpec

CheckResult = tuple[bool, str]


def check_python(min_version: str = "3.10") -> CheckResult:
    try:
        wanted = tuple(int(part) for part in str(min_version).split("."))
    except ValueError:
        return False, f"min_version {min_version!r} is not a version like '3.10'"
    have = sys.version_info[: len(wanted)]
    running = platform.python_version()
    if tuple(have) >= wanted:
        return True, f"Python {running}"
    return False, f"Python {running} is older than {min_version}"


def check_uv() -> CheckResult:
    # `uv run` exports UV with the path of the uv binary that started us.
    from_env = os.environ.get("UV")
    if from_env and Path(from_env).is_file():
        return True, f"uv at {from_env}"
    found = shutil.which("uv")
    if found:
        return True, f"uv at {found}"
    return False, "uv not found on PATH"


def check_dependencies(modules: list[str]) -> CheckResult:
    missing = []
    for name in modules:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            missing.append(name)
    if missing:
        return False, ", ".join(missing) + " missing"
    return True, f"all {len(modules)} importable"


def check_workspace(workspace_dir: Path) -> CheckResult:
    if workspace_dir.is_dir():
        return True, str(workspace_dir)
    return False, f"no workspace at {workspace_dir} (run the course's setup command)"


class DataChecker:
    """Verify a data folder's checksum file, hashing each file only when its (size, mtime) changes.

    Hashing the course's data takes seconds; the tracker is read every few seconds. The cache
    keeps a read at a few stat() calls while still noticing an edited or regenerated file.
    """

    def __init__(self, checksums: str = DataSpec().checksums, regenerate: str | None = None) -> None:
        self.checksums = checksums
        # What to tell the learner when the data is wrong.
        self.regenerate = regenerate or "regenerate the course data"
        self._hashes: dict[Path, tuple[tuple[int, int], str]] = {}

    def _sha256(self, path: Path) -> str:
        st = path.stat()
        key = (st.st_size, st.st_mtime_ns)
        cached = self._hashes.get(path)
        if cached and cached[0] == key:
            return cached[1]
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        value = digest.hexdigest()
        self._hashes[path] = (key, value)
        return value

    def check(self, data_dir: Path) -> CheckResult:
        sums = data_dir / self.checksums
        try:
            lines = sums.read_text(encoding="utf-8").splitlines()
        except OSError:
            return False, f"{sums} not found"
        expected: list[tuple[str, str]] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            parts = line.split(maxsplit=1)
            if len(parts) != 2 or len(parts[0]) != 64:
                return False, f"{sums} line {number} is not '<sha256>  <path>'"
            # `sha256sum` marks binary mode with a leading '*' on the path.
            expected.append((parts[0].lower(), parts[1].strip().lstrip("*")))
        missing, changed = [], []
        for digest, rel in expected:
            path = data_dir / rel
            if not path.is_file():
                missing.append(rel)
            elif self._sha256(path) != digest:
                changed.append(rel)
        if missing or changed:
            problems = []
            if missing:
                problems.append("missing: " + ", ".join(missing[:5]) + ("…" if len(missing) > 5 else ""))
            if changed:
                problems.append(f"differs from {self.checksums}: " + ", ".join(changed[:5]))
            return False, "; ".join(problems) + f" ({self.regenerate})"
        return True, f"{len(expected)} files verified"


class EnvChecker:
    """Run the manifest's env checks for one course."""

    def __init__(self, course_root: Path, workspace_dir: Path, data: DataSpec | None = None) -> None:
        self.course_root = course_root
        self.workspace_dir = workspace_dir
        self.data_spec = data or DataSpec()
        regenerate = f"regenerate with {self.data_spec.generator}" if self.data_spec.generator else None
        self.data = DataChecker(self.data_spec.checksums, regenerate)

    def run(self, check: str, args: Mapping[str, Any] | None = None) -> CheckResult:
        args = dict(args or {})
        if check == "python":
            return check_python(str(args.get("min_version", "3.10")))
        if check == "uv":
            return check_uv()
        if check == "dependencies":
            modules = args.get("modules", [])
            if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules):
                return False, "args.modules must be a list of module names"
            return check_dependencies(modules)
        if check == "data":
            return self.data.check(self.course_root / self.data_spec.dir)
        if check == "workspace":
            return check_workspace(self.workspace_dir)
        return False, f"unknown env check {check!r}"
