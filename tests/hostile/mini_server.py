"""A stand-in for the grader's fork server: forks one confined child per probe, as the real one does.

    python mini_server.py POLICY_HEX PROBES_JSON --scratch-root DIR

Each probe is Python source run in a child after `sandbox.child_setup`; its `result` variable is
written as JSON into the child's scratch folder. Prints {probe: {exit, result, seconds}} as JSON.
"""

import json
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path

from nbcourse.grading import sandbox


def run_child(policy: object, scratch: str, code: str) -> tuple[int, object]:
    pid = os.fork()
    if pid == 0:
        status = 70
        try:
            os.setsid()
            os.chdir(scratch)
            sandbox.child_setup(policy, Path(scratch))
            status = 1
            namespace: dict = {}
            exec(code, namespace)
            Path(scratch, "result.json").write_text(json.dumps(namespace.get("result")))
            status = 0
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    result = Path(scratch, "result.json")
    return os.waitstatus_to_exitcode(status), json.loads(result.read_text()) if result.exists() else None


def main() -> None:
    policy = pickle.loads(bytes.fromhex(sys.argv[1]))
    probes = json.loads(Path(sys.argv[2]).read_text())
    root = sys.argv[sys.argv.index("--scratch-root") + 1]
    report = {}
    for name, code in probes.items():
        scratch = tempfile.mkdtemp(prefix=f"{name}-", dir=root)
        started = time.monotonic()
        code_, result = run_child(policy, scratch, code)
        report[name] = {
            "exit": code_,
            "result": result,
            "seconds": round(time.monotonic() - started, 2),
            "uid": sandbox.uid_for(policy, Path(scratch)),
        }
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
