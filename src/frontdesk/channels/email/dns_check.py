"""Check DNS (PRODUCT E2): looks up the records an own-address inbox needs and judges each with
domain/email/dns.py.

A question the DNS could not answer (timeout, SERVFAIL, no resolver) is "could not check", never
"missing": telling an administrator to add a record they already have sends them chasing ghosts.
Every question has its own deadline and the whole check one more.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence
from typing import Literal

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.resolver

from frontdesk.domain.email.dns import (
    SPF_LOOKUP_LIMIT,
    DnsRecord,
    Lookup,
    RecordCheck,
    SpfReach,
    judge,
    lookups_needed,
    spf_record,
    spf_terms,
)

__all__ = [
    "QUERY_TIMEOUT",
    "DnsServersError",
    "check_records",
    "follow_spf",
    "lookup",
    "make_resolver",
    "parse_servers",
]

QUERY_TIMEOUT = 3.0
Question = tuple[str, Literal["MX", "TXT"]]


class DnsServersError(ValueError):
    """FRONTDESK_DNS_SERVERS names something that is not an IP address (and port)."""


def parse_servers(value: str) -> list[tuple[str, int]]:
    """ "1.1.1.1, 10.0.0.2:5353, [::1]:53" → [(address, port)]; resolvers are asked by address."""
    servers: list[tuple[str, int]] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        host, port = item, "53"
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port = rest.removeprefix(":") or "53"
        elif item.count(":") == 1:
            host, port = item.split(":")
        try:
            address = str(ipaddress.ip_address(host))
            number = int(port)
        except ValueError:
            raise DnsServersError(
                f"FRONTDESK_DNS_SERVERS: {item!r} is not an IP address with an optional :port"
            ) from None
        if not 0 < number < 65536:
            raise DnsServersError(f"FRONTDESK_DNS_SERVERS: {item!r} has no valid port")
        servers.append((address, number))
    return servers


def make_resolver(servers: str, timeout: float = QUERY_TIMEOUT) -> dns.asyncresolver.Resolver:
    """A resolver asking the configured servers, or the system's when none are configured.
    Raises DnsServersError for a bad setting and dns.resolver.NoResolverConfiguration when the
    system has no resolver."""
    parsed = parse_servers(servers)
    resolver = dns.asyncresolver.Resolver(configure=not parsed)
    if parsed:
        resolver.nameservers = [dns.nameserver.Do53Nameserver(a, p) for a, p in parsed]
    resolver.timeout = timeout
    resolver.lifetime = timeout
    return resolver


def _answers(answer: dns.resolver.Answer, rdtype: str) -> tuple[str, ...]:
    if rdtype == "MX":
        return tuple(str(r.exchange).rstrip(".").lower() for r in answer)
    # A TXT record may be split into several strings of up to 255 bytes: they are one value.
    return tuple(b"".join(r.strings).decode("utf-8", "replace") for r in answer)


async def lookup(resolver: dns.asyncresolver.Resolver, name: str, rdtype: Literal["MX", "TXT"]) -> Lookup:
    try:
        answer = await resolver.resolve(name, rdtype, search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return Lookup("none")
    except dns.resolver.LifetimeTimeout:
        return Lookup("failed", reason=f"no answer for {name} within {resolver.lifetime:g} s")
    except dns.resolver.NoNameservers:
        return Lookup("failed", reason=f"the DNS servers failed to answer for {name} (SERVFAIL)")
    except dns.exception.DNSException as exc:
        return Lookup("failed", reason=f"{name}: {exc}")
    return Lookup("found", _answers(answer, rdtype))


async def _lookups(
    resolver: dns.asyncresolver.Resolver, questions: set[Question], deadline: float
) -> dict[Question, Lookup]:
    tasks = {q: asyncio.create_task(lookup(resolver, *q)) for q in questions}
    done, pending = await asyncio.wait(tasks.values(), timeout=deadline)
    for task in pending:
        task.cancel()
    results: dict[Question, Lookup] = {}
    for question, task in tasks.items():
        if task in done:
            results[question] = task.result()
        else:
            results[question] = Lookup("failed", reason=f"the check ran out of time ({deadline:g} s)")
    return results


async def follow_spf(resolver: dns.asyncresolver.Resolver, record: str, include: str) -> SpfReach:
    """Follow the SPF record's include: and redirect= names, one level at a time, counting the
    DNS-querying terms as a receiver would, until our include is found and counted, the limit
    is passed, or nothing is left. Our own include's record is not fetched (it queries nothing);
    a name without an SPF record adds nothing (receivers would fail it, but that is not ours)."""
    wanted = include.strip(".").lower()
    path: tuple[str, ...] | None = None
    names, lookups = spf_terms(record)
    level: list[tuple[str, tuple[str, ...]]] = [(name, (name,)) for name in names]
    seen: set[str] = set()
    while level and lookups <= SPF_LOOKUP_LIMIT:
        for name, via in level:
            if name == wanted and path is None:
                path = via
        fetch = [(n, v) for n, v in level if n != wanted and n not in seen]
        seen.update(n for n, _ in fetch)
        found = await asyncio.gather(*(lookup(resolver, n, "TXT") for n, _ in fetch))
        level = []
        for (name, via), answer in zip(fetch, found, strict=True):
            if answer.outcome == "failed":
                return SpfReach(path, lookups, f"the SPF record of {name}: {answer.reason}")
            nested = spf_record(answer.values)
            if nested is None:
                continue
            more, count = spf_terms(nested)
            lookups += count
            level.extend((n, (*via, n)) for n in more)
    return SpfReach(path, lookups)


async def check_records(
    records: Sequence[DnsRecord], servers: str, spf_include: str, timeout: float = QUERY_TIMEOUT
) -> list[RecordCheck]:
    """Each record's status, in the records' order; the questions are asked at once."""
    try:
        resolver = make_resolver(servers, timeout)
    except (DnsServersError, dns.resolver.NoResolverConfiguration) as exc:
        failed = Lookup("failed", reason=str(exc) or "this server has no DNS resolver configured")
        return [judge(r, failed, spf_include) for r in records]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout + 1.0
    found = await _lookups(resolver, lookups_needed(records), timeout + 1.0)
    checks: list[RecordCheck] = []
    for r in records:
        answer = found.get((r.name, "MX" if r.type == "MX" else "TXT"))
        reach = None
        record = spf_record(answer.values) if r.kind == "spf" and answer is not None else None
        if record is not None:
            try:
                async with asyncio.timeout_at(deadline):
                    reach = await follow_spf(resolver, record, spf_include)
            except TimeoutError:
                reach = SpfReach(
                    None, 0, f"following the SPF record's includes took over {timeout + 1.0:g} s"
                )
        checks.append(judge(r, answer, spf_include, reach))
    return checks
