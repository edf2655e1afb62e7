"""The capstone's reference app, served by uvicorn, used through its form page in a real browser.

The notebook's own cells run in a kernel up to the cell that starts uvicorn on 127.0.0.1 (a free port);
Chromium (Debian's, driven by Playwright, never downloaded) then fills the form like shop staff would
and must show the price the API answers for the same card.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from playwright.sync_api import expect, sync_playwright

from notebooks import SOURCE, course_env, nbgrader_meta

pytestmark = pytest.mark.browser

NOTEBOOK = SOURCE / "capstone" / "capstone.ipynb"
CHROMIUM = Path(os.environ.get("COURSE_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu"]
CHARIZARD = {
    "name": "Charizard",
    "set_name": "Base Set",
    "release_year": 1999,
    "rarity": "Secret Rare",
    "card_type": "Pokemon",
    "hp": 120,
    "is_holo": True,
    "is_first_edition": True,
    "condition": "Near Mint",
    "psa_grade": 9,
}


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    """The base URL of the reference app, served by the notebook's own `serve` cell."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    index = {nbgrader_meta(c).get("grade_id"): i for i, c in enumerate(nb.cells)}
    nb.cells = nb.cells[: index["serve"] + 1]
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    with client.setup_kernel(env=course_env()):
        for i, cell in enumerate(nb.cells):
            client.execute_cell(cell, i)  # raises CellExecutionError, with the cell's traceback
        probe = nbformat.v4.new_code_cell("print(base_url)")
        nb.cells.append(probe)
        client.execute_cell(probe, len(nb.cells) - 1)
        url = "".join(o.get("text", "") for o in probe.outputs).strip()
        assert url.startswith("http://127.0.0.1:"), f"the serve cell did not give a local URL: {url!r}"
        yield url  # the kernel (and uvicorn's thread in it) lives until the module's tests are done


def _api_price(url: str, card: dict) -> float:
    request = urllib.request.Request(
        f"{url}/predict", data=json.dumps(card).encode(), headers={"Content-Type": "application/json"}
    )
    # No proxy: the service is on 127.0.0.1 and the tests never use the network.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as answer:
        return json.loads(answer.read())["price_usd"]


def _fill(page, card: dict) -> None:
    for field in ("name", "set_name", "release_year", "hp", "psa_grade"):
        value = card[field]
        page.fill(f"[name={field}]", "" if value is None else str(value))
    for field in ("rarity", "card_type", "condition"):
        page.select_option(f"[name={field}]", card[field])
    for field in ("is_holo", "is_first_edition"):
        page.set_checked(f"[name={field}]", card[field])


def test_the_form_shows_the_price_the_api_predicts(app_url: str) -> None:
    assert CHROMIUM.is_file(), f"Chromium is needed for the browser tests: {CHROMIUM} is missing"
    trainer = {**CHARIZARD, "name": "Rare Candy", "card_type": "Trainer", "hp": None, "psa_grade": None,
               "rarity": "Uncommon", "is_holo": False, "is_first_edition": False, "release_year": 2023,
               "set_name": "151"}  # fmt: skip
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.goto(f"{app_url}/")
            expect(page.locator("#prediction")).not_to_contain_text("$")
            for card in (CHARIZARD, trainer):
                _fill(page, card)
                page.click("button[type=submit]")
                expect(page.locator("#prediction")).to_have_text(f"${_api_price(app_url, card):.2f}")
            # The graded 1st-edition holo is worth more than the ungraded Trainer card: the form sends
            # the fields it shows, not defaults.
            assert _api_price(app_url, CHARIZARD) > 10 * _api_price(app_url, trainer)
        finally:
            browser.close()
