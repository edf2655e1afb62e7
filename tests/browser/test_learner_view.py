"""What a new learner sees in their first minutes (issue 14), in Chromium.

The server is the learner's launch of `course start` (conftest): nbgrader's instructor tools are
off. The sidebar at its default width keeps section titles short and shows whole answers, and it
offers no link to a notebook the learner does not have.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import LabServer
from .test_sidebar import expand_section, item, open_lab

pytestmark = pytest.mark.browser

LONG_AHA = (
    "Versioning the raw data with a checksum means a silent upstream change fails loudly at load "
    "time instead of shifting every metric downstream without anyone noticing."
)


def test_a_learner_gets_no_instructor_tools(page: Page, lab_server: LabServer, artifacts: Path):
    open_lab(page, lab_server, width=None)
    menus = page.locator("#jp-menu-panel .lm-MenuBar-itemLabel").all_inner_texts()
    assert "File" in menus
    assert "Nbgrader" not in menus, f"the learner sees the instructor's menu: {menus}"
    # Create Assignment (a sidebar) and the formgrader are not there, nor their commands.
    page.keyboard.press("Control+Shift+C")
    palette = page.locator("#modal-command-palette")
    labels = palette.locator(".lm-CommandPalette-itemLabel")
    for command in ("Formgrader", "Create Assignment"):
        palette.locator("input").fill(command)
        expect(labels.filter(has_text=command)).to_have_count(0)
    page.keyboard.press("Escape")
    page.screenshot(path=str(artifacts / "learner-menus.png"))
    # The formgrader's pages are not served either.
    with pytest.raises(Exception, match="404"):
        lab_server.api("formgrader")


def test_the_sidebar_fits_its_default_width(page: Page, lab_server: LabServer, artifacts: Path):
    panel = open_lab(page, lab_server, width=None)
    expand_section(panel, "m1")
    # Titles take two lines at most (they used to wrap to four at this width).
    lines = panel.locator(".jp-CourseTracker-sectionTitle").evaluate_all(
        """els => els.map(el => [el.textContent,
            el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)])"""
    )
    assert lines, "no section titles"
    too_tall = [(title, round(n, 1)) for title, n in lines if n > 2.05]
    assert not too_tall, f"section titles over two lines: {too_tall}"
    # Nothing relies on an emoji font (status icons are SVG).
    text = panel.inner_text()
    assert not panel.evaluate(r"el => /\p{Extended_Pictographic}/u.test(el.innerText)"), text[:400]

    # An aha moment grows with its text: all of it is visible, none scrolled away.
    box = item(panel, "m1.aha.1").locator(".jp-CourseTracker-textInput")
    box.click()
    box.fill(LONG_AHA)
    size = box.evaluate(
        """el => ({tag: el.tagName, sh: el.scrollHeight, ch: el.clientHeight,
                   sw: el.scrollWidth, cw: el.clientWidth,
                   line: parseFloat(getComputedStyle(el).lineHeight)})"""
    )
    assert size["tag"] == "TEXTAREA", size
    assert size["sw"] <= size["cw"] + 1 and size["sh"] <= size["ch"] + 2, size
    assert size["ch"] > 2 * size["line"], f"the field did not grow with its text: {size}"
    expect(item(panel, "m1.aha.1").locator(".jp-CourseTracker-saveState")).to_have_text(
        "saved", timeout=15_000
    )
    item(panel, "m1.aha.1").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "panel-default-width.png"))


def test_no_link_to_a_notebook_the_learner_does_not_have(page: Page, lab_server: LabServer):
    # This server's workspace is empty: no module notebook has been copied into it.
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    panel = open_lab(page, lab_server)
    expand_section(panel, "m2")
    row = panel.locator('section[data-section-id="m2"] li.jp-CourseTracker-item-auto').first
    expect(row).to_be_visible()
    expect(row.locator("button.jp-CourseTracker-link")).to_have_count(0)
    row.locator(".jp-CourseTracker-itemText").click()
    page.wait_for_timeout(1000)
    assert not [e for e in errors if "404" in e], errors


def test_sharing_is_off_until_the_learner_turns_it_on(page: Page, lab_server: LabServer, artifacts: Path):
    folder = lab_server.workspace / "m1_data_engineering"
    folder.mkdir(exist_ok=True)
    shared = folder / "shared-progress.json"
    panel = open_lab(page, lab_server)
    toggle = panel.get_by_role("checkbox", name="Share my progress with my instructor")
    expect(toggle).not_to_be_checked()
    assert not shared.exists()

    toggle.click()
    expect(toggle).to_be_checked()
    expect(toggle).to_be_enabled()
    assert shared.is_file(), "turning sharing on wrote no shared-progress.json"
    page.screenshot(path=str(artifacts / "panel-sharing-on.png"))

    toggle.click()
    expect(toggle).not_to_be_checked()
    expect(toggle).to_be_enabled()
    assert not shared.exists()
