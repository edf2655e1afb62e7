"""The grading sandbox: what a student's kernel can see, touch and use.

Two layers, because the grader forks many kernels from one warm server:

1. `wrap_command` runs the fork server under bubblewrap: a new mount namespace built from read-only
   binds of the system, the Python installation, the venv and the code on `sys.path`, the course's
   public data folder (without its instructor-only folder), the scratch root (the only writable
   place) and a private /tmp; new PID, IPC, UTS and network namespaces (no network at all); the
   server dies with the grader. The course's instructor folders, the gradebook and every student's
   files are simply not in that filesystem.
2. `child_setup` runs in each forked kernel, still privileged, just before the kernel starts. It
   gives the kernel a PID, mount, IPC and network namespace of its own (a supervisor process stays
   outside, forwards signals, enforces the wall-time limit and leaves when the kernel ends: when the
   kernel, PID 1 of its namespace, ends, Linux kills every process it left behind, even daemons
   that called setsid). In its mount namespace only its own scratch folder is visible under the
   scratch root, /tmp and /dev/shm are fresh, and the instructor-only data is an empty folder.
   It joins a cgroup of its own (memory and pids limits), sets rlimits (file size, CPU, open files,
   processes), moves HOME/IPYTHONDIR/TMPDIR/MPLCONFIGDIR into its private /tmp, and drops to a uid
   of its own with no capabilities and no_new_privs. Last, `tamper.install` records the trusted
   functions hidden tests rely on before any student code runs.

Where bubblewrap or namespaces are missing the sandbox degrades, loudly, one step at a time (see
`policy_for`); `c.Sandbox.require = True` makes a missing layer an error instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from traitlets import Bool, Integer, List, Unicode
from traitlets.config import Config, Configurable

from . import limits as _limits
from .limits import Limits

log = logging.getLogger(__name__)

# Inside the bubblewrap filesystem: root-only staging of what each kernel needs before it drops
# its privileges (the instructor-only data, the cgroup folder the kernel's own cgroup goes into).
STAGE = "/run/nbcourse"
STAGE_KEYS = f"{STAGE}/keys"
STAGE_CGROUP = f"{STAGE}/cgroup"
CGROUP_CONTROLLERS = ("memory", "pids")
INSTRUCTOR_FOLDER = "instructor"
# Filesystem roots a Python program needs; anything else must be named explicitly.
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt")


class SandboxUnavailable(RuntimeError):
    """`c.Sandbox.require` is set and this machine cannot provide the sandbox."""


class Sandbox(Configurable):  # type: ignore[misc]
    """The grading sandbox and its per-notebook limits (`c.Sandbox.*` in nbgrader_config.py)."""

    enabled = Bool(True, help="Run student kernels sandboxed (False: only with a loud warning).").tag(
        config=True
    )
    require = Bool(
        False,
        help="Refuse to grade when bubblewrap or Linux namespaces are unavailable, instead of degrading.",
    ).tag(config=True)
    memory_mb = Integer(
        Limits.memory_mb, help="Memory per notebook (cgroup; watchdog on PSS without one)."
    ).tag(config=True)
    pids = Integer(Limits.pids, help="Processes and threads per notebook.").tag(config=True)
    cpu_seconds = Integer(Limits.cpu_seconds, help="CPU seconds per kernel process.").tag(config=True)
    wall_seconds = Integer(Limits.wall_seconds, help="Wall-clock seconds per notebook.").tag(config=True)
    file_size_mb = Integer(Limits.file_size_mb, help="Largest file a notebook may write.").tag(config=True)
    open_files = Integer(Limits.open_files, help="Open file descriptors per process.").tag(config=True)
    tmp_mb = Integer(Limits.tmp_mb, help="Size of each notebook's private /tmp and /dev/shm.").tag(
        config=True
    )
    uid_base = Integer(
        200_000, help="First of the unprivileged uids kernels run as (no user owns them)."
    ).tag(config=True)
    uid_count = Integer(100_000, help="How many uids, from uid_base, kernels are spread over.").tag(
        config=True
    )
    bwrap = Unicode("bwrap", help="The bubblewrap executable.").tag(config=True)
    readonly_paths = List(
        Unicode(), help="Extra folders kernels may read (besides the system, Python and the course data)."
    ).tag(config=True)


@dataclass(frozen=True)
class Policy:
    """Everything the fork server and each kernel need to confine themselves (picklable)."""

    limits: Limits
    layers: tuple[str, ...]  # "bwrap" (server confined), "namespaces" (each kernel confined)
    require: bool
    uid_base: int
    uid_count: int
    bwrap: str = "bwrap"
    readonly: tuple[str, ...] = ()
    data_dir: str | None = None
    keys_dir: str | None = None  # the real instructor-only folder (outside)
    hide: tuple[str, ...] = ()  # course paths each kernel must not see where bubblewrap is absent
    warnings: tuple[str, ...] = field(default=())

    @property
    def keys_target(self) -> str | None:
        """Where hidden tests look for the instructor-only files."""
        return str(Path(self.data_dir) / INSTRUCTOR_FOLDER) if self.data_dir else None


def _warn(message: str) -> None:
    """Say it where an instructor looks: the log and the terminal."""
    log.warning(message)
    sys.stderr.write(f"WARNING: {message}\n")
    sys.stderr.flush()


# ---- what this machine can do ------------------------------------------------------------------

_PROBES: dict[str, bool] = {}


def _probe(name: str, argv: list[str]) -> bool:
    if name not in _PROBES:
        try:
            done = subprocess.run(argv, capture_output=True, timeout=20, check=False)
            _PROBES[name] = done.returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            _PROBES[name] = False
    return _PROBES[name]


def bwrap_works(bwrap: str) -> bool:
    exe = shutil.which(bwrap)
    if exe is None:
        return False
    argv = [exe, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--unshare-pid", "--unshare-net"]
    argv += [*(_caps() if os.geteuid() == 0 else ["--unshare-user"]), "--die-with-parent", "true"]
    return _probe(f"bwrap:{exe}", argv)


def namespaces_work() -> bool:
    """Can a process here make the namespaces child_setup makes (root, or a user namespace)?"""
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    flags = ["--mount", "--pid", "--net", "--fork"] + (
        [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    )
    return _probe("unshare", [unshare, *flags, "true"])


def _caps() -> list[str]:
    # What the fork server keeps so each child can confine itself; the child drops all of them
    # before any student code runs (setresuid to a non-zero uid clears every capability).
    caps = [
        "CAP_SYS_ADMIN",
        "CAP_SETUID",
        "CAP_SETGID",
        "CAP_CHOWN",
        "CAP_KILL",
        "CAP_FOWNER",
        "CAP_DAC_OVERRIDE",
    ]
    return [arg for cap in caps for arg in ("--cap-add", cap)]


# ---- the policy ----------------------------------------------------------------------------------


def policy_for(course_root: Path, config: Config) -> Policy | None:
    """The sandbox for grading this course on this machine, saying loudly what it cannot do."""
    settings = Sandbox(config=config)
    if not settings.enabled:
        _warn(
            "the grading sandbox is OFF (c.Sandbox.enabled = False): "
            "student code runs with the grader's rights"
        )
        return None
    from ..nbgrader import NbgraderCourse, sqlite_file

    course = NbgraderCourse(Path(course_root), config)
    data_dir = _data_dir(course.root)
    limits = Limits(
        memory_mb=settings.memory_mb,
        pids=settings.pids,
        cpu_seconds=settings.cpu_seconds,
        wall_seconds=settings.wall_seconds,
        file_size_mb=settings.file_size_mb,
        open_files=settings.open_files,
        tmp_mb=settings.tmp_mb,
    )
    layers: list[str] = []
    missing: list[str] = []
    if sys.platform != "linux":
        missing.append("Linux namespaces (this is not Linux)")
    else:
        if bwrap_works(settings.bwrap):
            layers.append("bwrap")
        else:
            missing.append(f"bubblewrap ({settings.bwrap!r} is missing or cannot make namespaces here)")
        if namespaces_work():
            layers.append("namespaces")
        else:
            missing.append("per-kernel namespaces (unshare failed)")
    if os.geteuid() != 0:
        missing.append("a uid per kernel (the grader is not root)")
    if missing and settings.require:
        raise SandboxUnavailable(
            "the grading sandbox is required (c.Sandbox.require = True) but this machine lacks: "
            + "; ".join(missing)
        )
    coursedir = course.coursedir
    gradebook = sqlite_file(course.db_url)
    hide = [
        course.source_root,
        course.release_root,
        course.step_root(coursedir.submitted_directory),
        course.step_root(coursedir.autograded_directory),
        course.step_root(coursedir.feedback_directory),
        *([gradebook, Path(f"{gradebook}-journal"), Path(f"{gradebook}-wal")] if gradebook else []),
        course.root / "nbgrader_config.py",
    ]
    if data_dir is not None:
        hide.append(data_dir / INSTRUCTOR_FOLDER)
    warnings = tuple(f"grading sandbox degraded: no {what}" for what in missing)
    for message in warnings:
        _warn(message)
    keys = data_dir / INSTRUCTOR_FOLDER if data_dir is not None else None
    return Policy(
        limits=limits,
        layers=tuple(layers),
        require=settings.require,
        uid_base=settings.uid_base,
        uid_count=settings.uid_count,
        bwrap=settings.bwrap,
        readonly=tuple(settings.readonly_paths),
        data_dir=str(data_dir) if data_dir is not None else None,
        keys_dir=str(keys) if keys is not None and keys.is_dir() else None,
        hide=tuple(str(p) for p in hide),
        warnings=warnings,
    )


def _data_dir(course_root: Path) -> Path | None:
    """The course's data folder: $COURSE_DATA_DIR, else <root>/data (the course's convention)."""
    if os.environ.get("COURSE_DATA_DIR"):
        return Path(os.environ["COURSE_DATA_DIR"]).resolve()
    candidate = course_root / "data"
    return candidate.resolve() if candidate.is_dir() else None


# ---- layer 1: the fork server under bubblewrap --------------------------------------------------


def _python_paths(policy: Policy, scratch_root: str | None = None) -> list[str]:
    """Folders the interpreter and its imports read: installation, venv, and sys.path entries.

    Never a folder that holds something kernels must not see (a sys.path entry that is the course
    root would expose source/), nor the scratch root (each kernel brings back only its own folder).
    """
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    paths.update(p for p in sys.path if p and os.path.isabs(p))
    secret = [Path(h) for h in policy.hide] + ([Path(scratch_root)] if scratch_root else [])

    def allowed(path: str) -> bool:
        here = Path(path)
        return not any(here == h or here in h.parents or h in here.parents for h in secret)

    return sorted(p for p in paths if os.path.exists(p) and allowed(p))


def _minimal(paths: list[str]) -> list[str]:
    """Drop paths inside another listed path (one bind covers both)."""
    kept: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


def _own_cgroups() -> dict[str, str]:
    """controller -> this process's cgroup folder, where each kernel makes its own cgroup."""
    found = {}
    for controller in CGROUP_CONTROLLERS:
        folder = _limits.CGROUP_ROOT / controller / _limits._own_cgroup(controller).lstrip("/")
        if folder.is_dir() and os.access(folder, os.W_OK):
            found[controller] = str(folder)
    return found


