"""Trusted functions for hidden tests, and the grader's view of whether a student tampered with them.

A hidden test runs in the student's own kernel, after the student's code. Whatever that code
replaced, the test would call: a no-op `pd.testing.assert_frame_equal`, an `np.allclose` that
always says yes, a `time.perf_counter` that hides time, an IPython that shows no tracebacks, an
import hook that hands the test a fake module. So:

* `install` runs in the kernel process before any student code (from `sandbox.child_setup`): it
  snapshots the functions, classes, module attributes and interpreter hooks tests rely on, adds
  the shell's own (IPython's traceback, display and transformer machinery, the kernel's message
  handlers) as soon as the shell exists, and installs the first audit hook, which refuses any
  further audit hook and keeps the instructor-only files closed outside hidden tests.
* Around each autograded test cell the grader evaluates `before_expr`/`after_expr` as *silent*
  user expressions (no history, no events, no outputs). `before_test` puts back everything the
  student changed (and says what), hides student names that shadow builtins or trusted modules,
  clears trace/profile hooks and opens the instructor files; `after_test` closes them, checks
  nothing was changed *during* the test, puts the student's names back and scrubs the test's
  source from the input history, `In`/`_ih`/`_i*`, linecache and IPython's compiler cache.
* `judge` (in the grader, outside the kernel) decides: a test cell whose guard did not answer
  with the grader's token, whose kernel reply status was "error", or during which a trusted
  function was replaced, scores 0; every detection is a flag for review.

What a determined student can still do is in the README ("What the grading sandbox guarantees"):
this is all in-process, so code that knows this module can find its snapshots (gc, closures) or
use ctypes, and answer the guard with the token it sees in the user expression.
"""

from __future__ import annotations

import contextlib
import io
import json
import linecache
import os
import secrets
import sys
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXPR_KEY = "nbcourse"

# Module attributes hidden tests rely on (every public function/class of these modules).
TRUSTED_MODULES = (
    "builtins",
    "time",
    "math",
    "json",
    "os",
    "os.path",
    "io",
    "pathlib",
    "tempfile",
    "random",
    "re",
    "importlib",
    "unittest.mock",
    "numpy",
    "numpy.testing",
    "numpy.linalg",
    "numpy.random",
    "pandas",
    "pandas.testing",
    "pandas.api.types",
    "polars",
    "polars.testing",
    "sklearn.base",
    "sklearn.metrics",
    "sklearn.utils.validation",
    "pandera",
    "pandera.pandas",
)
# Methods of classes hidden tests rely on or the kernel grades with: "module:Class.attr".
TRUSTED_METHODS = (
    "IPython.core.interactiveshell:InteractiveShell.run_cell",
    "IPython.core.interactiveshell:InteractiveShell.run_cell_async",
    "IPython.core.interactiveshell:InteractiveShell.run_code",
    "IPython.core.interactiveshell:InteractiveShell.run_ast_nodes",
    "IPython.core.interactiveshell:InteractiveShell.transform_cell",
    "IPython.core.interactiveshell:InteractiveShell.showtraceback",
    "IPython.core.interactiveshell:InteractiveShell._showtraceback",
    "IPython.core.interactiveshell:InteractiveShell.showsyntaxerror",
    "IPython.core.interactiveshell:InteractiveShell.set_custom_exc",
    "IPython.core.interactiveshell:InteractiveShell.user_expressions",
    "IPython.core.displayhook:DisplayHook.__call__",
    "IPython.core.displayhook:DisplayHook.write_format_data",
    "IPython.core.displaypub:DisplayPublisher.publish",
    "ipykernel.zmqshell:ZMQInteractiveShell._showtraceback",
    "ipykernel.zmqshell:ZMQDisplayPublisher.publish",
    "ipykernel.displayhook:ZMQShellDisplayHook.write_format_data",
    "ipykernel.displayhook:ZMQShellDisplayHook.finish_displayhook",
    "ipykernel.ipkernel:IPythonKernel.do_execute",
    "ipykernel.kernelbase:Kernel.execute_request",
    "ipykernel.kernelbase:Kernel.send_response",
    "ipykernel.iostream:OutStream.write",
    "jupyter_client.session:Session.send",
    "jupyter_client.session:Session.serialize",
    "pandas.core.frame:DataFrame.equals",
    "pandas.core.series:Series.equals",
    "polars.dataframe.frame:DataFrame.equals",
)
# Shell instance attributes a student may override per instance (setting one shadows the class's).
SHELL_METHODS = (
    "run_cell",
    "run_cell_async",
    "run_code",
    "run_ast_nodes",
    "transform_cell",
    "showtraceback",
    "_showtraceback",
    "showsyntaxerror",
    "user_expressions",
    "should_run_async",
    "get_exception_only",
)
# Names a hidden test may use from the notebook's namespace that must be the real modules.
MODULE_ALIASES = {
    "np": "numpy",
    "pd": "pandas",
    "pl": "polars",
    "pa": "pandera.pandas",
    "time": "time",
    "json": "json",
    "os": "os",
    "math": "math",
    "plt": "matplotlib.pyplot",
}


