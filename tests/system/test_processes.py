"""System tests over real, separate processes: `frontdesk serve` / `frontdesk worker` started
as subprocesses on one database, real HTTP, a real websocket client, a real webhook receiver.

- two `serve` processes on one PostgreSQL + Redis: an event born in one reaches a socket on the other;
- `kill -9` of the worker while a delivery is in flight: the reply is delivered once (the receiver
  deduplicates by X-Frontdesk-Message-Id) and ends "sent"; a receiver that always fails ends "failed".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import websockets

from tests.conftest import PG_ADMIN_URL, free_port
from tests.conftest import pg_exec as _pg_exec
from tests.factories import sign
from tests.receiver import Receiver

BACKEND = os.environ.get("FRONTDESK_TEST_BACKEND", "sqlite")
REDIS_URL = os.environ.get("FRONTDESK_TEST_REDIS_URL", "")

FRONTDESK = str(Path(sys.executable).parent / "frontdesk")
PASSWORD = "correct-horse-battery"
SECRET_KEY = "system-test-secret-key-0123456789"

pytestmark = pytest.mark.slow
T = TypeVar("T")


# ---------------------------------------------------------------------------------------------
# Processes


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, n: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.popen.poll() is None


@dataclass
class Deployment:
    """Environment shared by every process of one Frontdesk installation under test."""

    root: Path
    env: dict[str, str]
    procs: list[Proc] = field(default_factory=list)

    def run(self, *args: str, timeout: float = 60, **extra_env: str) -> str:
        result = subprocess.run(
            [FRONTDESK, *args],
            env={**self.env, **extra_env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, f"frontdesk {' '.join(args)}: {result.stdout}{result.stderr}"
        return result.stdout + result.stderr

    def start(self, name: str, *args: str, **extra_env: str) -> Proc:
        log = self.root / f"{name}-{len(self.procs)}.log"
        handle = log.open("wb")
        try:
            popen = subprocess.Popen(
                [FRONTDESK, *args],
                env={**self.env, **extra_env},
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            handle.close()
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    async def serve(self, name: str, *flags: str, **extra_env: str) -> str:
        port = free_port()
        proc = self.start(name, "serve", "--port", str(port), *flags, **extra_env)
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(timeout=2) as client:

            async def ready() -> bool:
                assert proc.alive(), f"{name} exited early:\n{proc.tail()}"
                with contextlib.suppress(httpx.HTTPError):
                    return (await client.get(url + "/readyz")).status_code == 200
                return False

            await until(ready, 20, lambda: f"{name} never became ready:\n{proc.tail()}")
        return url

    async def worker(self, name: str = "worker", **extra_env: str) -> Proc:
        proc = self.start(name, "worker", **extra_env)

        async def ready() -> bool:
            assert proc.alive(), f"{name} exited early:\n{proc.tail()}"
            return "worker running" in proc.tail(100_000)

        await until(ready, 20, lambda: f"{name} never started:\n{proc.tail()}")
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.alive():
                proc.popen.terminate()
        for proc in self.procs:
            try:
                proc.popen.wait(5)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait(5)


async def until(
    check: Callable[[], Awaitable[T | None]], timeout: float, message: str | Callable[[], str]
) -> T:
    """Poll `check` until it returns something truthy, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(message() if callable(message) else message)
        await asyncio.sleep(0.05)


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env.update(
        FRONTDESK_DEV_MODE="1",
        FRONTDESK_SECRET_KEY=SECRET_KEY,
        FRONTDESK_DATA_DIR=str(tmp_path / "data"),
        FRONTDESK_LOG_FORMAT="text",
        FRONTDESK_LOG_LEVEL="INFO",
        FRONTDESK_JOB_POLL_SECONDS="0.05",
        FRONTDESK_JOB_LEASE_SECONDS="2",
        FRONTDESK_JOB_BACKOFF_BASE_SECONDS="0.05",
        FRONTDESK_JOB_BACKOFF_MAX_SECONDS="0.2",
        FRONTDESK_OUTBOUND_TIMEOUT_SECONDS="10",
    )
    db_name = ""
    if BACKEND == "postgres":
        db_name = f"test_sys_{uuid.uuid4().hex[:12]}"
        _pg_exec(f'CREATE DATABASE "{db_name}"')
        base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        env["FRONTDESK_DATABASE_URL"] = f"{base}/{db_name}"
        if REDIS_URL:
            env["FRONTDESK_REDIS_URL"] = REDIS_URL
    dep = Deployment(tmp_path, env)
    try:
        dep.run("migrate")
        dep.run(
            "create-admin",
            "--email", "admin@example.com",
            "--name", "Ada Admin",
            "--password", PASSWORD,
            "--workspace", "Acme",
        )  # fmt: skip
        yield dep
    finally:
        dep.stop_all()
        if db_name:
            _pg_exec(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


# ---------------------------------------------------------------------------------------------
# The public API, as a client uses it


@dataclass
class Agent:
    token: str
    workspace_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def sign_in(url: str) -> Agent:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        login = await client.post(
            "/api/v1/auth/login", json={"email": "admin@example.com", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        r = await client.post(
            "/api/v1/me/tokens", json={"name": "system"}, headers={"X-CSRF-Token": login.json()["csrf_token"]}
        )
        assert r.status_code == 201, r.text
        token = r.json()["token"]
        client.cookies.clear()
        me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200, me.text
        return Agent(token, int(me.json()["workspaces"][0]["id"]))


@dataclass
class ApiInbox:
    id: int
    webhook_path: str
    secret: str


async def create_inbox(client: httpx.AsyncClient, agent: Agent, webhook_url: str) -> ApiInbox:
    r = await client.post(
        f"/api/v1/workspaces/{agent.workspace_id}/inboxes",
        json={"name": "Website", "channel_type": "api", "settings": {"webhook_url": webhook_url}},
        headers=agent.headers,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return ApiInbox(int(body["id"]), body["webhook_path"], body["secrets"]["hmac_secret"])


async def post_inbound(client: httpx.AsyncClient, inbox: ApiInbox, text: str) -> dict[str, Any]:
    body = json.dumps(
        {
            "type": "message",
            "source_id": f"ext-{uuid.uuid4().hex}",
            "contact": {"source_id": "customer-1", "name": "Ann"},
            "text": text,
        }
    ).encode()
    r = await client.post(
        inbox.webhook_path,
        content=body,
        headers={"Content-Type": "application/json", "X-Frontdesk-Signature": sign(inbox.secret, body)},
    )
    assert r.status_code == 200, r.text
    result = r.json()["results"][0]
    assert result["duplicate"] is False
    return dict(result)


async def send_reply(
    client: httpx.AsyncClient, agent: Agent, conversation_id: int, text: str
) -> dict[str, Any]:
    r = await client.post(
        f"/api/v1/workspaces/{agent.workspace_id}/conversations/{conversation_id}/messages",
        json={"text": text},
        headers=agent.headers,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def message_row(
    client: httpx.AsyncClient, agent: Agent, conversation_id: int, message_id: int
) -> dict[str, Any]:
    r = await client.get(
        f"/api/v1/workspaces/{agent.workspace_id}/conversations/{conversation_id}/messages",
        headers=agent.headers,
    )
    assert r.status_code == 200, r.text
    (row,) = [m for m in r.json()["messages"] if m["id"] == message_id]
    return dict(row)


# ---------------------------------------------------------------------------------------------
# Websocket helpers


async def next_event(ws: Any, match: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
    """The first frame that `match`es; others (events of other installations sharing the Redis
    channel, typing, presence) are skipped."""

    async def read() -> dict[str, Any]:
        while True:
            frame = json.loads(await ws.recv())
            if match(frame):
                return dict(frame)

    return await asyncio.wait_for(read(), timeout)


def message_created_with(text: str) -> Callable[[dict[str, Any]], bool]:
    def match(frame: dict[str, Any]) -> bool:
        return (
            frame.get("type") == "message.created"
            and frame.get("data", {}).get("message", {}).get("text") == text
        )

    return match


async def open_stream(base_url: str, agent: Agent) -> Any:
    ws_url = "ws://" + base_url.removeprefix("http://") + f"/api/v1/workspaces/{agent.workspace_id}/stream"
    ws = await websockets.connect(ws_url, additional_headers=agent.headers, open_timeout=10)
    ready = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert ready["type"] == "ready", ready
    return ws


# ---------------------------------------------------------------------------------------------
# Tests


@pytest.mark.skipif(BACKEND != "postgres", reason="two serve processes need PostgreSQL + Redis")
async def test_event_received_by_one_serve_process_reaches_socket_on_the_other(
    deployment: Deployment, receiver: Receiver
) -> None:
    if not REDIS_URL:
        pytest.skip("FRONTDESK_TEST_REDIS_URL is not set")
    url_a = await deployment.serve("serve-a", "--no-worker", "--no-migrate")
    url_b = await deployment.serve("serve-b", "--no-worker", "--no-migrate")
    await deployment.worker()
    agent = await sign_in(url_a)
    tag = uuid.uuid4().hex  # the Redis channel is shared: match our own frames by unique text

    async with (
        httpx.AsyncClient(base_url=url_a, timeout=10) as a,
        httpx.AsyncClient(base_url=url_b, timeout=10) as b,
    ):
        inbox = await create_inbox(a, agent, receiver.url)
        receiver.secret = inbox.secret
        ws_a = await open_stream(url_a, agent)
        ws_b = await open_stream(url_b, agent)
        try:
            # Inbound through A → the agent connected to B sees it (and so does the one on A).
            text_in = f"hello from the customer {tag}"
            result = await post_inbound(a, inbox, text_in)
            on_b = await next_event(ws_b, message_created_with(text_in), 10)
            assert on_b["data"]["message"]["id"] == result["message_id"]
            assert on_b["inbox_id"] == inbox.id
            assert on_b["data"]["message"]["conversation_id"] == result["conversation_id"]
            on_a = await next_event(ws_a, message_created_with(text_in), 10)
            assert on_a["seq"] == on_b["seq"]

            # A reply written through B → the agent connected to A sees it; the worker delivers it.
            text_out = f"hello from the agent {tag}"
            reply = await send_reply(b, agent, result["conversation_id"], text_out)
            on_a = await next_event(ws_a, message_created_with(text_out), 10)
            assert on_a["data"]["message"]["id"] == reply["id"]
            await asyncio.wait_for(receiver.arrived.wait(), 10)
            assert list(receiver.delivered) == [str(reply["id"])]
            assert receiver.bad_signatures == 0
        finally:
            await ws_a.close()
            await ws_b.close()


async def test_worker_killed_mid_delivery_reply_is_delivered_once(
    deployment: Deployment, receiver: Receiver
) -> None:
    url = await deployment.serve("web", "--no-worker", "--no-migrate")
    worker = await deployment.worker("worker-1")
    agent = await sign_in(url)
    receiver.hold_first_seconds = 3.0  # the first delivery is in flight long enough to kill -9

    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        inbox = await create_inbox(client, agent, receiver.url)
        receiver.secret = inbox.secret
        inbound = await post_inbound(client, inbox, "my order has not arrived")
        conversation_id = inbound["conversation_id"]
        reply = await send_reply(client, agent, conversation_id, "we are looking into it")
        assert reply["delivery_status"] == "queued"

        await asyncio.wait_for(receiver.arrived.wait(), 10)  # the worker is waiting on our answer
        os.kill(worker.popen.pid, signal.SIGKILL)
        assert worker.popen.wait(5) == -signal.SIGKILL
        # The outcome was never recorded: the message is still queued, not lost and not "sent".
        row = await message_row(client, agent, conversation_id, reply["id"])
        assert row["delivery_status"] == "queued", row

        await deployment.worker("worker-2")  # takes the job over once the dead worker's lease runs out

        async def sent() -> dict[str, Any] | None:
            row = await message_row(client, agent, conversation_id, reply["id"])
            assert row["delivery_status"] in ("queued", "sent"), row
            return row if row["delivery_status"] == "sent" else None

        row = await until(sent, 15, "the reply was never delivered after the worker was killed")

    assert receiver.bad_signatures == 0
    assert [d.message_id for d in receiver.deliveries] == [str(reply["id"])] * 2  # sent again after the kill
    assert list(receiver.delivered) == [str(reply["id"])]  # ... and deduplicated to one
    body = json.loads(receiver.delivered[str(reply["id"])])
    assert body["message"]["text"] == "we are looking into it"
    assert body["contact"]["source_id"] == "customer-1"
    assert row["failure_reason"] is None


async def test_reply_to_a_failing_receiver_ends_failed_with_reason(
    deployment: Deployment, receiver: Receiver
) -> None:
    receiver.status = 500
    url = await deployment.serve("web", "--no-worker", "--no-migrate")
    await deployment.worker("worker", FRONTDESK_JOB_MAX_ATTEMPTS="2")
    agent = await sign_in(url)

    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        inbox = await create_inbox(client, agent, receiver.url)
        receiver.secret = inbox.secret
        inbound = await post_inbound(client, inbox, "anyone there?")
        conversation_id = inbound["conversation_id"]
        reply = await send_reply(client, agent, conversation_id, "yes, here")

        async def failed() -> dict[str, Any] | None:
            row = await message_row(client, agent, conversation_id, reply["id"])
            assert row["delivery_status"] in ("queued", "failed"), row
            return row if row["delivery_status"] == "failed" else None

        row = await until(failed, 15, "the reply never ended failed")

    assert row["failure_reason"] == "provider_unavailable", row
    assert "HTTP 500" in row["failure_detail"], row
    assert [d.message_id for d in receiver.deliveries] == [str(reply["id"])] * 2  # FRONTDESK_JOB_MAX_ATTEMPTS
    assert receiver.delivered == {}
    assert receiver.bad_signatures == 0
