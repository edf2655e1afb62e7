"""The code's layering holds: one core library (`nbcourse`) that knows no web server and no
particular course, one place in it that knows nbgrader's folders, and a JupyterLab face on top.

These are grep-style checks over the source, so a violation fails here the moment it is written,
long before it would show up as a bug.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import yaml

from notebooks import ROOT

CORE = ROOT / "core" / "nbcourse"
FACE = ROOT / "extension" / "course_tracker"
NBGRADER_PACKAGE = CORE / "nbgrader"
WEB_MODULES = ("jupyter_server", "tornado")
# nbgrader's step folders (CourseDirectory's defaults). Only nbcourse.nbgrader may name them:
# everything else asks it for a path.
NBGRADER_FOLDERS = ("submitted", "autograded", "feedback", "source", "release")
# A comment (on the literal's line or the line above) saying why a literal that looks like a
# folder name is something else (a URL segment, a field name).
PRAGMA = "# layering:"


def python_files(*roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, top-level module) of every import statement, at any depth (lazy imports too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]


def docstring_nodes(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (prose, not values the code uses)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def folder_literals(path: Path) -> list[str]:
    """`file:line: 'literal'` for every string constant that names an nbgrader folder: equal to
    one, or one as a path segment ("release/x", "x/feedback")."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    tree = ast.parse(text)
    docstrings = docstring_nodes(tree)
    segment = re.compile(rf"(^|/)({'|'.join(NBGRADER_FOLDERS)})(/|$)")
    problems = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in docstrings:
            continue
        explained = any(PRAGMA in line for line in lines[max(node.lineno - 2, 0) : node.lineno])
        if segment.search(node.value) and not explained:
            problems.append(f"{shown(path)}:{node.lineno}: {node.value!r}")
    return problems


