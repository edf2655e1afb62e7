"""Parsed notebooks, re-read only when a file changes.

The tracker is read every few seconds; re-parsing dozens of notebooks each time would make it
slow, while stat() calls are cheap. One cache lives as long as the learner's service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..nbgrader import read_notebook


class NotebookCache:
    """Parsed notebooks keyed by path, valid while the file's (mtime, size) is unchanged."""

    def __init__(self) -> None:
        self._entries: dict[Path, tuple[tuple[int, int], Any]] = {}

    def read(self, path: Path) -> Any | None:
        """The notebook at `path` (nbformat node), or None when missing or unreadable."""
        try:
            st = path.stat()
        except OSError:
            return None
        key = (st.st_mtime_ns, st.st_size)
        cached = self._entries.get(path)
        if cached and cached[0] == key:
            return cached[1]
        nb = read_notebook(path)
        self._entries[path] = (key, nb)
        return nb
