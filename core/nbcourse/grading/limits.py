"""Resource limits for one grading kernel: a cgroup per kernel, rlimits, and a watchdog.

Why not RLIMIT_AS and RLIMIT_NPROC alone: jemalloc (pandas, pyarrow, polars) reserves far more
address space than it uses, so an address-space limit kills honest notebooks; and RLIMIT_NPROC
counts per user and does not bind root. So:

* memory and processes: a cgroup per kernel (v1 `memory` + `pids`, or v2), which the kernel cannot
  leave or raise (its files belong to root and the kernel runs unprivileged); the kernel runs
  under a uid of its own, so RLIMIT_NPROC bounds its processes even without cgroups;
* where no cgroup can be made, a watchdog sums the proportional set size (PSS) of the kernel's
  processes and kills them all past the limit;
* file size, CPU seconds, open files and core dumps: rlimits, which every process inherits;
* wall time: the watchdog kills the kernel's whole PID namespace when the notebook runs too long.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
MB = 1024 * 1024
# Exit codes the kernel's supervisor uses when it ended the kernel itself (see `describe_exit`).
EXIT_MEMORY = 124
EXIT_WALL = 125


@dataclass(frozen=True)
class Limits:
    """Per-notebook limits (configured as `c.Sandbox.*` in nbgrader_config.py)."""

    memory_mb: int = 3072
    pids: int = 256
    cpu_seconds: int = 900
    wall_seconds: int = 1200
    file_size_mb: int = 512
    open_files: int = 2048
    tmp_mb: int = 512


def describe_exit(code: int | None, limits: Limits) -> str | None:
    """Why a sandboxed kernel ended, when a limit ended it (None: it ended on its own)."""
    if code == EXIT_MEMORY:
        return f"the notebook used more than {limits.memory_mb} MB of memory and was stopped"
    if code == EXIT_WALL:
        return f"the notebook ran longer than {limits.wall_seconds} s and was stopped"
    if code in (-signal.SIGXCPU, 128 + signal.SIGXCPU, -signal.SIGKILL, 137):
        return None  # SIGKILL has many senders (the grader's own timeout first of all)
    return None


def apply_rlimits(limits: Limits) -> None:
    """rlimits for this process and everything it starts (soft = hard: nothing to raise later)."""

    def cap(kind: int, value: int) -> None:
        _, hard = resource.getrlimit(kind)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (value, value))

    cap(resource.RLIMIT_FSIZE, limits.file_size_mb * MB)
    cap(resource.RLIMIT_CPU, limits.cpu_seconds)
    cap(resource.RLIMIT_NOFILE, limits.open_files)
    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_NPROC, limits.pids)
    # A write past RLIMIT_FSIZE then fails with EFBIG (an OSError the test reports) instead of
    # killing the kernel with SIGXFSZ.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


# ---- cgroups -----------------------------------------------------------------------------------


def _own_cgroup(controller: str) -> str:
    """This process's cgroup path for a v1 controller ('' for v2's unified line)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            if controller in names.split(",") or (controller == "" and names == ""):
                return path
    return "/"


@dataclass(frozen=True)
class CgroupBase:
    """Where per-kernel cgroups are made: one folder per controller, owned by root."""

    dirs: tuple[str, ...]  # e.g. /sys/fs/cgroup/memory/<ours>/nbcourse-<id>, .../pids/...
    version: int

    @property
    def usable(self) -> bool:
        return bool(self.dirs)