def probe_imports(package: str) -> dict[str, list[str]]:
    """Import `package` and all its modules in a fresh interpreter: which modules it imported,
    and which web, nbgrader and kernel modules got loaded along the way."""
    probe = (
        "import importlib, json, pkgutil, sys\n"
        f"top = importlib.import_module({package!r})\n"
        "names = [top.__name__]\n"
        "if hasattr(top, '__path__'):\n"
        "    names += [m.name for m in pkgutil.walk_packages(top.__path__, top.__name__ + '.')]\n"
        "for name in names: importlib.import_module(name)\n"
        "watched = ('jupyter_server', 'tornado', 'nbgrader', 'jupyter_client')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in watched)\n"
        "print(json.dumps({'modules': names, 'loaded': loaded}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_core_never_imports_the_web_server() -> None:
    # Statically: no import of jupyter_server or tornado anywhere in the core, lazy ones included.
    statements = [
        f"{shown(path)}:{line}: {module}"
        for path in python_files(CORE)
        for line, module in imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        if module in WEB_MODULES
    ]
    assert statements == []
    # Dynamically: importing every module of the core loads no jupyter_server, and no nbgrader
    # either (nbgrader's own package imports jupyter_server; the core imports nbgrader only inside
    # the functions that use it). tornado may arrive only with jupyter_client, the kernel protocol
    # library the grader needs; the nbgrader, tracker and authoring layers and the CLI load none.
    everything = probe_imports("nbcourse")
    # The walk must have seen the core's packages, or an empty result would prove nothing.
    expected = {
        "nbcourse.cli",
        "nbcourse.nbgrader.course",
        "nbcourse.tracker.states",
        "nbcourse.authoring.build",
    }
    assert expected | {"nbcourse.grading.submission"} <= set(everything["modules"])
    assert [m for m in everything["loaded"] if m.split(".")[0] in ("jupyter_server", "nbgrader")] == []
    if any(m.split(".")[0] == "tornado" for m in everything["loaded"]):
        assert "jupyter_client" in everything["loaded"]
    for package in ("nbcourse.nbgrader", "nbcourse.tracker", "nbcourse.authoring", "nbcourse.cli"):
        layer = probe_imports(package)
        assert layer["modules"] and layer["loaded"] == [], package


def test_only_nbcourse_nbgrader_names_nbgrader_folders() -> None:
    outside = [p for p in python_files(CORE, FACE) if NBGRADER_PACKAGE not in p.parents]
    assert len(outside) > 20, "the walk must see the library's and the extension's modules"
    assert [line for path in outside for line in folder_literals(path)] == []


def test_the_folder_check_catches_a_literal(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Mentions source/ in prose only."""\n'
        'PATH = root / "autograded"\n'
        'URL = f"{a}/feedback/x"\n'
        'ROUTE = "feedback"  # layering: a URL segment\n'
        'TEXT = "the release is clean"\n'
    )
    found = [line.split(": ", 1)[1] for line in folder_literals(sample)]
    assert found == ["'autograded'", "'/feedback/x'"]


def course_names() -> set[str]:
    """Names only this course uses: its id, its assignments and notebooks, its data set."""
    manifest = yaml.safe_load((ROOT / "course.yaml").read_text(encoding="utf-8"))
    names = {manifest["course_id"], "pokemon"}
    for assignment in manifest["assignments"]:
        names.add(assignment["id"])
        names.update(assignment["notebooks"])
    return {n.lower() for n in names}


def test_no_course_specific_name_in_library_code() -> None:
    names = course_names()
    assert {"m1_data_engineering", "ml-engineering", "pokemon"} <= names
    pattern = re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))
    module_prefix = re.compile(r"\bm[1-9]_")  # the course's module prefixes (m1_, m2_, ...)
    problems = []
    for path in python_files(CORE, FACE):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            lowered = line.lower()
            if pattern.search(lowered) or module_prefix.search(lowered):
                problems.append(f"{shown(path)}:{number}: {line.strip()}")
    assert problems == []


def local_imports(path: Path, package_root: Path) -> set[str]:
    """Dotted names of the first-party modules a file imports (relative imports resolved)."""
    parts = list(path.relative_to(package_root.parent).with_suffix("").parts)
    here = parts[:-1]  # the package a relative import starts from (for __init__ too)
    top = package_root.name
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)] if node.level > 1 else here
                module = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module and node.module.split(".")[0] == top:
                module = node.module.split(".")
            else:
                continue
            found.add(".".join(module))
            # `from pkg import name` imports pkg.name when that is a module
            for alias in node.names:
                candidate = package_root.parent.joinpath(*module, alias.name)
                if candidate.with_suffix(".py").is_file() or (candidate / "__init__.py").is_file():
                    found.add(".".join([*module, alias.name]))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == top)
    return found


def import_cycles(package_root: Path) -> list[list[str]]:
    """Cycles in the graph of first-party imports (a module importing one that imports it back)."""
    graph: dict[str, set[str]] = {}
    for path in python_files(package_root):
        rel = path.relative_to(package_root.parent).with_suffix("").parts
        name = ".".join(rel[:-1] if rel[-1] == "__init__" else rel)
        graph[name] = local_imports(path, package_root)
    for name, deps in graph.items():
        # Importing a.b.c runs a/__init__ and a/b/__init__ first, except the packages the importer
        # itself sits in: those are already being imported (a package importing its own modules
        # is not a cycle).
        own = set(_with_parents(name))
        graph[name] = {d for dep in deps for d in _with_parents(dep) if d in graph and d not in own}
    cycles: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for dep in sorted(graph[node]):
            if state.get(dep) == "open":
                cycles.append([*path[path.index(dep) :], dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def _with_parents(dotted: str) -> list[str]:
    parts = dotted.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def test_no_module_imports_one_that_imports_it_back() -> None:
    for package in (CORE, FACE):
        assert import_cycles(package) == [], package.name


def test_the_cycle_check_finds_a_cycle(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text("from .handlers import routes\n")
    (package / "handlers.py").write_text("from .app import Service\n")
    (package / "store.py").write_text("from . import app\n")
    assert import_cycles(package) == [["pkg.app", "pkg.handlers", "pkg.app"]]
