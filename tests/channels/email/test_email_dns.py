"""Your own address (E2): the DNS records shown for an own-address inbox, and Check DNS against a
real DNS server on 127.0.0.1 (tests/channels/email/dns_server.py) that the test fills with right, wrong and
missing records, or that fails or never answers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from frontdesk.channels.email.dns_check import DnsServersError, parse_servers
from frontdesk.domain.email.dns import Lookup, judge, merged_spf, records_for, spf_terms
from frontdesk.domain.enums import Role
from frontdesk.mail.dkim import generate_private_key, public_key
from tests.channels.email.dns_server import DnsServer, dns_server
from tests.channels.email.email_support import MAIL_DOMAIN, make_email_inbox, new_port
from tests.conftest import Server
from tests.factories import make_admin, make_inbox, make_member

DNS_PORT = new_port()
SETTINGS = {"mail_domain": MAIL_DOMAIN, "dns_servers": f"127.0.0.1:{DNS_PORT}"}
with_dns = pytest.mark.parametrize("server", [SETTINGS], indirect=True)
OWN = "help@shop.test"
SPF_INCLUDE = f"_spf.{MAIL_DOMAIN}"
DKIM_NAME = "frontdesk._domainkey.shop.test"


@pytest.fixture
def dns() -> Iterator[DnsServer]:
    with dns_server(DNS_PORT) as server:
        yield server


async def own_inbox(server: Server, http: httpx.AsyncClient) -> tuple[Any, int, str]:
    admin, ws = await make_admin(server, http, workspace="Acme")
    inbox = await make_email_inbox(http, admin, ws, address_mode="own_address", own_address=OWN)
    return admin, ws, f"/api/v1/workspaces/{ws}/inboxes/{inbox['id']}/email-dns"


def publish_right(dns: DnsServer, records: dict[str, dict[str, Any]]) -> None:
    zone = dns.zone
    zone.add_txt("shop.test", "v=spf1 include:_spf.google.com include:_spf.mail.test ~all")
    zone.add_txt("shop.test", "google-site-verification=abc123")  # not SPF: ignored
    zone.add_mx("shop.test", MAIL_DOMAIN)
    zone.add_txt(DKIM_NAME, records["dkim"]["value"])  # longer than 255: split into strings
    zone.add_txt("_dmarc.shop.test", "v=DMARC1; p=quarantine; rua=mailto:d@shop.test")


async def check(http: httpx.AsyncClient, admin: Any, url: str) -> dict[str, Any]:
    r = await http.post(url + "/check", headers=admin.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def by_kind(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["kind"]: r for r in body["records"]}


@with_dns
async def test_the_records_to_add_for_an_own_address(server: Server, http: httpx.AsyncClient) -> None:
    admin, _, url = await own_inbox(server, http)
    r = await http.get(url, headers=admin.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["domain"] == "shop.test" and body["dkim_key_present"] is True
    records = by_kind(body)
    assert list(records) == ["forward", "mx", "spf", "dkim", "dmarc"]
    assert records["forward"] | {"purpose": ""} == {
        "kind": "forward",
        "name": OWN,
        "type": "FORWARD",
        "value": f"support@acme.{MAIL_DOMAIN}",
        "purpose": "",
        "group": "receiving",
        "required": False,
    }
    assert (records["mx"]["name"], records["mx"]["value"], records["mx"]["group"]) == (
        "shop.test",
        MAIL_DOMAIN,
        "receiving",
    )
    assert records["spf"]["value"] == f"v=spf1 include:{SPF_INCLUDE} ~all" and records["spf"]["required"]
    dkim = records["dkim"]
    assert dkim["name"] == DKIM_NAME and dkim["type"] == "TXT" and dkim["required"]
    assert dkim["value"].startswith("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA")
    assert records["dmarc"] == records["dmarc"] | {"name": "_dmarc.shop.test", "value": "v=DMARC1; p=none"}
    assert records["dmarc"]["required"] is False
    # The private key stays secret: only the public one is shown.
    assert "PRIVATE" not in r.text


@with_dns
async def test_check_with_everything_right(server: Server, http: httpx.AsyncClient, dns: DnsServer) -> None:
    admin, _, url = await own_inbox(server, http)
    publish_right(dns, by_kind((await http.get(url, headers=admin.headers)).json()))
    body = await check(http, admin, url)
    statuses = {k: (r["status"], r["code"]) for k, r in by_kind(body).items()}
    assert statuses == {
        "forward": ("manual", "dns_forward_manual"),
        "mx": ("ok", "dns_mx_ok"),
        "spf": ("ok", "dns_spf_ok"),
        "dkim": ("ok", "dns_dkim_ok"),
        "dmarc": ("ok", "dns_dmarc_ok"),
    }
    assert body["sending_ready"] is True
    assert by_kind(body)["spf"]["found"] == ["v=spf1 include:_spf.google.com include:_spf.mail.test ~all"]
    asked = {(name, rdtype) for name, rdtype, _ in dns.zone.questions}
    assert asked == {
        ("shop.test", "TXT"),
        ("shop.test", "MX"),
        (DKIM_NAME, "TXT"),
        ("_dmarc.shop.test", "TXT"),
        ("_spf.google.com", "TXT"),  # the SPF record's other include, for the 10-lookup count
    }


@with_dns
async def test_a_txt_answer_too_big_for_udp_is_fetched_over_tcp(
    server: Server, http: httpx.AsyncClient, dns: DnsServer
) -> None:
    admin, _, url = await own_inbox(server, http)
    publish_right(dns, by_kind((await http.get(url, headers=admin.headers)).json()))
    for n in range(8):  # domains collect verification records: together more than a UDP answer
        dns.zone.add_txt("shop.test", f"site-verification-{n}=" + "x" * 200)
    spf = by_kind(await check(http, admin, url))["spf"]
    assert spf["status"] == "ok"
    assert ("shop.test", "TXT", "udp") in dns.zone.questions
    assert ("shop.test", "TXT", "tcp") in dns.zone.questions  # truncated, then asked again over TCP


@with_dns
async def test_check_with_nothing_published(server: Server, http: httpx.AsyncClient, dns: DnsServer) -> None:
    admin, _, url = await own_inbox(server, http)
    body = await check(http, admin, url)
    records = by_kind(body)
    assert {k: r["status"] for k, r in records.items()} == {
        "forward": "manual",
        "mx": "missing",
        "spf": "missing",
        "dkim": "missing",
        "dmarc": "missing",
    }
    assert records["spf"]["code"] == "dns_spf_missing"
    # No DMARC record is a suggestion left open, not an error.
    assert records["dmarc"]["code"] == "dns_dmarc_suggested" and not records["dmarc"]["required"]
    assert "not required" in records["dmarc"]["detail"]
    assert body["sending_ready"] is False


@with_dns
async def test_check_finds_wrong_records(server: Server, http: httpx.AsyncClient, dns: DnsServer) -> None:
    admin, _, url = await own_inbox(server, http)
    zone = dns.zone
    zone.add_txt("shop.test", "v=spf1 include:_spf.google.com -all")  # our include is missing
    zone.add_mx("shop.test", "aspmx.l.google.com", 1)  # mail goes elsewhere: forwarding is used
    other = public_key(generate_private_key())
    zone.add_txt(DKIM_NAME, ["v=DKIM1; k=rsa; ", f"p={other[:200]}", other[200:]])  # another key, split
    body = await check(http, admin, url)
    records = by_kind(body)
    spf = records["spf"]
    assert (spf["status"], spf["code"]) == ("wrong", "dns_spf_no_include")
    assert "v=spf1 include:_spf.google.com include:_spf.mail.test -all" in spf["detail"]
    mx = records["mx"]
    assert (mx["status"], mx["code"], mx["found"]) == ("wrong", "dns_mx_elsewhere", ["aspmx.l.google.com"])
    assert "forward" in mx["detail"]
    dkim = records["dkim"]
    assert (dkim["status"], dkim["code"]) == ("wrong", "dns_dkim_other_key")
    assert dkim["found"] == [f"v=DKIM1; k=rsa; p={other}"]  # the strings joined
    assert body["sending_ready"] is False


@with_dns
async def test_two_spf_records_are_wrong(server: Server, http: httpx.AsyncClient, dns: DnsServer) -> None:
    admin, _, url = await own_inbox(server, http)
    dns.zone.add_txt("shop.test", "v=spf1 include:_spf.mail.test ~all")
    dns.zone.add_txt("shop.test", "v=spf1 include:_spf.google.com ~all")
    spf = by_kind(await check(http, admin, url))["spf"]
    assert (spf["status"], spf["code"], len(spf["found"])) == ("wrong", "dns_spf_multiple", 2)


@with_dns
async def test_spf_is_followed_through_includes(
    server: Server, http: httpx.AsyncClient, dns: DnsServer
) -> None:
    """Our include reached through the domain's own sub-record is right; an include chain past
    RFC 7208's 10 DNS lookups is wrong even with ours in it; a sub-record the DNS cannot answer
    makes the SPF check "could not check", not "wrong"."""
    admin, _, url = await own_inbox(server, http)
    zone = dns.zone
    zone.add_txt("shop.test", "v=spf1 include:spf.shop.test -all")
    zone.add_txt("spf.shop.test", "v=spf1 ip4:192.0.2.1 include:mailers.shop.test ~all")
    zone.add_txt("mailers.shop.test", "v=spf1 include:_spf.mail.test ~all")
    spf = by_kind(await check(http, admin, url))["spf"]
    assert (spf["status"], spf["code"]) == ("ok", "dns_spf_ok_nested"), spf
    assert "through spf.shop.test → mailers.shop.test" in spf["detail"]

    # Ours is named directly, but the other includes need 11 lookups in all.
    zone.txt.clear()
    chain = " ".join(f"include:n{i}.shop.test" for i in range(4))
    zone.add_txt("shop.test", f"v=spf1 include:_spf.mail.test {chain} -all")
    for i in range(4):
        zone.add_txt(f"n{i}.shop.test", "v=spf1 a mx ip4:192.0.2.9 ~all")
    spf = by_kind(await check(http, admin, url))["spf"]
    assert (spf["status"], spf["code"]) == ("wrong", "dns_spf_too_many_lookups"), spf
    assert "13" in spf["detail"]

    # The sub-record cannot be looked up: not known to be wrong.
    zone.txt.clear()
    zone.add_txt("shop.test", "v=spf1 include:spf.shop.test -all")
    zone.fail("spf.shop.test", "servfail")
    spf = by_kind(await check(http, admin, url))["spf"]
    assert (spf["status"], spf["code"]) == ("unknown", "dns_lookup_failed"), spf
    assert "spf.shop.test" in spf["detail"]


@with_dns
async def test_a_failing_dns_is_could_not_check_not_missing(
    server: Server, http: httpx.AsyncClient, dns: DnsServer
) -> None:
    admin, _, url = await own_inbox(server, http)
    publish_right(dns, by_kind((await http.get(url, headers=admin.headers)).json()))
    dns.zone.fail(DKIM_NAME, "servfail")
    dns.zone.fail("_dmarc.shop.test", "silent")  # never answers, over UDP or TCP
    started = time.monotonic()
    body = await check(http, admin, url)
    elapsed = time.monotonic() - started
    records = by_kind(body)
    assert (records["dkim"]["status"], records["dkim"]["code"]) == ("unknown", "dns_lookup_failed")
    assert "SERVFAIL" in records["dkim"]["detail"]
    assert (records["dmarc"]["status"], records["dmarc"]["code"]) == ("unknown", "dns_lookup_failed")
    assert "within 3 s" in records["dmarc"]["detail"]
    assert records["spf"]["status"] == "ok"  # the other answers are kept
    assert 2.5 < elapsed < 6, elapsed  # the per-question deadline, not the HTTP client's


@pytest.mark.parametrize("server", [{**SETTINGS, "dns_servers": "ns1.example.com"}], indirect=True)
async def test_a_bad_dns_servers_setting_is_named(server: Server, http: httpx.AsyncClient) -> None:
    admin, _, url = await own_inbox(server, http)
    records = by_kind(await check(http, admin, url))
    assert records["spf"]["status"] == "unknown"
    assert "FRONTDESK_DNS_SERVERS" in records["spf"]["detail"]


@with_dns
async def test_only_administrators_and_only_own_address_email_inboxes(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws, url = await own_inbox(server, http)
    other_admin = await make_member(server, http, ws, Role.ADMINISTRATOR)
    assert (await http.get(url, headers=other_admin.headers)).status_code == 200
    agent = await make_member(server, http, ws)
    outsider, _ = await make_admin(server, http, workspace="Other")
    assert (await http.get(url, headers=agent.headers)).status_code == 404  # not a member of the inbox
    supervisor = await make_member(server, http, ws, Role.SUPERVISOR)
    for call in (
        http.get(url, headers=supervisor.headers),
        http.post(url + "/check", headers=supervisor.headers),
    ):
        assert (await call).status_code == 403
    r = await http.post(url + "/dkim-key", headers=supervisor.headers)
    assert r.status_code == 403
    assert (await http.get(url, headers=outsider.headers)).status_code == 404
    hosted = await make_email_inbox(http, admin, ws, local_part="sales")
    r = await http.get(f"/api/v1/workspaces/{ws}/inboxes/{hosted['id']}/email-dns", headers=admin.headers)
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "not_own_address" and "hosted mode" in error["message"]
    assert error["field"] == "settings.address_mode"
    api = await make_inbox(http, admin, ws)
    r = await http.get(f"/api/v1/workspaces/{ws}/inboxes/{api.id}/email-dns", headers=admin.headers)
    assert r.status_code == 404


# The judging on its own (pure functions).

RECORDS = records_for(OWN, f"support@acme.{MAIL_DOMAIN}", MAIL_DOMAIN, SPF_INCLUDE, "frontdesk", "AAAA")


def judged(kind: str, *values: str, outcome: str = "found") -> tuple[str, str]:
    record = next(r for r in RECORDS if r.kind == kind)
    check = judge(record, Lookup(outcome, values), SPF_INCLUDE)  # type: ignore[arg-type]
    return check.status, check.code


def test_spf_terms_count_what_queries_the_dns() -> None:
    names, count = spf_terms(
        "v=spf1 a mx ip4:192.0.2.1 -include:X.test. ~all redirect=y.test a:h.test mx/24 ?exists:e.test"
    )
    assert names == ["x.test", "y.test"] and count == 7  # a, mx, include, redirect, a:, mx/, exists
    assert spf_terms("v=spf1 ip4:192.0.2.1 ip6:2001:db8::1 -all") == ([], 0)


def test_judging_spf() -> None:
    assert judged("spf", "v=spf1 +include:_SPF.mail.test. -all") == ("ok", "dns_spf_ok")
    assert judged("spf", "v=spf1 include:_spf.mail.test.evil.test -all") == ("wrong", "dns_spf_no_include")
    assert judged("spf", "v=spf10 include:_spf.mail.test") == ("missing", "dns_spf_missing")
    assert judged("spf", outcome="none") == ("missing", "dns_spf_missing")
    assert merged_spf("v=spf1 mx ~all", "x.test") == "v=spf1 mx include:x.test ~all"
    assert merged_spf("v=spf1 redirect=_spf.other.test", "x.test") == (
        "v=spf1 include:x.test redirect=_spf.other.test"
    )
    assert merged_spf("v=spf1 mx", "x.test") == "v=spf1 mx include:x.test"


def test_judging_dkim_and_dmarc() -> None:
    assert judged("dkim", "v=DKIM1; k=rsa; p=AA AA") == ("ok", "dns_dkim_ok")  # whitespace ignored
    assert judged("dkim", "v=DKIM1; p=AAAA") == ("ok", "dns_dkim_ok")  # k defaults to rsa
    assert judged("dkim", "v=DKIM1; k=ed25519; p=AAAA") == ("wrong", "dns_dkim_other_key")
    assert judged("dkim", "v=DKIM1; k=rsa; p=") == ("wrong", "dns_dkim_other_key")  # revoked
    assert judged("dkim", "p=AAAA", "p=BBBB") == ("wrong", "dns_dkim_multiple")
    assert judged("dkim", "some text") == ("wrong", "dns_dkim_not_a_key")
    assert judged("dmarc", "v=DMARC1; p=none", "v=DMARC1; p=reject") == ("wrong", "dns_dmarc_multiple")
    assert judged("dmarc", outcome="failed") == ("unknown", "dns_lookup_failed")
    assert judged("forward") == ("manual", "dns_forward_manual")


def test_dns_servers_setting() -> None:
    assert parse_servers("1.1.1.1, 127.0.0.1:5353,[::1]:53, ::1") == [
        ("1.1.1.1", 53),
        ("127.0.0.1", 5353),
        ("::1", 53),
        ("::1", 53),
    ]
    assert parse_servers("") == []
    for bad in ("dns.example.com", "1.1.1.1:0", "1.1.1.1:x"):
        with pytest.raises(DnsServersError, match="FRONTDESK_DNS_SERVERS"):
            parse_servers(bad)
