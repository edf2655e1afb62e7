"""Markdown export: the learner's filled tracker, in the layout of the course's SEED_TRACKER.md.

`render_markdown(manifest, states)` walks the manifest in order and writes each item as the seed
does: `- [x]` lines for ticks, `**Label**: value` fields, `⬜ A | ✅ B` choices, prompts with the
learner's answer under them, bullet lists. The layout comes from the manifest's optional `md`
hints (see docs/manifest.md); the values come from the wire `ItemState` dicts the server sends
(docs/architecture.md). An item without a state is written unfilled, as in the seed.

Each `**Label**: value` field is a paragraph of its own (a blank line before and after), and so
is a group's label heading: consecutive lines would otherwise render as one run-on line (and an
empty `-` bullet cannot start a list right under a paragraph).

What the learner typed is kept as typed (they may use Markdown on purpose: lists, `code`,
**bold**), except where it would change what the document shows:
- `<`, `>` and `&` outside `code` spans are written as HTML entities, so nothing a learner typed
  renders as HTML (a `<script>` or `<img onerror=...>` shows as text);
- a single-line field never spans lines: line breaks become spaces;
- a line that Markdown would read as a heading (`# ...`), a horizontal rule (`---`, `***`, `___`)
  or a heading underline (`===`) gets a leading backslash, so it shows as typed but cannot end a
  section or start a fake one; so does a `[x]` / `[ ]` that would render as a ticked or empty
  checkbox of the tracker.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .manifest import Group, Item, ItemMarkdown, Manifest, Section

DEFAULT_BLANK = "_________________"
TICKED, UNTICKED = "x", " "
CHOSEN, NOT_CHOSEN = "✅", "⬜"

# Lines that would change the document's structure if written verbatim (CommonMark allows up to
# three spaces of indentation before a heading or a thematic break).
_STRUCTURAL_LINE = re.compile(r"^ {0,3}(#{1,6}(\s|$)|([-*_])(\s*\3){2,}\s*$|=+\s*$)")
# A task-list marker at the start of a line or of a list item: the learner's text must not fake a tick.
_TASK_MARKER = re.compile(r"^(\s*(?:(?:[-*+]|\d{1,9}[.)])\s+)?)(\[[ xX]\])")
# Code spans (a run of backticks, then the same run again): Markdown shows their content literally.
_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.DOTALL)
_HTML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_GROUP_HEADINGS = {"h3": "### {}", "h4": "#### {}", "label": "**{}**:"}
_PLACEHOLDER = re.compile(r"\{(value|options|item:[^}]*)\}")

States = Mapping[str, Mapping[str, Any]]


def render_markdown(manifest: Manifest, states: States) -> str:
    """The filled tracker as Markdown. `states` maps item ids to wire ItemState dicts."""
    renderer = _Renderer(manifest, states)
    return renderer.render()


def escape_structural(line: str) -> str:
    """Backslash-escape a line that Markdown would read as a heading, rule, underline or checkbox."""
    if _STRUCTURAL_LINE.match(line):
        stripped = line.lstrip(" ")
        return line[: len(line) - len(stripped)] + "\\" + stripped
    return _TASK_MARKER.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", line, count=1)


def escape_html(text: str) -> str:
    """`<`, `>` and `&` as entities outside code spans (inside them Markdown shows text literally)."""
    parts: list[str] = []
    last = 0
    for match in _CODE_SPAN.finditer(text):
        parts += [text[last : match.start()].translate(_HTML_ESCAPES), match.group(0)]
        last = match.end()
    parts.append(text[last:].translate(_HTML_ESCAPES))
    return "".join(parts)


class _Renderer:
    def __init__(self, manifest: Manifest, states: States) -> None:
        self.manifest = manifest
        self.states = states
        self.items = {item.id: item for item in manifest.iter_items()}
        self.lines: list[str] = []

    def render(self) -> str:
        self.lines = [f"# {self.manifest.title}", ""]
        for index, section in enumerate(self.manifest.sections):
            if index:
                self._rule()
            self._section(section)
        if self.manifest.footer:
            self._rule()
            self.lines.append(self.manifest.footer)
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n"

    # --- layout ----------------------------------------------------------------------------------

    def _blank_line(self) -> None:
        """Exactly one blank line before what follows, unless one is already there."""
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def _rule(self) -> None:
        self._blank_line()
        self.lines += ["---", ""]

    def _section(self, section: Section) -> None:
        hints = section.md
        if hints is None or hints.heading:
            self.lines += [f"## {section.title}", ""]
        if hints is not None and hints.intro:
            self.lines += [*hints.intro.strip().split("\n"), ""]
        for index, group in enumerate(section.groups):
            if index and not (group.md and group.md.tight):
                self._blank_line()
            self._group(group)

    def _group(self, group: Group) -> None:
        hints = group.md
        if hints is not None and hints.before:
            self.lines += hints.before.split("\n")
        if group.title is not None:
            style = hints.heading if hints else "h3"
            if style == "label":
                self._blank_line()
            self.lines.append(_GROUP_HEADINGS[style].format(group.title))
            if style == "label":
                self.lines.append("")
        prefix = hints.prefix if hints else ""
        for item in group.items:
            lines = self._item_lines(item, prefix)
            if lines and self._style(item) == "field":
                self._blank_line()
                self.lines += [*lines, ""]
            else:
                self.lines += lines

    # --- items ---------------------------------------------------------------------------------

    @staticmethod
    def _style(item: Item) -> str:
        return (item.md.style if item.md else None) or _default_style(item)

    def _item_lines(self, item: Item, prefix: str) -> list[str]:
        hints = item.md or ItemMarkdown()
        indent = " " * hints.indent
        style = self._style(item)
        if style == "inline":
            return []  # written inside the line of the item that references it
        if style == "checkbox":
            tick = TICKED if self._satisfied(item) else UNTICKED
            return [f"{indent}- [{tick}] {prefix}{self._fill(item, hints.text or item.text)}"]
        if style == "options":
            chosen = self._raw_value(item)
            labels = hints.options or item.options
            return [
                f"{indent}- [{TICKED if option == chosen else UNTICKED}] {label}"
                for option, label in zip(item.options, labels, strict=True)
            ]
        if style == "bullet":
            value = self._single_line(item)
            return [f"{indent}- {escape_structural(value)}" if value else f"{indent}-"]
        if style == "prompt":
            label = self._fill(item, hints.text or f"**{item.text}**:")
            answer = self._multi_line(item)
            return [f"{indent}{label}", *(answer or [""]), ""]
        # field
        default = f"**{item.text}**: " + ("{options}" if item.choice_values else "{value}")
        return [f"{indent}{self._fill(item, hints.text or default)}"]

    def _fill(self, item: Item, template: str) -> str:
        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "value":
                return self._value_or_blank(item)
            if name == "options":
                chosen = self._raw_value(item)
                return " | ".join(
                    f"{CHOSEN if option == chosen else NOT_CHOSEN} {option}" for option in item.choice_values
                )
            return self._value_or_blank(self.items[name.removeprefix("item:")])

        return _PLACEHOLDER.sub(substitute, template)

    # --- values --------------------------------------------------------------------------------

    def _state(self, item: Item) -> Mapping[str, Any]:
        state = self.states.get(item.id)
        if state is None:
            return {}
        if not isinstance(state, Mapping):
            raise TypeError(f"states[{item.id!r}] must be an ItemState mapping, got {type(state).__name__}")
        return state

    def _satisfied(self, item: Item) -> bool:
        satisfied = self._state(item).get("satisfied", False)
        if not isinstance(satisfied, bool):
            raise TypeError(f"states[{item.id!r}].satisfied must be true or false, got {satisfied!r}")
        return satisfied

    def _raw_value(self, item: Item) -> str:
        """The item's value as text ('' when there is none); auto items show their score."""
        state = self._state(item)
        if item.kind == "auto":
            score = state.get("score")
            if score is None:
                return ""
            if isinstance(score, bool) or not isinstance(score, int | float):
                raise TypeError(f"states[{item.id!r}].score must be a number, got {score!r}")
            return f"{score:g}"
        value = self._typed_value(item, state)
        # Only text items hold what a learner typed; choices are the manifest's own options.
        return escape_html(value) if item.kind == "text" else value

    def _typed_value(self, item: Item, state: Mapping[str, Any]) -> str:
        value = state.get("value")
        if value is None or isinstance(value, bool):
            # self items carry booleans; they never show a value, only their tick.
            return ""
        if not isinstance(value, str):
            raise TypeError(
                f"states[{item.id!r}].value must be a string for a {item.kind} item, "
                f"got {type(value).__name__}"
            )
        return value.strip()

    def _single_line(self, item: Item) -> str:
        return " ".join(self._raw_value(item).split())

    def _value_or_blank(self, item: Item) -> str:
        value = self._single_line(item)
        if value:
            return value
        return item.md.blank if item.md and item.md.blank is not None else DEFAULT_BLANK

    def _multi_line(self, item: Item) -> list[str]:
        text = self._raw_value(item).replace("\r\n", "\n").replace("\r", "\n")
        return [escape_structural(line.rstrip()) for line in text.split("\n")] if text else []


def _default_style(item: Item) -> str:
    if item.kind in ("self", "auto", "env"):
        return "checkbox"
    if item.kind == "text" and item.multiline:
        return "prompt"
    return "field"
