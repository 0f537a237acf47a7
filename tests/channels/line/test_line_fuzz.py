"""The LINE parser fuzzed through the real webhook route with correctly signed bodies (so each
reaches the parser): random bytes, random JSON, and real events with fields replaced by random
values. Never a 5xx, never a crash; the server still stores a good event afterwards."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.channels.line.line_support import deliver, line_inbox, post
from tests.conftest import Server
from tests.factories import make_admin
from tests.fakes import line

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def _real_events() -> list[dict[str, Any]]:
    return [
        line.text("hi\x00there\n"),
        line.image(),
        line.file("a.pdf", 10),
        line.location(),
        line.sticker(),
        line.event("postback", postback={"data": "x"}),
        line.event("unsend", unsend={"messageId": "1"}),
        line.event("follow", follow={"isUnblocked": True}),
    ]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    event = draw(st.sampled_from(_real_events()))
    event = json.loads(json.dumps(event))
    target = event
    path = draw(
        st.lists(st.sampled_from(["message", "source", "postback", "unsend", "deliveryContext"]), max_size=1)
    )
    for key in path:
        if isinstance(target.get(key), dict):
            target = target[key]
    if target:
        key = draw(st.sampled_from(sorted(target)))
        target[key] = draw(json_values)
    return line.body_of(event)


bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.lists(json_values, max_size=4).map(lambda events: json.dumps({"events": events}).encode()),
    mutated(),
)


async def test_fuzzed_bodies_never_cause_a_server_error(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    examples: list[bytes] = []

    @settings(max_examples=80, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(bodies)
    def collect(body: bytes) -> None:
        examples.append(body)

    collect()
    for body in examples:
        r = await post(http, inbox, body)
        assert r.status_code < 500, (body, r.text)
    [result] = await deliver(http, inbox, line.text("still here"))
    assert result["conversation_id"]
