"""Fixtures for the browser tests: a real JupyterLab with the course, and Debian's Chromium.

The server uses the real course (course.yaml, source/, nbgrader_config.py from the repository)
but keeps every piece of learner state in a temporary folder: the workspace, the tracker's
store and the gradebook. Playwright never downloads a browser here; it drives /usr/bin/chromium.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from nbcourse.cli import manifest_of
from nbcourse.launch import lab_launch

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("COURSE_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A student id of its own, so a check run by the tests never touches a real learner's
# submitted/, autograded/ or feedback/ folders in the repository root.
STUDENT_PREFIX = "browser_test"
ARTIFACTS = REPO_ROOT / "test-artifacts"
SERVER_START_TIMEOUT = 120.0


@dataclass
class LabServer:
    url: str
    token: str
    workspace: Path
    store_path: Path
    log_path: Path
    student: str

    def lab_url(self) -> str:
        return f"{self.url}/lab?token={self.token}"

    def api(self, path: str) -> bytes:
        """GET `<base>/<path>` with the token (for checking the server's side of a test)."""
        request = urllib.request.Request(
            f"{self.url}/{path}", headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.read()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, token: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with code {process.returncode} before answering; "
                f"its log:\n{log_path.read_text(errors='replace')[-4000:]}"
            )
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(
        f"jupyter lab did not answer on {url} within {SERVER_START_TIMEOUT:.0f} s; "
        f"its log:\n{log_path.read_text(errors='replace')[-4000:]}"
    )


def lab_env(tmp: Path, **extra: str) -> dict[str, str]:
    """A test server's environment: the user's own Jupyter settings, workspaces and runtime files
    kept out of the test, and no "get notified about official Jupyter news?" popup over the panel."""
    notification_settings = (
        tmp / "lab-settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    )
    notification_settings.parent.mkdir(parents=True)
    notification_settings.write_text('{"fetchNews": "false", "checkForUpdates": false}')
    return {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "lab-workspaces"),
        **extra,
    }


@contextmanager
def serving(
    tmp: Path, command: list[str], env: dict[str, str], url: str, token: str, log_name: str
) -> Iterator[Path]:
    """Run a JupyterLab server until the block ends; yields its log (copied to test-artifacts/)."""
    log_path = tmp / "jupyter.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp)
    try:
        _wait_until_up(url, token, process, log_path)
        yield log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(log_path, ARTIFACTS / log_name)


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    tmp = tmp_path_factory.mktemp("lab")
    workspace = tmp / "workspace"
    workspace.mkdir()
    store_path = tmp / "store.json"
    port = _free_port()
    token = secrets.token_hex(16)
    # One student id per server: two test workers may each run a server on the same course root,
    # and one's clean-up must never delete the other's submission in the middle of a check.
    student = f"{STUDENT_PREFIX}_{secrets.token_hex(4)}"
    env = lab_env(tmp, COURSE_DB_URL=f"sqlite:///{tmp / 'gradebook.db'}")
    # The launch `course start` computes for a learner (its instructor tools off), plus the
    # test's own port, token and temporary state.
    launch = lab_launch(
        REPO_ROOT,
        workspace,
        REPO_ROOT / manifest_of(REPO_ROOT).environment.data.dir,
        environ=env,
        extra=[
            "--no-browser",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
            f"--CourseTracker.store_path={store_path}",
            f"--CourseTracker.student_id={student}",
        ],
        as_root=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with serving(tmp, launch.argv, launch.env, url, token, "jupyter-server.log") as log_path:
            yield LabServer(url, token, workspace, store_path, log_path, student)
    finally:
        for folder in ("submitted", "autograded", "feedback"):
            shutil.rmtree(REPO_ROOT / folder / student, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, lab_server: LabServer) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> Iterator[None]:
    """Shadow pytest-jupyter's autouse loop fixture for browser tests.

    When the server-handler tests load pytest-jupyter in the same session, its fixture would give
    every test an asyncio loop and close it afterwards, but Playwright's sync API runs its own loop
    on that thread and the close fails. Browser tests talk to a real server process and need none.
    """
    yield


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> Iterator[None]:
    """Shadow pytest-jupyter's autouse in-process server cleanup (see jp_asyncio_loop above)."""
    yield
