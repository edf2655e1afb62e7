"""A fork server: one process imports the course's heavy modules once, then forks a fresh kernel per notebook.

A normal kernel pays ~1 s of start-up and 2-3 s of `import pandas, sklearn, xgboost, ...` for every
notebook. Here a server process (never running student code, never computing) imports those
modules once; for each notebook it forks a child that becomes a real `IPKernelApp` listening on the
connection file jupyter_client wrote. nbgrader's own `Execute` then talks to it like to any kernel.

Fork is only safe when nothing runs in other threads at fork time (an OpenMP or BLAS pool forked
mid-operation deadlocks the child; polars' pool never comes back). After the imports the server
lists its threads; anything but the main thread and threads known to survive fork (jemalloc's
background threads, idle by construction) makes it refuse, and the grader falls back to plain
kernels. Modules that hook into the IPython shell at import (`matplotlib_inline`, ipywidgets) are
left for the child to import, since the parent has no shell to hook into.

The server also learns: a notebook's cells import more than its top-level `import` lines (pandera
pulls in dask and scipy the first time a `DataFrameModel` is defined, matplotlib its Agg backend
at the first figure). After each notebook the grader asks the kernel which modules it imported
beyond what it was forked with, and the server imports those too, so later kernels start with
them (`preload`). The names come from a student's kernel, so the server imports only submodules
of packages it has already imported itself (installed, read-only code, never a `__main__`), and
checks its threads again afterwards: a module that started one makes the server refuse to fork
on (the grader then starts a fresh server without that batch).

Protocol: the grader writes length-prefixed pickles on the server's stdin and reads replies from
its stdout; the server's own stdout is pointed at stderr so stray prints cannot corrupt the channel.
Every signal to a child goes through the server: with a PID namespace (the sandbox) the grader
cannot see the child's pid.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import pickle
import re
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

_HEADER = struct.Struct("!I")
# Threads of these names survive fork harmlessly: jemalloc's purging threads (pandas/pyarrow and
# polars link jemalloc) have fork handlers; polars' out-of-core cleaner idles until polars spills.
DEFAULT_FORK_TOLERANT_THREADS = ("jemalloc_bg_thd", "polars-ooc-clea")
# Imported by the child itself: their import registers hooks with the running IPython shell.
SHELL_HOOKED = ("matplotlib_inline",)
CHILD_SETUP_FAILED = 70
KERNEL_LAUNCHER = "ipykernel_launcher"
# A forked kernel's stdout and stderr, by default in the folder it runs in.
KERNEL_LOG = ".kernel.log"
# The kernel's own machinery, imported by every IPKernelApp (the debugger alone, debugpy, is
# ~1.5 s of compiling on each start: its vendored pydevd ships no bytecode).
KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger")
# Set per kernel by jupyter_client; every other variable must be what the server imported under.
PER_KERNEL_ENV = frozenset({"JPY_PARENT_PID", "JPY_SESSION_NAME", "PWD"})  # PWD: bwrap --chdir sets it
# A kernel reports at most this many imported modules for its server to learn (a legitimate
# notebook imports a few hundred; the names come from student code).
MAX_REPORTED_MODULES = 3000
_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
# In a forked kernel: the modules it was forked with (set by `_child`).
AT_FORK: frozenset[str] = frozenset()


class ForkServerError(RuntimeError):
    """The fork server is unusable (did not start, refused to fork, or died)."""


def _send(stream: BinaryIO, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _recv(stream: BinaryIO) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("fork server channel closed")
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("fork server channel closed mid-message")
    return pickle.loads(data)


# ---- the client side (in the grader) ----------------------------------------------------------


@dataclass
class ServerInfo:
    """What the server reported after its imports."""

    ok: bool
    reason: str
    imported: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


class ForkServer:
    """A running fork server process and the channel to it (thread-safe)."""

    def __init__(
        self,
        env: Mapping[str, str],
        preimport: Sequence[str],
        scratch_root: Path,
        policy: Any = None,
        fork_tolerant_threads: Sequence[str] = DEFAULT_FORK_TOLERANT_THREADS,
        python: str | None = None,
        learned: Sequence[str] = (),
    ) -> None:
        from . import hooks

        self.scratch_root = Path(scratch_root)
        self.scratch_root.mkdir(parents=True, exist_ok=True)
        self.policy = policy
        argv = [
            python or sys.executable,
            "-m",
            "nbcourse.grading.forkserver",
            "--scratch-root",
            str(scratch_root),
        ]
        argv = hooks.wrap_command(argv, policy)
        self._lock = threading.Lock()
        self.env = dict(env)
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            env=self.env,
            cwd=str(self.scratch_root),
            start_new_session=True,  # a Ctrl-C in the terminal is the grader's to handle
        )
        self._info: ServerInfo | None = None
        self._hello = {
            "preimport": list(preimport),
            "tolerant": list(fork_tolerant_threads),
            "policy": policy,
            "learned": list(learned),
        }
        assert self.proc.stdin is not None
        _send(self.proc.stdin, self._hello)

    def info(self) -> ServerInfo:
        """Wait for the server's import report (once)."""
        with self._lock:
            if self._info is None:
                try:
                    assert self.proc.stdout is not None
                    self._info = ServerInfo(**_recv(self.proc.stdout))
                except (EOFError, OSError) as exc:
                    self._info = ServerInfo(False, f"fork server died while importing: {exc}")
            return self._info

    @property
    def usable(self) -> bool:
        return self.info().ok and self.proc.poll() is None

    def _call(self, request: dict[str, Any]) -> Any:
        info = self.info()
        if not info.ok:
            raise ForkServerError(info.reason)
        with self._lock:
            try:
                assert self.proc.stdin is not None and self.proc.stdout is not None
                _send(self.proc.stdin, request)
                reply = _recv(self.proc.stdout)
            except (EOFError, OSError, pickle.PickleError) as exc:
                raise ForkServerError(f"fork server channel broke: {exc}") from exc
        if isinstance(reply, dict) and "error" in reply:
            raise ForkServerError(reply["error"])
        return reply

    def spawn(
        self, kernel_args: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path | None = None
    ) -> int:
        """Fork a kernel child running `IPKernelApp` with `kernel_args` in `cwd`, its stdout and
        stderr appended to `log` (default `cwd/KERNEL_LOG`); its pid (server's view)."""
        request = {"op": "spawn", "args": list(kernel_args), "env": dict(env), "cwd": str(cwd)}
        request["log"] = str(log if log is not None else Path(cwd) / KERNEL_LOG)
        return int(self._call(request))

    def preload(self, modules: Sequence[str]) -> list[str]:
        """Import these too (those the server accepts, see the module docstring); what it imported.

        Raises ForkServerError when an import left a thread running: the server no longer forks.
        """
        return list(self._call({"op": "preload", "modules": list(modules)}))

    def poll(self, pid: int) -> int | None:
        """The child's exit code, or None while it runs."""
        return self._call({"op": "poll", "pid": pid})

    def signal(self, pid: int, signum: int) -> None:
        self._call({"op": "signal", "pid": pid, "sig": int(signum)})

    def kill_tree(self, pid: int) -> int | None:
        """SIGKILL the child's whole process group and reap it; its exit code."""
        return self._call({"op": "kill", "pid": pid})

    def close(self) -> None:
        """Stop the server and every child it still has."""
        with contextlib.suppress(Exception), self._lock:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


