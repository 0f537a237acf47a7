"""Job pickup: from a reply being committed to the worker's webhook POST reaching a receiver.

Replies go out at a fixed rate over keep-alive connections. For each one the client notes when
its 201 arrived (the reply and its send_reply job were committed before the answer was sent) and
the local receiver notes when the worker's POST for that message id arrived. The difference is
the pickup latency as a customer would see it: claim + load + HTTP send. The server's own
frontdesk_job_pickup_seconds histogram (due → claimed) is read from /metrics beside it.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any, ClassVar

import orjson
from common import (
    VENV_BIN,
    HttpConn,
    Server,
    floor_server,
    free_port,
    frontdesk_server,
    log,
    make_backend,
    pct,
    prepare_instance,
    request_bytes,
    sign_in,
)
from ingest import webhook_request
from loadgen import sequential_latency

perf = time.perf_counter
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class _Receiver(asyncio.Protocol):
    """A minimal webhook receiver: notes the arrival time of each X-Frontdesk-Message-Id."""

    arrivals: ClassVar[dict[int, float]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buf = bytearray()

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).lower()
            m = re.search(rb"\r\ncontent-length:\s*(\d+)", head)
            length = int(m.group(1)) if m else 0
            if len(self.buf) < end + 4 + length:
                return
            del self.buf[: end + 4 + length]
            mid = re.search(rb"\r\nx-frontdesk-message-id:\s*(\d+)", head)
            if mid:
                _Receiver.arrivals.setdefault(int(mid.group(1)), perf())
            self.transport.write(OK)


def _histogram(text: str, name: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(name + "_bucket"):
            le = re.search(r'le="([^"]+)"', line)
            if le:
                out[le.group(1)] = float(line.rsplit(" ", 1)[1])
        elif line.startswith(name + "_count"):
            out["count"] = float(line.rsplit(" ", 1)[1])
    return out


async def run(kind: str, cfg: dict[str, Any], workdir: Path, separate_worker: bool = False) -> dict[str, Any]:
    """`separate_worker`: the scale-out layout, `serve --no-worker` plus a `frontdesk worker`."""
    backend = make_backend(kind, "jobs", workdir)
    layout = "serve --no-worker + frontdesk worker" if separate_worker else "serve (worker in-process)"
    log(f"job pickup on {backend.label}, {layout}")
    prepare_instance(backend)
    loop = asyncio.get_running_loop()
    rport = free_port()
    receiver = await loop.create_server(_Receiver, "127.0.0.1", rport)
    _Receiver.arrivals = {}
    result: dict[str, Any] = {"backend": backend.label, "layout": layout}
    worker: Server | None = None
    try:
        if separate_worker:
            worker = Server([str(VENV_BIN / "frontdesk"), "worker"], backend.env(), 0, "worker")
            worker.start_unlistened()
        with frontdesk_server(backend, *(["--no-worker"] if separate_worker else [])) as server:
            api = await sign_in(server.port)
            ws_id = api.workspace_id
            inbox = await api.ok(
                "POST",
                f"/api/v1/workspaces/{ws_id}/inboxes",
                {
                    "name": "jobs",
                    "channel_type": "api",
                    "settings": {"webhook_url": f"http://127.0.0.1:{rport}/hook"},
                },
            )
            conversations = []
            hook = await HttpConn.open(server.port)
            for i in range(cfg["job_conversations"]):
                raw = webhook_request(
                    inbox["webhook_path"], inbox["secrets"]["hmac_secret"], f"j{i}", f"jc{i}"
                )
                _, body = await hook.send(raw)
                conversations.append(orjson.loads(body)["results"][0]["conversation_id"])
            hook.close()
            _, before = await api.call("GET", "/metrics")
            hist_before = _histogram(
                before.decode() if isinstance(before, bytes) else str(before), "frontdesk_job_pickup_seconds"
            )

            rate, count = cfg["job_rate"], cfg["job_count"]
            conns = [await HttpConn.open(server.port) for _ in range(16)]
            sent: dict[int, tuple[float, float]] = {}  # message id -> (scheduled, answered)
            errors = 0

            async def reply(i: int, at: float) -> None:
                nonlocal errors
                conn = conns.pop() if conns else await HttpConn.open(server.port)
                cid = conversations[i % len(conversations)]
                raw = request_bytes(
                    "POST",
                    f"/api/v1/workspaces/{ws_id}/conversations/{cid}/messages",
                    orjson.dumps({"text": f"Thanks, we are on it ({i})."}),
                    {"Authorization": f"Bearer {api.token}"},
                )
                status, body = await conn.send(raw)
                answered = perf()
                conns.append(conn)
                if status != 201:
                    errors += 1
                    return
                sent[orjson.loads(body)["id"]] = (at, answered)

            tasks = []
            t0 = perf() + 0.05
            for i in range(count):
                at = t0 + i / rate
                delay = at - perf()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(reply(i, at)))
            await asyncio.gather(*tasks)
            deadline = perf() + 15
            while perf() < deadline and not all(m in _Receiver.arrivals for m in sent):
                await asyncio.sleep(0.05)
            _, after = await api.call("GET", "/metrics")
            hist_after = _histogram(
                after.decode() if isinstance(after, bytes) else str(after), "frontdesk_job_pickup_seconds"
            )
            api.close()
            for c in conns:
                c.close()
    finally:
        receiver.close()
        if worker is not None:
            worker.stop()
    from_commit = [_Receiver.arrivals[m] - ans for m, (_, ans) in sent.items() if m in _Receiver.arrivals]
    from_send = [_Receiver.arrivals[m] - at for m, (at, _) in sent.items() if m in _Receiver.arrivals]
    hist = {k: hist_after.get(k, 0.0) - hist_before.get(k, 0.0) for k in hist_after}
    n = hist.get("count", 0.0)
    result.update(
        rate=rate,
        count=count,
        delivered=len(from_commit),
        errors=errors,
        commit_p50=pct(from_commit, 50),
        commit_p99=pct(from_commit, 99),
        commit_max=max(from_commit) if from_commit else float("nan"),
        send_p50=pct(from_send, 50),
        send_p99=pct(from_send, 99),
        metric_count=n,
        metric_le_100ms=(hist.get("0.1", 0.0) / n) if n else float("nan"),
        metric_le_25ms=(hist.get("0.025", 0.0) / n) if n else float("nan"),
    )
    log(
        f"  pickup (commit -> receiver) p50 {result['commit_p50'] * 1000:.1f} ms "
        f"p99 {result['commit_p99'] * 1000:.1f} ms; delivered {len(from_commit)}/{count}"
    )
    # Floor: one INSERT + publish, answered, one request at a time (the same stack's round trip).
    floor_backend = make_backend(kind, "floor", workdir)
    with floor_server(floor_backend) as floor:
        conn = await HttpConn.open(floor.port)
        reqs = [request_bytes("POST", "/floor/1", orjson.dumps({"source_id": f"f{i}"})) for i in range(300)]
        result["floor"] = await sequential_latency(conn, reqs)
        conn.close()
    return result
