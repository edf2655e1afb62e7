"""Finding hidden-test lines (and private paths) in generated feedback pages."""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat

from nbcourse.grading.feedback import MIN_SECRET_LENGTH, split_regions
from nbcourse.nbgrader import cell_text

_TAG = re.compile(r"<[^>]+>")


def hidden_lines(source_nb: Path, release_nb: Path) -> set[str]:
    """Lines of the source's hidden-test regions that the released notebook never shows."""
    source = nbformat.read(source_nb, as_version=4)
    release = nbformat.read(release_nb, as_version=4)
    public = {line.strip() for cell in release.cells for line in cell_text(cell).splitlines()}
    secret = {line.strip() for cell in source.cells for line in split_regions(cell_text(cell))[1]}
    # A hidden line the release shows as part of a longer public line (the visible test asserts
    # the same message) reveals nothing.
    shown = "\n".join(public)
    return {line for line in secret - public if len(line) >= MIN_SECRET_LENGTH and line not in shown}


def page_text(page: Path) -> str:
    """The text of an HTML page as a reader sees it (syntax-highlighting spans joined again)."""
    return html.unescape(_TAG.sub("", page.read_text(encoding="utf-8")))


def _quoted(text: str, secret: str) -> bool:
    """The secret as a whole line of the page, possibly after a prefix such as `----> 5 `."""
    return re.search(r"(^|[^\w])" + re.escape(secret) + r"[ \t]*$", text, re.MULTILINE) is not None


def leaks(page: Path, secrets: set[str], private: list[str]) -> list[str]:
    text = page_text(page)
    found = [f"{page.name}: hidden line {line!r}" for line in sorted(secrets) if _quoted(text, line)]
    found += [f"{page.name}: private path {p!r}" for p in private if p in text]
    return found
