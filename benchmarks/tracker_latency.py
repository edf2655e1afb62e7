"""Latency of the Progress sidebar's two server calls on the real course, as a learner meets them.

Starts `jupyter server` with the real course and a throwaway workspace/store/gradebook, then measures
  * GET /course-tracker/tracker  (median and p95 of repeated reads, before and after grades exist)
  * "Check my work" on an assignment with the reference solutions in the workspace (start to done)

    uv run python benchmarks/tracker_latency.py [--assignment m1_data_engineering] [--reads 30]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "tracker-benchmark"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(base: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{base}/course-tracker/{path}",
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "POST",
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=600) as answer:
        return json.load(answer)


def read_latency(base: str, reads: int) -> tuple[float, float]:
    samples = []
    for _ in range(reads):
        start = time.perf_counter()
        call(base, "tracker")
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", default="m1_data_engineering")
    parser.add_argument("--reads", type=int, default=30)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    workspace = tmp / "workspace"
    shutil.copytree(ROOT / "source" / args.assignment, workspace / args.assignment)
    port = free_port()
    env = dict(
        os.environ,
        COURSE_DB_URL=f"sqlite:///{tmp / 'gradebook.db'}",
        COURSE_DATA_DIR=str(ROOT / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
    )
    cmd = [
        sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}",
        f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={workspace}",
        f"--CourseTracker.course_root={ROOT}", f"--CourseTracker.workspace_dir={workspace}",
        f"--CourseTracker.store_path={tmp / 'store.json'}", "--CourseTracker.student_id=benchmark",
    ]  # fmt: skip
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                first_start = time.perf_counter()
                call(base, "tracker")
                first = (time.perf_counter() - first_start) * 1000
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise SystemExit("the server did not answer within 60 s")
        median, p95 = read_latency(base, args.reads)
        print(f"tracker read, no grades: first {first:.0f} ms, median {median:.1f} ms, p95 {p95:.1f} ms")

        start = time.perf_counter()
        check = call(base, "checks", {"assignment": args.assignment})
        while check["status"] in ("queued", "running"):
            time.sleep(0.5)
            check = call(base, f"checks/{check['id']}")
        seconds = time.perf_counter() - start
        results = check.get("results") or []
        scores = ", ".join(f"{r['notebook']} {r['score']:g}/{r['max_score']:g}" for r in results)
        print(f"check my work ({args.assignment}): {check['status']} in {seconds:.1f} s [{scores}]")

        median, p95 = read_latency(base, args.reads)
        print(f"tracker read, graded:    median {median:.1f} ms, p95 {p95:.1f} ms")
        return 0 if check["status"] == "done" else 1
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
