"""Ingest: messages/s through the API channel webhook, then inbound → agent-socket latency
open-loop at half that rate; the same two measurements on the floor app. Then, on the same server
process, the closed-loop rate of the LINE, WeChat and Telegram webhooks beside the API channel's
(channels.py)."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

import orjson
from common import (
    Backend,
    floor_server,
    frontdesk_server,
    log,
    make_backend,
    prepare_instance,
    request_bytes,
    sign_in,
)
from loadgen import closed_loop, open_loop

import channels

TEXT = "Hello, my parcel has not arrived yet and the tracking page shows no update since Monday."


def _body(sid: str, contact: str) -> bytes:
    return orjson.dumps(
        {"type": "message", "source_id": sid, "contact": {"source_id": contact, "name": "Ann"}, "text": TEXT}
    )


def webhook_request(path: str, secret: str, sid: str, contact: str) -> bytes:
    body = _body(sid, contact)
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return request_bytes(
        "POST", path, body, {"Content-Type": "application/json", "X-Frontdesk-Signature": signature}
    )


def floor_request(workspace_id: int, sid: str, contact: str) -> bytes:
    return request_bytes("POST", f"/floor/{workspace_id}", _body(sid, contact))


async def _measure(
    label: str,
    port: int,
    make: Any,
    ws_path: str,
    ws_headers: dict[str, str],
    frame_type: str,
    cfg: dict[str, Any],
    rate: float | None,
) -> dict[str, Any]:
    cap = cfg["ingest_max_requests"]
    requests = [make(f"{label}-t{i}", f"c{i % cfg['contacts']}") for i in range(cap)]
    tput = await closed_loop(
        port,
        requests,
        connections=cfg["ingest_connections"],
        duration=cfg["ingest_seconds"],
        warmup=cfg["ingest_warmup"],
    )
    log(f"  {label}: {tput['rate']:.0f} req/s (errors {tput['errors']} {tput['first_error']})")
    lat_rate = rate if rate is not None else max(10.0, tput["rate"] / 2)
    count = int(min(cfg["latency_max_requests"], lat_rate * cfg["latency_seconds"]))

    def one(i: int) -> tuple[str, bytes]:
        sid = f"{label}-l{i}"
        return sid, make(sid, f"c{i % cfg['contacts']}")

    lat = await open_loop(port, ws_path, ws_headers, one, rate=lat_rate, count=count, frame_type=frame_type)
    log(
        f"  {label}: open loop {lat_rate:.0f}/s x {count}: socket p50 {lat['socket_p50'] * 1000:.2f} ms "
        f"p99 {lat['socket_p99'] * 1000:.2f} ms, missing {lat['missing']}, errors {lat['errors']}"
        + (f", socket closed by the server: {lat['socket_closed']}" if lat.get("socket_closed") else "")
    )
    return {"throughput": tput, "latency": lat}


async def run(kind: str, cfg: dict[str, Any], workdir: Path) -> dict[str, Any]:
    backend: Backend = make_backend(kind, "ingest", workdir)
    log(f"ingest on {backend.label}")
    prepare_instance(backend)
    result: dict[str, Any] = {"backend": backend.label}
    with_channels = cfg.get("ingest_channels", True)
    with channels.provider_stub(with_channels) as stub, frontdesk_server(backend, env=stub.env) as server:
        api = await sign_in(server.port)
        inbox = await api.ok(
            "POST",
            f"/api/v1/workspaces/{api.workspace_id}/inboxes",
            {"name": "bench api", "channel_type": "api", "settings": {}},
        )
        path, secret = inbox["webhook_path"], inbox["secrets"]["hmac_secret"]
        # Ceiling of this generator + server pair: GET /healthz touches no database.
        health = await closed_loop(
            server.port,
            [request_bytes("GET", "/healthz")] * cfg["ingest_max_requests"],
            connections=cfg["ingest_connections"],
            duration=min(4.0, cfg["ingest_seconds"]),
            warmup=1.0,
        )
        result["healthz"] = health
        log(f"  GET /healthz (no database): {health['rate']:.0f} req/s")
        result["app"] = await _measure(
            "app",
            server.port,
            lambda sid, contact: webhook_request(path, secret, sid, contact),
            f"/api/v1/workspaces/{api.workspace_id}/stream",
            {"Authorization": f"Bearer {api.token}"},
            "message.created",
            cfg,
            None,
        )
        if with_channels:
            result["channels"] = await channels.measure(server.port, api, stub, cfg)
        api.close()
    rate = result["app"]["latency"]["rate"]
    floor_backend = make_backend(kind, "floor", workdir)
    with floor_server(floor_backend) as floor:
        result["floor"] = await _measure(
            "floor",
            floor.port,
            lambda sid, contact: floor_request(1, sid, contact),
            "/floor/1/stream",
            {},
            "floor",
            cfg,
            rate,
        )
    return result
