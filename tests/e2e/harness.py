"""End-to-end harness: the real server (``python -m freeway serve``, uvicorn with uvloop
and httptools) in a subprocess on an ephemeral port, in front of the mock upstream
(``tests/mock_upstream.py``) through ``OPENAI_BASE_URL`` / ``GROQ_BASE_URL``.

The server runs in a temporary working directory with a clean environment, so no
``.env``, ``freeway.toml`` or real provider key of the developer leaks in.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from mock_upstream import MockUpstream

ADMIN_KEY = "fwa_e2e_admin_key_0123456789abcdefghijklmnop"
JWT_SECRET = "e2e-jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz"
# Variables of the developer's shell that would change what the server does.
_SCRUB = ("FREEWAY_", "DATABASE_URL", "REDIS_URL", "DB_", "ADMIN_API_KEY", "JWT_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One ``freeway serve`` process."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> Server:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "freeway",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Send ``sig`` and wait for the process to exit; its return code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    # --- admin helpers ---

    def admin(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return httpx.request(
            method, self.url + path, headers={"X-Api-Key": ADMIN_KEY}, timeout=10, **kw
        )

    def create_project(self, name: str, **fields: Any) -> dict[str, Any]:
        response = self.admin("POST", "/admin/projects", json={"name": name, **fields})
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def wait_for_models(self, *ids: str, timeout: float = 20) -> None:
        """Until the catalogue (filled by the startup refresh) lists ``ids``."""
        project = self.create_project(f"probe-{time.monotonic_ns()}")
        headers = {"Authorization": f"Bearer {project['api_key']}"}
        deadline = time.monotonic() + timeout
        seen: set[str] = set()
        while time.monotonic() < deadline:
            response = httpx.get(self.url + "/v1/models", headers=headers, timeout=5)
            seen = {m["id"] for m in response.json().get("data", [])}
            if set(ids) <= seen:
                return
            time.sleep(0.2)
        raise AssertionError(f"catalogue never listed {ids}; has {sorted(seen)}\n{self.log()}")


def server_env(mock: MockUpstream, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB)}
    env = {k: v for k, v in env.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    env.update(
        FREEWAY_ENV="development",
        ADMIN_API_KEY=ADMIN_KEY,
        JWT_SECRET=JWT_SECRET,
        FREEWAY_DATA_DIR=str(data_dir),
        FREEWAY_PLUGINS="openai,groq",
        FREEWAY_PROVIDER_PRIORITY="openai,groq",
        OPENAI_API_KEY="sk-e2e",
        OPENAI_BASE_URL=mock.url("openai"),
        GROQ_API_KEY="gsk-e2e",
        GROQ_BASE_URL=mock.url("groq"),
        FREEWAY_USAGE_FLUSH_INTERVAL="0.1",
        FREEWAY_HTTP_TIMEOUT="1.5",
        LOG_LEVEL="warning",
    )
    env.update(extra)
    return env


class ServerFactory:
    """Builds (does not start) servers sharing one data dir; stops them all at the end."""

    def __init__(self, root: Path, mock: MockUpstream) -> None:
        self.root = root
        self.mock = mock
        self.servers: list[Server] = []

    def __call__(self, **env: str) -> Server:
        data_dir = self.root / "data"
        workdir = self.root / f"srv{len(self.servers)}"
        server = Server(workdir, server_env(self.mock, data_dir, **env))
        self.servers.append(server)
        return server

    def close(self) -> None:
        for server in self.servers:
            if server.process is not None:
                server.stop()
