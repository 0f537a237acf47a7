"""The DNS records of an email inbox's own address (PRODUCT E2), and the judging of what a DNS
lookup found for each of them. Pure rules, no I/O: channels/email/dns_check.py does the lookups.

Receiving has two ways, shown as alternatives: a forwarding rule at the customer's mail provider
(own address → hosted address; DNS cannot see it, so it is "manual") or an MX record pointing the
own domain at Frontdesk. Sending needs SPF (our include in the domain's one SPF record) and DKIM
(the inbox's public key at <selector>._domainkey.<domain>). DMARC is only suggested.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "RECEIVING",
    "DnsRecord",
    "Lookup",
    "RecordCheck",
    "RecordKind",
    "RecordStatus",
    "SpfReach",
    "dkim_name",
    "dkim_value",
    "judge",
    "lookups_needed",
    "merged_spf",
    "own_domain",
    "records_for",
    "spf_record",
    "spf_terms",
]

RecordKind = Literal["forward", "mx", "spf", "dkim", "dmarc"]
RecordType = Literal["FORWARD", "MX", "TXT"]
RecordStatus = Literal["ok", "missing", "wrong", "manual", "unknown"]
# The group of records of which one is enough: the forwarding rule or the MX record.
RECEIVING = "receiving"
DMARC_SUGGESTION = "v=DMARC1; p=none"
# RFC 7208 4.6.4: evaluating a domain's SPF may take at most 10 DNS-querying terms; past that
# receivers treat SPF as failed (permerror), whatever the record says.
SPF_LOOKUP_LIMIT = 10
_SPF_QUERYING = ("include:", "a:", "a/", "mx:", "mx/", "ptr:", "exists:", "redirect=")


@dataclass(frozen=True)
class DnsRecord:
    kind: RecordKind
    name: str  # the DNS name; for the forwarding rule, the own address
    type: RecordType
    value: str  # for MX, the host; for the forwarding rule, the hosted address
    purpose: str
    group: str | None  # records of one group are alternatives: one of them is enough
    required: bool  # False: a suggestion (DMARC), or one of a group of alternatives


@dataclass(frozen=True)
class Lookup:
    """What the DNS said for one name and type. found: answers (TXT strings of one record joined;
    MX as the host without the final dot); none: the name or the type does not exist (NXDOMAIN,
    no answer); failed: the question could not be answered (timeout, SERVFAIL), with why."""

    outcome: Literal["found", "none", "failed"]
    values: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class RecordCheck:
    kind: RecordKind
    status: RecordStatus
    code: str  # for the dashboard to translate: dns_<kind>_<what>
    detail: str  # the same in English
    found: tuple[str, ...] = ()


def own_domain(address: str) -> str:
    """The domain of an address, lower-case and without a final dot."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain.strip("."):
        raise ValueError(f"{address!r} is not an email address")
    return domain.strip(".").lower()


def dkim_name(selector: str, domain: str) -> str:
    return f"{selector}._domainkey.{domain}"


def dkim_value(public_key: str) -> str:
    return f"v=DKIM1; k=rsa; p={public_key}"


def _spf_value(include: str) -> str:
    return f"v=spf1 include:{include} ~all"


def records_for(
    own_address: str,
    hosted_address: str,
    mx_host: str,
    spf_include: str,
    selector: str,
    dkim_public_key: str | None,
) -> list[DnsRecord]:
    """The records to add, in the order the dashboard shows them. Without a DKIM key (an inbox
    made before keys were generated) the DKIM record is left out until one is made."""
    domain = own_domain(own_address)
    records = [
        DnsRecord(
            "forward",
            own_address,
            "FORWARD",
            hosted_address,
            "Receiving: a forwarding rule at your mail provider sends mail for your address to "
            "Frontdesk; your mailbox keeps working.",
            RECEIVING,
            False,
        ),
        DnsRecord(
            "mx",
            domain,
            "MX",
            mx_host.strip(".").lower(),
            "Receiving, instead of forwarding: all mail for this domain goes to Frontdesk. Only "
            "for a domain that has no other mailboxes.",
            RECEIVING,
            False,
        ),
        DnsRecord(
            "spf",
            domain,
            "TXT",
            _spf_value(spf_include),
            "Sending: lets Frontdesk send as your domain. A domain has one SPF record: if it "
            f"already has one, add include:{spf_include} to it before its all.",
            None,
            True,
        ),
    ]
    if dkim_public_key:
        records.append(
            DnsRecord(
                "dkim",
                dkim_name(selector, domain),
                "TXT",
                dkim_value(dkim_public_key),
                "Sending: the public key receivers check the DKIM signature of replies with.",
                None,
                True,
            )
        )
    records.append(
        DnsRecord(
            "dmarc",
            f"_dmarc.{domain}",
            "TXT",
            DMARC_SUGGESTION,
            "Suggested: tells receivers your domain uses SPF and DKIM; p=none only reports, it "
            "rejects nothing. Keep your own DMARC record if you have one.",
            None,
            False,
        )
    )
    return records


