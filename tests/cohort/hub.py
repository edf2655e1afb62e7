"""A real cohort deployment for tests: JupyterHub, real Unix users, nbgrader's exchange, PostgreSQL.

It deploys what the README's "A cohort on JupyterHub" section describes, with deploy/hub/'s files:

* a course **image** (world-readable): a course environment built from uv.lock with a Python every
  user can run, course.yaml, release/, data/ without instructor/;
* the **grader's** course directory (root only, 0700): nbgrader_config.py, source/, the full data;
  the gradebook is PostgreSQL with a password only the grader's environment holds;
* nbgrader's **exchange** (1777), and real Unix users logging in with PAM.

Everything lives under one temporary folder and is removed afterwards, users included.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy" / "hub"
HUB_START_TIMEOUT = 120.0
SERVER_START_TIMEOUT = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_machine() -> None:
    """Fail (never skip) with what is missing: the hub tests need root, a proxy and a shared Python."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root (the test creates Unix users and the hub spawns servers as them)")
    if not shutil.which("configurable-http-proxy"):
        missing.append("configurable-http-proxy (npm install -g configurable-http-proxy)")
    if not shared_python():
        missing.append("a Python 3.10+ outside /root that every user can run (apt-get install -y python3)")
    if not shutil.which("uv"):
        missing.append("uv")
    if missing:
        raise RuntimeError("the hub tests cannot run on this machine; missing: " + "; ".join(missing))


def shared_python() -> str | None:
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        path = Path(candidate)
        if path.exists() and not str(path.resolve()).startswith("/root"):
            return candidate
    return None


