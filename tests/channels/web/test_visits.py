"""Website visits (W2): arrival and the 30-minute rule, pages, traffic sources, generated names,
departure and touch, through the real actions on the real database; the pure rules beside them."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import websockets

from frontdesk.actions.web.visitors import VISITOR_NAME
from frontdesk.actions.web.visits import (
    ClientFacts,
    PageView,
    do_record_arrival,
    do_record_departure,
    do_record_page,
    do_touch_visits,
    visit_left_event,
    visit_updated_event,
)
from frontdesk.channels.web.client import clean_language, describe_client
from frontdesk.channels.web.useragent import parse_user_agent
from frontdesk.domain.web.traffic import SourceKind, classify, clean_url
from frontdesk.domain.web.visitor_names import generated_name
from frontdesk.domain.web.visits import is_live, time_on_site_seconds
from frontdesk.store import tables as t
from frontdesk.store.types import utcnow
from tests.conftest import Server, make_settings
from tests.factories import Agent, make_admin, make_member
from tests.geo_fixture import ISTANBUL_IP, write_test_geoip_db
from tests.test_loop import next_event, wait_for_status
from tests.test_query_counts import statements_for

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@dataclass
class Visitor:
    workspace_id: int
    inbox: dict[str, Any]
    contact_id: int
    identity_id: int


async def web_inbox(server: Server, http: httpx.AsyncClient, admin: Agent, ws: int) -> dict[str, Any]:
    r = await http.post(
        f"/api/v1/workspaces/{ws}/inboxes",
        headers=admin.headers,
        json={"name": "Website", "channel_type": "web", "settings": {}},
    )
    assert r.status_code == 201, r.text
    async with server.services.db.read() as conn:
        row = (
            (await conn.execute(sa.select(t.inboxes).where(t.inboxes.c.id == r.json()["id"])))
            .mappings()
            .one()
        )
    return dict(row)


async def new_visitor(
    server: Server, inbox: dict[str, Any], name: str = VISITOR_NAME, email: str | None = None
) -> Visitor:
    """A visitor as the widget's session creates one: a contact and its identity on the inbox.
    Written directly, so these tests do not depend on the widget endpoints."""
    now = utcnow()
    async with server.services.db.write() as tx:
        contact_id = (
            await tx.conn.execute(
                t.contacts.insert()
                .values(
                    workspace_id=inbox["workspace_id"], name=name, email=email, attributes={}, created_at=now
                )
                .returning(t.contacts.c.id)
            )
        ).scalar_one()
        identity_id = (
            await tx.conn.execute(
                t.contact_identities.insert()
                .values(
                    contact_id=contact_id,
                    inbox_id=inbox["id"],
                    source_id=f"anon:{contact_id}",
                    created_at=now,
                )
                .returning(t.contact_identities.c.id)
            )
        ).scalar_one()
    return Visitor(inbox["workspace_id"], inbox, contact_id, identity_id)


async def arrive(
    server: Server, v: Visitor, page: PageView | None, facts: ClientFacts | None = None
) -> dict[str, Any]:
    async with server.services.db.write() as tx:
        return await do_record_arrival(tx, v.inbox, v.contact_id, v.identity_id, page, facts or ClientFacts())


async def visit_row(server: Server, visit_id: int) -> dict[str, Any]:
    async with server.services.db.read() as conn:
        row = (
            (await conn.execute(sa.select(t.web_visits).where(t.web_visits.c.id == visit_id)))
            .mappings()
            .one()
        )
    return dict(row)


async def contact_name(server: Server, contact_id: int) -> str:
    async with server.services.db.read() as conn:
        return str(
            (
                await conn.execute(sa.select(t.contacts.c.name).where(t.contacts.c.id == contact_id))
            ).scalar_one()
        )


async def event_types(server: Server, workspace_id: int) -> list[str]:
    async with server.services.db.read() as conn:
        rows = await conn.execute(
            sa.select(t.events.c.type).where(t.events.c.workspace_id == workspace_id).order_by(t.events.c.seq)
        )
        return list(rows.scalars())


async def setup(server: Server, http: httpx.AsyncClient) -> tuple[Agent, int, dict[str, Any]]:
    admin, ws = await make_admin(server, http)
    return admin, ws, await web_inbox(server, http, admin, ws)


# Arrival, continuation and the 30-minute rule.


async def test_arrival_starts_a_visit_then_continues_it_within_30_minutes(
    server: Server, http: httpx.AsyncClient
) -> None:
    _, ws, inbox = await setup(server, http)
    v = await new_visitor(server, inbox)
    facts = ClientFacts(
        ip="198.51.100.20",
        user_agent=CHROME,
        browser="Chrome 131",
        os="Windows 10",
        device="desktop",
        language="tr-TR",
    )
    landing = PageView(
        "https://shop.example.com/p?utm_source=newsletter&utm_medium=email&utm_campaign=nov",
        "Shoes",
        "https://www.google.com/",
    )
    first = await arrive(server, v, landing, facts)
    assert first["inbox_id"] == inbox["id"] and first["workspace_id"] == ws
    assert first["contact"] == {
        "id": v.contact_id,
        "name": f"Customer {v.contact_id}",
        "email": None,
        "blocked": False,
    }
    assert first["conversation_id"] is None and first["left_at"] is None
    assert (first["source_kind"], first["source"]) == ("campaign", "newsletter")
    assert (first["utm_source"], first["utm_medium"], first["utm_campaign"]) == ("newsletter", "email", "nov")
    assert first["referrer"] == "https://www.google.com/"
    assert first["landing_url"] == first["current_url"] == landing.url
    assert first["current_title"] == "Shoes" and first["page_count"] == 1
    assert [p["url"] for p in first["pages"]] == [landing.url]
    assert (first["ip"], first["browser"], first["os"], first["device"], first["language"]) == (
        "198.51.100.20",
        "Chrome 131",
        "Windows 10",
        "desktop",
        "tr-TR",
    )
    assert first["time_on_site_seconds"] == 0

    # The socket closed (a page load) and opened again on another page.
    async with server.services.db.write() as tx:
        await do_record_departure(tx, first["id"])
    assert (await visit_row(server, first["id"]))["left_at"] is not None
    second = await arrive(server, v, PageView("https://shop.example.com/cart", "Cart"), facts)
    assert second["id"] == first["id"] and second["left_at"] is None
    assert second["page_count"] == 2 and second["current_url"] == "https://shop.example.com/cart"
    # The landing page and source stay those of the visit's start.
    assert second["landing_url"] == landing.url and second["source_kind"] == "campaign"
    # Reloading the same page adds nothing.
    again = await arrive(server, v, PageView("https://shop.example.com/cart", "Cart"), facts)
    assert again["page_count"] == 2 and len(again["pages"]) == 2

    # 31 idle minutes later a new visit starts.
    async with server.services.db.write() as tx:
        await tx.conn.execute(
            t.web_visits.update()
            .where(t.web_visits.c.id == first["id"])
            .values(last_seen_at=utcnow() - timedelta(minutes=31), left_at=utcnow() - timedelta(minutes=31))
        )
    third = await arrive(server, v, PageView("https://shop.example.com/", None, "https://t.co/abc"), facts)
    assert third["id"] != first["id"]
    assert (third["source_kind"], third["source"], third["page_count"]) == ("social", "X", 1)
    # The name was given once, on the first arrival: one contact.updated.
    assert (await event_types(server, ws)).count("contact.updated") == 1


async def test_a_visit_without_a_page_gets_its_landing_page_and_source_from_the_next(
    server: Server, http: httpx.AsyncClient
) -> None:
    _, _, inbox = await setup(server, http)
    v = await new_visitor(server, inbox)
    bare = await arrive(server, v, None, ClientFacts())
    assert bare["page_count"] == 0 and bare["pages"] == [] and bare["source_kind"] == "direct"
    # A later call with the browser's headers fills in what the first lacked, and only that.
    facts = ClientFacts(user_agent=IPHONE, browser="Mobile Safari 17", device="mobile", language="en")
    visit = await arrive(
        server, v, PageView("https://shop.example.com/a", "A", "https://www.bing.com/search?q=x"), facts
    )
    assert visit["id"] == bare["id"]
    assert (visit["landing_url"], visit["source_kind"], visit["source"]) == (
        "https://shop.example.com/a",
        "search",
        "Bing",
    )
    assert (visit["browser"], visit["device"], visit["language"]) == ("Mobile Safari 17", "mobile", "en")
    later = await arrive(server, v, None, ClientFacts(browser="Firefox 1", language="de"))
    assert (later["browser"], later["language"]) == ("Mobile Safari 17", "en")


async def test_pages_keep_the_latest_50_and_count_all(server: Server, http: httpx.AsyncClient) -> None:
    _, _, inbox = await setup(server, http)
    v = await new_visitor(server, inbox)
    visit = await arrive(server, v, PageView("https://shop.example.com/0", "Page 0"))
    for i in range(1, 61):
        async with server.services.db.write() as tx:
            updated = await do_record_page(
                tx, visit["id"], PageView(f"https://shop.example.com/{i}", f"Page {i}")
            )
        assert updated is not None
    assert updated["page_count"] == 61
    assert len(updated["pages"]) == 50
    assert updated["pages"][0]["url"] == "https://shop.example.com/11"
    assert updated["pages"][-1] == {
        "url": "https://shop.example.com/60",
        "title": "Page 60",
        "at": updated["pages"][-1]["at"],
    }
    stored = await visit_row(server, visit["id"])
    assert stored["page_count"] == 61 and len(stored["pages"]) == 50
    assert stored["current_url"] == "https://shop.example.com/60"


async def test_page_input_is_cleaned_and_never_refused(server: Server, http: httpx.AsyncClient) -> None:
    _, _, inbox = await setup(server, http)
    v = await new_visitor(server, inbox)
    visit = await arrive(
        server,
        v,
        PageView("javascript:alert(1)", "x" * 1000, "data:text/html,hi"),
        ClientFacts(user_agent="u" * 2000),
    )
    assert visit["page_count"] == 0 and visit["current_url"] is None and visit["referrer"] is None
    async with server.services.db.write() as tx:
        assert await do_record_page(tx, visit["id"], PageView("file:///etc/passwd")) is None
        assert await do_record_page(tx, 10**9, PageView("https://shop.example.com/")) is None
        long = await do_record_page(
            tx,
            visit["id"],
            PageView("https://shop.example.com/" + "a" * 5000, "  Long\n\ttitle " + "t" * 500),
        )
    assert long is not None
    assert len(long["current_url"]) == 2000
    assert long["current_title"].startswith("Long title") and len(long["current_title"]) == 300
    assert long["landing_url"] == long["current_url"]
    stored = await visit_row(server, visit["id"])
    assert stored["user_agent"] == "u" * 500
    facts = await describe_client(server.services.settings, "not an ip", "u" * 2000, "xx-YY;q=1, en")
    assert facts.ip is None and facts.user_agent is not None and len(facts.user_agent) == 500
    assert facts.language == "xx-YY"


async def test_generated_names(server: Server, http: httpx.AsyncClient, tmp_path: Path) -> None:
    _, ws, inbox = await setup(server, http)
    geo_settings = make_settings(
        str(server.services.settings.database_url),
        tmp_path,
        geoip_db=write_test_geoip_db(tmp_path / "t.mmdb"),
    )
    facts = await describe_client(geo_settings, ISTANBUL_IP, CHROME, "tr-TR,tr;q=0.9")
    assert (facts.country_code, facts.country, facts.city, facts.isp) == (
        "TR",
        "Turkey",
        "Istanbul",
        "Example Telekom",
    )
    in_istanbul = await new_visitor(server, inbox)
    visit = await arrive(server, in_istanbul, PageView("https://shop.example.com/"), facts)
    assert visit["contact"]["name"] == f"Istanbul {in_istanbul.contact_id}"
    assert visit["city"] == "Istanbul" and visit["country_code"] == "TR"
    assert await contact_name(server, in_istanbul.contact_id) == f"Istanbul {in_istanbul.contact_id}"

    nowhere = await new_visitor(server, inbox)
    visit = await arrive(server, nowhere, None, await describe_client(geo_settings, "10.1.2.3", CHROME, None))
    assert visit["contact"]["name"] == f"Customer {nowhere.contact_id}" and visit["city"] is None

    named = await new_visitor(server, inbox, name="Ann", email="ann@example.com")
    visit = await arrive(server, named, None, facts)
    assert visit["contact"] == {
        "id": named.contact_id,
        "name": "Ann",
        "email": "ann@example.com",
        "blocked": False,
    }
    assert await contact_name(server, named.contact_id) == "Ann"
    # The dashboards heard of the two generated names, not of Ann.
    async with server.services.db.read() as conn:
        payloads = (
            (
                await conn.execute(
                    sa.select(t.events.c.payload).where(
                        t.events.c.workspace_id == ws, t.events.c.type == "contact.updated"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert sorted(p["contact"]["name"] for p in payloads) == sorted(
        [f"Istanbul {in_istanbul.contact_id}", f"Customer {nowhere.contact_id}"]
    )
    assert all(p["contact"]["blocked_at"] is None for p in payloads)


async def test_departure_touch_and_events(server: Server, http: httpx.AsyncClient) -> None:
    _, ws, inbox = await setup(server, http)
    a = await arrive(server, await new_visitor(server, inbox), None)
    b = await arrive(server, await new_visitor(server, inbox), None)
    old = utcnow() - timedelta(minutes=5)
    async with server.services.db.write() as tx:
        await tx.conn.execute(t.web_visits.update().values(last_seen_at=old))
    async with server.services.db.write() as tx:
        await do_touch_visits(tx, [a["id"], b["id"], a["id"]])
        await do_touch_visits(tx, [])
    for visit in (a, b):
        assert (await visit_row(server, visit["id"]))["last_seen_at"] > old
    async with server.services.db.write() as tx:
        await do_record_departure(tx, a["id"])
    assert (await visit_row(server, a["id"]))["left_at"] is not None
    assert (await visit_row(server, b["id"]))["left_at"] is None
    updated = visit_updated_event(b)
    assert updated == {
        "seq": None,
        "type": "visitor.updated",
        "workspace_id": ws,
        "inbox_id": inbox["id"],
        "data": {"visit": b},
    }
    assert visit_left_event(ws, inbox["id"], a["id"])["data"] == {"visit_id": a["id"]}


# Geo-IP and user agents through describe_client.


@pytest.mark.parametrize(
    ("ua", "browser", "os", "device"),
    [
        (CHROME, "Chrome 131", "Windows 10", "desktop"),
        (IPHONE, "Mobile Safari 17", "iOS 17.5", "mobile"),
        (IPAD, "Mobile Safari 16", "iOS 16.6", "tablet"),
        (ANDROID_TABLET, "Chrome 120", "Android 13", "tablet"),
        (GOOGLEBOT, "Googlebot 2", None, "bot"),
        ("", None, None, None),
        ("garbage", None, None, None),
    ],
)
def test_user_agents(ua: str, browser: str | None, os: str | None, device: str | None) -> None:
    facts = parse_user_agent(ua)
    assert (facts.browser, facts.os, facts.device) == (browser, os, device)


def test_a_huge_user_agent_is_cut_before_parsing() -> None:
    started = time.perf_counter()
    assert parse_user_agent(CHROME + " (x" * 200_000).browser == "Chrome 131"
    assert time.perf_counter() - started < 1.0


# Pure rules.


@pytest.mark.parametrize(
    ("page", "referrer", "kind", "source"),
    [
        (
            "https://shop.example.com/?utm_source=newsletter&utm_medium=email",
            "https://www.google.com/",
            "campaign",
            "newsletter",
        ),
        ("https://shop.example.com/?utm_campaign=black-friday", None, "campaign", None),
        ("https://shop.example.com/", "https://www.google.com.tr/", "search", "Google"),
        ("https://shop.example.com/", "https://www.bing.com/search?q=shoes", "search", "Bing"),
        ("https://shop.example.com/", "https://yandex.ru/search/?text=x", "search", "Yandex"),
        ("https://shop.example.com/", "https://duckduckgo.com/", "search", "DuckDuckGo"),
        ("https://shop.example.com/", "https://search.yahoo.co.jp/", "search", "Yahoo"),
        ("https://shop.example.com/", "https://www.baidu.com/s?wd=x", "search", "Baidu"),
        ("https://shop.example.com/", "https://www.ecosia.org/search", "search", "Ecosia"),
        ("https://shop.example.com/", "https://search.naver.com/", "search", "Naver"),
        ("https://shop.example.com/", "https://www.seznam.cz/", "search", "Seznam"),
        ("https://shop.example.com/", "https://l.facebook.com/l.php?u=x", "social", "Facebook"),
        ("https://shop.example.com/", "https://m.facebook.com/", "social", "Facebook"),
        ("https://shop.example.com/", "https://l.instagram.com/", "social", "Instagram"),
        ("https://shop.example.com/", "https://t.co/xyz", "social", "X"),
        ("https://shop.example.com/", "https://x.com/someone", "social", "X"),
        ("https://shop.example.com/", "https://www.linkedin.com/feed/", "social", "LinkedIn"),
        ("https://shop.example.com/", "https://www.youtube.com/watch?v=1", "social", "YouTube"),
        ("https://shop.example.com/", "https://old.reddit.com/r/x", "social", "Reddit"),
        ("https://shop.example.com/", "https://www.tiktok.com/", "social", "TikTok"),
        ("https://shop.example.com/", "https://t.me/channel", "social", "Telegram"),
        ("https://shop.example.com/", "https://web.whatsapp.com/", "social", "WhatsApp"),
        ("https://shop.example.com/a", "https://shop.example.com/b", "direct", None),
        ("https://www.shop.example.com/a", "https://shop.example.com:443/b", "direct", None),
        ("https://shop.example.com/", "https://blog.example.org/post", "referral", "blog.example.org"),
        ("https://shop.example.com/", "https://mail.google.com/", "referral", "mail.google.com"),
        ("https://shop.example.com/", None, "direct", None),
        ("https://shop.example.com/", "", "direct", None),
    ],
)
def test_traffic_source(page: str, referrer: str | None, kind: str, source: str | None) -> None:
    found = classify(page, referrer)
    assert (found.kind, found.source) == (SourceKind(kind), source)


def test_utm_values_are_kept_and_cut() -> None:
    found = classify(
        f"https://s.example/?utm_source={'n' * 300}&utm_medium=cpc&utm_medium=x&utm_campaign=%20", None
    )
    assert found.utm_source == "n" * 200 and found.utm_medium == "cpc" and found.utm_campaign is None


def test_only_http_urls_are_kept() -> None:
    assert clean_url("https://a.example/x", 2000) == "https://a.example/x"
    assert clean_url(" HTTP://a.example ", 2000) == "HTTP://a.example"
    for bad in (
        "javascript:alert(1)",
        "data:text/html,x",
        "file:///etc/passwd",
        "//a.example",
        "a.example",
        "http://",
        "http://[::1",
        "",
        None,
    ):
        assert clean_url(bad, 2000) is None, bad
    assert clean_url("https://a.example/" + "x" * 50, 20) == "https://a.example/xx"


def test_generated_name_and_languages() -> None:
    assert generated_name(7, "Istanbul") == "Istanbul 7"
    assert generated_name(7, None) == "Customer 7"
    assert generated_name(7, "  ") == "Customer 7"
    assert clean_language("fa-IR") == "fa-IR"
    assert clean_language("tr-TR,tr;q=0.9,en;q=0.8") == "tr-TR"
    assert clean_language("<script>") is None
    assert clean_language(None) is None


def test_live_and_time_on_site_rules() -> None:
    now = utcnow()
    start = now - timedelta(minutes=6)
    assert is_live(now - timedelta(minutes=3), None, now)
    assert is_live(now, now - timedelta(seconds=10), now)
    assert not is_live(now, now - timedelta(seconds=60), now)
    assert not is_live(now - timedelta(minutes=11), None, now)
    assert time_on_site_seconds(start, now - timedelta(minutes=3), None, now) == 360
    assert time_on_site_seconds(start, now - timedelta(minutes=2), now - timedelta(minutes=2), now) == 240
    # Lost without a goodbye: counted until last seen.
    assert time_on_site_seconds(now - timedelta(minutes=75), now - timedelta(minutes=15), None, now) == 3600


# The dashboard endpoints.


async def set_members(
    http: httpx.AsyncClient, admin: Agent, inbox: dict[str, Any], user_ids: list[int]
) -> None:
    r = await http.put(
        f"/api/v1/workspaces/{inbox['workspace_id']}/inboxes/{inbox['id']}/members",
        headers=admin.headers,
        json={"user_ids": user_ids},
    )
    assert r.status_code == 204, r.text


async def age_visit(
    server: Server, visit_id: int, *, seen_ago: timedelta, left_ago: timedelta | None
) -> None:
    now = utcnow()
    async with server.services.db.write() as tx:
        await tx.conn.execute(
            t.web_visits.update()
            .where(t.web_visits.c.id == visit_id)
            .values(
                started_at=now - timedelta(minutes=20),
                last_seen_at=now - seen_ago,
                left_at=None if left_ago is None else now - left_ago,
            )
        )


async def test_live_visitors_are_those_on_the_site_now_in_inboxes_one_may_see(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws, inbox_a = await setup(server, http)
    inbox_b = await web_inbox(server, http, admin, ws)
    agent = await make_member(server, http, ws)
    await set_members(http, admin, inbox_a, [agent.user_id])
    stranger, other_ws, inbox_c = await setup(server, http)

    async def visit(inbox: dict[str, Any], seen_ago: timedelta, left_ago: timedelta | None) -> int:
        v = await arrive(server, await new_visitor(server, inbox), PageView("https://shop.example.com/"))
        await age_visit(server, v["id"], seen_ago=seen_ago, left_ago=left_ago)
        return int(v["id"])

    here = await visit(inbox_a, timedelta(minutes=3), None)
    page_load = await visit(inbox_a, timedelta(seconds=10), timedelta(seconds=10))
    gone = await visit(inbox_a, timedelta(seconds=60), timedelta(seconds=60))
    lost = await visit(inbox_a, timedelta(minutes=11), None)  # no goodbye, no refresh since
    in_b = await visit(inbox_b, timedelta(minutes=1), None)
    foreign = await visit(inbox_c, timedelta(seconds=1), None)
    url = f"/api/v1/workspaces/{ws}/visitors/live"

    r = await http.get(url, headers=admin.headers)
    assert r.status_code == 200, r.text
    visitors = r.json()["visitors"]
    assert [v["id"] for v in visitors] == [page_load, in_b, here]  # newest activity first
    by_id = {v["id"]: v for v in visitors}
    assert by_id[here]["time_on_site_seconds"] >= 20 * 60 and by_id[here]["left_at"] is None
    assert by_id[page_load]["time_on_site_seconds"] == pytest.approx(20 * 60 - 10, abs=2)
    assert {gone, lost, foreign}.isdisjoint(by_id)
    assert [v["id"] for v in (await http.get(url, headers=agent.headers)).json()["visitors"]] == [
        page_load,
        here,
    ]
    theirs = await http.get(f"/api/v1/workspaces/{other_ws}/visitors/live", headers=stranger.headers)
    assert [v["id"] for v in theirs.json()["visitors"]] == [foreign]
    assert (
        await http.get(f"/api/v1/workspaces/{other_ws}/visitors/live", headers=agent.headers)
    ).status_code == 404
    assert (await http.get(url)).status_code == 401


async def test_live_visitors_query_count_does_not_grow(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws, inbox = await setup(server, http)
    agent = await make_member(server, http, ws)
    await set_members(http, admin, inbox, [agent.user_id])
    url = f"/api/v1/workspaces/{ws}/visitors/live"
    await arrive(server, await new_visitor(server, inbox), PageView("https://shop.example.com/"))
    few = await statements_for(server, http.get(url, headers=agent.headers))
    for i in range(12):
        await arrive(server, await new_visitor(server, inbox), PageView(f"https://shop.example.com/{i}"))
    many = await statements_for(server, http.get(url, headers=agent.headers))
    assert len(few) == len(many) == 3, many  # token, membership, the list
    assert len(await statements_for(server, http.get(url, headers=admin.headers))) == 3


async def test_a_contacts_visits(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws, inbox = await setup(server, http)
    agent = await make_member(server, http, ws)
    v = await new_visitor(server, inbox)
    ids = []
    for i in range(12):
        visit = await arrive(server, v, PageView(f"https://shop.example.com/{i}"))
        ids.append(visit["id"])
        await age_visit(server, visit["id"], seen_ago=timedelta(hours=1), left_ago=timedelta(hours=1))
    assert len(set(ids)) == 12
    url = f"/api/v1/workspaces/{ws}/contacts/{v.contact_id}/visits"
    r = await http.get(url, headers=admin.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["visits_count"] == 12
    assert [x["id"] for x in body["visits"]] == ids[::-1][:10]
    assert body["visits"][0]["current_url"] == "https://shop.example.com/11"
    # An agent sees a contact through a conversation in one of their inboxes; there is none yet.
    assert (await http.get(url, headers=agent.headers)).status_code == 404
    stranger, other_ws = await make_admin(server, http)
    assert (await http.get(url, headers=stranger.headers)).status_code == 404
    foreign = f"/api/v1/workspaces/{other_ws}/contacts/{v.contact_id}/visits"
    assert (await http.get(foreign, headers=stranger.headers)).status_code == 404
    # A contact without visits.
    other = await new_visitor(server, inbox)
    empty = await http.get(
        f"/api/v1/workspaces/{ws}/contacts/{other.contact_id}/visits", headers=admin.headers
    )
    assert empty.json() == {"visits_count": 0, "visits": []}


async def test_an_agent_starts_a_chat_with_a_visitor(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws, inbox = await setup(server, http)
    agent = await make_member(server, http, ws)
    await set_members(http, admin, inbox, [agent.user_id])
    v = await new_visitor(server, inbox)
    visit = await arrive(server, v, PageView("https://shop.example.com/"))
    base = f"/api/v1/workspaces/{ws}"
    url = f"{base}/visitors/{visit['id']}/chat"
    async with websockets.connect(server.ws_url(f"{base}/stream"), additional_headers=agent.headers) as sock:
        assert json.loads(await sock.recv())["type"] == "ready"
        r = await http.post(url, headers=agent.headers, json={"text": "Hello! Can I help you find a size?"})
        assert r.status_code == 201, r.text
        conv = r.json()["conversation_id"]
        created = await next_event(sock, "conversation.created")
        assert created["data"]["conversation"]["id"] == conv
        assert created["data"]["conversation"]["assignee_id"] == agent.user_id
        message = (await next_event(sock, "message.created"))["data"]["message"]
        assert (message["kind"], message["sender_id"], message["text"]) == (
            "outgoing",
            agent.user_id,
            "Hello! Can I help you find a size?",
        )
        updated = await next_event(sock, "visitor.updated")
        assert updated["data"]["visit"]["id"] == visit["id"]
        assert updated["data"]["visit"]["conversation_id"] == conv
    thread = f"{base}/conversations/{conv}/messages"
    await wait_for_status(http, agent.headers, thread, message["id"], "sent")  # queued and delivered
    detail = (await http.get(f"{base}/conversations/{conv}", headers=agent.headers)).json()
    assert detail["contact"]["id"] == v.contact_id and detail["inbox_id"] == inbox["id"]
    # The open conversation is reused; the contact and its visits are now visible to the agent.
    again = await http.post(url, headers=agent.headers, json={"text": "Still there?"})
    assert again.status_code == 201 and again.json()["conversation_id"] == conv
    visits = await http.get(f"{base}/contacts/{v.contact_id}/visits", headers=agent.headers)
    assert visits.status_code == 200 and visits.json()["visits"][0]["conversation_id"] == conv
    # Resolved: a new conversation.
    resolved = await http.patch(
        f"{base}/conversations/{conv}", headers=agent.headers, json={"status": "resolved"}
    )
    assert resolved.status_code == 200, resolved.text
    fresh = await http.post(url, headers=agent.headers, json={"text": "Welcome back"})
    assert fresh.status_code == 201 and fresh.json()["conversation_id"] != conv


async def test_start_chat_refuses_bad_input_and_what_one_may_not_see(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws, inbox = await setup(server, http)
    other_inbox = await web_inbox(server, http, admin, ws)
    agent = await make_member(server, http, ws)
    await set_members(http, admin, inbox, [agent.user_id])
    visit = await arrive(server, await new_visitor(server, inbox), None)
    hidden = await arrive(server, await new_visitor(server, other_inbox), None)
    base = f"/api/v1/workspaces/{ws}/visitors"

    async def conversations() -> int:
        async with server.services.db.read() as conn:
            return int(
                (await conn.execute(sa.select(sa.func.count()).select_from(t.conversations))).scalar_one()
            )

    for body, field in (({"text": "  \n"}, "text"), ({}, "text"), ({"text": "x", "extra": 1}, "extra")):
        r = await http.post(f"{base}/{visit['id']}/chat", headers=agent.headers, json=body)
        assert r.status_code == 422, r.text
        assert field in json.dumps(r.json()["error"]), r.text
    r = await http.post(f"{base}/999999/chat", headers=agent.headers, json={"text": "hi"})
    assert r.status_code == 404 and r.json()["error"]["field"] == "visit_id"
    r = await http.post(f"{base}/{hidden['id']}/chat", headers=agent.headers, json={"text": "hi"})
    assert r.status_code == 404, r.text
    stranger, other_ws = await make_admin(server, http)
    r = await http.post(
        f"/api/v1/workspaces/{other_ws}/visitors/{visit['id']}/chat",
        headers=stranger.headers,
        json={"text": "hi"},
    )
    assert r.status_code == 404, r.text
    # A disabled inbox takes no replies: nothing is opened either.
    off = await http.patch(
        f"/api/v1/workspaces/{ws}/inboxes/{inbox['id']}", headers=admin.headers, json={"is_enabled": False}
    )
    assert off.status_code == 200, off.text
    r = await http.post(f"{base}/{visit['id']}/chat", headers=agent.headers, json={"text": "hi"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "inbox_disabled", r.text
    assert await conversations() == 0


def test_the_visit_schema_mirrors_the_view() -> None:
    """Events and responses share views.visit_view; the OpenAPI schema must describe it."""
    from frontdesk.http.api import schemas
    from frontdesk.store.views import visit_view

    now = utcnow()
    row = dict.fromkeys(t.web_visits.c.keys()) | {
        "id": 1,
        "workspace_id": 1,
        "inbox_id": 1,
        "contact_id": 1,
        "identity_id": 1,
        "started_at": now,
        "last_seen_at": now,
        "contact_name": "A",
        "contact_email": None,
        "contact_blocked_at": None,
        "conversation_id": None,
        "source_kind": "direct",
        "page_count": 0,
        "pages": [],
    }
    view = visit_view(row, now)
    assert set(view) == set(schemas.Visit.model_fields)
    assert set(view["contact"]) == set(schemas.VisitContact.model_fields)
    schemas.Visit.model_validate(view)