def merged_spf(existing: str, include: str) -> str:
    """The domain's SPF record with our include added before its final all (or redirect)."""
    terms = existing.split()
    at = next(
        (
            i
            for i, term in enumerate(terms)
            if term.lower().lstrip("+-~?") == "all" or term.lower().startswith("redirect=")
        ),
        len(terms),
    )
    return " ".join([*terms[:at], f"include:{include}", *terms[at:]])


@dataclass(frozen=True)
class SpfReach:
    """What following the domain's SPF record through its include: and redirect= terms found:
    the names leading to our include (() when the record names it itself; None when it is not
    reached), the DNS-querying terms counted on the way, and why a record on the way could not
    be looked up ("" when none failed)."""

    path: tuple[str, ...] | None
    lookups: int
    failed: str = ""


def spf_record(values: Sequence[str]) -> str | None:
    """The one SPF record among a name's TXT values; None with none or several."""
    found = [v for v in values if _is_spf(v)]
    return found[0] if len(found) == 1 else None


def spf_terms(record: str) -> tuple[list[str], int]:
    """The names an SPF record sends evaluation on to (include: targets, then redirect=), and
    how many of its terms query the DNS."""
    names: list[str] = []
    redirect: list[str] = []
    querying = 0
    for term in record.split()[1:]:
        lowered = term.lower().lstrip("+-~?")
        if lowered in ("a", "mx", "ptr") or lowered.startswith(_SPF_QUERYING):
            querying += 1
        if lowered.startswith("include:"):
            names.append(lowered[8:].strip("."))
        elif lowered.startswith("redirect="):
            redirect.append(lowered[9:].strip("."))
    return names + redirect, querying


def _is_spf(text: str) -> bool:
    return text.lower() == "v=spf1" or text.lower().startswith("v=spf1 ")


def _includes(record: str, include: str) -> bool:
    wanted = include.strip(".").lower()
    for term in record.split()[1:]:
        mechanism = term.lower().lstrip("+")
        if mechanism.startswith("include:") and mechanism[8:].strip(".") == wanted:
            return True
    return False


def _tags(record: str) -> dict[str, str]:
    """The tag=value pairs of a DKIM or DMARC record (whitespace inside values removed)."""
    tags: dict[str, str] = {}
    for part in record.split(";"):
        name, eq, value = part.partition("=")
        if eq:
            tags[name.strip().lower()] = re.sub(r"\s+", "", value)
    return tags


def _unknown(kind: RecordKind, lookup: Lookup) -> RecordCheck:
    return RecordCheck(
        kind,
        "unknown",
        "dns_lookup_failed",
        f"Could not check: {lookup.reason or 'the DNS did not answer'}. Try again later.",
    )


def _judge_mx(record: DnsRecord, lookup: Lookup) -> RecordCheck:
    if lookup.outcome == "none" or not lookup.values:
        return RecordCheck(
            "mx",
            "missing",
            "dns_mx_missing",
            f"{record.name} has no MX record. Fine if you forward instead; otherwise add MX {record.value}.",
        )
    hosts = tuple(v.strip(".").lower() for v in lookup.values)
    if record.value in hosts:
        return RecordCheck("mx", "ok", "dns_mx_ok", f"The MX record points to {record.value}.", hosts)
    return RecordCheck(
        "mx",
        "wrong",
        "dns_mx_elsewhere",
        f"MX points to {', '.join(hosts)}, not {record.value}. Fine if you forward instead; "
        "otherwise mail for this domain does not reach Frontdesk.",
        hosts,
    )


