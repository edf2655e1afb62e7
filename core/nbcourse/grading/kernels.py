"""Kernel managers nbgrader's `Execute` can be handed: a forked kernel, or a plain one.

Both give the kernel exactly the environment the grader computed (nbgrader's own `Execute` would
use the process environment, which worker threads cannot safely change). `ForkKernelManager`
writes the connection file as jupyter_client always does, then asks the fork server for a child
instead of starting `python -m ipykernel_launcher`; interrupt, poll and kill go through the
server too.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Mapping
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

from .forkserver import KERNEL_LAUNCHER, ForkServer, ForkServerError


class _RemoteProcess:
    """The part of `subprocess.Popen` jupyter_client uses, for a child of the fork server."""

    stdin = stdout = stderr = None

    def __init__(self, server: ForkServer, pid: int) -> None:
        self.server = server
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                self.returncode = self.server.poll(self.pid)
            except ForkServerError:
                self.returncode = -signal.SIGKILL  # the server is gone, and its children with it
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                return None
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            try:
                self.server.signal(self.pid, signum)
            except ForkServerError:
                self.returncode = -signal.SIGKILL

    def kill(self) -> None:
        if self.returncode is None:
            try:
                self.returncode = self.server.kill_tree(self.pid)
            except ForkServerError:
                self.returncode = -signal.SIGKILL

    def terminate(self) -> None:
        self.kill()


class ForkProvisioner(LocalProvisioner):  # type: ignore[misc]
    """Launches the kernel as a child of a fork server."""

    server: ForkServer | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        if self.server is None:
            raise ForkServerError("no fork server")
        if KERNEL_LAUNCHER not in cmd:
            raise ForkServerError(f"not an ipykernel command: {cmd}")
        args = cmd[cmd.index(KERNEL_LAUNCHER) + 1 :]
        pid = self.server.spawn(args, kwargs["env"], kwargs["cwd"])
        self.process = _RemoteProcess(self.server, pid)
        self.pid = pid
        self.pgid = pid  # the child called setsid()
        self.cwd = kwargs["cwd"]
        return self.connection_info

    async def poll(self) -> int | None:
        return self.process.poll() if self.process else 0

    async def wait(self) -> int | None:
        if not self.process:
            return None
        while self.process.poll() is None:
            await asyncio.sleep(0.02)
        code = self.process.returncode
        self.process = None
        return code

    async def send_signal(self, signum: int) -> None:
        if self.process:
            self.process.send_signal(signum)

    async def kill(self, restart: bool = False) -> None:
        if self.process:
            self.process.kill()

    async def terminate(self, restart: bool = False) -> None:
        await self.kill(restart)


class EnvKernelManager(AsyncKernelManager):  # type: ignore[misc]
    """A plain kernel started with the grader's kernel environment."""

    def __init__(self, *args: Any, kernel_env: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kernel_env = dict(kernel_env)

    async def _async_pre_start_kernel(self, **kw: Any) -> Any:
        kw["env"] = dict(self._kernel_env)
        return await super()._async_pre_start_kernel(**kw)


class ForkKernelManager(EnvKernelManager):
    """A kernel forked by `server`, talking ZMQ over unix sockets in the notebook's scratch dir."""

    def __init__(self, *args: Any, server: ForkServer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._server = server

    async def _async_pre_start_kernel(self, **kw: Any) -> Any:
        if self.provisioner is None:
            import uuid

            self.kernel_id = self.kernel_id or str(uuid.uuid4())
            provisioner = ForkProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
            provisioner.server = self._server
            self.provisioner = provisioner
        return await super()._async_pre_start_kernel(**kw)
