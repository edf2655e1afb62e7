"""Kernel managers nbgrader's `Execute` can be handed: a forked kernel, or a plain one.

Both give the kernel exactly the environment the grader computed (nbgrader's own `Execute` would
use the process environment, which worker threads cannot safely change). `ForkKernelManager`
writes the connection file as jupyter_client always does, then asks the fork server for a child
instead of starting `python -m ipykernel_launcher`; interrupt, poll and kill go through the
server too.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning.local_provisioner import LocalProvisioner
from traitlets import DottedObjectName, Type

from .forkserver import KERNEL_LAUNCHER, KERNEL_LOG, ForkServer, ForkServerError


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
        # The kernel's own stderr goes beside its connection file (the grader's scratch), never
        # into the folder it runs in, which may be a course folder.
        connection_file = getattr(self.parent, "connection_file", "")
        log = Path(connection_file).parent / KERNEL_LOG if connection_file else None
        pid = self.server.spawn(args, kwargs["env"], kwargs["cwd"], log=log)
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


class ReadyKernelClient(AsyncKernelClient):  # type: ignore[misc]
    """jupyter_client's client, with a `wait_for_ready` that returns as soon as the kernel is.

    jupyter_client's own ends by draining IOPub until it has been quiet for 0.2 s: 0.2 s of every
    notebook spent waiting. Here the kernel is ready when a kernel_info request has its reply on
    the shell channel and its own `idle` status on IOPub (so IOPub is connected: no output of the
    first cell can be lost); nothing else is waited for (nbclient reads IOPub by parent id).
    """

    async def _ready_wait(self, timeout: float | None = None) -> None:
        from queue import Empty

        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            msg_id = self.kernel_info()
            reply = None
            with contextlib.suppress(Empty):
                reply = await self._reply_to(msg_id, deadline)
            if reply is not None and await self._idle_seen(msg_id, time.monotonic() + IOPUB_CONNECT_WAIT):
                self._handle_kernel_info_reply(reply)
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

    async def _reply_to(self, msg_id: str, deadline: float) -> dict[str, Any] | None:
        while True:
            msg = await self.shell_channel.get_msg(timeout=max(0.0, min(1.0, deadline - time.monotonic())))
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return msg if msg.get("msg_type") == "kernel_info_reply" else None

    async def _idle_seen(self, msg_id: str, until: float) -> bool:
        from queue import Empty

        while (left := until - time.monotonic()) > 0:
            try:
                msg = await self.iopub_channel.get_msg(timeout=left)
            except Empty:
                return False
            if (
                msg.get("parent_header", {}).get("msg_id") == msg_id
                and msg.get("msg_type") == "status"
                and msg.get("content", {}).get("execution_state") == "idle"
            ):
                return True
        return False

    wait_for_ready = _ready_wait


# How long a ready check waits for IOPub to deliver its status (a SUB socket still connecting
# drops it: the check is then sent again).
IOPUB_CONNECT_WAIT = 0.2
CLIENT_CLASS = f"{__name__}.ReadyKernelClient"


_SPECS: dict[str, Any] = {}


def _kernel_spec(manager: Any, name: str) -> Any:
    if name not in _SPECS:
        _SPECS[name] = manager.get_kernel_spec(name)
    return _SPECS[name]


class EnvKernelManager(AsyncKernelManager):  # type: ignore[misc]
    """A plain kernel started with the grader's kernel environment."""

    client_class = DottedObjectName(CLIENT_CLASS)
    client_factory = Type(klass=ReadyKernelClient)  # AsyncKernelManager sets a default of its own

    def __init__(self, *args: Any, kernel_env: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kernel_env = dict(kernel_env)
        if self.kernel_name:
            # Looked up once per grader, not per notebook (jupyter_client scans every kernel
            # directory for it: ~10 ms of each kernel start).
            self._kernel_spec = _kernel_spec(self.kernel_spec_manager, self.kernel_name)

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