# ---- the server side --------------------------------------------------------------------------


def _native_threads() -> list[str]:
    """Names of every OS thread of this process but the calling one."""
    me = str(threading.get_native_id())
    names = []
    for tid in os.listdir("/proc/self/task"):
        if tid == me:
            continue
        try:
            names.append(Path(f"/proc/self/task/{tid}/comm").read_text().strip())
        except OSError:
            continue
    return names


def _import_all(modules: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Import each module; drop again what hooks into an IPython shell at import time."""
    import IPython.core.getipython as getipython

    calls: list[str] = []
    real = getipython.get_ipython

    def spy() -> Any:
        calls.append("called")
        return real()

    imported: list[str] = []
    skipped: dict[str, str] = {}
    for name in modules:
        before = set(sys.modules)
        calls.clear()
        getipython.get_ipython = spy
        import IPython

        IPython.get_ipython = spy
        try:
            importlib.import_module(name)
        except Exception as exc:  # a module the course names but this environment lacks
            skipped[name] = f"{type(exc).__name__}: {exc}"
            continue
        finally:
            getipython.get_ipython = real
            IPython.get_ipython = real
        added = set(sys.modules) - before
        hooked = [m for m in added if m.split(".")[0] in SHELL_HOOKED]
        if calls or hooked:
            # Its import asked for the shell (which the parent does not have): let the child's
            # own import run it again, against the child's shell.
            for mod in added:
                sys.modules.pop(mod, None)
            skipped[name] = "hooks into the IPython shell at import; the kernel imports it itself"
            continue
        imported.append(name)
    return imported, skipped


def learnable(name: Any) -> bool:
    """May this process import a module name a kernel reported? Not imported yet, a submodule of a
    package it has already imported (installed code), no `__main__` (that runs a program)."""
    if not isinstance(name, str) or name in sys.modules or not _MODULE_NAME.match(name):
        return False
    parts = name.split(".")
    return (
        len(parts) > 1
        and ".".join(parts[:-1]) in sys.modules
        and "__main__" not in parts
        and not any(part.startswith(("test", "conftest")) for part in parts[1:])
        and parts[0] not in SHELL_HOOKED
    )


def _learn(names: Sequence[str]) -> list[str]:
    """Import the learnable ones (parents first: a package's submodules become learnable once it is in)."""
    imported: list[str] = []
    for name in sorted(set(names), key=lambda n: (n.count("."), n) if isinstance(n, str) else (0, "")):
        if learnable(name):
            imported += _import_all([name])[0]
    return imported


def imported_since_fork() -> str:
    """In a forked kernel: the modules imported since the fork, one a line."""
    return "\n".join(sorted(set(sys.modules) - AT_FORK))


def since_fork_expr() -> str:
    """The user expression that asks a forked kernel for `imported_since_fork()`."""
    return f"__import__('{__package__}.forkserver', fromlist=['x']).imported_since_fork()"


def _unsafe_threads(tolerant: Sequence[str]) -> str:
    """Why forking is unsafe now ('' when it is safe)."""
    threads = [t for t in _native_threads() if t not in tolerant]
    python_threads = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if python_threads or threads:
        return f"threads alive after the imports (forking would be unsafe): {python_threads or threads}"
    if "matplotlib_inline" in sys.modules:
        return "matplotlib_inline was imported before fork (inline figures would break)"
    return ""


def _reseed() -> None:
    """A forked child must not share its parent's random state with its siblings."""
    import random

    random.seed()
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()


def _child(
    args: list[str], env: dict[str, str], cwd: str, log_path: str, policy: Any, channel_fds: Sequence[int]
) -> None:
    """Become a kernel. Never returns."""
    code = 1
    try:
        for fd in channel_fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        os.setsid()  # own process group: the grader kills the kernel's whole tree
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        # `python -m ipykernel_launcher` run in `cwd` puts `cwd` first on sys.path.
        sys.path[0] = cwd
        sys.argv = [KERNEL_LAUNCHER, *args]
        _reseed()
        from . import forkserver as named  # the server runs as __main__; the kernel asks this name
        from . import hooks

        named.AT_FORK = frozenset(sys.modules)

        try:
            hooks.child_setup(policy, Path(cwd))
        except BaseException as exc:
            sys.stderr.write(f"sandbox setup failed: {exc}\n")
            sys.stderr.flush()
            code = CHILD_SETUP_FAILED
            raise
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        app.initialize(args)
        app.start()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def serve(scratch_root: str) -> None:
    inp = os.fdopen(os.dup(0), "rb")
    out = os.fdopen(os.dup(1), "wb")
    # From here on fd 0 is empty and fd 1 is stderr: imports that print cannot corrupt replies.
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    channel = (inp.fileno(), out.fileno())

    hello = _recv(inp)
    import_env = dict(os.environ)
    policy = hello.get("policy")
    started = time.monotonic()
    for name in KERNEL_MODULES:
        importlib.import_module(name)
    imported, skipped = _import_all(hello["preimport"])
    # Learned by earlier servers of this run: best effort, never reported as skipped.
    imported += _learn(hello.get("learned", ()))
    reason = _unsafe_threads(hello["tolerant"])
    ok = not reason
    _send(
        out,
        {
            "ok": ok,
            "reason": reason,
            "imported": imported,
            "skipped": skipped,
            "seconds": time.monotonic() - started,
        },
    )
    if not ok:
        return

    children: dict[int, int | None] = {}

    def reap(pid: int, block: bool = False) -> int | None:
        if pid not in children:
            return -1
        if children[pid] is None:
            try:
                done, status = os.waitpid(pid, 0 if block else os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if done == pid:
                children[pid] = os.waitstatus_to_exitcode(status)
        return children[pid]

    try:
        while True:
            try:
                request = _recv(inp)
            except EOFError:
                break
            op = request.get("op")
            try:
                if op == "spawn":
                    differs = sorted(
                        k
                        for k in set(import_env) | set(request["env"])
                        if import_env.get(k) != request["env"].get(k) and k not in PER_KERNEL_ENV
                    )
                    if differs:
                        raise ValueError(
                            "kernel environment differs from the server's in "
                            + ", ".join(
                                f"{k} ({import_env.get(k)!r} != {request['env'].get(k)!r})" for k in differs
                            )
                        )
                    Path(request["cwd"]).mkdir(parents=True, exist_ok=True)
                    # The imported modules' objects move to the permanent generation: the child's
                    # collector never walks them (a full collection over them was ~0.2 s in an
                    # early cell of every kernel, and wrote to every inherited page).
                    gc.freeze()
                    pid = os.fork()
                    if pid == 0:
                        _child(
                            request["args"], request["env"], request["cwd"], request["log"], policy, channel
                        )
                    children[pid] = None
                    reply: Any = pid
                elif op == "preload":
                    reply = _learn(request["modules"])
                    unsafe = _unsafe_threads(hello["tolerant"])
                    if unsafe:
                        _send(out, {"error": unsafe})
                        break  # the children are killed below; the grader starts a fresh server
                elif op == "poll":
                    reply = reap(request["pid"])
                elif op == "signal":
                    if reap(request["pid"]) is None:
                        os.kill(request["pid"], request["sig"])
                    reply = None
                elif op == "kill":
                    pid = request["pid"]
                    if pid in children:
                        with contextlib.suppress(ProcessLookupError, PermissionError):
                            os.killpg(pid, signal.SIGKILL)
                        reply = reap(pid, block=True)
                        children.pop(pid, None)
                    else:
                        reply = -1
                else:
                    reply = {"error": f"unknown request {op!r}"}
            except Exception as exc:
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            _send(out, reply)
    finally:
        for pid, code in children.items():
            if code is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)


def main(argv: Sequence[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scratch-root", required=True)
    serve(parser.parse_args(argv).scratch_root)


if __name__ == "__main__":
    main()