def _scratch_root(argv: list[str]) -> str | None:
    if "--scratch-root" in argv:
        return argv[argv.index("--scratch-root") + 1]
    return None


def wrap_command(argv: list[str], policy: Policy | None) -> list[str]:
    """The fork server's command line under bubblewrap (unchanged, with a warning, without it)."""
    if policy is None:
        return list(argv)
    if "bwrap" not in policy.layers:
        _warn("the fork server runs without bubblewrap: kernels see the grader's whole filesystem")
        return list(argv)
    exe = shutil.which(policy.bwrap) or policy.bwrap
    args = [exe, "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net"]
    args += ["--unshare-cgroup-try", "--hostname", "grader", "--new-session"]
    if os.geteuid() == 0:
        args += _caps()
    else:
        args += ["--unshare-user"]
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/run"]
    scratch = _scratch_root(argv)
    data = policy.data_dir
    binds = [
        p
        for p in _minimal([*_python_paths(policy, scratch), *policy.readonly])
        if not any(p == s or p.startswith(s + "/") for s in SYSTEM_PATHS if os.path.isdir(s))
    ]
    # bubblewrap makes missing parent folders mode 0700, which the unprivileged kernel could not
    # cross: make them traversable first.
    parents = {str(a) for p in [*binds, data, scratch] if p for a in Path(p).parents if str(a) != "/"}
    for parent in sorted(parents, key=len):
        if not any(parent == s or parent.startswith(s + "/") for s in SYSTEM_PATHS):
            args += ["--perms", "0755", "--dir", parent]
    for path in binds:
        args += ["--ro-bind", path, path]
    if data and os.path.isdir(data):
        args += ["--ro-bind", data, data]
        if os.path.isdir(os.path.join(data, INSTRUCTOR_FOLDER)):
            # hidden; each kernel gets an empty folder here (filled only while a hidden test runs)
            args += ["--tmpfs", os.path.join(data, INSTRUCTOR_FOLDER)]
    args += ["--perms", "0700", "--dir", STAGE]
    if policy.keys_dir and os.path.isdir(policy.keys_dir):
        args += ["--ro-bind", policy.keys_dir, STAGE_KEYS]
    for controller, folder in _own_cgroups().items():
        args += ["--bind", folder, f"{STAGE_CGROUP}/{controller}"]
    if scratch:
        Path(scratch).mkdir(parents=True, exist_ok=True)
        args += ["--bind", scratch, scratch, "--chdir", scratch]
    return [*args, "--", *argv]