def run(argv: list[str], *, user: str | None = None, cwd: Path | None = None, env: dict | None = None,
        check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Run a command, as `user` (through runuser, with a clean login-like environment) when given."""
    full_env = dict(env or {})
    if user is not None:
        home = Path("/home") / user
        base = {"HOME": str(home), "USER": user, "LOGNAME": user, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        assignments = [f"{k}={v}" for k, v in {**base, **full_env}.items()]
        argv = ["runuser", "-u", user, "--", "env", "-i", *assignments, *argv]
        proc_env = None
    else:
        proc_env = {**os.environ, **full_env}
    proc = subprocess.run(argv, cwd=cwd, env=proc_env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@dataclass
class HubUser:
    name: str
    password: str
    token: str = ""

    @property
    def home(self) -> Path:
        return Path("/home") / self.name


@dataclass
class Cohort:
    """A running hub and everything deployed around it."""

    base: Path
    url: str
    image: Path
    grader: Path
    exchange: Path
    env_bin: Path
    service_token: str
    db_url: str
    students: list[HubUser]
    instructor: HubUser
    hub_log: Path
    student_env: dict[str, str] = field(default_factory=dict)
    grader_env: dict[str, str] = field(default_factory=dict)

    # -- the hub's REST API ---------------------------------------------------------------------

    def hub_api(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        return http(method, f"{self.url}/hub/api/{path}", token=self.service_token, body=body)

    def start_server(self, user: HubUser) -> None:
        status, _ = self.hub_api("POST", f"users/{user.name}/server")
        assert status in (201, 202, 400), f"could not start {user.name}'s server: {status}"
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            _, info = self.hub_api("GET", f"users/{user.name}")
            server = info.get("servers", {}).get("", {})
            if server.get("ready"):
                return
            time.sleep(1)
        raise AssertionError(
            f"{user.name}'s server did not start; hub log:\n{self.hub_log.read_text()[-5000:]}"
        )

    def user_get(self, user: HubUser, path: str, *, as_user: HubUser | None = None) -> tuple[int, bytes]:
        """GET a path of `user`'s single-user server through the hub's proxy, with `as_user`'s token."""
        who = as_user or user
        return http_raw("GET", f"{self.url}/user/{user.name}/{path}", token=who.token)

    # -- nbgrader, as the people who run it -----------------------------------------------------

    def as_student(self, user: HubUser, *args: str) -> subprocess.CompletedProcess[str]:
        return run(
            [str(self.env_bin / "nbgrader"), *args], user=user.name, cwd=user.home, env=self.student_env
        )

    def as_grader(self, *args: str, tool: str = "nbgrader") -> subprocess.CompletedProcess[str]:
        return run([str(self.env_bin / tool), *args], cwd=self.grader, env=self.grader_env)


def http_raw(method: str, url: str, *, token: str = "", body: dict | None = None,
             opener: urllib.request.OpenerDirector | None = None) -> tuple[int, bytes]:  # fmt: skip
    data = json.dumps(body).encode() if body is not None else (b"" if method in ("POST", "PUT") else None)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"token {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with (opener or NO_REDIRECT).open(request, timeout=60) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def http(method: str, url: str, *, token: str = "", body: dict | None = None) -> tuple[int, dict]:
    status, raw = http_raw(method, url, token=token, body=body)
    try:
        return status, json.loads(raw or b"{}")
    except json.JSONDecodeError:
        return status, {"raw": raw.decode(errors="replace")}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect to the login page is an answer (the request was not allowed), not something to follow."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


NO_REDIRECT = urllib.request.build_opener(_NoRedirect)


def login(url: str, user: HubUser) -> tuple[int, CookieJar]:
    """Log in through the hub's login form, as a browser would; returns the status and the cookies."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    with contextlib.suppress(urllib.error.HTTPError):
        opener.open(f"{url}/hub/login", timeout=30).read()
    xsrf = next((c.value for c in jar if c.name == "_xsrf"), "")
    form = urllib.parse.urlencode({"username": user.name, "password": user.password, "_xsrf": xsrf}).encode()
    try:
        answer = opener.open(urllib.request.Request(f"{url}/hub/login?_xsrf={xsrf}", data=form), timeout=60)
        status = answer.status
    except urllib.error.HTTPError as err:
        status = err.code
    return status, jar


def _create_user(name: str, password: str, groups: list[str]) -> HubUser:
    run(
        [
            "useradd",
            "--create-home",
            "--shell",
            "/bin/bash",
            *(["-G", ",".join(groups)] if groups else []),
            name,
        ]
    )
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True, capture_output=True)
    Path("/home", name).chmod(0o700)  # a student's home is theirs alone
    return HubUser(name=name, password=password)


def _build_image(base: Path) -> tuple[Path, Path]:
    """The world-readable course image: a course environment, course.yaml, release/, public data."""
    image = base / "image"
    image.mkdir()
    env = image / "env"
    run(["uv", "sync", "--locked", "--no-editable", "--no-default-groups", "--group", "hub",
         "--python", shared_python() or "python3"],
        cwd=REPO, env={"UV_PROJECT_ENVIRONMENT": str(env)})  # fmt: skip
    shutil.copy(REPO / "course.yaml", image / "course.yaml")
    shutil.copy(DEPLOY / "student" / "nbgrader_config.py", image / "nbgrader_config.py")
    shutil.copytree(REPO / "release", image / "release")
    shutil.copytree(REPO / "data", image / "data", ignore=shutil.ignore_patterns("instructor", "__pycache__"))
    run(["chmod", "-R", "a+rX", str(image)])
    return image, env / "bin"


def _build_grader(base: Path, assignment: str, staff: str) -> Path:
    """The grader's course directory: the grader's own, readable by the staff group, closed to students."""
    grader = base / "grader"
    grader.mkdir(mode=0o750)
    shutil.copy(REPO / "nbgrader_config.py", grader / "nbgrader_config.py")
    shutil.copy(REPO / "course.yaml", grader / "course.yaml")  # the grader runs `course feedback`
    shutil.copytree(REPO / "source" / assignment, grader / "source" / assignment)
    shutil.copytree(REPO / "data", grader / "data", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.chown(grader, group=staff)
    grader.chmod(0o750)
    return grader


@contextlib.contextmanager
def deploy_cohort(db_url: str, assignment: str, n_students: int = 2) -> Iterator[Cohort]:
    require_machine()
    tag = secrets.token_hex(3)
    base = Path(f"/tmp/course-hub-{tag}")
    base.mkdir(mode=0o755)
    users: list[HubUser] = []
    hub: subprocess.Popen[bytes] | None = None
    try:
        image, env_bin = _build_image(base)
        staff = f"ctstaff{tag}"  # the teaching staff's Unix group: the grader (root here) and instructors
        run(["groupadd", staff])
        grader = _build_grader(base, assignment, staff)
        exchange = base / "exchange"
        exchange.mkdir()
        exchange.chmod(0o1777)
        state = base / "hubstate"
        state.mkdir(mode=0o700)

        students = [
            _create_user(f"cts{i}x{tag}", secrets.token_urlsafe(12), []) for i in range(1, n_students + 1)
        ]
        instructor = _create_user(f"cti1x{tag}", secrets.token_urlsafe(12), [staff])
        users = [*students, instructor]

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        service_token = secrets.token_hex(24)
        hub_env = {
            **os.environ,
            "COURSE_HUB_IMAGE": str(image),
            "COURSE_HUB_ENV": str(env_bin.parent),
            "COURSE_EXCHANGE": str(exchange),
            "COURSE_HUB_STUDENTS": ",".join(u.name for u in students),
            "COURSE_HUB_INSTRUCTORS": instructor.name,
            "COURSE_HUB_URL": url,
            "COURSE_HUB_API_PORT": str(free_port()),
            "COURSE_HUB_PROXY_API": f"http://127.0.0.1:{free_port()}",
            "COURSE_HUB_STATE": str(state),
            "COURSE_HUB_SERVICE_TOKEN": service_token,
            "COURSE_GRADER_ROOT": str(grader),
            "COURSE_GRADEBOOK_URL": db_url,
        }
        hub_log = base / "hub.log"
        with hub_log.open("wb") as log:
            hub = subprocess.Popen(
                [str(env_bin / "jupyterhub"), "-f", str(DEPLOY / "jupyterhub_config.py")],
                cwd=state, env=hub_env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + HUB_START_TIMEOUT
        while True:
            if hub.poll() is not None:
                raise AssertionError(f"jupyterhub exited ({hub.returncode}):\n{hub_log.read_text()[-5000:]}")
            with contextlib.suppress(OSError):  # connection refused until the proxy listens
                status, _ = http("GET", f"{url}/hub/api/", token=service_token)
                if status == 200:
                    break
            if time.monotonic() > deadline:
                raise AssertionError(f"jupyterhub did not answer:\n{hub_log.read_text()[-5000:]}")
            time.sleep(1)

        cohort = Cohort(
            base=base, url=url, image=image, grader=grader, exchange=exchange, env_bin=env_bin,
            service_token=service_token, db_url=db_url, students=students, instructor=instructor,
            hub_log=hub_log,
            student_env={
                "JUPYTER_CONFIG_PATH": str(DEPLOY / "student"),
                "COURSE_EXCHANGE": str(exchange),
                "COURSE_HUB_IMAGE": str(image),
                "PATH": f"{env_bin}:/usr/bin:/bin",
            },
            grader_env={
                "COURSE_DB_URL": db_url,
                "COURSE_EXCHANGE": str(exchange),
                "COURSE_DATA_DIR": str(grader / "data"),
                "PATH": f"{env_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            },
        )  # fmt: skip
        for user in users:
            status, body = cohort.hub_api("POST", f"users/{user.name}/tokens", {"note": "course tests"})
            assert status in (200, 201), f"no token for {user.name}: {status} {body}"
            user.token = body["token"]
        yield cohort
    finally:
        if hub is not None:
            hub.terminate()
            try:
                hub.wait(timeout=30)
            except subprocess.TimeoutExpired:
                hub.kill()
        for user in users:
            subprocess.run(["pkill", "-KILL", "-u", user.name], capture_output=True, check=False)
        for user in users:
            subprocess.run(["userdel", "--remove", user.name], capture_output=True, check=False)
        subprocess.run(["groupdel", f"ctstaff{tag}"], capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)
