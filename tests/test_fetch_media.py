"""Files an inbound message only links to (API channel "url" attachments): the durable
fetch_media job downloads each from a fake provider on 127.0.0.1 right after the message is
stored, attaches it, or marks it failed with the reason; the message is never lost."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from frontdesk.actions.media import MEDIA_MAX_ATTEMPTS
from frontdesk.store import tables as t
from tests.conftest import Server
from tests.factories import Agent, make_admin, make_inbox, post_inbound
from tests.fakes import Answer, FakeProvider, rejected, unavailable

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2


def linked(source_id: str, *files: tuple[str, str, str], text: str = "see attached") -> dict[str, Any]:
    return {
        "type": "message",
        "source_id": source_id,
        "text": text,
        "contact": {"source_id": "c-1", "name": "Ann"},
        "attachments": [{"file_name": n, "content_type": ct, "url": url} for n, ct, url in files],
    }


async def message_when(
    http: httpx.AsyncClient, admin: Agent, ws: int, conv: int, settled: Any, timeout: float = 10
) -> dict[str, Any]:
    """The conversation's one message once `settled(data)` holds."""
    async with asyncio.timeout(timeout):
        while True:
            r = await http.get(
                f"/api/v1/workspaces/{ws}/conversations/{conv}/messages", headers=admin.headers
            )
            [message] = r.json()["messages"]
            if settled(message["data"]):
                return dict(message)
            await asyncio.sleep(0.05)


def no_pending(data: dict[str, Any]) -> bool:
    return "pending_media" not in data


def failed(data: dict[str, Any]) -> bool:
    return any(e.get("status") == "failed" for e in data.get("pending_media", []))


async def arrive(server: Server, http: httpx.AsyncClient, payload: dict[str, Any]) -> tuple[Agent, int, int]:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    r = await post_inbound(http, inbox, payload)
    assert r.status_code == 200, r.text
    return admin, ws, r.json()["results"][0]["conversation_id"]


def leftovers(server: Server) -> list[Path]:
    tmp = server.services.settings.attachments_dir / "tmp"
    return list(tmp.iterdir()) if tmp.exists() else []


