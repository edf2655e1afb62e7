"""Hardened grading: hostile or broken submissions are graded right and harm no one (issue 12).

Two parts:

* the sandbox on its own: a stand-in fork server (tests/hostile/mini_server.py) under
  `sandbox.wrap_command` forks confined children exactly as the grader's does, and each probe
  tries something a hostile notebook would (read the instructor's files, write outside its
  folder, reach the network, bomb the machine, leave a daemon behind);
* the hostile corpus (tests/hostile/c<N>_*.yaml, see tests/hostile/corpus.py): every submission,
  with two honest victims graded before and after all of them, goes through ONE `course grade`
  batch, and one test per class of the issue checks the scores, flags and side effects.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest
from traitlets.config import Config

from nbcourse.grading import limits, sandbox

HOSTILE = Path(__file__).resolve().parent / "hostile"

pytestmark = [
    pytest.mark.skipif(
        sys.platform != "linux" or os.geteuid() != 0 or not sandbox.bwrap_works("bwrap"),
        reason="the full sandbox needs Linux, root and bubblewrap (the degraded modes are tested below)",
    ),
]


def _toy_course(tmp: Path) -> Path:
    course = tmp / "course"
    for folder in ["source/a", "submitted/s/a", "autograded", "feedback", "data/instructor"]:
        (course / folder).mkdir(parents=True)
    (course / "source/a/nb.ipynb").write_text("SECRET-SOURCE")
    (course / "gradebook.db").write_text("SECRET-GRADEBOOK")
    (course / "data/SHA256SUMS").write_text("")
    (course / "data/public.csv").write_text("a,b\n1,2\n")
    (course / "data/instructor/key.json").write_text("SECRET-KEY")
    (course / "nbgrader_config.py").write_text("")
    return course


PROBES = {
    "look_around": """
import os, socket, sys
def can(f):
    try:
        f()
        return True
    except Exception:
        return False
def secret(path):
    try:
        return "SECRET" in open(path).read()
    except Exception:
        return False
C = os.environ["PROBE_COURSE"]
S = os.path.dirname(os.getcwd())
result = dict(
    uid=os.getuid(),
    read_source=secret(f"{C}/source/a/nb.ipynb"),
    read_gradebook=secret(f"{C}/gradebook.db"),
    read_key=secret(f"{C}/data/instructor/key.json"),
    key_folder=sorted(os.listdir(f"{C}/data/instructor")) if os.path.isdir(f"{C}/data/instructor") else None,
    read_public=can(lambda: open(f"{C}/data/public.csv").read()),
    write_data=can(lambda: open(f"{C}/data/new.txt", "w").write("x")),
    write_venv=can(lambda: open(os.path.join(sys.prefix, "pwned.txt"), "w").write("x")),
    write_scratch_root=can(lambda: open(f"{S}/dropped.txt", "w").write("x")),
    siblings=sorted(os.listdir(S)),
    write_own_folder=can(lambda: open("mine.txt", "w").write("x")),
    network=can(lambda: socket.create_connection(("1.1.1.1", 53), timeout=2)),
    processes=sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
    home=os.environ["HOME"],
    tmpdir=os.environ["TMPDIR"],
    ipythondir=os.environ["IPYTHONDIR"],
    cgroups=sorted({l.rsplit("/", 1)[-1] for l in open("/proc/self/cgroup").read().split() if "/k-" in l}),
)
""",
    "daemon": """
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sleep", ["sleep", "307.77"])
    os._exit(0)
time.sleep(0.3)
result = "left a daemon"
""",
    "fork_bomb": """
import os, time
forks, started = 0, time.time()
while time.time() - started < 1:
    try:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        forks += 1
    except OSError:
        pass
result = forks
""",
    "memory_bomb": """
hoard = [bytearray(100 * 1024 * 1024) for _ in range(60)]
result = "survived"
""",
    "file_bomb": """
try:
    with open("big.bin", "wb") as f:
        for _ in range(8):
            f.write(b"0" * (16 * 1024 * 1024))
    result = "wrote it all"
except OSError as exc:
    result = f"refused: {exc.strerror}"
""",
    "sleeps_forever": """
