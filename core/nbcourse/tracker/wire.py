"""The wire shapes of the tracker (docs/architecture.md, "Wire types"), built from the manifest.

The server sends these; the frontend mirrors them in `src/tokens.ts`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .manifest import Item, Manifest, is_trackable

# The URL namespace of the tracker's REST API, below the Jupyter server's base URL.
API_NAMESPACE = "course-tracker"
FEEDBACK_ROUTE = "feedback"  # layering: a URL segment, not an nbgrader folder


def feedback_url(assignment: str, notebook: str) -> str:
    """The feedback handler's URL for one notebook, relative to the server's base url."""
    return f"{API_NAMESPACE}/{FEEDBACK_ROUTE}/{quote(assignment)}/{quote(notebook)}"


def item_def(item: Item) -> dict[str, Any]:
    """The `ItemDef` wire shape of one manifest item."""
    # `counted`: a step the summary counts (`is_trackable`), so the sidebar's section counts and
    # the header's summary count the same items (a choice counts only when it names "done" options).
    out: dict[str, Any] = {"id": item.id, "kind": item.kind, "text": item.text, "counted": is_trackable(item)}
    if item.kind == "choice":
        out["options"] = list(item.options or [])
    if item.kind == "text":
        out["multiline"] = bool(item.multiline)
    if item.kind == "auto":
        out["assignment"] = item.auto.assignment
        out["notebook"] = item.auto.notebook
    return out


def sections_json(manifest: Manifest) -> list[dict[str, Any]]:
    return [
        {
            "id": section.id,
            "title": section.title,
            "groups": [
                {"id": group.id, "title": group.title, "items": [item_def(i) for i in group.items]}
                for group in section.groups
            ],
        }
        for section in manifest.sections
    ]