async def test_a_linked_file_is_fetched_and_attached(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    url = fake_provider.serve_media("/media/1", PNG, "image/png")
    admin, ws, conv = await arrive(server, http, linked("m-1", ("photo.png", "image/png", url)))
    message = await message_when(http, admin, ws, conv, lambda d: d.get("attachments"))
    [attachment] = message["data"]["attachments"]
    assert (attachment["file_name"], attachment["content_type"], attachment["size"]) == (
        "photo.png",
        "image/png",
        len(PNG),
    )
    assert "pending_media" not in message["data"] and message["text"] == "see attached"
    assert (await http.get(attachment["url"])).content == PNG
    assert len(fake_provider.calls_to("/media/1")) == 1
    async with server.services.db.read() as conn:
        rows = (await conn.execute(sa.select(t.attachments.c.file_name))).scalars().all()
        jobs = (await conn.execute(sa.select(sa.func.count()).select_from(t.jobs))).scalar_one()
    assert rows == ["photo.png"] and jobs == 0
    assert leftovers(server) == []


async def test_a_message_of_linked_files_alone_is_previewed_by_their_names(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    url = fake_provider.serve_media("/media/p", PNG, "image/png")
    admin, ws, conv = await arrive(server, http, linked("m-p", ("plan.png", "image/png", url), text=""))
    r = await http.get(f"/api/v1/workspaces/{ws}/conversations/{conv}", headers=admin.headers)
    assert r.json()["last_message_preview"] == "plan.png", r.text


async def test_files_already_fetched_keep_their_place_when_others_arrive(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    a = fake_provider.serve_media("/a", PNG, "image/png")
    b = fake_provider.serve_media("/b", b"hello", "text/plain")
    gone = fake_provider.serve_media("/gone", PNG, "image/png", expires_in=0)
    payload = linked(
        "m-1", ("a.png", "image/png", a), ("gone.png", "image/png", gone), ("b.txt", "text/plain", b)
    )
    admin, ws, conv = await arrive(server, http, payload)

    def settled(data: dict[str, Any]) -> bool:
        return len(data.get("attachments", [])) == 2 and failed(data)

    message = await message_when(http, admin, ws, conv, settled)
    assert sorted(a["file_name"] for a in message["data"]["attachments"]) == ["a.png", "b.txt"]
    [entry] = message["data"]["pending_media"]
    assert (entry["index"], entry["file_name"], entry["reason"]) == (1, "gone.png", "attachment_missing")


@pytest.mark.parametrize("server", [{"max_attachment_bytes": 1000}], indirect=True)
async def test_a_file_over_the_limit_is_marked_failed_and_the_message_kept(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    url = fake_provider.serve_media("/big", PNG * 4, "image/png")
    admin, ws, conv = await arrive(server, http, linked("m-1", ("big.png", "image/png", url)))
    message = await message_when(http, admin, ws, conv, failed)
    [entry] = message["data"]["pending_media"]
    assert (entry["status"], entry["reason"]) == ("failed", "too_large")
    assert "1000 bytes" in entry["detail"] and message["text"] == "see attached"
    assert "attachments" not in message["data"] and leftovers(server) == []
    assert len(fake_provider.calls_to("/big")) == 1  # a lasting failure is not retried


async def test_an_expired_address_is_marked_failed(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    url = fake_provider.serve_media("/old", PNG, "image/png", expired_status=410)
    fake_provider.expire("/old")
    admin, ws, conv = await arrive(server, http, linked("m-1", ("old.png", "image/png", url)))
    message = await message_when(http, admin, ws, conv, failed)
    [entry] = message["data"]["pending_media"]
    assert entry["reason"] == "attachment_missing" and "410" in entry["detail"]
    assert entry["reference"] == url


async def test_a_provider_outage_is_retried_until_the_file_comes(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    url = fake_provider.serve_media("/flaky", PNG, "image/png")
    fake_provider.script("/flaky", unavailable(503))
    admin, ws, conv = await arrive(server, http, linked("m-1", ("flaky.png", "image/png", url)))
    message = await message_when(http, admin, ws, conv, lambda d: d.get("attachments"))
    assert no_pending(message["data"])
    first, second = fake_provider.calls_to("/flaky")
    assert second.time > first.time


async def test_an_outage_that_outlasts_the_retries_marks_the_file_failed(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    fake_provider.answer("/down", unavailable(502))
    admin, ws, conv = await arrive(
        server, http, linked("m-1", ("x.png", "image/png", fake_provider.url_for("/down")))
    )
    message = await message_when(http, admin, ws, conv, failed)
    [entry] = message["data"]["pending_media"]
    assert entry["reason"] == "provider_unavailable"
    assert len(fake_provider.calls_to("/down")) == MEDIA_MAX_ATTEMPTS  # its own budget, not the worker's


async def test_a_refusal_or_a_redirect_off_http_is_a_lasting_failure(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    fake_provider.answer("/denied", rejected(403, 10, "Permission denied"))
    fake_provider.answer("/away", Answer(302, b"", {"location": "file:///etc/passwd"}))
    payload = linked(
        "m-1",
        ("a.png", "image/png", fake_provider.url_for("/denied")),
        ("b.png", "image/png", fake_provider.url_for("/away")),
    )
    admin, ws, conv = await arrive(server, http, payload)
    message = await message_when(
        http, admin, ws, conv, lambda d: sum(e.get("status") == "failed" for e in d["pending_media"]) == 2
    )
    denied, away = message["data"]["pending_media"]
    assert denied["reason"] == "auth_failed" and "Permission denied" in denied["detail"]
    assert away["reason"] == "provider_rejected" and "not http or https" in away["detail"]
    assert len(fake_provider.calls_to("/denied")) == 1


async def test_content_that_is_not_what_it_claims_is_kept_as_a_download(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    url = fake_provider.serve_media("/fake.png", b"<script>alert(1)</script>", "image/png")
    admin, ws, conv = await arrive(server, http, linked("m-1", ("fake.png", "image/png", url)))
    message = await message_when(http, admin, ws, conv, lambda d: d.get("attachments"))
    assert message["data"]["attachments"][0]["content_type"] == "application/octet-stream"


async def test_a_bad_file_address_is_refused_and_nothing_stored(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    for url in ("ftp://example.com/a.png", "/relative.png"):
        r = await post_inbound(http, inbox, linked("m-1", ("a.png", "image/png", url)))
        assert r.status_code == 422, r.text
        assert "http or https" in r.json()["error"]["message"]
        assert r.json()["error"]["field"] == "attachments.0"
    both = linked("m-1", ("a.png", "image/png", "https://example.com/a.png"))
    both["attachments"][0]["data"] = "AAAA"
    r = await post_inbound(http, inbox, both)
    assert r.status_code == 422 and "either data or url" in r.json()["error"]["message"]
    async with server.services.db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(t.messages))).scalar_one() == 0
        assert (await conn.execute(sa.select(sa.func.count()).select_from(t.jobs))).scalar_one() == 0