@dataclass
class _State:
    modules: dict[str, dict[str, Any]] = field(default_factory=dict)
    module_objects: dict[str, types.ModuleType] = field(default_factory=dict)
    methods: dict[str, Any] = field(default_factory=dict)
    sys_hooks: dict[str, Any] = field(default_factory=dict)
    meta_path: list[Any] = field(default_factory=list)
    path_hooks: list[Any] = field(default_factory=list)
    shell: Any = None
    kernel: Any = None
    shell_state: dict[str, Any] = field(default_factory=dict)
    shell_own: dict[str, Any] = field(default_factory=dict)  # instance attributes ipykernel set itself
    keys: dict[str, bytes] = field(default_factory=dict)
    keys_target: str | None = None
    window: bool = False
    in_guard: bool = False
    flags: list[str] = field(default_factory=list)
    test_files: set[str] = field(default_factory=set)  # code compiled while a hidden test ran
    student_files: set[str] = field(default_factory=set)  # everything else compiled in the kernel
    shadowed: dict[str, Any] = field(default_factory=dict)
    linecache_keys: set[str] = field(default_factory=set)
    filename_map: set[Any] = field(default_factory=set)
    history_len: int = 0


_state: _State | None = None


# ---- in the kernel: snapshots -------------------------------------------------------------------


def _resolve(spec: str) -> tuple[Any, str] | None:
    module_name, _, path = spec.partition(":")
    module = sys.modules.get(module_name)
    if module is None:
        return None
    owner: Any = module
    *parents, attr = path.split(".")
    for name in parents:
        owner = getattr(owner, name, None)
        if owner is None:
            return None
    return owner, attr


def _snapshot_module(state: _State, name: str) -> None:
    module = sys.modules.get(name)
    if module is None or name in state.modules:
        return
    state.module_objects[name] = module
    if name == "builtins":
        # Only builtin functions and types: IPython swaps exit/quit/get_ipython in and out itself.
        state.modules[name] = {
            k: v
            for k, v in vars(module).items()
            if not k.startswith("_") and isinstance(v, (type, types.BuiltinFunctionType))
        }
        return
    state.modules[name] = {
        k: v
        for k, v in vars(module).items()
        if not k.startswith("__") and (callable(v) or isinstance(v, types.ModuleType))
    }


def _snapshot(state: _State) -> None:
    for name in TRUSTED_MODULES:
        _snapshot_module(state, name)
    for spec in TRUSTED_METHODS:
        found = _resolve(spec)
        if found is not None and spec not in state.methods:
            owner, attr = found
            if attr in vars(owner):
                state.methods[spec] = vars(owner)[attr]
    state.meta_path = [f for f in sys.meta_path if not isinstance(f, _SnapshotOnImport)]
    state.path_hooks = list(sys.path_hooks)


