"""Mend a submitted notebook's nbgrader metadata before nbgrader's own sanitize steps see it.

Stock autograde drops a whole notebook (every mark the student earned) when one cell's nbgrader
metadata is wrong: a renamed grade_id, a pasted copy of a test cell, an injected grade cell, an
outdated schema version. The master copy in the gradebook knows which cells exist, so a cell the
master does not know, or a second cell claiming an id, loses its nbgrader metadata and runs as
an ordinary cell; nbgrader's `OverwriteCells` then restores every known locked cell as usual, and
the notebook is graded on its own merits. Each repair is reported so an instructor can review it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..nbgrader import grade_id, nbgrader_meta

# nbgrader's current metadata schema; older or missing versions make CheckCellMetadata refuse.
SCHEMA_VERSION = 3


def repair_cells(nb: Any, known_ids: Iterable[str]) -> list[str]:
    """Strip nbgrader metadata the master copy does not vouch for (in place); what was mended."""
    known = set(known_ids)
    seen: set[str] = set()
    repairs: list[str] = []
    for index, cell in enumerate(nb.cells):
        meta = nbgrader_meta(cell)
        if not meta:
            continue
        gid = grade_id(cell)
        if _ordinary(meta):
            # nbgrader neither records nor checks such a cell (a markdown scratch area the
            # instructor left unlocked): there is nothing for the master copy to vouch for.
            if meta.get("schema_version") != SCHEMA_VERSION:
                meta["schema_version"] = SCHEMA_VERSION
            continue
        if gid not in known:
            why = f"cell {index + 1} claims grade_id {gid!r}, which the assignment does not have"
        elif gid in seen:
            why = f"cell {index + 1} repeats grade_id {gid!r} (a pasted copy)"
        else:
            seen.add(gid)
            if meta.get("schema_version") != SCHEMA_VERSION:
                meta["schema_version"] = SCHEMA_VERSION
            continue
        del cell.metadata["nbgrader"]
        repairs.append(f"{why}: graded as an ordinary cell")
    return repairs


def _ordinary(meta: dict[str, Any]) -> bool:
    """nbgrader metadata that marks nothing: not graded, no solution, not locked, no task (each
    flag present, as nbgrader's validator reads them all)."""
    flags = ("grade", "solution", "locked")
    return all(key in meta for key in flags) and not any(meta[key] for key in (*flags, "task") if key in meta)
