"""Files a Telegram customer sends: fetched at arrival by the fetch_media job through getFile and
the file address, the largest photo size taken; a file over Telegram's 20 MB download limit is a
note on its message, never a failed download; a file Telegram no longer has leaves the message
intact with the file marked failed."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.channels.telegram.conftest import make_telegram_inbox
from tests.conftest import Server
from tests.factories import Agent, make_admin
from tests.fakes import FakeProvider
from tests.fakes import telegram as tg

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) * 4
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


async def arrive(server: Server, http: httpx.AsyncClient, msg: dict[str, Any]) -> tuple[Agent, int, int]:
    admin, ws = await make_admin(server, http)
    inbox = await make_telegram_inbox(http, admin, ws)
    r = await inbox.post(http, tg.update("message", msg))
    assert r.status_code == 200, r.text
    return admin, ws, r.json()["results"][0]["conversation_id"]


async def settled(http: httpx.AsyncClient, admin: Agent, ws: int, conv: int, done: Any) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            r = await http.get(
                f"/api/v1/workspaces/{ws}/conversations/{conv}/messages", headers=admin.headers
            )
            [found] = r.json()["messages"]
            if done(found):
                return dict(found)
            await asyncio.sleep(0.05)


def serve(bot_api: FakeProvider, file_id: str, file_path: str, content: bytes) -> None:
    bot_api.answer(
        tg.path("getFile"),
        tg.ok({"file_id": file_id, "file_unique_id": "u", "file_size": len(content), "file_path": file_path}),
    )
    bot_api.serve_media(tg.file_path(file_path), content, "application/octet-stream")


async def test_a_photo_is_fetched_at_arrival_in_its_largest_size(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    serve(bot_api, "AgACphoto", "photos/file_7.jpg", JPEG)
    msg = tg.message(None, photo=tg.photo_sizes("AgACphoto"), caption="the broken mug")
    admin, ws, conv = await arrive(server, http, msg)
    found = await settled(
        http, admin, ws, conv, lambda m: m["data"].get("attachments") and "pending_media" not in m["data"]
    )
    assert found["text"] == "the broken mug"
    [file] = found["data"].get("attachments", [])
    assert file["content_type"] == "image/jpeg" and file["size"] == len(JPEG)
    [asked] = bot_api.calls_to(tg.path("getFile"))
    assert asked.json() == {"file_id": "AgACphoto"}  # the largest of the three sizes
    assert len(bot_api.calls_to(tg.file_path("photos/file_7.jpg"))) == 1


async def test_a_document_keeps_its_name(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    serve(bot_api, "BQACdoc", "documents/file_3.pdf", PDF)
    admin, ws, conv = await arrive(server, http, tg.message(None, document=tg.document(size=len(PDF))))
    found = await settled(
        http, admin, ws, conv, lambda m: m["data"].get("attachments") and "pending_media" not in m["data"]
    )
    [file] = found["data"].get("attachments", [])
    assert file["file_name"] == "invoice.pdf" and file["content_type"] == "application/pdf"


async def test_a_file_over_the_download_limit_is_a_note_not_a_fetch(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    big = tg.document("BQACbig", "catalogue.pdf", size=21 * 1_048_576)
    admin, ws, conv = await arrive(server, http, tg.message(None, document=big, caption="see this"))
    found = await settled(http, admin, ws, conv, lambda m: True)
    assert found["text"] == "see this" and found["data"].get("attachments", []) == []
    assert "pending_media" not in found["data"]
    assert found["annotations"] == [
        {
            "code": "attachment_too_large",
            "filename": "catalogue.pdf",
            "size": 21 * 1_048_576,
            "limit": 20 * 1_048_576,
        }
    ]
    await asyncio.sleep(0.2)
    assert bot_api.calls_to(tg.path("getFile")) == []


async def test_a_file_telegram_no_longer_has_is_marked_failed(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    bot_api.answer(tg.path("getFile"), tg.error(400, "Bad Request: invalid file_id"))
    admin, ws, conv = await arrive(
        server, http, tg.message(None, voice={"file_id": "AwAD", "file_unique_id": "v", "duration": 3})
    )
    found = await settled(
        http,
        admin,
        ws,
        conv,
        lambda m: any(e.get("status") == "failed" for e in m["data"].get("pending_media", [])),
    )
    [entry] = found["data"]["pending_media"]
    assert "invalid file_id" in entry["detail"] and tg.TOKEN not in entry["detail"]