# ---- layer 2: each kernel ------------------------------------------------------------------------

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWNET = 0x40000000
CLONE_NEWPID = 0x20000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
TMP_DIRS = ("/tmp", "/dev/shm", "/var/tmp")
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)

_libc: Any = None


def _c() -> Any:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        _c().mount(
            source.encode(),
            target.encode(),
            fstype.encode() if fstype else None,
            flags,
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def _tmpfs(target: str, size_mb: int, mode: str = "1777", uid: int = 0, flags: int = 0) -> None:
    _mount(
        "tmpfs",
        target,
        "tmpfs",
        MS_NOSUID | MS_NODEV | flags,
        f"size={size_mb}m,mode={mode},uid={uid},gid={uid}",
    )


def uid_for(policy: Policy, scratch_dir: Path) -> int:
    """A uid for this kernel alone (distinct kernels get distinct uids, with overwhelming odds)."""
    return policy.uid_base + zlib.crc32(str(scratch_dir).encode()) % policy.uid_count


def child_setup(policy: Policy | None, scratch_dir: Path) -> None:
    """Confine this freshly forked kernel process; it returns in the process that becomes the kernel."""
    if policy is None:
        return
    scratch_dir = Path(scratch_dir)
    from . import tamper  # while every file is still readable

    privileged = os.geteuid() == 0 and "namespaces" in policy.layers
    keys = _read_keys(policy)
    uid = uid_for(policy, scratch_dir) if os.geteuid() == 0 else os.geteuid()
    cgroup = _kernel_cgroup(policy) if os.geteuid() == 0 else None
    if privileged:
        # The supervisor stays in the server's namespaces; only its child (the kernel) is PID 1
        # of a new PID namespace, and makes its own mount, network and IPC namespaces below.
        _check(_c().unshare(CLONE_NEWPID), "unshare(pid)")
    pid = os.fork()
    if pid != 0:
        _supervise(pid, policy, cgroup, uid, scratch_dir)  # never returns
    # --- the kernel-to-be (PID 1 of its namespace when privileged) ---
    with contextlib.suppress(OSError):
        _check(_c().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")
    if cgroup is not None:
        cgroup.join()
    if privileged:
        _check(_c().unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC), "unshare(mount, net, ipc)")
        _mount("none", "/", None, MS_REC | MS_PRIVATE)
        _private_filesystem(policy, scratch_dir, uid)
    _own_scratch(scratch_dir, uid)
    home = Path("/tmp/home") if privileged else scratch_dir / ".home"
    _private_env(home, uid)
    with contextlib.suppress(OSError):
        Path("/proc/self/oom_score_adj").write_text("1000")  # under memory pressure, kernels go first
    _limits.apply_rlimits(policy.limits)
    if os.geteuid() == 0:
        _drop_privileges(uid)
    with contextlib.suppress(OSError):
        _check(_c().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    tamper.install(keys, policy.keys_target)


def _read_keys(policy: Policy) -> dict[str, bytes]:
    """The instructor-only files, read while still privileged (relative path -> bytes)."""
    folder = (
        Path(STAGE_KEYS) if Path(STAGE_KEYS).is_dir() else Path(policy.keys_dir) if policy.keys_dir else None
    )
    if folder is None or not folder.is_dir():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _kernel_cgroup(policy: Policy) -> _limits.KernelCgroup | None:
    """A fresh cgroup for this kernel under the grader's own (None: none can be made here)."""
    staged = [Path(STAGE_CGROUP) / c for c in CGROUP_CONTROLLERS]
    if all(p.is_dir() for p in staged):
        base = _limits.CgroupBase(tuple(str(p) for p in staged), 1)
    else:
        dirs = _own_cgroups()
        if len(dirs) != len(CGROUP_CONTROLLERS):
            return None
        base = _limits.CgroupBase(tuple(dirs[c] for c in CGROUP_CONTROLLERS), 1)
    _sweep(base)
    cgroup = _limits.KernelCgroup(base, policy.limits)
    try:
        cgroup.create()
    except OSError as exc:
        _warn(f"no cgroup for this kernel ({exc}); memory is watched by polling instead")
        cgroup.remove()
        return None
    return cgroup


def _sweep(base: _limits.CgroupBase, older_than: float = 30.0) -> None:
    """Remove empty kernel cgroups a killed supervisor left behind (rmdir fails on busy ones)."""
    now = time.time()
    for folder in base.dirs:
        for child in Path(folder).glob("k-*"):
            with contextlib.suppress(OSError):
                if now - child.stat().st_mtime > older_than:
                    child.rmdir()


def _private_filesystem(policy: Policy, scratch_dir: Path, uid: int) -> None:
    """This kernel's view: its own /proc, /tmp, /dev/shm, only its own scratch, no course folders."""
    # Only this notebook's folder stays visible under the scratch root (its siblings are other
    # kernels' notebooks), and /tmp is new. Without bubblewrap, folders the kernel's uid could not
    # cross (a Python installed under /root) are covered too. What must stay (the scratch folder,
    # the public data, the Python installation) is held by a descriptor and put back afterwards.
    root = scratch_dir.parent
    keep = [(scratch_dir, False)]
    if policy.data_dir and os.path.isdir(policy.data_dir):
        keep.append((Path(policy.data_dir), True))
    python = [Path(p) for p in _minimal(_python_paths(policy, str(root))) if os.path.isdir(p)]
    blocked = {a for p in python for a in p.parents if a != Path("/") and not os.stat(a).st_mode & 0o001}
    covers = [Path(t) for t in ("/tmp", "/dev/shm", "/var/tmp") if os.path.isdir(t)]
    covers += sorted(a for a in blocked if not any(b in a.parents for b in blocked))
    keep += [(p, True) for p in python if any(c == p or c in p.parents for c in covers)]
    held = [os.open(path, os.O_PATH | os.O_DIRECTORY) for path, _ in keep]
    try:
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        for target in covers:
            _tmpfs(
                str(target),
                policy.limits.tmp_mb if str(target) in TMP_DIRS else 16,
                mode="1777" if str(target) in TMP_DIRS else "0755",
            )
        _makedirs(root)
        _tmpfs(str(root), 16, mode="0755")
        for (path, readonly), fd in zip(keep, held, strict=True):
            _makedirs(path)
            _mount(f"/proc/self/fd/{fd}", str(path), None, MS_BIND | MS_REC)
            if readonly:
                _mount("none", str(path), None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    finally:
        for fd in held:
            os.close(fd)
    # Course folders that exist here (all of them when bubblewrap is absent) become empty.
    for path in policy.hide:
        with contextlib.suppress(OSError):
            if os.path.isdir(path):
                _tmpfs(path, 1, mode="0000", flags=MS_RDONLY)
            elif os.path.exists(path):
                _mount("/dev/null", path, None, MS_BIND)
    if os.path.isdir(STAGE):
        _tmpfs(STAGE, 1, mode="0000", flags=MS_RDONLY)
    # Where hidden tests read instructor-only files: an empty folder the kernel owns, filled by
    # the hidden test's own preamble (tamper.py) and emptied after it.
    target = policy.keys_target
    if target and os.path.isdir(target):
        _tmpfs(target, max(1, policy.limits.tmp_mb // 4), mode="0700", uid=uid)


def _makedirs(path: Path) -> None:
    """Create missing folders, each traversable (mode 0755) whatever the umask."""
    for folder in [*reversed(path.parents), path]:
        if not folder.exists():
            folder.mkdir()
            os.chmod(folder, 0o755)


def _own_scratch(scratch_dir: Path, uid: int) -> None:
    """The kernel's uid owns its scratch folder (the connection file and ipc sockets are there)."""
    if os.geteuid() != 0:
        return
    for path in [scratch_dir, *scratch_dir.rglob("*")]:
        with contextlib.suppress(OSError):
            os.lchown(path, uid, uid)
    os.chmod(scratch_dir, 0o700)


def _private_env(home: Path, uid: int) -> None:
    """HOME, IPython, Jupyter, matplotlib and temp folders of the kernel's own (none of the grader's)."""
    dirs = {
        "HOME": home,
        "IPYTHONDIR": home / ".ipython",
        "MPLCONFIGDIR": home / ".config" / "matplotlib",
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_CACHE_HOME": home / ".cache",
        "XDG_DATA_HOME": home / ".local" / "share",
        "JUPYTER_CONFIG_DIR": home / ".jupyter",
        "JUPYTER_DATA_DIR": home / ".local" / "share" / "jupyter",
    }
    for name, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True)
        os.environ[name] = str(path)
    tmp = Path("/tmp") if str(home).startswith("/tmp/") else home / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    for name in ("TMPDIR", "TEMP", "TMP"):
        os.environ[name] = str(tmp)
    # No input history on disk or in memory: a hidden test's source must not outlive its cell.
    profile = dirs["IPYTHONDIR"] / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "ipython_kernel_config.py").write_text("c.HistoryManager.enabled = False\n")
    os.environ.pop("JUPYTER_PATH", None)
    os.environ["PYTHONNOUSERSITE"] = "1"
    import tempfile

    tempfile.tempdir = None  # re-read TMPDIR
    if os.geteuid() == 0:
        for path in [home, *home.rglob("*"), tmp]:
            with contextlib.suppress(OSError):
                os.lchown(path, uid, uid)


def _drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    # Changing uid made the process non-dumpable, which would hide its own /proc files from it.
    with contextlib.suppress(OSError):
        _check(_c().prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "prctl(DUMPABLE)")


def _supervise(
    pid: int, policy: Policy, cgroup: _limits.KernelCgroup | None, uid: int, scratch_dir: Path
) -> None:
    """Outside the kernel's namespace: forward signals, enforce wall time (and memory without a
    cgroup), and end when the kernel ends, taking everything it started with it."""

    def forward(signum: int, _frame: Any) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    for signum in FORWARDED:
        signal.signal(signum, forward)
    limit = policy.limits
    deadline = time.monotonic() + limit.wall_seconds
    reason = 0
    status = 0
    try:
        while True:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done == pid:
                break
            if time.monotonic() > deadline:
                reason = _limits.EXIT_WALL
            elif (
                cgroup is None
                and sum(map(_limits.pss_bytes, _limits.processes_of(uid))) > limit.memory_mb * _limits.MB
            ):
                reason = _limits.EXIT_MEMORY
            if reason:
                _kill_everything(pid, cgroup, uid)
            time.sleep(0.05)
        if cgroup is not None and cgroup.oom_killed():
            reason = _limits.EXIT_MEMORY
    finally:
        _kill_everything(pid, cgroup, uid)
        if cgroup is not None:
            cgroup.remove()
    if reason:
        sys.stderr.write(f"sandbox: {_limits.describe_exit(reason, limit)}\n")
        sys.stderr.flush()
        os._exit(reason)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


def _kill_everything(pid: int, cgroup: _limits.KernelCgroup | None, uid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)  # PID 1 of its namespace: the namespace goes with it
    if cgroup is not None:
        cgroup.kill_all()
    elif uid != 0 and os.geteuid() == 0:
        for other in _limits.processes_of(uid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(other, signal.SIGKILL)