def _snapshot_shell(state: _State, shell: Any, kernel: Any) -> None:
    """The shell's own machinery, captured when the kernel has made it (before any cell runs)."""
    state.shell, state.kernel = shell, kernel
    # No student code has run yet: take everything again, as the started kernel has it.
    state.modules.clear()
    state.module_objects.clear()
    state.methods.clear()
    _snapshot(state)
    manager = shell.input_transformer_manager
    state.shell_own = {name: vars(shell)[name] for name in SHELL_METHODS if name in vars(shell)}
    state.shell_state = {
        "custom_exceptions": shell.custom_exceptions,
        "CustomTB": shell.CustomTB,
        "InteractiveTB": shell.InteractiveTB,
        "SyntaxTB": shell.SyntaxTB,
        "displayhook": shell.displayhook,
        "display_pub": shell.display_pub,
        "input_transformers_post": list(shell.input_transformers_post),
        "ast_transformers": list(shell.ast_transformers),
        "cleanup_transforms": list(manager.cleanup_transforms),
        "line_transforms": list(manager.line_transforms),
        "token_transformers": list(manager.token_transformers),
        "events": {name: list(cbs) for name, cbs in shell.events.callbacks.items()},
        "shell_handlers": dict(getattr(kernel, "shell_handlers", {})),
        "session_send": getattr(kernel.session, "send", None),
        "sys.displayhook": sys.displayhook,
        "sys.excepthook": sys.excepthook,
        "sys.stdout": sys.stdout,
        "sys.stderr": sys.stderr,
    }


class _SnapshotOnImport:
    """A meta-path finder that lets the real finders work and snapshots a trusted module right
    after its first import (a trusted module the kernel had not imported before student code)."""

    def __init__(self, state: _State) -> None:
        self.state = state

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in TRUSTED_MODULES or name in self.state.modules:
            return None

        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _SnapshotLoader(spec.loader, self.state)
                return spec
        return None


class _SnapshotLoader:
    def __init__(self, loader: Any, state: _State) -> None:
        self.loader, self.state = loader, state

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec) if hasattr(self.loader, "create_module") else None

    def exec_module(self, module: types.ModuleType) -> None:
        self.loader.exec_module(module)
        _snapshot_module(self.state, module.__name__)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)


def install(keys: dict[str, bytes] | None = None, keys_target: str | None = None) -> None:
    """Snapshot the trusted functions and install the guarding audit hook (first thing in a kernel)."""
    global _state
    state = _State(keys=dict(keys or {}), keys_target=keys_target)
    _snapshot(state)
    _state = state
    sys.meta_path.insert(0, _SnapshotOnImport(state))
    _hook_kernel_start(state)
    sys.addaudithook(_make_audit_hook(state))


def _hook_kernel_start(state: _State) -> None:
    """Capture the shell as soon as IPKernelApp has made it, before the first cell."""
    try:
        from ipykernel.kernelapp import IPKernelApp
    except ImportError:
        return
    original = IPKernelApp.init_kernel

    def init_kernel(app: Any) -> None:
        original(app)
        _snapshot_shell(state, app.kernel.shell, app.kernel)
        IPKernelApp.init_kernel = original

    IPKernelApp.init_kernel = init_kernel


def _trusted_roots() -> tuple[str, ...]:
    # The interpreter, the venv and this package: read-only inside the sandbox.
    return tuple({sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(__file__)})


def _is_library(filename: str, state: _State) -> bool:
    """Code from an installed file (or frozen), not code the student compiled under its name."""
    if filename in state.student_files:
        return False
    return filename.startswith("<frozen") or filename.startswith(_trusted_roots())


def _is_real_file_source(filename: str, source: Any) -> bool:
    """Is this compile the import of `filename` itself (its source is the file's own text)?"""
    if not isinstance(source, (str, bytes)) or not os.path.isfile(filename):
        return False
    try:
        with io.open_code(filename) as f:  # open_code: an audit event of its own, not "open"
            on_disk = f.read()
    except OSError:
        return False
    return on_disk == (source.encode() if isinstance(source, str) else source)


def _student_frame(frame: Any, state: _State) -> bool:
    """Is the code asking for this (the nearest frame that is not an installed library) anything
    but a hidden test cell? A student's function called by a test, code the student exec'd or
    compiled under a library's file name, and library code called back by them all count."""
    while frame is not None:
        filename = frame.f_code.co_filename
        if not _is_library(filename, state):
            return filename not in state.test_files or filename in state.student_files
        frame = frame.f_back
    return False


# Ways out of the audit hook's reach: another program reads the key files for the student.
_SPAWN_EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "pty.spawn")


