"""A redis-server of the test's own on a free port, to kill, hang (SIGSTOP) and bring back
without touching the Redis the other tests share."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import redis

from tests.conftest import free_port

# A restart comes back empty, as a lost Redis would.
NO_PERSISTENCE = ("--save", "", "--appendonly", "no")


class RedisServer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", *NO_PERSISTENCE],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        client.close()

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self.cont()
            self._proc.kill()
            self._proc.wait(5)

    def stop(self) -> None:
        """Hang it: connections stay open and nothing answers (what a frozen Redis host does)."""
        assert self._proc is not None
        os.kill(self._proc.pid, signal.SIGSTOP)

    def cont(self) -> None:
        assert self._proc is not None
        os.kill(self._proc.pid, signal.SIGCONT)
