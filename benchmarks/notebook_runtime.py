"""How long each course notebook takes to run top to bottom with its reference solutions.

The course promises every notebook runs in under 60 s on 2 cores. This measures it the way a learner
experiences it: a fresh kernel per notebook, cells executed in order, kernel start included.

    uv run python benchmarks/notebook_runtime.py [assignment ...]

Prints a table and exits 1 if any notebook errors or exceeds the budget.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from notebooks import SOURCE, assignments, error_text, execute, nbgrader_meta

BUDGET_SECONDS = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignments", nargs="*", default=assignments())
    args = parser.parse_args()
    worst = 0.0
    failed = False
    print(f"{'notebook':55} {'seconds':>8}  errors")
    for assignment in args.assignments:
        for path in sorted((SOURCE / assignment).glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            execute(nb, cwd=path.parent)
            seconds = time.perf_counter() - start
            errors = [
                nbgrader_meta(c).get("grade_id", str(i)) for i, c in enumerate(nb.cells) if error_text(c)
            ]
            worst = max(worst, seconds)
            failed |= bool(errors) or seconds > BUDGET_SECONDS
            print(f"{assignment + '/' + path.name:55} {seconds:8.1f}  {', '.join(errors) or '-'}")
    print(f"slowest: {worst:.1f} s (budget {BUDGET_SECONDS:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
