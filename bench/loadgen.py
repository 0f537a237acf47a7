"""Load generation: closed-loop throughput and open-loop (fixed-rate) latency to a websocket.

The client is a lean asyncio HTTP/1.1 keep-alive client on uvloop (common.HttpConn); requests are
built (and signed) before the clock starts, so the generator spends its time on sockets only.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from common import HttpConn, pct
from websockets.asyncio.client import connect as ws_connect

perf = time.perf_counter


async def closed_loop(
    port: int, requests: Sequence[bytes], *, connections: int, duration: float, warmup: float
) -> dict[str, Any]:
    """`connections` clients each send the next request as soon as the previous one is answered.

    Requests are taken in order from `requests`; the run stops at the time limit or when they are
    used up. Only answers inside the measured window (after the warm-up) count.
    """
    conns = [await HttpConn.open(port) for _ in range(connections)]
    index = 0
    t_start = perf()
    t_measure = t_start + warmup
    t_end = t_measure + duration
    counted = 0
    errors = 0
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    first_error: list[str] = []

    async def client(conn: HttpConn) -> None:
        nonlocal index, counted, errors
        while True:
            now = perf()
            if now >= t_end or index >= len(requests):
                return
            raw = requests[index]
            index += 1
            sent = perf()
            try:
                status, body = await conn.send(raw)
            except ConnectionError:
                errors += 1
                return
            done = perf()
            if sent >= t_measure and done <= t_end:
                statuses[status] = statuses.get(status, 0) + 1
                if 200 <= status < 300:
                    counted += 1
                    latencies.append(done - sent)
                else:
                    errors += 1
                    if not first_error:
                        first_error.append(f"{status} {body[:200]!r}")

    await asyncio.gather(*(client(c) for c in conns))
    elapsed = min(perf(), t_end) - t_measure
    for c in conns:
        c.close()
    return {
        "rate": counted / elapsed if elapsed > 0 else 0.0,
        "ok": counted,
        "errors": errors,
        "statuses": statuses,
        "first_error": first_error[0] if first_error else "",
        "seconds": elapsed,
        "connections": connections,
        "latency_p50": pct(latencies, 50),
        "latency_p99": pct(latencies, 99),
        "exhausted": index >= len(requests),
    }


async def open_loop(  # noqa: C901 (the measured loop is kept in one place on purpose)
    port: int,
    ws_path: str,
    ws_headers: dict[str, str],
    make_request: Callable[[int], tuple[str, bytes]],
    *,
    rate: float,
    count: int,
    frame_type: str,
    pool: int = 64,
    drain_timeout: float = 10.0,
) -> dict[str, Any]:
    """Send `count` requests at fixed times (i / rate), whatever the answers do; time each one
    from its *scheduled* send time to the arrival of its `frame_type` frame on a websocket.

    Measuring from the scheduled time (not the actual one) keeps coordinated omission out: if the
    client or the server falls behind, the delay is counted.
    """
    prepared = [make_request(i) for i in range(count)]
    scheduled: dict[str, float] = {}
    socket_latency: list[float] = []
    ack_latency: list[float] = []
    errors = 0
    idle: list[HttpConn] = [await HttpConn.open(port) for _ in range(pool)]
    opened_extra = 0
    all_seen = asyncio.Event()
    seen = 0

    async with ws_connect(f"ws://127.0.0.1:{port}{ws_path}", additional_headers=ws_headers) as ws:
        while True:  # wait for the ready frame
            frame = orjson.loads(await ws.recv())
            if frame.get("type") == "ready":
                break

        async def reader() -> None:
            nonlocal seen
            async for raw in ws:
                arrived = perf()
                frame = orjson.loads(raw)
                if frame.get("type") != frame_type:
                    continue
                sid = frame["data"]["message"].get("source_id")
                at = scheduled.get(sid) if sid is not None else None
                if at is None:
                    continue
                socket_latency.append(arrived - at)
                seen += 1
                if seen >= count:
                    all_seen.set()

        async def send(at: float, raw: bytes) -> None:
            nonlocal errors, opened_extra
            while idle and idle[-1].proto.closed:
                # The server closes a keep-alive connection left idle past its timeout (uvicorn:
                # 5 s); one at the bottom of this stack can sit that long between bursts.
                idle.pop()
            if idle:
                conn = idle.pop()
            else:
                conn = await HttpConn.open(port)
                opened_extra += 1
            try:
                status, _ = await conn.send(raw)
            except ConnectionError:
                errors += 1
                return
            ack_latency.append(perf() - at)
            if status >= 300:
                errors += 1
            idle.append(conn)

        read_task = asyncio.create_task(reader())
        tasks: list[asyncio.Task[None]] = []
        t0 = perf() + 0.05
        late = 0.0
        i = 0
        while i < count:
            now = perf()
            target = t0 + i / rate
            if target > now:
                await asyncio.sleep(target - now)
                continue
            # Everything due now goes out now, each stamped with its own scheduled time.
            while i < count and t0 + i / rate <= now:
                at = t0 + i / rate
                late = max(late, now - at)
                sid, raw = prepared[i]
                scheduled[sid] = at
                tasks.append(asyncio.create_task(send(at, raw)))
                i += 1
        send_seconds = perf() - t0
        await asyncio.gather(*tasks)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_seen.wait(), drain_timeout)
        read_task.cancel()
        # A socket the server closed (a subscriber too slow for its queue) explains missing frames.
        closed = None if ws.close_code is None else f"{ws.close_code} {ws.close_reason or ''}".strip()
    for c in idle:
        c.close()
    return {
        "rate": rate,
        "sent": count,
        "achieved_rate": count / send_seconds if send_seconds > 0 else 0.0,
        "frames": len(socket_latency),
        "missing": count - len(socket_latency),
        "socket_closed": closed,
        "errors": errors,
        "socket_p50": pct(socket_latency, 50),
        "socket_p99": pct(socket_latency, 99),
        "socket_max": max(socket_latency) if socket_latency else float("nan"),
        "ack_p50": pct(ack_latency, 50),
        "ack_p99": pct(ack_latency, 99),
        "max_sender_lateness": late,
        "extra_connections": opened_extra,
    }


async def sequential_latency(
    conn: HttpConn, requests: Sequence[bytes], *, warmup: int = 20, max_seconds: float = 60.0
) -> dict[str, Any]:
    """One request at a time over one keep-alive connection: per-request latency, no queueing."""
    for raw in requests[:warmup]:
        await conn.send(raw)
    latencies: list[float] = []
    errors = 0
    deadline = perf() + max_seconds
    first_error = ""
    for raw in requests:
        t = perf()
        status, body = await conn.send(raw)
        latencies.append(perf() - t)
        if status >= 300:
            errors += 1
            first_error = first_error or f"{status} {body[:200]!r}"
        if perf() > deadline:
            break
    return {
        "n": len(latencies),
        "p50": pct(latencies, 50),
        "p99": pct(latencies, 99),
        "max": max(latencies) if latencies else float("nan"),
        "errors": errors,
        "first_error": first_error,
    }
