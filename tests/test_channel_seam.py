"""A channel is one package: the sample channel in tests/channel_sample/ is found through the
"frontdesk.channels" entry point (no registry line, no change to generic code) and gets the
webhook address with its handshake, its own route, background service and job kind, the
ingest path and the delivery job from the generic code."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from frontdesk.channels.registry import adapters
from frontdesk.jobs.queue import enqueue
from tests.channel_sample.adapter import JOBS_RUN, SENT
from tests.conftest import make_settings, serving
from tests.factories import make_admin

ENTRY_POINTS = "[frontdesk.channels]\nsample = tests.channel_sample.adapter:SampleAdapter\n"


@pytest.fixture
def sample_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The sample package "installed": a dist-info with its entry point on sys.path."""
    dist = tmp_path / "site" / "frontdesk_sample-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: frontdesk-sample\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    adapters.cache_clear()
    yield
    adapters.cache_clear()


async def test_a_channel_package_plugs_in_whole(
    sample_installed: None, database_url: str, tmp_path: Path
) -> None:
    assert "sample" in adapters()
    async with (
        serving(make_settings(database_url, tmp_path / "data")) as server,
        httpx.AsyncClient(base_url=server.url, timeout=10) as http,
    ):
        assert server.services.running_services.get("sample.service") == "running"
        assert (await http.get("/sample/ping")).json() == {"channel": "sample"}
        admin, ws = await make_admin(server, http)
        types = await http.get("/api/v1/channel-types", headers=admin.headers)
        assert "sample" in {t["type"] for t in types.json()}, types.text
        r = await http.post(
            f"/api/v1/workspaces/{ws}/inboxes",
            headers=admin.headers,
            json={"name": "Sample", "channel_type": "sample", "settings": {"greeting": "hi"}},
        )
        assert r.status_code == 201, r.text
        path = r.json()["webhook_path"]

        good = await http.get(path, params={"token": "sample-token", "challenge": "c-123"})
        assert (good.status_code, good.text) == (200, "c-123")
        assert (await http.get(path, params={"token": "nope", "challenge": "x"})).status_code == 401

        body = orjson.dumps(
            {"events": [{"kind": "text", "id": "m-1", "from": "u-1", "text": "Merhaba"}, {"kind": "poke"}]}
        )
        assert (await http.post(path, content=body, headers={"x-sample-token": "bad"})).status_code == 401
        answers = []
        for _ in range(2):  # a provider retry stores nothing twice
            hook = await http.post(path, content=body, headers={"x-sample-token": "sample-token"})
            assert hook.status_code == 200, hook.text
            answers.append(hook.json()["results"])
        assert [[r.get("duplicate", r.get("outcome")) for r in a] for a in answers] == [
            [False, "unknown"],
            [True, "unknown"],
        ]
        metrics = (await http.get("/metrics")).text
        assert 'frontdesk_ingest_total{channel="sample",outcome="unknown"}' in metrics
        conversations = await http.get(f"/api/v1/workspaces/{ws}/conversations", headers=admin.headers)
        [conversation] = conversations.json()["conversations"]
        base = f"/api/v1/workspaces/{ws}/conversations/{conversation['id']}/messages"
        [incoming] = (await http.get(base, headers=admin.headers)).json()["messages"]
        assert incoming["text"] == "Merhaba"

        reply = await http.post(base, headers=admin.headers, json={"text": "Nasıl yardımcı olabilirim?"})
        assert reply.status_code == 201, reply.text
        for _ in range(200):
            if SENT:
                break
            await asyncio.sleep(0.02)
        assert [o.text for o in SENT] == ["Nasıl yardımcı olabilirim?"]
        assert SENT[0].recipient_source_id == "u-1"

        async with server.services.db.write() as tx:
            await enqueue(tx, "sample_job", {"n": 1})
        for _ in range(200):
            if JOBS_RUN:
                break
            await asyncio.sleep(0.02)
        assert JOBS_RUN == [{"n": 1}]
    assert "sample.service" not in server.services.running_services
