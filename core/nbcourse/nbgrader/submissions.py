"""A submission in nbgrader's layout: the notebooks plus the `timestamp.txt` nbgrader reads."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

TIMESTAMP_FILE = "timestamp.txt"


class EmptySubmission(ValueError):
    """There are no notebooks to submit."""


def nbgrader_timestamp(when: datetime) -> str:
    """A timestamp in the format nbgrader writes to timestamp.txt (and parses back)."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def copy_submission(notebooks_dir: Path, submitted: Path, when: datetime) -> list[str]:
    """Replace `submitted` with the notebooks of `notebooks_dir`; the notebook names copied."""
    notebooks = sorted(notebooks_dir.glob("*.ipynb"))
    if not notebooks:
        raise EmptySubmission(f"no notebooks in {notebooks_dir} to check")
    if submitted.exists():
        # A stale notebook from an earlier submission must not be graded as part of this one.
        shutil.rmtree(submitted)
    submitted.mkdir(parents=True)
    for notebook in notebooks:
        shutil.copy2(notebook, submitted / notebook.name)
    (submitted / TIMESTAMP_FILE).write_text(nbgrader_timestamp(when) + "\n", encoding="utf-8")
    return [n.stem for n in notebooks]
