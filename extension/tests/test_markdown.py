"""Markdown export: the real course's blank tracker is SEED_TRACKER.md, and filled states show.

The seed is the course's source document (kept in docs/SEED_TRACKER.md); the export must follow
it line by line, except for the few lines the JupyterLab + nbgrader design rewords (listed below)
and the blank lines that make each `**Label**: value` field a paragraph of its own (the seed's
consecutive field lines render as one run-on line). What the export *renders as* is checked with a
CommonMark parser (markdown-it-py), as a learner's Markdown viewer would show it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from nbcourse.tracker.manifest import Manifest, load_manifest, parse_manifest
from nbcourse.tracker.markdown import escape_structural, render_markdown

REPO_ROOT = Path(__file__).resolve().parents[2]

# Every line where the course deliberately differs from the seed: (seed line, exported line).
EXPECTED_DIFFERENCES = [
    # requires-python in pyproject.toml is >=3.10.
    ("- [ ] Python 3.9+ installed", "- [ ] Python 3.10+ installed"),
    # The data is generated locally; nothing is downloaded.
    (
        "- [ ] Dataset downloaded and verified (`uv run python data/generate_dataset.py`)",
        "- [ ] Dataset generated and verified (`uv run python data/generate_dataset.py`)",
    ),
    # JupyterLab + nbgrader instead of marimo.
    (
        "- [ ] Can run `uvx marimo edit 01_data_engineering.py` successfully",
        "- [ ] Can run `uv run course start` successfully (your workspace opens in JupyterLab)",
    ),
    *[
        (f"- [ ] Opened `{nb}.py` with `uvx marimo edit {nb}.py`", f"- [ ] Opened `{nb}.ipynb` in JupyterLab")
        for nb in ["01_data_engineering", "02_eda_and_features"]
    ],
    # The course's own heatmap shows HP and Defense only weakly correlated (0.21): the question is made
    # true by asking about Total, which is the sum of the six stats.
    (
        '- [ ] "You found that HP and Defense are highly correlated. Should you remove one? Why or why not?"',
        '- [ ] "You found that Total is highly correlated with the six stats it sums. Should you remove one? '
        'Why or why not?"',
    ),
    *[
        (f"- [ ] Opened `{nb}.py` with `uvx marimo edit {nb}.py`", f"- [ ] Opened `{nb}.ipynb` in JupyterLab")
        for nb in ["03_model_training", "04_model_evaluation", "05_inference_service"]
    ],
    # The capstone is one nbgrader notebook (its score is that notebook's total).
    ("- [ ] Completed data validation notebook", "- [ ] Completed data validation part"),
]
# The item is ticked by the graded test cells, so it says so (the seed's words promised more).
RAN_ALL = ("- [ ] Ran all cells successfully", "- [ ] All test cells pass when graded")
# The checkbox is the mastery mark: the seed's "✅" before each item would read as done when it is not.
MASTERY_WITHOUT_EMOJI = "- [ ] ✅ "


def expected_difference(seed_line: str, exported: str) -> bool:
    if (seed_line, exported) == RAN_ALL:
        return True
    return seed_line.startswith(MASTERY_WITHOUT_EMOJI) and exported == "- [ ] " + seed_line[8:]


def seed_path() -> Path:
    """SEED_TRACKER.md: $SEED_TRACKER, else docs/SEED_TRACKER.md, else the shared design folder."""
    candidates = [Path(os.environ["SEED_TRACKER"])] if "SEED_TRACKER" in os.environ else []
    candidates += [REPO_ROOT / "docs" / "SEED_TRACKER.md", Path("/work/shared/SEED_TRACKER.md")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    pytest.fail(f"SEED_TRACKER.md not found (looked in {', '.join(map(str, candidates))})")


@pytest.fixture(scope="module")
def course() -> Manifest:
    return load_manifest(REPO_ROOT / "course.yaml")


# --- the blank tracker is the seed ---------------------------------------------------------------


def test_blank_export_reproduces_the_seed_line_by_line(course: Manifest) -> None:
    seed = [line for line in seed_path().read_text(encoding="utf-8").splitlines() if line]
    exported = [line for line in render_markdown(course, {}).splitlines() if line]
    assert len(exported) == len(seed), "the export has a different number of lines than the seed"
    differences = [
        (s, e) for s, e in zip(seed, exported, strict=True) if s != e and not expected_difference(s, e)
    ]
    assert differences == EXPECTED_DIFFERENCES
    assert sum(expected_difference(s, e) for s, e in zip(seed, exported, strict=True)) == 5 + 5 * 4


def rendered(markdown: str) -> str:
    return MarkdownIt("commonmark").render(markdown)


def test_fields_and_labels_render_on_lines_of_their_own(course: Manifest) -> None:
    html = rendered(render_markdown(course, {}))
    # Each field is its own paragraph, not "Your Name: ___ Start Date: ___ Target ..." run together.
    for label in ("Your Name", "Start Date", "Target Completion", "Modules Completed", "Current Level"):
        assert f"<p><strong>{label}</strong>: " in html, label
    assert "<p><strong>Module 1 Status</strong>: ⬜ Not Started | ⬜ In Progress | ⬜ Completed</p>" in html
    # The aha label is a paragraph and its blanks a list under it (not "-" text glued to the label).
    assert "<p><strong>&quot;Aha Moments&quot; I had</strong>:</p>\n<ul>\n<li></li>" in html


def test_mastery_checkbox_is_the_only_mark(course: Manifest) -> None:
    lines = lines_of(course, state("m1.mastery.1", satisfied=True, value=True))
    assert "- [x] Can write a data validation test from scratch in <10 minutes" in lines
    assert "- [ ] Can explain why data versioning matters to a junior engineer" in lines
    assert not any("✅ Can" in line for line in lines)


def test_learner_text_never_renders_as_html(course: Manifest) -> None:
    attack = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
    text = render_markdown(
        course,
        states_of(
            state("learner.name", satisfied=True, value=attack),
            state("m1.aha.1", satisfied=True, value="[x] ticked <b>bold</b>"),
            state("journal.learned", satisfied=True, value="<div>\n- [x] fake tick\n`a < b` stays code"),
        ),
    )
    html = rendered(text)
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "<div>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img" in html
    # No fake checkbox: what the learner typed as "[x]" stays text, not a tick of the tracker.
    assert "- \\[x] ticked &lt;b&gt;bold&lt;/b&gt;" in text.splitlines()
    assert "- \\[x] fake tick" in text.splitlines()
    # Inside a code span the text is shown literally, so it is left as typed.
    assert "<code>a &lt; b</code>" in html and "`a < b` stays code" in text


def test_export_ends_with_exactly_one_newline(course: Manifest) -> None:
    text = render_markdown(course, {})
    assert text.endswith("!*\n")
    assert not text.endswith("\n\n")


# --- filled states -------------------------------------------------------------------------------


def state(item_id: str, *, satisfied: bool = False, value: Any = None, **extra: Any) -> dict[str, Any]:
    return {"id": item_id, "satisfied": satisfied, "value": value, "rev": 1, **extra}


def states_of(*entries: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["id"]: entry for entry in entries}


def lines_of(course: Manifest, *entries: dict[str, Any]) -> list[str]:
    return render_markdown(course, states_of(*entries)).splitlines()


def test_ticks_follow_satisfied(course: Manifest) -> None:
    lines = lines_of(
        course,
        state("m1.core.ran_all", satisfied=True, status="graded", score=4, max_score=4),
        state("m1.socratic.1", satisfied=True, value=True),
        state("setup.python", satisfied=True, status="ok"),
        state("m1.mastery.1", satisfied=False, value=False),
    )
    assert "- [x] All test cells pass when graded" in lines
    assert "- [x] Python 3.10+ installed" in lines
    assert any(line.startswith('- [x] "If I run your data pipeline twice') for line in lines)
    # The tick does not appear for an unsatisfied item.
    assert "- [ ] Can write a data validation test from scratch in <10 minutes" in lines


def test_fields_and_templates(course: Manifest) -> None:
    lines = lines_of(
        course,
        state("learner.name", satisfied=True, value="Ada Lovelace"),
        state("learner.target_date", satisfied=True, value="2026-12-15"),
        state("overall.modules_completed", value="2 / 5"),
        state("overall.current_level", satisfied=True, value="Level 1 (Advanced Beginner)"),
        state("certificate.time_invested", satisfied=True, value="42"),
    )
    assert "**Your Name**: Ada Lovelace" in lines
    assert "**Start Date**: _________________" in lines
    assert "**Target Completion**: 2026-12-15 (2-3 weeks recommended)" in lines
    assert "**Modules Completed**: 2 / 5" in lines
    assert "**Exercises Completed**: __ / 15" in lines
    assert "**Current Level**: Level 1 (Advanced Beginner) → Target: Level 3 (Proficient)" in lines
    assert "**Total Time Invested**: 42 hours" in lines


def test_scores_show_the_graded_score(course: Manifest) -> None:
    lines = lines_of(
        course,
        state("ck1.score", satisfied=True, status="graded", score=17, max_score=20),
        state("ck2.score", satisfied=False, status="graded", score=12.5, max_score=25),
        state("ck3.final_score", satisfied=False, status="not_attempted"),
    )
    assert "- [x] Score: 17 / 20 (Target: 16+)" in lines
    assert "- [ ] Score: 12.5 / 25 (Target: 20+)" in lines
    assert "- [ ] **Final Score**: _____ / 100 (Target: 80+)" in lines


def test_choices_mark_the_chosen_option(course: Manifest) -> None:
    lines = lines_of(
        course,
        state("m1.status", satisfied=False, value="In Progress"),
        state("m2.status", satisfied=True, value="Completed"),
        state("plan.month3.specialization", satisfied=True, value="Computer Vision"),
        state("skills.current_level", satisfied=True, value="Level 2: Competent"),
        state("ck1.status", satisfied=True, value="Pass"),
        state("ck2.status", satisfied=False, value="Need Review"),
    )
    assert "**Module 1 Status**: ⬜ Not Started | ✅ In Progress | ⬜ Completed" in lines
    assert "**Module 2 Status**: ⬜ Not Started | ⬜ In Progress | ✅ Completed" in lines
    assert "**Module 3 Status**: ⬜ Not Started | ⬜ In Progress | ⬜ Completed" in lines
    assert "- [x] Choose specialization: ⬜ NLP | ✅ Computer Vision | ⬜ Recommender Systems" in lines
    assert "- [x] **Level 2: Competent** - Can train/evaluate models independently" in lines
    assert "- [ ] **Level 0: Beginner** - Following tutorials, confused when things break" in lines
    assert "- [x] **Status**: ✅ Pass | ⬜ Need Review" in lines
    assert "- [ ] **Status**: ⬜ Pass | ✅ Need Review" in lines


def test_bullets_and_inline_blanks(course: Manifest) -> None:
    lines = lines_of(
        course,
        state("m1.aha.1", satisfied=True, value="Validation is a test suite for data"),
        state("plan.week4.community.2", satisfied=True, value="MLOps Community"),
        state("plan.week4.open_source", satisfied=True, value=True),
        state("plan.week4.found_project", satisfied=True, value="scikit-learn"),
    )
    start = lines.index('**"Aha Moments" I had**:')
    assert lines[start + 1 : start + 5] == ["", "- Validation is a test suite for data", "-", "-"]
    assert "  - MLOps Community" in lines
    assert "- [x] Contribute to open source ML project (found project: scikit-learn)" in lines
    assert "- [ ] Study advanced topic: _________________" in lines


def test_multiline_answer_is_kept_as_typed_under_its_prompt(course: Manifest) -> None:
    answer = "Data leaks *everywhere*.\n\n- fit on train only\n- `Pipeline` helps  \r\n"
    lines = lines_of(course, state("reflection.week1.surprised", satisfied=True, value=answer))
    start = lines.index("**What surprised me**:")
    assert lines[start : start + 7] == [
        "**What surprised me**:",
        "Data leaks *everywhere*.",
        "",
        "- fit on train only",
        "- `Pipeline` helps",
        "",
        "**What was harder than expected**:",
    ]


def test_learner_text_cannot_break_the_tracker_structure(course: Manifest) -> None:
    lines = lines_of(
        course,
        state("journal.learned", satisfied=True, value="# Big idea\n---\n===\nplain"),
        state("learner.name", satisfied=True, value="Ada\nLovelace"),
        state("m1.aha.2", satisfied=True, value="## not a heading"),
    )
    start = lines.index("**What I learned**:")
    assert lines[start + 1 : start + 5] == ["\\# Big idea", "\\---", "\\===", "plain"]
    assert "**Your Name**: Ada Lovelace" in lines
    assert "- \\## not a heading" in lines
    # The document still has exactly the seed's headings and rules.
    blank = render_markdown(course, {}).splitlines()
    for marker in ("#", "---"):
        assert sum(line.startswith(marker) for line in lines) == sum(
            line.startswith(marker) for line in blank
        )


def test_markdown_in_single_line_fields_is_kept(course: Manifest) -> None:
    lines = lines_of(
        course,
        state(
            "resources.books.1",
            satisfied=True,
            value="*Designing ML Systems* | Chip Huyen [link](https://x.y)",
        ),
    )
    assert "- *Designing ML Systems* | Chip Huyen [link](https://x.y)" in lines


def test_whitespace_only_text_counts_as_empty(course: Manifest) -> None:
    lines = lines_of(course, state("learner.name", value="   \n "), state("journal.tomorrow", value=" \n\n "))
    assert "**Your Name**: _________________" in lines
    start = lines.index("**Tomorrow's goals**:")
    assert lines[start + 1 : start + 4] == ["", "", "---"]


def test_unknown_state_ids_are_ignored(course: Manifest) -> None:
    assert render_markdown(course, states_of(state("no.such.item", satisfied=True))) == render_markdown(
        course, {}
    )


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            state("learner.name", value=["Ada"]),
            "states['learner.name'].value must be a string for a text item, got list",
        ),
        (state("ck1.score", score="17"), "states['ck1.score'].score must be a number, got '17'"),
        (
            state("m1.socratic.1", satisfied="yes"),
            "states['m1.socratic.1'].satisfied must be true or false, got 'yes'",
        ),
    ],
)
def test_malformed_states_name_the_item(course: Manifest, entry: dict[str, Any], expected: str) -> None:
    with pytest.raises(TypeError) as caught:
        render_markdown(course, states_of(entry))
    assert str(caught.value) == expected


# --- layout rules on a small manifest -------------------------------------------------------------


def test_layout_of_headings_separators_and_intro() -> None:
    manifest = parse_manifest(
        {
            "schema_version": 1,
            "course_id": "demo",
            "title": "Demo",
            "assignments": [],
            "footer": "*bye*",
            "sections": [
                {
                    "id": "a",
                    "title": "A",
                    "md": {"heading": False},
                    "groups": [
                        {
                            "id": "a.g",
                            "title": None,
                            "items": [{"id": "a.name", "kind": "text", "text": "Name"}],
                        }
                    ],
                },
                {
                    "id": "b",
                    "title": "B",
                    "md": {"intro": "Read me."},
                    "groups": [
                        {"id": "b.g1", "title": "One", "items": [{"id": "b.x", "kind": "self", "text": "X"}]},
                        {
                            "id": "b.g2",
                            "title": "Two",
                            "md": {"heading": "h4", "before": "### Top\n"},
                            "items": [{"id": "b.y", "kind": "self", "text": "Y"}],
                        },
                        {
                            "id": "b.g3",
                            "title": "Three",
                            "md": {"heading": "label", "tight": True},
                            "items": [{"id": "b.z", "kind": "text", "text": "Z", "md": {"style": "bullet"}}],
                        },
                    ],
                },
            ],
        }
    )
    assert render_markdown(manifest, {"b.x": {"satisfied": True}}) == (
        "# Demo\n\n**Name**: _________________\n\n---\n\n## B\n\nRead me.\n\n### One\n- [x] X\n\n"
        "### Top\n\n#### Two\n- [ ] Y\n\n**Three**:\n\n-\n\n---\n\n*bye*\n"
    )


@pytest.mark.parametrize(
    ("line", "escaped"),
    [
        ("# title", "\\# title"),
        ("   ## indented", "   \\## indented"),
        ("***", "\\***"),
        ("- - -", "\\- - -"),
        ("___", "\\___"),
        ("====", "\\===="),
        ("#hashtag", "#hashtag"),
        ("-- two dashes", "-- two dashes"),
        ("a # b", "a # b"),
    ],
)
def test_escape_structural(line: str, escaped: str) -> None:
    assert escape_structural(line) == escaped