def make_base(tag: str = "") -> CgroupBase:
    """Create this grading run's cgroup folders, nested in our own cgroup (never its siblings).

    Returns an unusable base when cgroups cannot be written here (not root, read-only cgroupfs).
    """
    name = f"nbcourse-{tag or uuid.uuid4().hex[:12]}"
    unified = CGROUP_ROOT / "cgroup.controllers"
    if unified.is_file():  # pure v2
        parent = CGROUP_ROOT / _own_cgroup("").lstrip("/")
        try:
            base = parent / name
            base.mkdir(exist_ok=True)
            (base / "cgroup.subtree_control").write_text("+memory +pids")
            return CgroupBase((str(base),), 2)
        except OSError:
            return CgroupBase((), 2)
    dirs = []
    for controller in ("memory", "pids"):
        root = CGROUP_ROOT / controller
        if not root.is_dir():
            return CgroupBase((), 1)
        try:
            base = root / _own_cgroup(controller).lstrip("/") / name
            base.mkdir(parents=True, exist_ok=True)
            dirs.append(str(base))
        except OSError:
            for made in dirs:
                with contextlib.suppress(OSError):
                    os.rmdir(made)
            return CgroupBase((), 1)
    return CgroupBase(tuple(dirs), 1)


def remove_base(base: CgroupBase) -> None:
    """Remove a run's cgroup folders (they must be empty: kernels gone)."""
    for folder in base.dirs:
        for child in sorted(Path(folder).glob("k-*"), reverse=True):
            with contextlib.suppress(OSError):
                child.rmdir()
        with contextlib.suppress(OSError):
            os.rmdir(folder)


class KernelCgroup:
    """One kernel's cgroup: memory and process limits, membership, OOM accounting, kill."""

    def __init__(self, base: CgroupBase, limits: Limits, name: str | None = None) -> None:
        self.base = base
        self.limits = limits
        self.name = name or f"k-{uuid.uuid4().hex[:12]}"
        self.dirs = [Path(d) / self.name for d in base.dirs]

    def create(self) -> None:
        for folder in self.dirs:
            folder.mkdir()
        if self.base.version == 2:
            (folder_v2 := self.dirs[0])
            (folder_v2 / "memory.max").write_text(str(self.limits.memory_mb * MB))
            with contextlib.suppress(OSError):
                (folder_v2 / "memory.swap.max").write_text("0")
            (folder_v2 / "pids.max").write_text(str(self.limits.pids))
            return
        memory, pids = self.dirs
        (memory / "memory.limit_in_bytes").write_text(str(self.limits.memory_mb * MB))
        with contextlib.suppress(OSError):  # only where swap accounting is on
            (memory / "memory.memsw.limit_in_bytes").write_text(str(self.limits.memory_mb * MB))
        (pids / "pids.max").write_text(str(self.limits.pids))

    def join(self, pid: int = 0) -> None:
        """Move a process (0: the caller) into the kernel's cgroup."""
        for folder in self.dirs:
            (folder / "cgroup.procs").write_text(str(pid or os.getpid()))

    def pids(self) -> set[int]:
        found: set[int] = set()
        for folder in self.dirs:
            with contextlib.suppress(OSError):
                found.update(int(p) for p in (folder / "cgroup.procs").read_text().split())
        return found

    def oom_killed(self) -> bool:
        """Did the kernel hit its memory limit (the kernel's OOM killer acted in this cgroup)?"""
        folder = self.dirs[0]
        try:
            if self.base.version == 2:
                events = (folder / "memory.events").read_text()
                return any(
                    line.split()[0] == "oom_kill" and int(line.split()[1]) > 0 for line in events.splitlines()
                )
            control = (folder / "memory.oom_control").read_text()
            if "oom_kill " in control:
                return any(
                    line.startswith("oom_kill ") and int(line.split()[1]) > 0 for line in control.splitlines()
                )
            return int((folder / "memory.failcnt").read_text()) > 0
        except (OSError, ValueError, IndexError):
            return False

    def kill_all(self, timeout: float = 5.0) -> None:
        """SIGKILL every process in the cgroup until it is empty (a fork bomb cannot outrun it:
        the pids limit caps how many there are)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    def remove(self) -> None:
        self.kill_all()
        for folder in self.dirs:
            with contextlib.suppress(OSError):
                folder.rmdir()


# ---- the watchdog's view of a uid's processes (used where no cgroup exists) -------------------


def processes_of(uid: int) -> Iterator[int]:
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid == uid:
                yield int(entry)
        except OSError:
            continue


def pss_bytes(pid: int) -> int:
    """Proportional set size: shared pages (the fork server's warm imports) count by share."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0