def _make_audit_hook(state: _State) -> Any:
    keys_target = os.path.realpath(state.keys_target) if state.keys_target else None

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "sys.addaudithook":
            state.flags.append("tried to install an audit hook (blocked)")
            raise RuntimeError("audit hooks are not allowed while grading")
        if state.in_guard:
            return  # the guard itself (writing or removing the key files)
        if event in ("compile", "code.__new__"):
            filename = args[1] if len(args) > 1 else None
            if not isinstance(filename, (str, bytes)):
                return
            name = os.fsdecode(filename)
            if event == "compile" and _is_real_file_source(name, args[0]):
                return  # an import: the file's own code (a library, or course code anyone can read)
            (
                state.test_files
                if state.window and not _student_frame(sys._getframe(1), state)
                else state.student_files
            ).add(name)
            return
        if state.window and event in _SPAWN_EVENTS and _student_frame(sys._getframe(1), state):
            state.flags.append("tried to start a program while a hidden test ran (refused)")
            raise PermissionError(1, "starting programs is not allowed while a hidden test runs")
        if event == "open" and keys_target and args and isinstance(args[0], (str, bytes, os.PathLike)):
            try:
                path = os.path.realpath(os.fsdecode(args[0]))
            except (TypeError, ValueError):
                return
            inside = path == keys_target or path.startswith(keys_target + os.sep)
            if inside and (not state.window or _student_frame(sys._getframe(1), state)):
                state.flags.append("tried to read the instructor-only files (refused)")
                raise PermissionError(13, "instructor-only file", path)

    return hook


# ---- in the kernel: around each test cell --------------------------------------------------------