import signal, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
time.sleep(600)
result = "woke up"
""",
}


def _run_probes(tmp: Path, config: Config, only: tuple[str, ...] = ()) -> tuple[dict, sandbox.Policy]:
    course = _toy_course(tmp)
    scratch_root = tmp / "scratch"
    (scratch_root / "other-kernel").mkdir(parents=True)
    (scratch_root / "other-kernel" / "answers.txt").write_text("another student's notebook")
    os.environ["COURSE_DATA_DIR"] = str(course / "data")
    try:
        policy = sandbox.policy_for(course, config)
    finally:
        del os.environ["COURSE_DATA_DIR"]
    assert policy is not None
    probes = scratch_root / "probes.json"
    probes.write_text(json.dumps({k: v for k, v in PROBES.items() if not only or k in only}))
    argv = [sys.executable, str(HOSTILE / "mini_server.py"), pickle.dumps(policy).hex(), str(probes)]
    argv += ["--scratch-root", str(scratch_root)]
    done = subprocess.run(
        sandbox.wrap_command(argv, policy),
        capture_output=True,
        text=True,
        timeout=240,
        env=dict(os.environ, PROBE_COURSE=str(course)),
        cwd=scratch_root,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), policy


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, sandbox.Policy, float]:
    config = Config()
    config.Sandbox.memory_mb = 512
    config.Sandbox.pids = 64
    config.Sandbox.wall_seconds = 8
    config.Sandbox.file_size_mb = 64
    started = time.monotonic()
    report, policy = _run_probes(tmp_path_factory.mktemp("sandbox"), config)
    return report, policy, time.monotonic() - started


def test_the_full_sandbox_is_available_here(probes) -> None:
    _, policy, _ = probes
    assert policy.layers == ("bwrap", "namespaces") and not policy.warnings


def test_a_kernel_sees_only_its_own_folder_and_the_public_data(probes) -> None:
    report, policy, _ = probes
    seen = report["look_around"]
    assert seen["exit"] == 0, seen
    got = seen["result"]
    assert got["uid"] >= policy.uid_base, "the kernel must run as an unprivileged uid of its own"
    assert not got["read_source"] and not got["read_gradebook"], got
    assert not got["read_key"] and got["key_folder"] == [], "the key is out of reach outside hidden tests"
    assert got["read_public"], "the course's public data stays readable"
    assert not got["write_data"] and not got["write_venv"] and not got["write_scratch_root"], got
    assert got["write_own_folder"]
    assert len(got["siblings"]) == 1, f"other kernels' folders are visible: {got['siblings']}"
    assert not got["network"], "no network inside the sandbox"
    assert got["processes"] == [1], f"the kernel sees other processes: {got['processes']}"
    assert got["home"].startswith("/tmp/") and got["tmpdir"] == "/tmp", got
    assert got["ipythondir"].startswith(got["home"])


def test_every_process_a_kernel_started_dies_with_it(probes) -> None:
    report, _, _ = probes
    assert report["daemon"]["exit"] == 0, report["daemon"]
    time.sleep(0.5)
    alive = subprocess.run(["pgrep", "-f", "sleep 307.77"], capture_output=True, text=True, check=False)
    assert alive.stdout == "", f"a daemon outlived its kernel: {alive.stdout}"


def test_a_fork_bomb_is_capped_and_cleaned_up(probes) -> None:
    report, policy, _ = probes
    bomb = report["fork_bomb"]
    assert bomb["exit"] == 0, bomb
    assert bomb["result"] < policy.limits.pids, "more processes than the pids limit"
    survivors = list(limits.processes_of(bomb["uid"]))
    assert not survivors, f"processes of the bomb's uid survived: {survivors}"


def test_a_memory_bomb_is_stopped_with_a_reason(probes) -> None:
    report, policy, _ = probes
    bomb = report["memory_bomb"]
    assert bomb["result"] is None and bomb["exit"] == limits.EXIT_MEMORY, bomb
    assert "memory" in limits.describe_exit(bomb["exit"], policy.limits)


def test_file_size_is_capped(probes) -> None:
    report, _, _ = probes
    assert report["file_bomb"]["result"] == "refused: File too large", report["file_bomb"]


def test_a_kernel_that_ignores_sigint_is_stopped_at_its_wall_time(probes) -> None:
    report, policy, _ = probes
    slow = report["sleeps_forever"]
    assert slow["exit"] == limits.EXIT_WALL and slow["seconds"] < policy.limits.wall_seconds + 5, slow


def test_each_kernel_had_a_cgroup_and_it_is_gone(probes) -> None:
    report, _, _ = probes
    names = report["look_around"]["result"]["cgroups"]
    assert len(names) == 1, f"the kernel was not in a cgroup of its own: {names}"
    for controller in sandbox.CGROUP_CONTROLLERS:
        folder = limits.CGROUP_ROOT / controller / limits._own_cgroup(controller).lstrip("/")
        assert not (folder / names[0]).exists(), f"the kernel's cgroup is left in {folder}"


def test_a_disabled_sandbox_says_so_loudly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = Config()
    config.Sandbox.enabled = False
    assert sandbox.policy_for(_toy_course(tmp_path), config) is None
    assert "sandbox is OFF" in capsys.readouterr().err


def test_a_required_sandbox_refuses_a_machine_without_bubblewrap(tmp_path: Path) -> None:
    config = Config()
    config.Sandbox.require = True
    config.Sandbox.bwrap = "no-such-bwrap"
    with pytest.raises(sandbox.SandboxUnavailable, match="bubblewrap"):
        sandbox.policy_for(_toy_course(tmp_path), config)


def test_without_bubblewrap_it_degrades_loudly_and_still_confines_each_kernel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = Config()
    config.Sandbox.bwrap = "no-such-bwrap"
    policy = sandbox.policy_for(_toy_course(tmp_path), config)
    assert policy is not None and policy.layers == ("namespaces",)
    err = capsys.readouterr().err
    assert "degraded" in err and "bubblewrap" in err
    assert sandbox.wrap_command(["python"], policy) == ["python"]
    assert "without bubblewrap" in capsys.readouterr().err
    assert str(tmp_path / "course" / "source") in policy.hide, "each kernel hides the course folders itself"


def test_without_bubblewrap_each_kernel_still_hides_the_course(capsys: pytest.CaptureFixture[str]) -> None:
    """The per-kernel layer alone, on a course in a folder no kernel covers anyway (not /tmp, /root)."""
    import shutil
    import tempfile

    where = Path(tempfile.mkdtemp(prefix="nbcourse-hardening-", dir="/var/lib"))
    os.chmod(where, 0o755)
    try:
        config = Config()
        config.Sandbox.bwrap = "no-such-bwrap"
        report, policy = _run_probes(where, config, only=("look_around",))
        got = report["look_around"]["result"]
        assert policy.layers == ("namespaces",)
        assert got is not None, report
        assert not got["read_source"] and not got["read_gradebook"] and not got["read_key"], got
        assert got["read_public"] and not got["write_data"] and not got["network"], got
        assert len(got["siblings"]) == 1 and got["processes"] == [1], got
    finally:
        shutil.rmtree(where, ignore_errors=True)
