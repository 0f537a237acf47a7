"""Files with replies and notes: type and size limits, storage, download, delivery links."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from frontdesk.store import tables as t
from tests.conftest import Server
from tests.factories import make_admin, make_inbox, post_inbound, receive
from tests.receiver import Receiver

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def stored_files(server: Server) -> list[Path]:
    root = server.services.settings.attachments_dir
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_reply_with_a_file_is_stored_delivered_and_downloadable(
    server: Server, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws, webhook_url=receiver.url)
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    r = await http.post(
        f"/api/v1/workspaces/{ws}/conversations/{conv}/attachments",
        headers=admin.headers,
        files={"file": ("../../etc/screen shot.png", PNG, "image/png")},
        data={"text": "Here"},
    )
    assert r.status_code == 201, r.text
    [attachment] = r.json()["data"]["attachments"]
    assert attachment["file_name"] == "screen shot.png" and attachment["size"] == len(PNG)
    download = await http.get(attachment["url"])
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"
    await asyncio.wait_for(receiver.arrived.wait(), 5)
    [sent] = receiver.deliveries[0].json["message"]["attachments"]
    assert sent["url"].endswith(attachment["url"]) and sent["url"].startswith("http")


async def test_refused_files_leave_nothing_behind(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    url = f"/api/v1/workspaces/{ws}/conversations/{conv}/attachments"
    cases = [
        ("page.html", b"<script>alert(1)</script>", "text/html", "text/html cannot be attached"),
        ("fake.png", b"<script>alert(1)</script>", "image/png", "not image/png"),
        ("empty.txt", b"", "text/plain", "empty"),
    ]
    for name, content, ctype, expected in cases:
        r = await http.post(url, headers=admin.headers, files={"file": (name, content, ctype)})
        assert r.status_code == 422, r.text
        assert expected in r.json()["error"]["message"]
    async with server.services.db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(t.attachments))).scalar_one() == 0
        outgoing = (
            await conn.execute(
                sa.select(sa.func.count()).select_from(t.messages).where(t.messages.c.kind == "outgoing")
            )
        ).scalar_one()
    assert outgoing == 0
    assert stored_files(server) == []


@pytest.mark.parametrize("server", [{"max_attachment_bytes": 1000}], indirect=True)
async def test_oversize_file_is_413(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    r = await http.post(
        f"/api/v1/workspaces/{ws}/conversations/{conv}/attachments",
        headers=admin.headers,
        files={"file": ("big.png", PNG + b"\x00" * 2000, "image/png")},
    )
    assert r.status_code == 413, r.text
    assert stored_files(server) == []


async def test_file_urls_cannot_escape_the_folder(server: Server, http: httpx.AsyncClient) -> None:
    for path in ("/files/2026/11/" + "0" * 32, "/files/../../etc/passwd", "/files/2026/11/..%2F..%2Fx"):
        assert (await http.get(path)).status_code == 404, path


def with_files(source_id: str, *files: tuple[str, str, bytes], text: str = "") -> dict[str, object]:
    return {
        "type": "message",
        "source_id": source_id,
        "text": text,
        "contact": {"source_id": "c-1"},
        "attachments": [
            {"file_name": n, "content_type": ct, "data": base64.b64encode(data).decode()}
            for n, ct, data in files
        ],
    }


async def test_inbound_files_are_stored_once_and_downloadable(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    payload = with_files("m-1", ("photo.png", "image/png", PNG))
    r = await post_inbound(http, inbox, payload)
    assert r.status_code == 200, r.text
    conv = r.json()["results"][0]["conversation_id"]
    again = await post_inbound(http, inbox, payload)  # the provider retries
    assert again.json()["results"][0]["duplicate"] is True
    assert len(stored_files(server)) == 1
    thread = (
        await http.get(f"/api/v1/workspaces/{ws}/conversations/{conv}/messages", headers=admin.headers)
    ).json()
    [message] = thread["messages"]
    [attachment] = message["data"]["attachments"]
    assert (attachment["file_name"], attachment["size"]) == ("photo.png", len(PNG))
    assert (await http.get(attachment["url"])).content == PNG
    listed = (await http.get(f"/api/v1/workspaces/{ws}/conversations/{conv}", headers=admin.headers)).json()
    assert listed["last_message_preview"] == "photo.png"


async def test_bad_inbound_files_are_refused_and_leave_nothing(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    bad_base64 = with_files("m-1", ("a.png", "image/png", PNG))
    bad_base64["attachments"][0]["data"] = "not base64!"  # type: ignore[index]
    cases = [
        (bad_base64, "attachments.0.data"),
        (
            with_files("m-2", ("ok.png", "image/png", PNG), ("page.html", "text/html", b"<b>x</b>")),
            "attachments.1",
        ),
        (with_files("m-3", ("fake.png", "image/png", b"<script>")), "attachments.0"),
        (with_files("m-4"), None),  # neither text nor files
    ]
    for payload, field in cases:
        r = await post_inbound(http, inbox, payload)
        assert r.status_code == 422, r.text
        if field:
            assert r.json()["error"]["field"] == field, r.json()
    assert stored_files(server) == []
    async with server.services.db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(t.messages))).scalar_one() == 0