def _restore(state: _State) -> list[str]:
    """Put back every trusted object the student changed; what was changed."""
    changed: list[str] = []
    for name, attrs in state.modules.items():
        module = state.module_objects[name]
        if sys.modules.get(name) is not module:
            changed.append(f"sys.modules[{name!r}]")
            sys.modules[name] = module
        current = vars(module)
        for attr, value in attrs.items():
            if current.get(attr, _MISSING) is not value:
                changed.append(f"{name}.{attr}")
                setattr(module, attr, value)
    for spec, value in state.methods.items():
        found = _resolve(spec)
        if found is None:
            continue
        owner, attr = found
        if vars(owner).get(attr, _MISSING) is not value:
            changed.append(spec.split(":")[1])
            setattr(owner, attr, value)
    if not any(isinstance(f, _SnapshotOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _SnapshotOnImport(state))
    added = [f for f in sys.meta_path if f not in state.meta_path and _defined_by_student(f, state)]
    for finder in added:
        changed.append(f"sys.meta_path += {type(finder).__name__}")
        sys.meta_path.remove(finder)
    for hook in [h for h in sys.path_hooks if h not in state.path_hooks and _defined_by_student(h, state)]:
        changed.append("sys.path_hooks")
        sys.path_hooks.remove(hook)
    shell = state.shell
    if shell is not None:
        changed += _restore_shell(state, shell)
    return changed


def _defined_by_student(obj: Any, state: _State) -> bool:
    target = obj if isinstance(obj, type) else type(obj)
    if isinstance(obj, types.FunctionType):
        target = obj
    module = getattr(target, "__module__", "") or ""
    if module in ("__main__", "builtins") and not isinstance(obj, types.BuiltinFunctionType):
        return True
    code = getattr(obj, "__code__", None) or getattr(getattr(target, "find_spec", None), "__code__", None)
    filename = getattr(code, "co_filename", "")
    return bool(filename) and filename in state.student_files


def _code_by_student(obj: Any, state: _State) -> bool:
    """Is this callable's code anything but an installed library's?"""
    func = getattr(obj, "__func__", obj)
    code = getattr(func, "__code__", None) or getattr(vars(type(func)).get("__call__"), "__code__", None)
    if code is None:
        return not isinstance(obj, (types.BuiltinFunctionType, types.BuiltinMethodType))
    return not _is_library(code.co_filename, state)


def _own_method(shell: Any, name: str, value: Any) -> bool:
    """An instance attribute that is just the shell's own method (ipykernel stores some itself)."""
    return getattr(value, "__self__", None) is shell and getattr(value, "__func__", None) is getattr(
        type(shell), name, None
    )


def _restore_shell(state: _State, shell: Any) -> list[str]:
    changed: list[str] = []
    saved = state.shell_state
    for name in SHELL_METHODS:
        own = state.shell_own.get(name, _MISSING)
        value = vars(shell).get(name, _MISSING)
        if value is not own and not _own_method(shell, name, value):
            changed.append(f"shell.{name}")
            if own is _MISSING:
                delattr(shell, name)
            else:
                setattr(shell, name, own)
    for name in ("custom_exceptions", "CustomTB", "InteractiveTB", "SyntaxTB", "displayhook", "display_pub"):
        if getattr(shell, name) is not saved[name]:
            changed.append(f"shell.{name}")
            setattr(shell, name, saved[name])
    for name in ("input_transformers_post", "ast_transformers"):
        if list(getattr(shell, name)) != saved[name]:
            changed.append(f"shell.{name}")
            getattr(shell, name)[:] = saved[name]
    manager = shell.input_transformer_manager
    for name in ("cleanup_transforms", "line_transforms", "token_transformers"):
        if list(getattr(manager, name)) != saved[name]:
            changed.append(f"shell.input_transformer_manager.{name}")
            getattr(manager, name)[:] = saved[name]
    for event, callbacks in shell.events.callbacks.items():
        # Libraries register callbacks of their own (matplotlib's inline backend flushes figures
        # after each cell); only what the student's own code registered goes.
        wanted = [
            cb for cb in callbacks if cb in saved["events"].get(event, []) or not _code_by_student(cb, state)
        ]
        if wanted != list(callbacks):
            changed.append(f"shell.events[{event!r}]")
            callbacks[:] = wanted
    kernel = state.kernel
    if kernel is not None:
        handlers = getattr(kernel, "shell_handlers", None)
        if handlers is not None and handlers != saved["shell_handlers"]:
            changed.append("kernel.shell_handlers")
            handlers.clear()
            handlers.update(saved["shell_handlers"])
        if "send" in vars(kernel.session) and kernel.session.send != saved["session_send"]:
            changed.append("kernel.session.send")
            del kernel.session.send
    for name in ("sys.displayhook", "sys.excepthook", "sys.stdout", "sys.stderr"):
        attr = name.split(".")[1]
        if getattr(sys, attr) is not saved[name]:
            changed.append(name)
            setattr(sys, attr, saved[name])
    return changed


_MISSING = object()


def _shadow_names(state: _State) -> None:
    """Hide, for the test's duration, notebook names that shadow builtins or trusted modules."""
    shell = state.shell
    if shell is None:
        return
    ns = shell.user_ns
    state.shadowed = {}
    for name in list(ns):
        value = ns[name]
        if name in state.modules.get("builtins", {}) and value is not state.modules["builtins"][name]:
            state.shadowed[name] = ns.pop(name)
        elif name in MODULE_ALIASES and isinstance(value, types.ModuleType):
            real = state.module_objects.get(MODULE_ALIASES[name]) or sys.modules.get(MODULE_ALIASES[name])
            if real is not None and value is not real and getattr(value, "__name__", "") == real.__name__:
                state.flags.append(f"{name} is not the real {real.__name__}")
                state.shadowed[name] = value
                ns[name] = real


def _open_window(state: _State) -> None:
    target = state.keys_target
    if not target or not state.keys or not os.path.isdir(target):
        state.window = True
        return
    state.window = True
    for rel, data in state.keys.items():
        path = Path(target) / rel
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


def _close_window(state: _State) -> None:
    state.window = False
    target = state.keys_target
    if not target or not state.keys or not os.path.isdir(target):
        return
    for rel in state.keys:
        with contextlib.suppress(OSError):
            (Path(target) / rel).unlink()


def _scrub_history(state: _State) -> None:
    """Leave no copy of the test cell's source where the next cell could read it."""
    shell = state.shell
    if shell is None:
        return
    ns = shell.user_ns
    hm = shell.history_manager
    for name in ("input_hist_raw", "input_hist_parsed"):
        hist = getattr(hm, name, None)
        if hist is not None and len(hist) > state.history_len:
            for i in range(state.history_len, len(hist)):
                hist[i] = ""
    with contextlib.suppress(Exception):
        hm.db_input_cache[:] = []
    count = getattr(shell, "execution_count", 0)
    # IPython shifts `_i00` (the last input) into `_i` when the next cell is stored: blank both
    # the names and the history manager's own copies.
    for name in ("_i", "_ii", "_iii", "_i00", *(f"_i{n}" for n in range(max(1, count - 3), count + 1))):
        if name in ns:
            ns[name] = ""
        if hm is not None and isinstance(getattr(hm, name, None), str):
            setattr(hm, name, "")
    # Whatever was cached since the test began, and every name the test's code was compiled
    # under (IPython may have cached a test cell's name before this guard took its snapshot).
    for key in (set(linecache.cache) - state.linecache_keys) | state.test_files:
        linecache.cache.pop(key, None)
    for name in ("_ipython_cache",):
        extra = getattr(linecache, name, None)
        if isinstance(extra, dict):
            for key in set(extra) - state.linecache_keys:
                extra.pop(key, None)
    compiler = getattr(shell, "compile", None)
    fmap = getattr(compiler, "_filename_map", None)
    if isinstance(fmap, dict):
        for key in (set(fmap) - state.filename_map) | state.test_files:
            fmap.pop(key, None)
    for name in ("last_type", "last_value", "last_traceback", "last_exc"):
        if hasattr(sys, name):
            with contextlib.suppress(AttributeError):
                setattr(sys, name, None)


def before_test(token: str) -> str:
    """Run silently just before a test cell; a JSON report the grader checks."""
    state = _state
    if state is None:
        return json.dumps({"token": token, "installed": False, "changed": [], "flags": []})
    state.in_guard = True
    try:
        changed = _restore(state)
        sys.settrace(None)
        sys.setprofile(None)
        import threading

        threading.settrace(None)  # type: ignore[arg-type]
        threading.setprofile(None)  # type: ignore[arg-type]
        _shadow_names(state)
        state.linecache_keys = set(linecache.cache) | set(getattr(linecache, "_ipython_cache", {}) or {})
        fmap = getattr(getattr(state.shell, "compile", None), "_filename_map", None)
        state.filename_map = set(fmap) if isinstance(fmap, dict) else set()
        hm = getattr(state.shell, "history_manager", None)
        state.history_len = len(getattr(hm, "input_hist_raw", []) or [])
        flags, state.flags = state.flags, []
        _open_window(state)
    finally:
        state.in_guard = False
    return json.dumps({"token": token, "installed": True, "changed": changed, "flags": flags})


def after_test(token: str) -> str:
    """Run silently just after a test cell."""
    state = _state
    if state is None:
        return json.dumps({"token": token, "installed": False, "changed": [], "flags": []})
    state.in_guard = True
    try:
        _close_window(state)
        changed = _restore(state)
        ns = state.shell.user_ns if state.shell is not None else {}
        for name, value in state.shadowed.items():
            ns[name] = value
        state.shadowed = {}
        _scrub_history(state)
        flags, state.flags = state.flags, []
    finally:
        state.in_guard = False
    return json.dumps({"token": token, "installed": True, "changed": changed, "flags": flags})


# ---- in the grader ------------------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_hex(16)


def before_expr(token: str) -> str:
    return f"__import__('nbcourse.grading.tamper', fromlist=['x']).before_test({token!r})"


def after_expr(token: str) -> str:
    return f"__import__('nbcourse.grading.tamper', fromlist=['x']).after_test({token!r})"


def expression_text(reply_content: dict[str, Any] | None) -> str | None:
    """The string a silent user expression evaluated to, from an execute_reply's content."""
    if not reply_content:
        return None
    value = (reply_content.get("user_expressions") or {}).get(EXPR_KEY) or {}
    if value.get("status") != "ok":
        return None
    try:
        import ast

        text = ast.literal_eval((value.get("data") or {}).get("text/plain", ""))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return text if isinstance(text, str) else None


def read_reply(reply_content: dict[str, Any] | None) -> dict[str, Any] | None:
    """The guard's report from an execute_reply's content (None: no valid report)."""
    text = expression_text(reply_content)
    if text is None:
        return None
    try:
        report = json.loads(text)
    except ValueError:
        return None
    return report if isinstance(report, dict) else None


RAISED = "the test raised an error"


@dataclass
class Verdict:
    failed: bool
    reason: str
    flags: list[str]


def judge(
    before: dict[str, Any] | None, after: dict[str, Any] | None, token: str, cell_status: str | None
) -> Verdict:
    """Decide a test cell from what the kernel's own reports say and what the grader saw."""
    flags: list[str] = []
    failed, reason = False, ""
    for when, report in (("before", before), ("after", after)):
        if report is None or report.get("token") != token or not report.get("installed"):
            failed, reason = (
                True,
                f"the grading guard did not answer {when} this test (the kernel was tampered with)",
            )
            flags.append(reason)
            continue
        flags += [str(f) for f in report.get("flags", [])]
        if report.get("changed"):
            what = ", ".join(report["changed"][:8])
            flags.append(
                f"replaced trusted functions {'before' if when == 'before' else 'during'} a test: {what}"
            )
            if when == "after":
                failed, reason = True, f"the test's trusted functions were replaced while it ran ({what})"
    if cell_status == "error" and not failed:
        failed, reason = True, RAISED
    return Verdict(failed, reason, flags)


def apply_verdict(cell: Any, verdict: Verdict) -> None:
    """Make nbgrader's determine_grade score a failed test 0: an error first, and no value output
    (a number shown before the error would be read as partial credit)."""
    if not verdict.failed:
        return
    # No value output survives (nbgrader reads a number shown before the error as partial credit).
    kept = [o for o in cell.get("outputs", []) if o.get("output_type") != "execute_result"]
    if verdict.reason == RAISED and any(o.get("output_type") == "error" for o in kept):
        cell["outputs"] = kept  # an ordinary failing test: its own error (the learner's message) stays
        return
    cell["outputs"] = [error_output(verdict.reason), *kept]


def error_output(reason: str) -> Any:
    import nbformat

    return nbformat.v4.new_output(
        "error", ename="GradingError", evalue=reason, traceback=[f"GradingError: {reason}"]
    )


def flags_text(flags: Iterable[str]) -> str:
    unique = list(dict.fromkeys(flags))
    return "Flagged for review: " + "; ".join(unique) if unique else ""


# ---- in the grader: wiring it into nbgrader's Execute ----------------------------------------------


@dataclass
class GuardLog:
    """What the guard saw in one notebook: flags for review, and which test cells it failed."""

    flags: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # grade_id -> reason
    status: str | None = None


GUARD_TIMEOUT = 30.0


async def silent(
    execute: Any, expression: str, timeout: float, parse: Callable[[Any], Any] = read_reply
) -> Any:
    """Evaluate one user expression silently (no history, no events, no outputs); `parse` of the
    reply's content (the guard's report by default), None when no reply came in time."""
    import asyncio

    kc = execute.kc
    msg_id = kc.execute("", silent=True, store_history=False, user_expressions={EXPR_KEY: expression})
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            return None
        try:
            msg = await kc._async_get_shell_msg(timeout=remaining)
        except Exception:  # queue.Empty on timeout, or the kernel went away
            return None
        if msg.get("parent_header", {}).get("msg_id") == msg_id:
            return parse(msg.get("content"))


def guard(execute: Any, timeout: float | None = None) -> GuardLog:
    """Guard every autograded test cell nbgrader's `Execute` (an nbclient client) runs from now on.

    Call once per notebook before `execute.preprocess`; wraps `preprocess_cell` (so a wrapper
    added afterwards still sees every cell) and chains `on_cell_executed`.
    """
    from jupyter_core.utils import run_sync

    from ..nbgrader import grade_id, is_autograded_test

    log = GuardLog()
    original = execute.preprocess_cell
    previous_hook = execute.on_cell_executed
    wait = timeout or min(GUARD_TIMEOUT, float(execute.timeout or GUARD_TIMEOUT))

    def on_cell_executed(**kwargs: Any) -> Any:
        reply = kwargs.get("execute_reply") or {}
        log.status = (reply.get("content") or {}).get("status")
        if previous_hook is not None:
            return previous_hook(**kwargs)
        return None

    def preprocess_cell(cell: Any, resources: Any, index: int) -> Any:
        if not is_autograded_test(cell):
            return original(cell, resources, index)
        token = new_token()
        before = run_sync(silent)(execute, before_expr(token), wait)
        log.status = None
        cell, resources = original(cell, resources, index)
        after = run_sync(silent)(execute, after_expr(token), wait)
        verdict = judge(before, after, token, log.status)
        apply_verdict(cell, verdict)
        log.flags += verdict.flags
        if verdict.failed:
            log.failed[grade_id(cell)] = verdict.reason
        return cell, resources

    execute.on_cell_executed = on_cell_executed
    execute.preprocess_cell = preprocess_cell
    return log
