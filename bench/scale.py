"""Conversation list (+ tab counts), thread view and search with many rows in the database.

Data is written straight into the tables (PostgreSQL: COPY; SQLite: executemany in one
transaction), with secondary indexes, FTS triggers and foreign-key checks off during the load and
rebuilt after it, so every row is consistent with what the actions would have written:
workspace, inboxes (made through the API), agents, labels, contacts, identities, conversations
(status, assignee, priority and label mix, last_activity_at spread over a year), messages
(incoming with provider ids / outgoing), and conversation_counts computed from the rows.

Then the endpoints are timed over HTTP, one request at a time, beside two floors: GET /healthz on
the same server (no database) and the floor app's one-statement read (SELECT 1).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
from common import (
    Backend,
    HttpConn,
    floor_server,
    frontdesk_server,
    log,
    make_backend,
    prepare_instance,
    request_bytes,
    sign_in,
)
from loadgen import sequential_latency

from frontdesk.store.conversation_numbers import sequence_name

COMMON = [
    "refund",
    "invoice",
    "shipping",
    "delivery",
    "password",
    "account",
    "order",
    "payment",
    "billing",
    "subscription",
    "cancel",
    "upgrade",
    "discount",
    "coupon",
    "warranty",
    "return",
    "exchange",
    "tracking",
    "parcel",
    "address",
    "login",
    "error",
    "crash",
    "update",
    "install",
    "license",
    "renewal",
    "charge",
    "receipt",
    "balance",
    "transfer",
    "support",
    "question",
    "problem",
    "issue",
    "broken",
    "missing",
    "damaged",
    "late",
    "urgent",
    "help",
]
GREETING = ("Hello", "Hi", "Dear team", "Good morning", "Hey there", "Thanks")
FIRST = [
    "Ann",
    "Ben",
    "Cem",
    "Dana",
    "Eli",
    "Fatma",
    "Gus",
    "Hana",
    "Ivan",
    "Jale",
    "Kai",
    "Lea",
    "Mert",
    "Nia",
    "Omid",
    "Pia",
    "Quinn",
    "Reza",
    "Sara",
    "Tom",
]
LAST = [
    "Smith",
    "Kaya",
    "Tehrani",
    "Jones",
    "Yilmaz",
    "Moradi",
    "Brown",
    "Demir",
    "Rahimi",
    "Clark",
    "Sahin",
    "Karimi",
    "Lee",
    "Celik",
    "Ahmadi",
]
MEDIUM_WORDS = 2000  # each medium word is in ~1/2000 of messages
RARE_WORDS = 1_000_000  # each rare word in ~messages/1e6

SEARCH_TERMS = {
    "common word (refund)": "refund",
    "two common words (refund invoice)": "refund invoice",
    "prefix of common words (ship)": "ship",
    "medium word (m0042x)": "m0042x",
    "rare word (r123457)": "r123457",
    "no match (zzzqx)": "zzzqx",
}


def _h(i: int, salt: int) -> int:
    """A cheap deterministic hash: the same data on every run and backend."""
    x = (i * 0x9E3779B1 + salt * 0x85EBCA77) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x2C1B3C6D) & 0xFFFFFFFF
    x ^= x >> 12
    return x


def _text(mid: int) -> str:
    h1, h2, h3 = _h(mid, 11), _h(mid, 12), _h(mid, 13)
    return (
        f"{GREETING[h1 % 6]}, {COMMON[h1 % 40]} {COMMON[h2 % 40]} question about {COMMON[h3 % 40]} "
        f"ref m{h2 % MEDIUM_WORDS:04d}x r{h3 % RARE_WORDS}"
    )


class Plan:
    """The rows, generated lazily in id order."""

    def __init__(
        self,
        conversations: int,
        per_conversation: int,
        workspace_id: int,
        inbox_ids: list[int],
        admin_id: int,
        agent_ids: list[int],
        label_ids: dict[str, int],
    ) -> None:
        self.n = conversations
        self.per = per_conversation
        self.ws = workspace_id
        self.inboxes = inbox_ids
        self.admin = admin_id
        self.agents = agent_ids
        self.label_ids = label_ids
        self.now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        self.counts: Counter[tuple[int, int, str]] = Counter()
        self.messages = 0

    def conv(self, i: int) -> dict[str, Any]:
        h = _h(i, 1)
        s = h % 100
        status = "open" if s < 15 else "pending" if s < 20 else "snoozed" if s < 23 else "resolved"
        a = _h(i, 2) % 100
        assignee = None if a < 35 else self.admin if a < 45 else self.agents[a % len(self.agents)]
        p = _h(i, 3) % 100
        priority = (
            "none" if p < 70 else "low" if p < 80 else "medium" if p < 90 else "high" if p < 97 else "urgent"
        )
        lab = _h(i, 4) % 100
        labels = ["vip"] if lab < 10 else ["billing"] if lab < 11 else []
        last = self.now - dt.timedelta(seconds=_h(i, 5) % (365 * 86400))
        k = 1 + _h(i, 6) % (2 * self.per - 1)
        created = last - dt.timedelta(minutes=k * 7)
        inbox = self.inboxes[i % len(self.inboxes)]
        return {
            "id": i,
            "status": status,
            "assignee": assignee,
            "priority": priority,
            "labels": labels,
            "last": last,
            "created": created,
            "k": k,
            "inbox": inbox,
        }

    def rows(self) -> Iterator[tuple[str, tuple[Any, ...]]]:
        """('contacts'|'contact_identities'|'conversations'|'conversation_labels'|'messages', row)."""
        mid = 0
        for i in range(1, self.n + 1):
            c = self.conv(i)
            name = f"{FIRST[i % 20]} {LAST[(i // 20) % 15]}"
            yield "contacts", (i, self.ws, name, f"user{i}@example.com", None, "{}", c["created"])
            yield "contact_identities", (i, i, c["inbox"], f"s{i}", c["created"])
            self.counts[(c["inbox"], c["assignee"] or 0, c["status"])] += 1
            preview = ""
            for j in range(c["k"]):
                mid += 1
                text = _text(mid)
                incoming = j % 2 == 0
                at = c["created"] + dt.timedelta(minutes=j * 7)
                yield (
                    "messages",
                    (
                        mid,
                        self.ws,
                        i,
                        c["inbox"],
                        "incoming" if incoming else "outgoing",
                        "contact" if incoming else "agent",
                        None if incoming else (c["assignee"] or self.admin),
                        text,
                        "text",
                        f"x{mid}" if incoming else None,
                        None if incoming else "sent",
                        None,
                        "{}",
                        at,
                    ),
                )
                preview = text[:140]
            snoozed = c["last"] + dt.timedelta(days=30) if c["status"] == "snoozed" else None
            waiting = c["last"] if c["status"] == "open" and c["k"] % 2 == 1 else None
            yield (
                "conversations",
                (
                    i,
                    self.ws,
                    i,
                    c["inbox"],
                    i,
                    i,
                    c["status"],
                    snoozed,
                    c["assignee"],
                    None,
                    c["priority"],
                    c["last"],
                    waiting,
                    None,
                    None,
                    preview,
                    1 if waiting else 0,
                    "[" + ",".join(f'"{x}"' for x in c["labels"]) + "]",
                    c["created"],
                ),
            )
            for label in c["labels"]:
                yield "conversation_labels", (i, self.label_ids[label], c["status"], c["last"])
        self.messages = mid


COLUMNS = {
    "contacts": ("id", "workspace_id", "name", "email", "phone", "attributes", "created_at"),
    "contact_identities": ("id", "contact_id", "inbox_id", "source_id", "created_at"),
    "conversations": (
        "id",
        "workspace_id",
        "number",
        "inbox_id",
        "contact_id",
        "identity_id",
        "status",
        "snoozed_until",
        "assignee_id",
        "team_id",
        "priority",
        "last_activity_at",
        "waiting_since",
        "first_reply_at",
        "first_reply_seconds",
        "last_message_preview",
        "unread_count",
        "labels",
        "created_at",
    ),
    "conversation_labels": ("conversation_id", "label_id", "status", "last_activity_at"),
    "messages": (
        "id",
        "workspace_id",
        "conversation_id",
        "inbox_id",
        "kind",
        "sender_type",
        "sender_id",
        "text",
        "content_type",
        "source_id",
        "delivery_status",
        "failure_reason",
        "data",
        "created_at",
    ),
}
BIG = ("contacts", "contact_identities", "conversations", "conversation_labels", "messages")


def _batches(plan: Plan, size: int = 50_000) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
    batch: dict[str, list[tuple[Any, ...]]] = {t: [] for t in BIG}
    n = 0
    for table, row in plan.rows():
        batch[table].append(row)
        n += 1
        if n >= size:
            yield batch
            batch = {t: [] for t in BIG}
            n = 0
    yield batch


# --------------------------------------------------------------------------- PostgreSQL


async def _pg_setup_people(conn: asyncpg.Connection, ws: int) -> tuple[list[int], dict[str, int]]:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    agents = []
    for k in range(9):
        uid = await conn.fetchval(
            "INSERT INTO users (email, email_lower, name, password_hash, is_active, locale, created_at) "
            "VALUES ($1, $1, $2, NULL, true, 'en', $3) RETURNING id",
            f"agent{k}@example.com",
            f"Agent {k}",
            now,
        )
        await conn.execute(
            "INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, 'agent', $3)",
            ws,
            uid,
            now,
        )
        agents.append(uid)
    labels = {}
    for name in ("vip", "billing", "bug"):
        labels[name] = await conn.fetchval(
            "INSERT INTO labels (workspace_id, name, color, created_at) VALUES ($1, $2, '#6b7280', $3) "
            "RETURNING id",
            ws,
            name,
            now,
        )
    return agents, labels


async def _pg_load(dsn: str, plan_args: dict[str, Any]) -> Plan:
    conn = await asyncpg.connect(dsn)
    try:
        agents, labels = await _pg_setup_people(conn, plan_args["workspace_id"])
        plan = Plan(agent_ids=agents, label_ids=labels, **plan_args)
        await conn.execute("SET session_replication_role = replica")  # no FK triggers during the load
        await conn.execute("SET maintenance_work_mem = '1GB'")
        # Secondary indexes and unique constraints off during the load, rebuilt afterwards.
        rebuild: list[str] = []
        for table in BIG:
            for name, definition in await conn.fetch(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = $1::regclass AND contype = 'u'",
                table,
            ):
                rebuild.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                await conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, definition in await conn.fetch(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = $1 "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                table,
            ):
                rebuild.append(definition)
                await conn.execute(f'DROP INDEX "{name}"')
        t0 = time.monotonic()
        done = 0
        for batch in _batches(plan):
            for table in BIG:
                if batch[table]:
                    await conn.copy_records_to_table(table, records=batch[table], columns=COLUMNS[table])
            done += sum(len(v) for v in batch.values())
            if done % 1_000_000 < 50_000:
                log(f"    {done:,} rows ({time.monotonic() - t0:.0f} s)")
        log(f"    rows copied in {time.monotonic() - t0:.0f} s; rebuilding {len(rebuild)} indexes")
        for statement in rebuild:
            await conn.execute(statement)
        for table, (inbox, assignee, status), count in (
            ("conversation_counts", key, n) for key, n in plan.counts.items()
        ):
            await conn.execute(
                f"INSERT INTO {table} (workspace_id, inbox_id, assignee_id, status, count) "
                "VALUES ($1, $2, $3, $4, $5)",
                plan.ws,
                inbox,
                assignee,
                status,
                count,
            )
        # The workspace's conversation numbers go on after the loaded ones (decision 0048).
        await conn.execute("SELECT setval($1, $2, false)", sequence_name(plan.ws), plan.n + 1)
        for table in ("contacts", "contact_identities", "conversations", "messages"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await conn.execute("SET session_replication_role = origin")
        t1 = time.monotonic()
        await conn.execute("VACUUM ANALYZE")
        log(f"    VACUUM ANALYZE {time.monotonic() - t1:.0f} s")
        size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
        plan_args["db_size"] = size
    finally:
        await conn.close()
    return plan


# --------------------------------------------------------------------------- SQLite


def _sqlite_load(path: Path, plan_args: dict[str, Any]) -> Plan:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-262144")
    db.execute("BEGIN")
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    ws = plan_args["workspace_id"]
    agents = []
    for k in range(9):
        cur = db.execute(
            "INSERT INTO users (email, email_lower, name, password_hash, is_active, locale, created_at) "
            "VALUES (?, ?, ?, NULL, 1, 'en', ?)",
            (f"agent{k}@example.com",) * 2 + (f"Agent {k}", now),
        )
        agents.append(cur.lastrowid)
        db.execute(
            "INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES (?, ?, 'agent', ?)",
            (ws, cur.lastrowid, now),
        )
    labels = {}
    for name in ("vip", "billing", "bug"):
        cur = db.execute(
            "INSERT INTO labels (workspace_id, name, color, created_at) VALUES (?, ?, '#6b7280', ?)",
            (ws, name, now),
        )
        labels[name] = cur.lastrowid
    plan = Plan(agent_ids=[a for a in agents if a is not None], label_ids=labels, **plan_args)
    rebuild = []
    for kind, name, sql in db.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND "
        "((type = 'index' AND tbl_name IN (?, ?, ?, ?, ?)) OR (type = 'trigger' AND name LIKE '%_fts_%'))",
        BIG,
    ).fetchall():
        rebuild.append(sql)
        db.execute(f'DROP {kind.upper()} "{name}"')
    inserts = {
        t: f"INSERT INTO {t} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        for t, cols in COLUMNS.items()
    }

    def fix(row: tuple[Any, ...]) -> tuple[Any, ...]:
        # SQLAlchemy's SQLite DateTime format: naive UTC text with microseconds.
        return tuple(v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, dt.datetime) else v for v in row)

    t0 = time.monotonic()
    for batch in _batches(plan):
        for table in BIG:
            if batch[table]:
                db.executemany(inserts[table], [fix(r) for r in batch[table]])
    log(f"    rows inserted in {time.monotonic() - t0:.0f} s; rebuilding indexes and FTS")
    for sql in rebuild:
        db.execute(sql)
    db.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
    db.execute("INSERT INTO contacts_fts(contacts_fts) VALUES ('rebuild')")
    db.executemany(
        "INSERT INTO conversation_counts (workspace_id, inbox_id, assignee_id, status, count) "
        "VALUES (?, ?, ?, ?, ?)",
        [(ws, inbox, assignee, status, n) for (inbox, assignee, status), n in plan.counts.items()],
    )
    db.execute("UPDATE workspaces SET next_conversation_number = ? WHERE id = ?", (plan.n + 1, ws))
    db.execute("COMMIT")
    t1 = time.monotonic()
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    log(f"    ANALYZE {time.monotonic() - t1:.0f} s")
    db.close()
    plan_args["db_size"] = f"{path.stat().st_size / 2**20:.0f} MB"
    return plan


# --------------------------------------------------------------------------- measuring


async def _read_benchmarks(port: int, api: Any, plan: Plan, n: int) -> dict[str, Any]:
    ws = api.workspace_id
    rng = random.Random(7)
    auth = {"Authorization": f"Bearer {api.token}"}
    base = f"/api/v1/workspaces/{ws}"

    def get(path: str, **params: Any) -> bytes:
        q = ("?" + urlencode(params)) if params else ""
        return request_bytes("GET", base + path + q, None, auth)

    conn = await HttpConn.open(port)
    out: dict[str, Any] = {}
    out["healthz (floor, no database)"] = await sequential_latency(
        conn, [request_bytes("GET", "/healthz") for _ in range(n)]
    )
    lists = {
        "open, all inboxes": {"status": "open"},
        "open, one inbox": {"status": "open", "inbox_id": plan.inboxes[1]},
        "mine (open)": {"status": "open", "mine": "true"},
        "unassigned (open)": {"status": "open", "unassigned": "true"},
        "one agent (open)": {"status": "open", "assignee_id": plan.agents[3]},
        "resolved, all inboxes": {"status": "resolved"},
        "label vip (open)": {"status": "open", "label": "vip"},
        "label billing (open)": {"status": "open", "label": "billing"},
        "priority urgent (open)": {"status": "open", "priority": "urgent"},
        "archive (all statuses)": {"all_statuses": "true"},
    }
    for name, params in lists.items():
        out[f"list: {name}"] = await sequential_latency(
            conn, [get("/conversations", limit=25, **params) for _ in range(n)]
        )
    out["counts"] = await sequential_latency(conn, [get("/conversations/counts") for _ in range(n)])
    out["thread (latest 50)"] = await sequential_latency(
        conn, [get(f"/conversations/{rng.randint(1, plan.n)}/messages") for _ in range(n)]
    )
    per_term = max(20, n // len(SEARCH_TERMS))
    for name, q in SEARCH_TERMS.items():
        out[f"search: {name}"] = await sequential_latency(
            conn, [get("/search", q=q) for _ in range(per_term)], warmup=3, max_seconds=60
        )
    conn.close()
    return out


async def run(kind: str, cfg: dict[str, Any], workdir: Path, keep: bool = False) -> dict[str, Any]:
    backend: Backend = make_backend(kind, "scale", workdir)
    n, per = cfg["conversations"], cfg["messages_per_conversation"]
    log(f"list/thread/search on {backend.label}: {n:,} conversations x ~{per} messages")
    prepare_instance(backend)
    with frontdesk_server(backend) as server:
        api = await sign_in(server.port)
        inboxes = []
        for k in range(4):
            inbox = await api.ok(
                "POST",
                f"/api/v1/workspaces/{api.workspace_id}/inboxes",
                {"name": f"inbox {k}", "channel_type": "api", "settings": {}},
            )
            inboxes.append(inbox["id"])
        admin_id, ws = api.extra["user_id"], api.workspace_id
        api.close()
    plan_args: dict[str, Any] = {
        "conversations": n,
        "per_conversation": per,
        "workspace_id": ws,
        "inbox_ids": inboxes,
        "admin_id": admin_id,
    }
    t0 = time.monotonic()
    if backend.name == "postgresql":
        dsn = backend.database_url.replace("postgresql+asyncpg://", "postgresql://")
        plan = await _pg_load(dsn, plan_args)
    else:
        plan = await asyncio.to_thread(_sqlite_load, backend.sqlite_path, plan_args)
    gen_seconds = time.monotonic() - t0
    log(
        f"  generated {plan.n:,} conversations, {plan.messages:,} messages in {gen_seconds:.0f} s "
        f"({plan_args.get('db_size')})"
    )
    result: dict[str, Any] = {
        "backend": backend.label,
        "conversations": plan.n,
        "messages": plan.messages,
        "generate_seconds": gen_seconds,
        "db_size": plan_args.get("db_size"),
    }
    with frontdesk_server(backend) as server:
        api = await sign_in(server.port)
        result["endpoints"] = await _read_benchmarks(server.port, api, plan, cfg["read_requests"])
        api.close()
    with floor_server(backend) as floor:
        conn = await HttpConn.open(floor.port)
        result["floor_read"] = await sequential_latency(
            conn, [request_bytes("GET", "/floor/read") for _ in range(cfg["read_requests"])]
        )
        conn.close()
    for name, r in result["endpoints"].items():
        log(
            f"  {name}: p50 {r['p50'] * 1000:.2f} ms p99 {r['p99'] * 1000:.2f} ms"
            + (f" errors {r['errors']} {r['first_error']}" if r["errors"] else "")
        )
    if not keep and backend.name == "postgresql":
        from common import pg_exec

        pg_exec('DROP DATABASE IF EXISTS "bench_scale" WITH (FORCE)')
    return result