def _judge_spf(record: DnsRecord, lookup: Lookup, include: str, reach: SpfReach | None) -> RecordCheck:
    spf = tuple(v for v in lookup.values if _is_spf(v))
    if not spf:
        return RecordCheck(
            "spf", "missing", "dns_spf_missing", f"{record.name} has no SPF record; add {record.value}."
        )
    if len(spf) > 1:
        return RecordCheck(
            "spf",
            "wrong",
            "dns_spf_multiple",
            f"{record.name} has {len(spf)} SPF records; receivers then ignore SPF altogether. "
            f"Merge them into one that contains include:{include}.",
            spf,
        )
    if reach is not None and reach.lookups > SPF_LOOKUP_LIMIT:
        return RecordCheck(
            "spf",
            "wrong",
            "dns_spf_too_many_lookups",
            f"The SPF record needs more than {SPF_LOOKUP_LIMIT} DNS lookups (includes and the like, "
            f"counted through its includes: {reach.lookups}); receivers then ignore SPF. Remove "
            "includes you no longer use.",
            spf,
        )
    if _includes(spf[0], include):
        return RecordCheck("spf", "ok", "dns_spf_ok", f"The SPF record includes {include}.", spf)
    if reach is not None and reach.path:
        return RecordCheck(
            "spf",
            "ok",
            "dns_spf_ok_nested",
            f"The SPF record includes {include} through {' → '.join(reach.path[:-1])}.",
            spf,
        )
    if reach is not None and reach.failed:
        return _unknown("spf", Lookup("failed", reason=reach.failed))
    return RecordCheck(
        "spf",
        "wrong",
        "dns_spf_no_include",
        f"The SPF record does not include {include}; change it to: {merged_spf(spf[0], include)}",
        spf,
    )


def _judge_dkim(record: DnsRecord, lookup: Lookup) -> RecordCheck:
    keys = tuple(v for v in lookup.values if "p" in _tags(v))
    if not keys:
        return RecordCheck(
            "dkim",
            "missing" if not lookup.values else "wrong",
            "dns_dkim_missing" if not lookup.values else "dns_dkim_not_a_key",
            f"{record.name} has no DKIM key; add the TXT record shown.",
            lookup.values,
        )
    wanted = _tags(record.value)["p"]
    if len(keys) > 1:
        return RecordCheck(
            "dkim",
            "wrong",
            "dns_dkim_multiple",
            f"{record.name} has {len(keys)} DKIM records; keep only the one shown.",
            keys,
        )
    tags = _tags(keys[0])
    if tags["p"] != wanted or tags.get("k", "rsa").lower() != "rsa":
        return RecordCheck(
            "dkim",
            "wrong",
            "dns_dkim_other_key",
            f"{record.name} holds another key; replies would fail DKIM. Replace it with the record shown.",
            keys,
        )
    return RecordCheck("dkim", "ok", "dns_dkim_ok", "The DKIM key matches this inbox's key.", keys)


def _judge_dmarc(record: DnsRecord, lookup: Lookup) -> RecordCheck:
    dmarc = tuple(v for v in lookup.values if v.replace(" ", "").upper().startswith("V=DMARC1"))
    if not dmarc:
        return RecordCheck(
            "dmarc",
            "missing",
            "dns_dmarc_suggested",
            f"No DMARC record: not required. We suggest {record.value} at {record.name}.",
        )
    if len(dmarc) > 1:
        return RecordCheck(
            "dmarc",
            "wrong",
            "dns_dmarc_multiple",
            f"{record.name} has {len(dmarc)} DMARC records; receivers then ignore DMARC. Keep one.",
            dmarc,
        )
    return RecordCheck("dmarc", "ok", "dns_dmarc_ok", "The domain has a DMARC record.", dmarc)


def judge(
    record: DnsRecord, lookup: Lookup | None, spf_include: str, spf_reach: SpfReach | None = None
) -> RecordCheck:
    """The status of one record from what its lookup found (None: nothing to look up); for SPF,
    also what following its includes found (None: not followed)."""
    if record.kind == "forward":
        return RecordCheck(
            "forward",
            "manual",
            "dns_forward_manual",
            f"A forwarding rule cannot be seen in the DNS: send a test mail to {record.name} and "
            "see that it arrives in Frontdesk.",
        )
    if lookup is None or lookup.outcome == "failed":
        return _unknown(record.kind, lookup or Lookup("failed", reason="not looked up"))
    if record.kind == "mx":
        return _judge_mx(record, lookup)
    if record.kind == "spf":
        return _judge_spf(record, lookup, spf_include, spf_reach)
    if record.kind == "dkim":
        return _judge_dkim(record, lookup)
    return _judge_dmarc(record, lookup)


def lookups_needed(records: Sequence[DnsRecord]) -> set[tuple[str, Literal["MX", "TXT"]]]:
    """The (name, type) questions the check asks: every record but the forwarding rule."""
    return {(r.name, "MX" if r.type == "MX" else "TXT") for r in records if r.type != "FORWARD"}
