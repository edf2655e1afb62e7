"""A throwaway PostgreSQL cluster for tests: `initdb` + `pg_ctl` on a temporary folder and a local port.

PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs to the
`postgres` system user that Debian's package creates. Nothing here is skipped: a machine without the
server binaries fails with a message saying what to install (`.ci/run` installs them).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PG_BIN_CANDIDATES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def pg_bin(tool: str) -> str:
    for folder in PG_BIN_CANDIDATES:
        if (folder / tool).is_file():
            return str(folder / tool)
    found = shutil.which(tool)
    if found:
        return found
    raise RuntimeError(
        f"PostgreSQL's {tool} is not installed: `apt-get install -y postgresql` "
        "(the postgres tests need a server)"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Cluster:
    port: int
    user: str
    password: str
    data_dir: Path
    socket_dir: Path

    def url(self, database: str) -> str:
        """An SQLAlchemy URL for nbgrader (psycopg 3 driver), over TCP on 127.0.0.1, with the password.

        TCP connections need the password (scram-sha-256); only the cluster's owner, on its own
        socket folder, connects without one. So another Unix user (a student) cannot open the gradebook.
        """
        return f"postgresql+psycopg://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        createdb = [
            pg_bin("createdb"),
            "-h",
            str(self.socket_dir),
            "-p",
            str(self.port),
            "-U",
            self.user,
            name,
        ]
        _run_as(self.user, createdb)
        return self.url(name)


def _run_as(user: str, argv: list[str]) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0 and user != "root":
        argv = ["runuser", "-u", user, "--", *argv]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


@contextlib.contextmanager
def postgres_cluster() -> Iterator[Cluster]:
    """Start a fresh cluster in its own folder under /tmp, yield it, then stop it and remove its files.

    Not under pytest's tmp_path: pytest keeps its temporary root at mode 0700 (and resets it whenever
    another pytest starts), which would lock the `postgres` user out of its own data folder.
    """
    user = pwd.getpwuid(os.geteuid()).pw_name
    if os.geteuid() == 0:
        user = "postgres"
        try:
            pwd.getpwnam(user)
        except KeyError as exc:
            raise RuntimeError(
                "running as root needs the `postgres` user (apt-get install -y postgresql)"
            ) from exc
    base = Path(tempfile.mkdtemp(prefix="course-pg-"))
    base.chmod(0o700)
    if os.geteuid() == 0:
        shutil.chown(base, user)
    data_dir = base / "pgdata"
    socket_dir = base / "pgsocket"
    socket_dir.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(socket_dir, user)
    password = secrets.token_urlsafe(16)
    pwfile = base / "pwfile"
    pwfile.write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(pwfile, user)
    pwfile.chmod(0o600)
    socket_dir.chmod(0o700)  # the trusted local socket is the owner's alone
    _run_as(user, [pg_bin("initdb"), "-D", str(data_dir), "-U", user, "--auth-local=trust",
                   "--auth-host=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync"])  # fmt: skip
    pwfile.unlink()
    port = free_port()
    options = f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    _run_as(user, [pg_bin("pg_ctl"), "-D", str(data_dir), "-o", options, "-w", "-t", "60", "-l",
                   str(base / "postgres.log"), "start"])  # fmt: skip
    try:
        yield Cluster(port=port, user=user, password=password, data_dir=data_dir, socket_dir=socket_dir)
    finally:
        try:
            _run_as(user, [pg_bin("pg_ctl"), "-D", str(data_dir), "-m", "immediate", "-w", "stop"])
        finally:
            shutil.rmtree(base, ignore_errors=True)
