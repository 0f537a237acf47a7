"""Shared pieces of the benchmarks: servers as subprocesses, a lean HTTP/1.1 client, statistics.

Everything talks to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV_BIN = ROOT / ".venv" / "bin"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"
PASSWORD = "bench-password-123"
EMAIL = "bench@example.com"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def log(*parts: Any) -> None:
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- statistics


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for an empty list."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * len(s) + 0.5) - 1))
    return s[k]


def ms(x: float) -> str:
    if x != x:  # NaN
        return "n/a"
    return f"{x * 1000:.2f} ms" if x < 0.1 else f"{x * 1000:.0f} ms"


# --------------------------------------------------------------------------- databases


def pg_exec(sql: str, db: str = "postgres") -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def pg_fresh(name: str) -> str:
    """Drop and create database `name`; return its SQLAlchemy asyncpg URL."""
    assert name.startswith("bench_")
    pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    pg_exec(f'CREATE DATABASE "{name}"')
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


def redis_flush_channel() -> None:
    # Nothing to flush: pub/sub keeps nothing. Only check that Redis answers.
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], check=True, stdout=subprocess.DEVNULL)


@dataclass
class Backend:
    name: str  # "sqlite" | "postgresql"
    data_dir: Path
    database_url: str = ""  # empty: SQLite in data_dir
    redis_url: str = ""

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            FRONTDESK_DEV_MODE="1",
            FRONTDESK_DATA_DIR=str(self.data_dir),
            FRONTDESK_LOG_LEVEL="WARNING",
            FRONTDESK_DATABASE_URL=self.database_url,
            FRONTDESK_REDIS_URL=self.redis_url,
        )
        env.update(extra)
        return env

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "frontdesk.db"

    @property
    def label(self) -> str:
        return "SQLite" if self.name == "sqlite" else "PostgreSQL + Redis"


def make_backend(kind: str, tag: str, workdir: Path) -> Backend:
    data = workdir / f"{tag}-{kind}"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    if kind == "sqlite":
        return Backend("sqlite", data)
    url = pg_fresh(f"bench_{tag}")
    return Backend("postgresql", data, url, REDIS_URL)


def frontdesk_cli(backend: Backend, *args: str) -> str:
    out = subprocess.run(
        [str(VENV_BIN / "frontdesk"), *args],
        env=backend.env(),
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return out.stdout


# --------------------------------------------------------------------------- server processes


class Server:
    """A child process listening on `port`; stopped with SIGINT (uvicorn's graceful stop)."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int, name: str) -> None:
        self.argv, self.env, self.port, self.name = argv, env, port, name
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = Path(tempfile.gettempdir()) / f"frontdesk-bench-{name}-{port}.log"

    def start(self, timeout: float = 60.0) -> Server:
        self._log = open(self.log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=self._log, stderr=self._log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early; see {self.log_path}:\n{self.tail()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not listen on {self.port} in {timeout}s; see {self.log_path}")

    def start_unlistened(self, settle: float = 2.0) -> Server:
        """For a process that listens on nothing (the worker): start, wait, check it lives."""
        self._log = open(self.log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=self._log, stderr=self._log)
        time.sleep(settle)
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited early; see {self.log_path}:\n{self.tail()}")
        return self

    def tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._log.close()


@contextlib.contextmanager
def frontdesk_server(backend: Backend, *extra: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    port = free_port()
    argv = [str(VENV_BIN / "frontdesk"), "serve", "--port", str(port), "--no-migrate", *extra]
    server = Server(argv, backend.env(**(env or {})), port, f"frontdesk-{backend.name}").start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def floor_server(backend: Backend) -> Iterator[Server]:
    port = free_port()
    argv = [str(VENV_BIN / "python"), str(BENCH / "floor_app.py"), "--port", str(port)]
    server = Server(argv, backend.env(), port, f"floor-{backend.name}").start()
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- HTTP/1.1 client


class _HttpProtocol(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request in flight at a time; Content-Length only."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buf[:end])
        status = int(head[9:12])
        length = 0
        lower = head.lower()
        i = lower.find(b"\r\ncontent-length:")
        if i >= 0:
            j = lower.find(b"\r\n", i + 2)
            length = int(lower[i + 17 : j if j > 0 else len(lower)])
        if len(self.buf) < end + 4 + length:
            return
        body = bytes(self.buf[end + 4 : end + 4 + length])
        del self.buf[: end + 4 + length]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((status, body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed"))


class HttpConn:
    def __init__(self, proto: _HttpProtocol) -> None:
        self.proto = proto

    @classmethod
    async def open(cls, port: int) -> HttpConn:
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_connection(_HttpProtocol, "127.0.0.1", port)
        sock = proto.transport.get_extra_info("socket") if proto.transport else None
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(proto)

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        proto = self.proto
        assert proto.transport is not None
        proto.waiter = asyncio.get_running_loop().create_future()
        proto.transport.write(raw)
        return await proto.waiter

    def close(self) -> None:
        if self.proto.transport is not None:
            self.proto.transport.close()


def request_bytes(
    method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
        if not headers or "Content-Type" not in headers:
            lines.append("Content-Type: application/json")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


@dataclass
class Api:
    """Convenience JSON calls (setup and the read benchmarks) over one keep-alive connection."""

    port: int
    token: str = ""
    workspace_id: int = 0
    conn: HttpConn | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    async def call(
        self, method: str, path: str, json: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        if self.conn is None or self.conn.proto.closed:
            self.conn = await HttpConn.open(self.port)
        h = dict(headers or {})
        if self.token:
            h.setdefault("Authorization", f"Bearer {self.token}")
        body = orjson.dumps(json) if json is not None else (b"" if method in ("POST", "PUT") else None)
        status, raw = await self.conn.send(request_bytes(method, path, body, h))
        try:
            data = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            data = raw
        return status, data

    async def ok(self, method: str, path: str, json: Any = None, **kw: Any) -> Any:
        status, data = await self.call(method, path, json, **kw)
        if status >= 300:
            raise RuntimeError(f"{method} {path} -> {status}: {data!r}")
        return data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


async def sign_in(port: int) -> Api:
    """Log in as the bench admin, make an API token, and return a bearer-authenticated client."""
    api = Api(port)
    body = orjson.dumps({"email": EMAIL, "password": PASSWORD})
    # The lean client keeps no cookies: log in over a one-shot connection and read Set-Cookie.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request_bytes("POST", "/api/v1/auth/login", body, {"Connection": "close"}))
    await writer.drain()
    response = await reader.read()
    writer.close()
    head, _, rest = response.partition(b"\r\n\r\n")
    cookies = []
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"set-cookie":
            cookies.append(value.strip().split(b";")[0].decode())
    csrf = orjson.loads(rest)["csrf_token"]
    me = await api.ok(
        "POST",
        "/api/v1/me/tokens",
        {"name": "bench"},
        headers={"Cookie": "; ".join(cookies), "X-CSRF-Token": csrf},
    )
    api.token = me["token"]
    me_ = await api.ok("GET", "/api/v1/me")
    api.workspace_id = me_["workspaces"][0]["id"]
    api.extra["user_id"] = me_["id"]
    return api


def prepare_instance(backend: Backend) -> None:
    """Migrate and create the admin (the server is then started with --no-migrate)."""
    frontdesk_cli(backend, "migrate")
    frontdesk_cli(
        backend,
        "create-admin",
        "--email",
        EMAIL,
        "--name",
        "Bench Admin",
        "--password",
        PASSWORD,
        "--workspace",
        "Bench",
    )


def machine_info() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    pg = "unknown"
    with contextlib.suppress(Exception):
        pg = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "show server_version"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    redis = "unknown"
    with contextlib.suppress(Exception):
        info = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "info", "server"], capture_output=True, text=True, check=True
        ).stdout
        redis = next(x.split(":", 1)[1] for x in info.splitlines() if x.startswith("redis_version"))
    sqlite = "unknown"
    with contextlib.suppress(Exception):
        import sqlite3

        sqlite = sqlite3.sqlite_version
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram": mem,
        "python": sys.version.split()[0],
        "postgresql": pg,
        "redis": redis.strip(),
        "sqlite": sqlite,
    }


# --------------------------------------------------------------------------- RESULTS.md


def replace_section(marker: str, section: str) -> None:
    """Put `section` (a Markdown section starting with `marker`) into bench/RESULTS.md in place of
    the one already there, or at the end: each browser or intake benchmark owns one section."""
    path = BENCH / "RESULTS.md"
    text = path.read_text()
    heading = "\n" + marker + "\n"  # at a line's start: "### Email intake" in the notes is not it
    if heading in text:
        start = text.index(heading) + 1
        nxt = text.find("\n## ", start + len(marker))
        text = text[:start] + section + (text[nxt + 1 :] if nxt != -1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)
